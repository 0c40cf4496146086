// A client that stops reading must not hurt anyone else: 100,000 broadcasts go to 1,000
// subscribers of one stream while one of them never reads. The server drops that client once
// its outbound queue is over --max-outbound-bytes (log: "dropping a slow client"), its RSS stays
// under a stated bound the whole time, and the 999 others receive every broadcast, in order,
// exactly once.
//
// The receivers are plain TCP sockets with a minimal frame scanner (no JSON parse per frame, no
// `ws`), because 100,000 x 999 = 100 million frames (10 GB) arrive in this one Node process;
// every 1,000th frame is compared byte for byte with the JSON expected. Senders publish through
// BenchmarkChannel's `broadcast` action with a window: a sender never runs more than
// WINDOW_BATCHES x BATCH broadcasts ahead of the slowest well-behaved receiver, so a reading
// client never comes near the outbound bound, and only the client that stopped reading reaches
// it. Measured: 18 s of server CPU and 7 s of test CPU; 13 s on a quiet 2-core machine.
//
// Sizes can be lowered for a quick local run (CABLECAST_SLOW_CONSUMER_CLIENTS, ..._BROADCASTS);
// the defaults are the ones the suite must pass.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {after, before, describe, test} from 'node:test';

import {encodeFrame, frameHeader, OP, rawConnect} from '../support/raw_ws.mjs';
import {rssKiB, sleep, startCablecast, underAsan} from '../support/servers.mjs';

const CLIENTS = Number(process.env.CABLECAST_SLOW_CONSUMER_CLIENTS || 1000);
const BROADCASTS = Number(process.env.CABLECAST_SLOW_CONSUMER_BROADCASTS || 100000);
const SENDERS = 2;                       // each publishes BROADCASTS / SENDERS, numbered 0..n-1
const MAX_OUTBOUND_BYTES = 1048576;      // a quarter of the default, so the stall is found sooner
const RSS_BOUND_MIB = 200;               // the server's VmRSS must stay under this throughout
// Under AddressSanitizer (scripts/sanitize.sh) RSS says little: freed memory waits in a 256 MiB
// quarantine, and shadow memory and redzones double the rest (measured: 580 MiB peak). There the
// bound is only a sanity ceiling; the 200 MiB bound is proved by the uninstrumented run.
const RSS_BOUND_ASAN_MIB = 1024;
const BATCH = 1000;                      // receivers report progress per batch of a sender
const WINDOW_BATCHES = 2;                // a sender may run this many batches ahead
// So a reading client has at most SENDERS x WINDOW_BATCHES x BATCH frames of ~100 bytes in
// flight (about 400 KB, most of it in kernel socket buffers): far from MAX_OUTBOUND_BYTES even
// if it were all queued in the server. Bigger batches mean bigger reads, which is what keeps
// this test's own CPU time (100 million frames) low.
const CONNECT_BATCH = 100;
// The stalled client subscribes under several identifiers (each a separate subscription to the
// same stream, see docs/protocol.md section 4), so it is sent several copies of every broadcast:
// about 400,000 frames (40 MB) in all, whatever the number of broadcasts, so the kernel's socket
// buffers (a few MiB on loopback) and its outbound queue fill long before the end, whatever the
// machine's TCP autotuning.
const STALLED_SUBSCRIPTIONS = Math.min(400, Math.max(4, Math.ceil(400000 / BROADCASTS)));

const STREAM_ID = 'slow-consumer';
const identifier = JSON.stringify({channel: 'BenchmarkChannel', id: STREAM_ID});
// Same stream ("all" + id), different identifier strings: the spacing differs.
const stalledIdentifiers = Array.from({length: STALLED_SUBSCRIPTIONS},
                                      (_, i) => `{"channel":"BenchmarkChannel",${' '.repeat(i + 1)}"id":"${STREAM_ID}"}`);

