// Two nodes on one Redis under load: 10,000 broadcasts made by one client on node B arrive at a
// client on node A complete and in order (Redis pub/sub keeps the order of one publisher, and
// the node keeps it on to its clients); then 200 single broadcasts B -> Redis -> A, each awaited.
// Both print their timings as diagnostics for bench/nodes.sh (figures in docs/benchmarks.md);
// the tests assert delivery and order only, never a time.
import assert from 'node:assert/strict';
import {after, describe, test} from 'node:test';
import {benchmarkId, connectWelcomed} from '../support/json_client.mjs';
import {startCablecast} from '../support/servers.mjs';
import {sharedRedis, uniquePrefix} from '../support/redis_env.mjs';

const redis = sharedRedis();
const COUNT = 10000;
const SAMPLES = 200;

describe('redis: two nodes under load', () => {
  const cleanup = [];
  let a;
  let b;
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  async function nodes() {
    if (a) return;
    const args = ['--pubsub', 'redis', '--redis-url', redis.url, '--channel-prefix', uniquePrefix('load')];
    a = await startCablecast(args);
    b = await startCablecast(args);
    cleanup.push(() => a.stop('SIGKILL'), () => b.stop('SIGKILL'));
  }
  async function pair(id) {
    const listener = await connectWelcomed(`${a.url}?user=listener`);
    const speaker = await connectWelcomed(`${b.url}?user=speaker`);
    cleanup.push(() => listener.close(), () => speaker.close());
    await listener.subscribe(id);
    await speaker.subscribe(id);
    return {listener, speaker};
  }

  test(`${COUNT} broadcasts across two nodes arrive complete and in order`, async (t) => {
    await nodes();
    const id = benchmarkId('throughput');
    const {listener, speaker} = await pair(id);
    let received = 0;
    let outOfOrder = null;
    let finish;
    const done = new Promise((resolve) => (finish = resolve));
    listener.ws.on('message', (data) => {
      const msg = JSON.parse(data.toString());
      if (msg.identifier !== id || msg.type) return;
      if (msg.message.n !== received && outOfOrder === null) outOfOrder = {expected: received, got: msg.message.n};
      if (++received === COUNT) finish();
    });
    const started = process.hrtime.bigint();
    for (let n = 0; n < COUNT; n++) speaker.perform(id, 'broadcast', {n});
    const timer = setTimeout(() => finish(), 30000);
    await done;
    clearTimeout(timer);
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    assert.equal(received, COUNT, `only ${received} of ${COUNT} arrived within 30 s`);
    assert.equal(outOfOrder, null, `out of order: ${JSON.stringify(outOfOrder)}`);
    t.diagnostic(`${COUNT} broadcasts B -> Redis -> A in ${ms.toFixed(0)} ms (${Math.round(COUNT / (ms / 1000))}/s), all in order`);
  });

  test(`${SAMPLES} single broadcasts across two nodes each arrive (latency printed)`, async (t) => {
    await nodes();
    const id = benchmarkId('latency');
    const {listener, speaker} = await pair(id);
    const latencies = [];
    for (let n = 0; n < SAMPLES; n++) {
      const sent = process.hrtime.bigint();
      speaker.perform(id, 'broadcast', {n});
      const m = await listener.next((msg) => msg.identifier === id && msg.message.n === n, 5000);
      assert.equal(m.message.n, n);
      latencies.push(Number(process.hrtime.bigint() - sent) / 1e6);
    }
    latencies.sort((x, y) => x - y);
    const pick = (q) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))];
    t.diagnostic(`client on B -> node B -> Redis -> node A -> client on A: p50 ${pick(0.5).toFixed(2)} ms, ` +
                 `p99 ${pick(0.99).toFixed(2)} ms, max ${latencies.at(-1).toFixed(2)} ms`);
  });
});
