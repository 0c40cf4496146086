// 1,000 concurrent connections on one stream: a single broadcast reaches every one exactly once.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {benchmarkId, connectWelcomed} from '../support/json_client.mjs';
import {startTarget} from '../support/servers.mjs';
import {receivedBefore} from '../support/fence.mjs';

const COUNT = Number(process.env.CABLECAST_MANY_CONNECTIONS || 1000);
const CONNECT_BATCH = 100;

describe(`${COUNT} concurrent connections`, () => {
  let server;
  const clients = [];
  before(async () => {
    server = await startTarget();
  });
  after(async () => {
    for (const c of clients) c.terminate();
    await server?.stop();
  });

  test('every subscriber receives one broadcast exactly once', {timeout: 90000}, async () => {
    const id = benchmarkId('many');
    const t0 = performance.now();
    for (let i = 0; i < COUNT; i += CONNECT_BATCH) {
      const batch = [];
      for (let k = i; k < Math.min(COUNT, i + CONNECT_BATCH); k++) {
        batch.push(connectWelcomed(`${server.url}?user=u${k}`, {timeoutMs: 20000}).then(async (c) => {
          clients.push(c);
          await c.subscribe(id, 20000);
          return c;
        }));
      }
      await Promise.all(batch);
    }
    const t1 = performance.now();
    assert.equal(clients.length, COUNT);

    const sender = clients[0];
    const payload = {text: 'fan-out', at: Date.now()};
    sender.perform(id, 'broadcast', payload);
    const expected = {identifier: id, message: {...payload, action: 'broadcast'}};
    await Promise.all(clients.map((c) =>
      c.next((m) => m.message?.action === 'broadcast', 30000).then((m) => assert.deepEqual(m, expected))));
    const t2 = performance.now();

    // Nothing duplicated: no client gets a second copy before a later broadcast of the same
    // sender (the fence: a copy would have been queued before it).
    sender.perform(id, 'broadcast', {fence: true});
    let extra = 0;
    for (const c of clients) {
      const earlier = await receivedBefore(c, (m) => m.message?.fence === true && m.message.action === 'broadcast', 30000);
      extra += earlier.filter((m) => m.message?.action === 'broadcast').length;
    }
    assert.equal(extra, 0, `${extra} duplicate deliveries`);
    console.log(`# ${COUNT} connections connected+subscribed in ${(t1 - t0).toFixed(0)} ms; ` +
                `broadcast delivered to all in ${(t2 - t1).toFixed(1)} ms`);
  });
});
