// Graceful restart with a hand-over between two Cablecast nodes on one Redis (the reliability
// requirement "SIGTERM stops accepting, sends server_restart (reconnect true) to all, flushes
// queued frames, closes within a deadline; a client reconnecting to a second node loses nothing
// it was already sent"):
//   1. the official @rails/actioncable consumer streams a numbered sequence from node A; A gets
//      SIGTERM mid-stream; the consumer reads everything A sent (gap-free, in order), then the
//      server_restart disconnect, reconnects to node B by itself, re-subscribes and goes on
//      receiving, in order, without a duplicate;
//   2. a burst of several thousand broadcasts is still queued inside node A (its reader is
//      paused) when SIGTERM arrives: all of it reaches the client before server_restart and the
//      close frame, and A refuses new connections while it drains.
//
// Delivery across the hand-over is at-most-once: Cablecast keeps no message history, so
// broadcasts published after A stopped delivering and before B confirmed the re-subscription
// never reach the client (Rails behaves the same way). The tests allow exactly that gap and
// nothing else: what the client received is in order, has no hole before the disconnect, has no
// duplicate, and everything published after the re-subscription arrives.
//
// Broadcasts are PUBLISHed straight to Redis in Rails' wire format ("<prefix>:<broadcasting>",
// the JSON text as payload), so the publisher does not depend on either node being up.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {after, describe, test} from 'node:test';
import {ActionCable, recordedSubscription} from '../support/actioncable.mjs';
import {chatId, connectWelcomed} from '../support/json_client.mjs';
import {OP, rawConnect, rawUpgrade} from '../support/raw_ws.mjs';
import {eventually, sharedRedis, uniquePrefix} from '../support/redis_env.mjs';
import {startCablecast} from '../support/servers.mjs';

const redis = sharedRedis();
const RESTART = '{"type":"disconnect","reason":"server_restart","reconnect":true}';
// Node A's drain deadline (--shutdown-timeout). Generous, so a loaded CI machine does not hit
// it; the tests also check A never needed it (no "shutdown deadline reached" warning).
const SHUTDOWN_TIMEOUT_MS = 10000;

/**
 * A minimal RESP client that only PUBLISHes (pipelined). Each publish resolves with Redis'
 * reply: the number of subscribed connections that got the message.
 */
class RedisPublisher {
  static connect(port) {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new RedisPublisher(socket)));
      socket.once('error', reject);
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.pending = [];  // resolvers, in request order (Redis answers in order)
    this.buf = '';
    socket.setNoDelay(true);
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('error', (err) => this.#failAll(err));
    socket.on('close', () => this.#failAll(new Error('Redis connection closed')));
  }

  #onData(chunk) {
    this.buf += chunk.toString('latin1');
    let end;
    while ((end = this.buf.indexOf('\r\n')) >= 0) {
      const line = this.buf.slice(0, end);
      this.buf = this.buf.slice(end + 2);
      const waiter = this.pending.shift();
      if (!waiter) throw new Error(`unexpected Redis reply ${line}`);
      if (line[0] === ':') waiter.resolve(Number(line.slice(1)));
      else waiter.reject(new Error(`PUBLISH failed: ${line}`));
    }
  }

  #failAll(err) {
    for (const w of this.pending.splice(0)) w.reject(err);
  }

  /** Queues one PUBLISH (does not wait for the reply before the next one is written). */
  publish(channel, text) {
    const arg = (s) => `$${Buffer.byteLength(s)}\r\n${s}\r\n`;
    return new Promise((resolve, reject) => {
      this.pending.push({resolve, reject});
      this.socket.write(`*3\r\n${arg('PUBLISH')}${arg(channel)}${arg(text)}`);
    });
  }

  close() {
    this.socket.destroy();
  }
}

/**
 * Bytes the kernel holds for one loopback TCP connection (Linux /proc/net/tcp): the client
 * socket's receive queue plus the server socket's not-yet-acknowledged send queue. Whatever else
 * the server "sent" is still in its own outbound queue.
 */