// What every broadcast frame to `identifier` starts with; the data sent is {"s":S,"n":N} (plus
// "action"), so the sender digit and the sequence number follow this prefix.
const framePrefix = Buffer.from(`{"identifier":${JSON.stringify(identifier)},"message":{"s":`);
const CH = (c) => c.charCodeAt(0);

// Every lean client reads into this one buffer (net's `onread`): no allocation per read, which
// over 10 GB of frames would otherwise cost more CPU in the garbage collector than the parsing.
// Sharing is safe because read callbacks run one at a time and copy what they keep.
const readBuffer = Buffer.alloc(256 * 1024);
const MASK_KEY = Buffer.from([0x1f, 0x2e, 0x3d, 0x4c]);  // a fixed key: no crypto per frame
const clientFrame = (text) => encodeFrame({opcode: OP.TEXT, payload: Buffer.from(text), maskKey: MASK_KEY});

/**
 * A well-behaved client on a plain TCP socket. Until counting starts, server frames are parsed
 * as JSON (welcome, confirmation); then it counts the broadcasts it receives and checks their
 * order per sender without building a string or object per frame. Answers WebSocket pings.
 */
class LeanClient {
  constructor(port, index, progress) {
    this.index = index;
    this.progress = progress;
    this.next = new Array(SENDERS).fill(0);  // the sequence number expected next, per sender
    this.received = 0;
    this.results = 0;                        // broadcastResult frames (senders only)
    this.error = null;
    this.closed = false;
    this.counting = false;
    this.rest = null;                        // bytes of an incomplete frame (a copy)
    this.messages = [];                      // JSON messages before counting starts
    this.wake = null;
    this.upgraded = false;
    this.socket = net.connect({port, host: '127.0.0.1',
                               onread: {buffer: readBuffer, callback: (n, buf) => { this.#onData(buf.subarray(0, n)); }}});
    this.socket.on('close', () => { this.closed = true; this.wake?.(); });
    this.socket.on('error', (e) => this.#fail(e.message));
    this.socket.setNoDelay(true);
    this.socket.write(`GET /cable?user=r${index} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n` +
                      `Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n` +
                      `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: actioncable-v1-json\r\n\r\n`);
  }

  /** Resolves with the next JSON message matching `predicate` (before counting starts). */
  async nextJson(predicate, timeoutMs = 20000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.messages.findIndex(predicate);
      if (i >= 0) return this.messages.splice(0, i + 1).pop();
      if (this.error || this.closed) throw new Error(this.error ?? `client ${this.index} closed`);
      if (Date.now() > deadline) throw new Error(`client ${this.index}: nothing after ${JSON.stringify(this.messages)}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, 100);
        this.wake = () => { clearTimeout(t); resolve(); };
      });
    }
  }

  send(text) {
    this.socket.write(clientFrame(text));
  }

  #fail(message) {
    if (!this.error) this.error = `client ${this.index}: ${message}`;
  }

  #onData(chunk) {
    let buf = chunk;
    let off = 0;
    if (!this.upgraded) {
      buf = this.rest ? Buffer.concat([this.rest, chunk]) : Buffer.from(chunk);
      this.rest = null;
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        this.rest = buf;
        return;
      }
      if (!buf.subarray(0, 12).toString().startsWith('HTTP/1.1 101')) {
        return this.#fail(`upgrade refused: ${buf.toString('latin1', 0, end)}`);
      }
      this.upgraded = true;
      off = end + 4;
    } else if (this.rest) {
      // Complete the frame split across reads from the head of this chunk (a small copy).
      const head = Buffer.concat([this.rest, chunk.subarray(0, 1024)]);
      const used = this.#scan(head, 0, this.rest.length);
      if (used > this.rest.length) {
        off = used - this.rest.length;
      } else {
        buf = Buffer.concat([this.rest, chunk]);  // a frame over 1 KiB, or still incomplete
      }
      this.rest = null;
    }
    const end = this.#scan(buf, off, Infinity);
    if (end < buf.length) this.rest = Buffer.from(buf.subarray(end));  // buf may be the shared buffer
  }

  // Handles the complete frames of buf from `off`, stopping once past `stopAfter`; returns the
  // offset after the last complete frame handled.
  #scan(buf, off, stopAfter) {
    while (off < stopAfter) {
      const header = frameHeader(buf, off);
      if (!header) break;
      const {b0, len, p} = header;
      if (buf.length - p < len) break;
      const opcode = b0 & 0x0f;
      if (opcode === OP.TEXT) {
        if (this.counting) {
          this.#onText(buf, p, p + len);
        } else {
          this.messages.push(JSON.parse(buf.toString('utf8', p, p + len)));
          this.wake?.();
        }
      } else if (opcode === OP.PING) {
        this.socket.write(encodeFrame({opcode: OP.PONG, payload: Buffer.from(buf.subarray(p, p + len)), maskKey: MASK_KEY}));
      } else if (opcode === OP.CLOSE) {
        this.#fail(`server sent close ${len >= 2 ? buf.readUInt16BE(p) : ''}`);
      }
      off = p + len;
    }
    return off;
  }

  #onText(buf, start, end) {
    const q = start + framePrefix.length;
    // A broadcast (or broadcastResult) frame: the prefix's last bytes `"s":` sit right before q.
    // Anything else (Action Cable pings) is shorter or differs there.
    if (end - start < framePrefix.length + 8 || buf[q - 1] !== CH(':') || buf[q - 2] !== CH('"') ||
        buf[q - 3] !== CH('s') || buf[start + 2] !== CH('i')) {
      if (buf[start + 2] === CH('i')) this.#fail(`unexpected frame ${buf.toString('utf8', start, end)}`);
      return;  // {"type":"ping",...}
    }
    const sender = buf[q] - 48;
    let n = 0;
    let i = q + 6;  // after `S,"n":`
    for (; buf[i] >= 48 && buf[i] <= 57; i++) n = n * 10 + buf[i] - 48;
    // `..."action":"broadcast"}}` vs `..."action":"broadcastResult"}}`
    if (buf[end - 5] === CH('l')) {
      this.results++;
      return;
    }
    if (sender < 0 || sender >= SENDERS) return this.#fail(`bad sender in ${buf.toString('utf8', start, end)}`);
    if (n !== this.next[sender]) {
      return this.#fail(`sender ${sender}: got #${n}, expected #${this.next[sender]} ` +
                        `(${n < this.next[sender] ? 'duplicate or reordered' : 'missing'})`);
    }
    if (n % 1000 === 999) {
      // A full check now and then: the frame is exactly what the sender published.
      const text = buf.toString('utf8', start, end);
      const expected = JSON.stringify({identifier, message: {s: sender, n, action: 'broadcast'}});
      if (text !== expected) return this.#fail(`got ${text}, expected ${expected}`);
    }
    this.next[sender] = n + 1;
    this.received++;
    if ((n + 1) % BATCH === 0) this.progress(sender, (n + 1) / BATCH - 1);
  }
}

