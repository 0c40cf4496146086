// Churn soak: for CABLECAST_SOAK_SECONDS (default 120, the CI run; `make soak` runs longer)
// many workers connect, subscribe, unsubscribe and disconnect in every way a real client can
// (clean close, abrupt reset, mid-handshake, refused, rejected subscription, protocol error)
// while broadcasts flow on every stream. Stable subscribers present the whole time must receive
// every broadcast in order. At the end, with the churn stopped:
//   - the server holds as many file descriptors as at the baseline (/proc/PID/fd);
//   - its RSS is back near the baseline (bound stated below);
//   - its log has no sanitizer report, and it exits 0 on SIGTERM (a LeakSanitizer report at exit
//     would make the exit code non-zero under scripts/sanitize.sh).
// The baseline is taken after a warm-up round of the same churn, once idle, so one-time
// allocations (allocator arenas, thread caches, the loops' scratch buffers) are in it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import {after, before, describe, test} from 'node:test';

import {benchmarkId, chatId, connectWelcomed} from '../support/json_client.mjs';
import {OP, rawConnect, rawUpgrade} from '../support/raw_ws.mjs';
import {sleep, startCablecast, underAsan} from '../support/servers.mjs';

const SOAK_SECONDS = Number(process.env.CABLECAST_SOAK_SECONDS || 120);
const WARMUP_SECONDS = Math.min(15, Math.max(5, SOAK_SECONDS / 10));
// Clients churning at once, and each one's pause between cycles: paced so the CI run (which
// shares 2 cores with the rest of the suite under ctest -j2) gets thousands of cycles without
// starving timing-sensitive tests. Raise them for a harder local soak.
const WORKERS = Number(process.env.CABLECAST_SOAK_WORKERS || 10);
const PAUSE_MS = Number(process.env.CABLECAST_SOAK_PAUSE_MS ?? 50);
const STREAMS = 8;
const STABLE_CLIENTS = 10;
const BROADCAST_EVERY_MS = 10;
// How many cycles a run makes is a figure (docs/benchmarks.md, "Churn"), not a test: the test
// asserts that every kind of cycle ran, so no path of the soak is silently skipped.
// RSS after the churn may exceed the idle baseline by at most this much. Freed memory does not
// always go back to the kernel at once (glibc keeps per-thread arenas), so the bound allows a
// little; the warm-up has already sized the arenas (measured: no growth at all). A leak of
// ~500 bytes per cycle over the ~8,000 cycles of the 2-minute CI run would exceed it; under
// AddressSanitizer, LeakSanitizer also checks every allocation at exit.
const RSS_SLACK_MIB = 4;
// Under AddressSanitizer freed memory sits in the quarantine (256 MiB by default) before reuse,
// so RSS grows by up to that much without any leak; LeakSanitizer checks leaks at exit instead.
const ASAN_QUARANTINE_MIB = 256;

const streamId = (k) => benchmarkId(`churn${k}`);
const rand = (n) => Math.floor(Math.random() * n);