function kernelQueuedBytes(serverPort, clientPort) {
  let bytes = 0;
  let found = 0;
  for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 5) continue;
    const local = parseInt(f[1].split(':')[1], 16);
    const remote = parseInt(f[2].split(':')[1], 16);
    const [tx, rx] = f[4].split(':').map((h) => parseInt(h, 16));
    if (local === clientPort && remote === serverPort) {
      bytes += rx;
      found++;
    } else if (local === serverPort && remote === clientPort) {
      bytes += tx;
      found++;
    }
  }
  assert.equal(found, 2, `both ends of :${clientPort} <-> :${serverPort} in /proc/net/tcp`);
  return bytes;
}

/** Asserts `seqs` is exactly first, first+1, ... (no gap, no duplicate, in order). */
function assertContiguous(seqs, first, what) {
  for (let i = 0; i < seqs.length; i++) {
    if (seqs[i] !== first + i) {
      assert.fail(`${what}: expected seq ${first + i} at position ${i}, got ${seqs[i]} ` +
                  `(around: ${JSON.stringify(seqs.slice(Math.max(0, i - 5), i + 5))})`);
    }
  }
}

/** Connecting to `port` is refused (the listening socket is closed). */
async function refusesConnections(port) {
  try {
    const res = await rawUpgrade({port, path: '/cable', timeoutMs: 2000});
    res.ws?.destroy();
    return false;
  } catch (err) {
    return err.code === 'ECONNREFUSED';
  }
}