/** CPU seconds (user + system) a process has used, from /proc/PID/stat. */
function cpuSeconds(pid) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;  // utime, stime in clock ticks (USER_HZ)
}

/** Loopback TCP sockets of this machine (/proc/net/tcp): ports, state and send queue bytes. */
function tcpSockets() {
  return fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1).filter(Boolean).map((line) => {
    const f = line.trim().split(/\s+/);
    const port = (addr) => parseInt(addr.split(':')[1], 16);
    return {localPort: port(f[1]), remotePort: port(f[2]), state: f[3], sendQueue: parseInt(f[4].split(':')[0], 16)};
  });
}


async function subscribeRaw(ws, id) {
  ws.sendJson({command: 'subscribe', identifier: id});
  const reply = await ws.nextJson((m) => m.identifier === id, 20000);
  assert.equal(reply.type, 'confirm_subscription', `${id}: ${JSON.stringify(reply)}`);
}

describe(`slow consumer: ${BROADCASTS} broadcasts to ${CLIENTS} clients, one never reads`, () => {
  let server;
  const sockets = [];
  before(async () => {
    server = await startCablecast(['--max-outbound-bytes', String(MAX_OUTBOUND_BYTES)]);
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    if (server) assert.equal(await server.stop(), 0, 'the server exits cleanly');
  });

  test('the stalled client is dropped, memory stays bounded, everyone else gets everything',
       {timeout: 280000}, async () => {
    const t0 = performance.now();
    // The stalled client: subscribed, then it stops reading for good. Node's socket.pause()
    // stops reading from the kernel, so the server sees a full receive window.
    const stalled = await rawConnect(server.port, {path: '/cable?user=stalled'});
    sockets.push(stalled.socket);
    await stalled.nextJson((m) => m.type === 'welcome', 10000);
    for (const id of stalledIdentifiers) await subscribeRaw(stalled, id);
    stalled.socket.pause();

    // Progress: done[s][b] counts the receivers that got batch b of sender s in full.
    const receiversNeeded = CLIENTS - 1;
    const done = Array.from({length: SENDERS}, () => new Uint32Array(Math.ceil(BROADCASTS / BATCH) + 1));
    const waiters = Array.from({length: SENDERS}, () => new Map());
    const progress = (s, b) => {
      if (++done[s][b] === receiversNeeded) {
        waiters[s].get(b)?.();
        waiters[s].delete(b);
      }
    };
    // Resolves once batch b of sender s reached every receiver; throws as soon as a receiver
    // failed, or when no progress happens for 30 s (the diagnostics say who is behind).
    const batchDone = async (s, b) => {
      let last = -1;
      let stuckSince = Date.now();
      while (b >= 0 && done[s][b] < receiversNeeded) {
        const failed = receivers.find((x) => x.error || x.closed);
        if (failed) throw new Error(failed.error ?? `client ${failed.index} was disconnected`);
        if (done[s][b] !== last) {
          last = done[s][b];
          stuckSince = Date.now();
        } else if (Date.now() - stuckSince > 30000) {
          const behind = receivers.filter((x) => x.next[s] < (b + 1) * BATCH).slice(0, 5)
                             .map((x) => `client ${x.index} at #${x.next[s]}`);
          throw new Error(`sender ${s}: batch ${b} stuck at ${last}/${receiversNeeded}: ${behind.join(', ')}`);
        }
        await new Promise((resolve) => {
          const t = setTimeout(resolve, 250);
          waiters[s].set(b, () => { clearTimeout(t); resolve(); });
        });
      }
    };

    const receivers = [];
    for (let i = 0; i < receiversNeeded; i += CONNECT_BATCH) {
      const batch = [];
      for (let k = i; k < Math.min(receiversNeeded, i + CONNECT_BATCH); k++) {
        batch.push((async () => {
          const client = new LeanClient(server.port, k, progress);
          sockets.push(client.socket);
          await client.nextJson((m) => m.type === 'welcome');
          client.send(JSON.stringify({command: 'subscribe', identifier}));
          const reply = await client.nextJson((m) => m.identifier === identifier);
          assert.equal(reply.type, 'confirm_subscription');
          client.counting = true;
          return client;
        })());
      }
      receivers.push(...(await Promise.all(batch)));
    }
    const t1 = performance.now();
    console.log(`# ${CLIENTS} clients connected and subscribed in ${(t1 - t0).toFixed(0)} ms`);

    const serverCpu0 = cpuSeconds(server.proc.pid);
    const ownCpu0 = process.cpuUsage();
    let maxRss = rssKiB(server.proc.pid);
    const baselineRss = maxRss;
    const rssTimer = setInterval(() => {
      try {
        maxRss = Math.max(maxRss, rssKiB(server.proc.pid));
      } catch {}
    }, 100);

    const perSender = Math.ceil(BROADCASTS / SENDERS);
    const senders = receivers.slice(0, SENDERS);
    try {
      await Promise.all(senders.map(async (r, s) => {
        const count = Math.min(perSender, BROADCASTS - s * perSender);
        for (let first = 0; first < count; first += BATCH) {
          // Batch b may start once batch b - WINDOW_BATCHES reached every receiver.
          await batchDone(s, first / BATCH - WINDOW_BATCHES);
          if (s === 0 && first > 0 && first % (BATCH * 10) === 0) {
            console.log(`# sender 0 at ${first}/${count} after ${(performance.now() - t1).toFixed(0)} ms`);
          }
          // One write per batch: the server reads them as a stream of commands anyway.
          const frames = [];
          for (let n = first; n < Math.min(count, first + BATCH); n++) {
            frames.push(clientFrame(JSON.stringify({
              command: 'message', identifier, data: JSON.stringify({s, n, action: 'broadcast'})})));
          }
          r.socket.write(Buffer.concat(frames));
        }
      }));
      // Every receiver has every broadcast of both senders.
      const deadline = Date.now() + 60000;
      while (receivers.some((r) => r.received < BROADCASTS && !r.error && !r.closed) && Date.now() < deadline) {
        await sleep(50);
      }
    } finally {
      clearInterval(rssTimer);
    }
    const t2 = performance.now();
    console.log(`# ${BROADCASTS} broadcasts to ${receiversNeeded} readers in ${(t2 - t1).toFixed(0)} ms; ` +
                `server VmRSS ${(baselineRss / 1024).toFixed(1)} MiB before, ` +
                `${(maxRss / 1024).toFixed(1)} MiB at most; CPU: server ` +
                `${(cpuSeconds(server.proc.pid) - serverCpu0).toFixed(1)} s, test ` +
                `${(Object.values(process.cpuUsage(ownCpu0)).reduce((a, b) => a + b) / 1e6).toFixed(1)} s`);

    for (const r of receivers) {
      assert.equal(r.error, null);
      assert.equal(r.closed, false, `client ${r.index} must stay connected`);
      assert.equal(r.received, BROADCASTS, `client ${r.index} received ${r.received}`);
      assert.deepEqual(r.next, Array.from({length: SENDERS}, (_, s) => Math.min(perSender, BROADCASTS - s * perSender)));
    }
    assert.equal(senders.reduce((sum, r) => sum + r.results, 0), BROADCASTS, 'one broadcastResult per broadcast');

    // The stalled client was dropped during the broadcasts, with the documented log line.
    const [line] = await server.waitForLog(/dropping a slow client.*/i, 1000);
    assert.match(line, new RegExp(`limit ${MAX_OUTBOUND_BYTES}`));
    assert.equal(server.logs.filter((l) => /dropping a slow client/i.test(l)).length, 1,
                 'only the stalled client was dropped');

    // The server reset the connection rather than queueing a FIN behind megabytes the client
    // does not read: its end of the socket, and the kernel memory under it, is gone at once.
    const serverSide = tcpSockets().filter((t) => t.localPort === server.port &&
                                                   t.remotePort === stalled.socket.localPort);
    assert.deepEqual(serverSide, [], 'the server still holds the dropped connection in the kernel');

    // Resuming it now shows a connection that was cut: it ends, holding only part of the stream.
    let stalledBytes = 0;
    stalled.socket.removeAllListeners('data');
    stalled.socket.on('data', (chunk) => { stalledBytes += chunk.length; });
    stalled.socket.resume();
    assert.equal(await stalled.waitEnded(10000), true, 'the stalled connection was closed by the server');
    const wholeStream = BROADCASTS * STALLED_SUBSCRIPTIONS * (framePrefix.length + 30);  // a lower estimate
    assert.ok(stalledBytes < wholeStream, `the stalled client got only part of the stream (${stalledBytes} bytes)`);

    const asan = underAsan(server.proc.pid);
    const bound = asan ? RSS_BOUND_ASAN_MIB : RSS_BOUND_MIB;
    assert.ok(maxRss / 1024 < bound,
              `server VmRSS peaked at ${(maxRss / 1024).toFixed(1)} MiB (bound ${bound} MiB${asan ? ', AddressSanitizer build' : ''})`);
  });
});