function procStatusKiB(pid, field) {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
const fdCount = (pid) => fs.readdirSync(`/proc/${pid}/fd`).length;
/** The fd count once it has not changed for 3 s (at most 30 s). */
async function steadyFdCount(pid) {
  let count = fdCount(pid);
  let since = Date.now();
  for (const deadline = Date.now() + 30000; Date.now() - since < 3000 && Date.now() < deadline;) {
    await sleep(250);
    const now = fdCount(pid);
    if (now !== count) [count, since] = [now, Date.now()];
  }
  return count;
}

// The churn scenarios: each opens something, does its thing and is gone at the end.
const scenarios = {
  // connect, subscribe to 1-3 streams, see a broadcast, unsubscribe one, close cleanly or not
  async subscriber(ctx, n) {
    const c = await connectWelcomed(`${ctx.url}?user=churn${n}`, {timeoutMs: 15000});
    try {
      const ids = [...new Set(Array.from({length: 1 + rand(3)}, () => streamId(rand(STREAMS))))];
      for (const id of ids) await c.subscribe(id, 15000);
      await c.next((m) => ids.includes(m.identifier) && m.message?.action === 'broadcast', 15000);
      c.send({command: 'unsubscribe', identifier: ids[0]});
      if (rand(2)) c.perform(ids.at(-1), 'echo', {n});
    } finally {
      if (rand(2)) await c.close(); else c.terminate();
    }
  },
  // subscribe and vanish without waiting for anything (TCP reset with a subscription pending)
  async vanish(ctx, n) {
    const ws = await rawConnect(ctx.port, {path: `/cable?user=v${n}`});
    ws.sendJson({command: 'subscribe', identifier: streamId(rand(STREAMS))});
    ws.destroy();
  },
  // a partial HTTP request, then gone
  async halfHandshake(ctx) {
    await new Promise((resolve) => {
      const s = net.connect(ctx.port, '127.0.0.1', () => {
        s.write('GET /cable HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n');
        setTimeout(() => { s.destroy(); resolve(); }, rand(20));
      });
      s.on('error', resolve);
    });
  },
  // refused by the connect hook
  async refused(ctx) {
    const res = await rawUpgrade({port: ctx.port, path: '/cable?reject=1'});
    assert.equal(res.status, 101);
    const m = await res.ws.nextJson(() => true, 10000);
    assert.equal(m.reason, 'unauthorized');
    assert.ok(await res.ws.waitEnded(10000));
  },
  // rejected subscriptions, then a clean close
  async rejected(ctx, n) {
    const c = await connectWelcomed(`${ctx.url}?user=rj${n}`, {timeoutMs: 15000});
    try {
      for (const id of [chatId(''), JSON.stringify({channel: 'NoSuchChannel'})]) {
        c.subscribeCommand(id);
        const reply = await c.next((m) => m.identifier === id, 15000);
        assert.equal(reply.type, 'reject_subscription');
      }
    } finally {
      await c.close();
    }
  },
  // a protocol error (unmasked frame): the server closes with 1002
  async protocolError(ctx) {
    const ws = await rawConnect(ctx.port);
    await ws.nextJson((m) => m.type === 'welcome', 10000);
    ws.sendText(JSON.stringify({command: 'subscribe', identifier: streamId(0)}), {mask: false});
    const close = await ws.nextFrame((f) => f.opcode === OP.CLOSE, 10000);
    assert.equal(close.code, 1002);
    ws.destroy();
  },
};
// Weights: mostly full subscriber cycles.
const plan = [
  ...Array(6).fill('subscriber'), 'vanish', 'vanish', 'halfHandshake', 'refused', 'rejected', 'protocolError',
];

/** Runs WORKERS loops of random scenarios until `stopAt`; returns counts and errors. */
async function churn(ctx, stopAt) {
  const counts = Object.fromEntries(Object.keys(scenarios).map((k) => [k, 0]));
  const errors = [];
  let n = 0;
  await Promise.all(Array.from({length: WORKERS}, async () => {
    while (Date.now() < stopAt && errors.length < 10) {
      const name = plan[rand(plan.length)];
      try {
        await scenarios[name](ctx, n++);
        counts[name]++;
      } catch (e) {
        errors.push(`${name}: ${e.message}`);
      }
      if (PAUSE_MS) await sleep(PAUSE_MS);
    }
  }));
  return {counts, errors, total: Object.values(counts).reduce((a, b) => a + b, 0)};
}

describe(`churn soak (${SOAK_SECONDS} s)`, () => {
  let server;
  before(async () => {
    server = await startCablecast();
  });
  // The server logs at debug level (startCablecast's choice), several lines per cycle: scan them
  // for reports as they come and let them go, so a long soak does not hold them all.
  const reports = [];
  const scanLogs = () => {
    for (const l of server.logs) {
      if (/AddressSanitizer|LeakSanitizer|runtime error:|invariant failed/.test(l) && reports.length < 50) reports.push(l);
    }
    server.logs.length = 0;
  };
  let scanner;
  before(() => {
    scanner = setInterval(scanLogs, 2000);
  });
  after(async () => {
    clearInterval(scanner);
    if (!server) return;
    const code = await server.stop();
    scanLogs();
    assert.deepEqual(reports, [], 'no sanitizer report');
    assert.equal(code, 0, 'the server exits 0 (a LeakSanitizer report at exit would not)');
  });

  test('connect/subscribe/unsubscribe/disconnect cycles while broadcasting leak nothing',
       {timeout: (SOAK_SECONDS + WARMUP_SECONDS + 180) * 1000}, async () => {
    const pid = server.proc.pid;
    const ctx = {url: server.url, port: server.port};

    // The publisher and the stable subscribers stay for the whole run.
    const publisher = await connectWelcomed(`${server.url}?user=publisher`);
    for (let k = 0; k < STREAMS; k++) await publisher.subscribe(streamId(k));
    const stable = [];
    for (let i = 0; i < STABLE_CLIENTS; i++) {
      const c = await connectWelcomed(`${server.url}?user=stable${i}`);
      for (let k = 0; k < STREAMS; k++) await c.subscribe(streamId(k));
      // Checks order per stream as messages arrive, and drops them (memory stays flat).
      // Subscribed before the first broadcast: each stream's messages must start at #0.
      c.nextSeq = new Array(STREAMS).fill(0);
      c.gaps = [];
      c.ws.on('message', () => {
        for (const {msg} of c.queue.splice(0)) {
          if (msg.message?.action !== 'broadcast') continue;
          const {k, seq} = msg.message;
          if (seq !== c.nextSeq[k] && c.gaps.length < 5) {
            c.gaps.push(`stream ${k}: got #${seq}, expected #${c.nextSeq[k]}`);
          }
          c.nextSeq[k] = seq + 1;
        }
        c.texts.length = 0;
      });
      stable.push(c);
    }
    const sent = new Array(STREAMS).fill(0);
    let turn = 0;
    const broadcaster = setInterval(() => {
      const k = turn++ % STREAMS;
      publisher.perform(streamId(k), 'broadcast', {k, seq: sent[k]++});
      publisher.queue.length = 0;
      publisher.texts.length = 0;
    }, BROADCAST_EVERY_MS);

    try {
      // Warm-up, then the idle baseline.
      const warm = await churn(ctx, Date.now() + WARMUP_SECONDS * 1000);
      assert.deepEqual(warm.errors, []);
      // Close handshakes finish within 2 s, half-sent handshakes at their deadline: the baseline
      // is taken once the count has held still for 3 s (a count taken while the warm-up's last
      // connections were still closing made the end look like 2 fds fewer than "baseline").
      const baselineFds = await steadyFdCount(pid);
      const baselineRss = procStatusKiB(pid, 'VmRSS');

      // The soak.
      let peakRss = baselineRss;
      const sampler = setInterval(() => { peakRss = Math.max(peakRss, procStatusKiB(pid, 'VmRSS')); }, 500);
      const started = Date.now();
      const run = await churn(ctx, started + SOAK_SECONDS * 1000);
      clearInterval(sampler);
      const seconds = (Date.now() - started) / 1000;
      console.log(`# ${run.total} cycles in ${seconds.toFixed(0)} s: ${JSON.stringify(run.counts)}`);
      assert.deepEqual(run.errors, []);
      const never = Object.entries(run.counts).filter(([, n]) => n === 0).map(([name]) => name);
      assert.deepEqual(never, [], `scenarios that never ran: ${never.join(', ')}`);

      // Quiet again: every connection the churn opened is gone from the server.
      let fds = fdCount(pid);
      for (const deadline = Date.now() + 15000; fds !== baselineFds && Date.now() < deadline;) {
        await sleep(250);
        fds = fdCount(pid);
      }
      await sleep(1000);
      const endRss = procStatusKiB(pid, 'VmRSS');
      const asan = underAsan(pid);
      const allowedMiB = RSS_SLACK_MIB + (asan ? ASAN_QUARANTINE_MIB : 0);
      console.log(`# fds ${baselineFds} -> ${fds}; VmRSS ${(baselineRss / 1024).toFixed(1)} MiB baseline, ` +
                  `${(peakRss / 1024).toFixed(1)} MiB peak, ${(endRss / 1024).toFixed(1)} MiB after` +
                  `${asan ? ' (AddressSanitizer build)' : ''}`);
      assert.equal(fds, baselineFds, 'no file descriptor leaked');
      assert.ok((endRss - baselineRss) / 1024 <= allowedMiB,
                `VmRSS grew by ${((endRss - baselineRss) / 1024).toFixed(1)} MiB (bound ${allowedMiB} MiB)`);
    } finally {
      clearInterval(broadcaster);
    }

    // The stable subscribers saw every broadcast of every stream, in order, none missing (the
    // last ones may still be on their way).
    const same = (a, b) => a.every((x, i) => x === b[i]);
    for (const deadline = Date.now() + 10000; Date.now() < deadline && !stable.every((c) => same(c.nextSeq, sent));) {
      await sleep(100);
    }
    for (const c of stable) {
      assert.equal(c.closeInfo, undefined, 'stable subscribers stay connected');
      assert.deepEqual(c.gaps, []);
      assert.deepEqual(c.nextSeq, sent, 'every broadcast reached every stable subscriber');
      c.terminate();
    }
    publisher.terminate();
  });
});