describe('graceful restart: hand-over to another node', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  async function node(prefix, extra = []) {
    const server = await startCablecast(['--pubsub', 'redis', '--redis-url', redis.url,
      '--channel-prefix', prefix, '--shutdown-timeout', String(SHUTDOWN_TIMEOUT_MS), ...extra]);
    cleanup.push(() => server.stop('SIGKILL'));
    return server;
  }

  /** SIGTERM; resolves {code, ms} once the process exited (SIGKILL only far past the deadline). */
  function terminate(server) {
    const started = Date.now();
    return server.stop('SIGTERM', SHUTDOWN_TIMEOUT_MS + 10000)
        .then((code) => ({code, ms: Date.now() - started}));
  }

  test('official client: SIGTERM on node A mid-stream, reconnect to node B, nothing lost/repeated',
       {timeout: 60000}, async () => {
    const prefix = uniquePrefix('handover');
    const room = 'handover';
    const channel = `${prefix}:chat_${room}`;
    const a = await node(prefix);
    const b = await node(prefix);

    // Every socket the consumer opens records the JSON frames it receives and its close code,
    // from its first frame on (a subclass of the adapter, restored afterwards).
    const sockets = [];
    const BaseWebSocket = ActionCable.adapters.WebSocket;
    ActionCable.adapters.WebSocket = class RecordingWebSocket extends BaseWebSocket {
      constructor(url, protocols) {
        super(url, protocols);
        const record = {url: String(url), texts: [], closeCode: null};
        sockets.push(record);
        this.on('message', (data) => record.texts.push(data.toString('utf8')));
        this.on('close', (code) => { record.closeCode = code; });
      }
    };
    // 4 s > the server's 3 s ping interval, so a healthy connection never looks stale, yet the
    // monitor reopens a closed one within ~4-12 s instead of the default 6-18 s.
    const savedStale = ActionCable.ConnectionMonitor.staleThreshold;
    ActionCable.ConnectionMonitor.staleThreshold = 4;
    let current = a;  // what a load balancer would route to: A until A is stopping, then B
    const consumer = ActionCable.createConsumer(() => `${current.url}?user=handover`);
    const publisher = await RedisPublisher.connect(redis.port);
    cleanup.push(() => {
      consumer.disconnect();
      publisher.close();
      ActionCable.adapters.WebSocket = BaseWebSocket;
      ActionCable.ConnectionMonitor.staleThreshold = savedStale;
    });

    const sub = recordedSubscription(consumer, {channel: 'ChatChannel', room});
    assert.deepEqual(await sub.waitFor('connected', () => true, 10000), {reconnected: false});

    // The publisher: seq 1, 2, 3, ... one PUBLISH after the other (each waits for its reply),
    // ~1 ms apart, until told to stop. confirm_subscription means A's SUBSCRIBE is active, so
    // the client must get everything from seq 1 on.
    let publishing = true;
    let lastSeq = 0;
    const publishLoop = (async () => {
      while (publishing) {
        await publisher.publish(channel, JSON.stringify({seq: ++lastSeq}));
        await new Promise((r) => setTimeout(r, 1));
      }
    })();

    const seqOf = (m) => m?.seq;
    await sub.waitFor('received', (m) => seqOf(m) >= 200, 15000);

    // Mid-stream: route new connections to B, then SIGTERM A while it is still streaming.
    current = b;
    const stopped = terminate(a);
    assert.deepEqual(await sub.waitFor('disconnected', () => true, SHUTDOWN_TIMEOUT_MS),
                     {willAttemptReconnect: true});
    const disconnectIndex = sub.events.findIndex((e) => e.name === 'disconnected');

    // Everything the client received from A: seq 1..k, no gap, no duplicate, in order.
    const fromA = sub.events.slice(0, disconnectIndex).filter((e) => e.name === 'received')
        .map((e) => seqOf(e.arg));
    assert.ok(fromA.length >= 200, `only ${fromA.length} messages before the disconnect`);
    assertContiguous(fromA, 1, 'messages received from node A');

    // On the wire: welcome, confirmation, the stream (pings in between), then server_restart
    // as the very last frame, and a normal close.
    const onA = sockets[0];
    assert.equal(sockets[0].url, `${a.url}?user=handover`);
    await eventually(() => onA.closeCode !== null, 5000, 'the socket to node A to close');
    const textsA = onA.texts.filter((t) => !t.startsWith('{"type":"ping"'));
    assert.equal(textsA[0], '{"type":"welcome"}');
    assert.equal(JSON.parse(textsA[1]).type, 'confirm_subscription');
    assert.equal(textsA.at(-1), RESTART, `last frames from A: ${JSON.stringify(textsA.slice(-3))}`);
    assert.deepEqual(textsA.slice(2, -1).map((t) => JSON.parse(t).message.seq), fromA);
    assert.equal(onA.closeCode, 1000);

    // A drained and exited 0 within its deadline, without having to force anything.
    const {code, ms} = await stopped;
    assert.equal(code, 0, `node A exit: ${code}; last log lines:\n${a.logs.slice(-10).join('\n')}`);
    assert.ok(ms < SHUTDOWN_TIMEOUT_MS, `node A took ${ms} ms to exit`);
    assert.equal(a.logs.some((l) => /shutdown deadline reached/.test(l)), false,
                 `node A had to abort connections:\n${a.logs.slice(-10).join('\n')}`);

    // The consumer reconnects by itself (ConnectionMonitor), to B, and re-subscribes.
    assert.deepEqual(await sub.waitFor('connected', (i) => i.reconnected === true, 30000),
                     {reconnected: true});
    assert.equal(sockets.length, 2, `sockets opened: ${JSON.stringify(sockets.map((s) => s.url))}`);
    assert.equal(sockets[1].url, `${b.url}?user=handover`);
    const reconnectIndex = sub.events.findIndex((e) => e.name === 'connected' && e.arg.reconnected);

    // Keep streaming for a while on B, then stop and wait for the last published message.
    const resumedAt = lastSeq;
    await sub.waitFor('received', (m) => seqOf(m) >= resumedAt + 200, 15000, reconnectIndex);
    publishing = false;
    await publishLoop;
    await sub.waitFor('received', (m) => seqOf(m) === lastSeq, 10000, reconnectIndex);

    // After the hand-over: a contiguous run m..lastSeq with m > k (nothing of A's repeated).
    // Seqs k+1..m-1 were published while the client had no subscription anywhere: that gap
    // is the allowed at-most-once loss.
    const fromB = sub.events.slice(disconnectIndex).filter((e) => e.name === 'received')
        .map((e) => seqOf(e.arg));
    const k = fromA.at(-1);
    assert.ok(fromB.length > 0 && fromB[0] > k,
              `after the reconnect the client got seq ${fromB[0]} again (had up to ${k})`);
    assertContiguous(fromB, fromB[0], 'messages received from node B');
    assert.equal(fromB.at(-1), lastSeq);
    const textsB = sockets[1].texts.filter((t) => !t.startsWith('{"type":"ping"'));
    assert.equal(textsB[0], '{"type":"welcome"}');
    assert.equal(JSON.parse(textsB[1]).type, 'confirm_subscription');
    assert.equal(textsB.length - 2, fromB.length, 'every message frame from B reached received()');
    if (process.env.CABLECAST_TEST_VERBOSE) {
      console.log(`A: seq 1..${k}; gap ${k + 1}..${fromB[0] - 1}; B: seq ${fromB[0]}..${lastSeq}`);
    }
  });

  /**
   * The burst scenario: COUNT broadcasts are queued in node A for a raw reader that does not
   * read; SIGTERM; the reader starts reading `drainDelayMs` after A logged the signal and must
   * get every message, in order, then server_restart, then the close frame.
   */
  async function burstScenario(drainDelayMs) {
    const prefix = uniquePrefix('burst');
    const room = 'burst';
    const identifier = chatId(room);
    // One event loop, so the witness below shares the reader's hub shard. The outbound limit
    // is raised so the paused reader (megabytes behind on purpose) is not dropped as slow.
    const a = await node(prefix, ['--threads', '1', '--max-outbound-bytes', String(256 << 20)]);

    const reader = await rawConnect(a.port, {path: '/cable?user=reader'});
    cleanup.push(() => reader.destroy());
    assert.equal((await reader.nextFrame(() => true, 5000)).text, '{"type":"welcome"}');
    reader.sendJson({command: 'subscribe', identifier});
    assert.deepEqual(await reader.nextJson(() => true, 5000),
                     {identifier, type: 'confirm_subscription'});
    const witness = await connectWelcomed(`${a.url}?user=witness`);
    cleanup.push(() => witness.terminate());
    await witness.subscribe(identifier, 5000);

    // How the burst is kept in flight: the reader stops reading its socket before anything
    // is published, so nothing of the burst can be consumed before SIGTERM; the kernel
    // buffers fill up and the rest stays in Cablecast's outbound queue for that connection.
    reader.socket.pause();
    const COUNT = 6000;
    const pad = 'x'.repeat(1500);  // ~9 MB in all: more than the loopback socket buffers hold
    const publisher = await RedisPublisher.connect(redis.port);
    cleanup.push(() => publisher.close());
    const replies = await Promise.all(Array.from({length: COUNT}, (_, i) =>
      publisher.publish(`${prefix}:chat_${room}`, JSON.stringify({seq: i + 1, pad}))));
    assert.ok(replies.every((n) => n === 1), 'every PUBLISH reached node A');

    // The witness (same loop, same hub shard, reading normally) got the last message: the
    // loop has handed all COUNT messages to the reader's connection, in order.
    const witnessSeqs = [];
    await witness.next((m) => {
      if (m.identifier === identifier) witnessSeqs.push(m.message.seq);
      return m.message?.seq === COUNT;
    }, 30000);
    assertContiguous(witnessSeqs, 1, 'witness');

    // Proof that the burst is really queued: the kernel holds only part of it.
    const frameBytes = (seq) => {
      const len = Buffer.byteLength(JSON.stringify({identifier, message: {seq, pad}}));
      return len + (len < 126 ? 2 : len < 65536 ? 4 : 10);
    };
    let burstBytes = 0;
    for (let seq = 1; seq <= COUNT; seq++) burstBytes += frameBytes(seq);
    const inKernel = kernelQueuedBytes(a.port, reader.socket.localPort);
    const inCablecast = burstBytes - inKernel;
    assert.ok(inCablecast > 1_000_000,
              `precondition: only ${inCablecast} of ${burstBytes} burst bytes were still in ` +
              `Cablecast's queue (kernel held ${inKernel}); the test would not prove the flush`);

    // SIGTERM right away, while the reader still has not read a single burst frame.
    const logMark = a.logs.length;
    const stopped = terminate(a);
    await a.waitForLog(/received SIGTERM/, 5000, logMark);
    // A stops accepting at once, although it is still draining the paused reader.
    await eventually(() => refusesConnections(a.port), 3000, 'node A to refuse new connections');
    assert.equal(a.exitInfo, null, 'node A exited before the reader drained its queue');

    if (drainDelayMs) await new Promise((r) => setTimeout(r, drainDelayMs));  // a slow client
    reader.socket.resume();
    const seqs = [];
    let restart = null;
    for (;;) {
      // Not nextFrame()'s own error: it would print all ~9 MB received.
      const f = await reader.nextFrame(() => true, 20000).catch((err) => {
        throw new Error(`reader: ${err.message.split(';')[0]} after seq ${seqs.at(-1)} of ` +
                        `${COUNT} (server_restart ${restart ? 'received' : 'not received'}); ` +
                        `node A log tail:\n${a.logs.slice(-8).join('\n')}`);
      });
      if (f.opcode === OP.CLOSE) {
        assert.ok(restart, `close (${f.code}) before server_restart, after seq ${seqs.at(-1)}`);
        assert.equal(f.code, 1000);
        break;
      }
      if (f.opcode !== OP.TEXT || f.text.startsWith('{"type":"ping"')) continue;
      assert.equal(restart, null, `a frame after server_restart: ${f.text.slice(0, 120)}`);
      if (f.text === RESTART) {
        restart = f.text;
        continue;
      }
      const msg = JSON.parse(f.text);
      assert.equal(msg.identifier, identifier);
      seqs.push(msg.message.seq);
    }
    assert.equal(seqs.length, COUNT, `the reader got ${seqs.length} of ${COUNT} messages`);
    assertContiguous(seqs, 1, 'burst received by the reader');
    reader.sendClose(1000);
    assert.ok(await reader.waitEnded(5000), 'node A kept the TCP connection open after the close');

    const {code, ms} = await stopped;
    assert.equal(code, 0, `node A exit: ${code}; last log lines:\n${a.logs.slice(-10).join('\n')}`);
    assert.ok(ms < SHUTDOWN_TIMEOUT_MS, `node A took ${ms} ms to exit`);
    assert.equal(a.logs.some((l) => /shutdown deadline reached|dropping a slow client/.test(l)),
                 false, `node A dropped a client:\n${a.logs.slice(-10).join('\n')}`);
    if (process.env.CABLECAST_TEST_VERBOSE) {
      console.log(`burst ${burstBytes} B: ${inKernel} in the kernel, ${inCablecast} in Cablecast`);
    }
  }

  test('a burst still queued in node A at SIGTERM is flushed before server_restart and the close',
       {timeout: 60000}, () => burstScenario(0));

  // The same with a client that needs a few seconds to read the burst, well within A's 10 s
  // --shutdown-timeout. (It once failed: the connection's 2 s close-handshake timeout counted
  // from the moment the close frame was queued behind the burst, so the reader lost the rest
  // of it. While a shutdown drains, queued frames now wait for the shutdown deadline.)
  test('a slow reader gets the whole burst within --shutdown-timeout (not cut after 2 s)',
       {timeout: 60000},
       () => burstScenario(4000));
});
