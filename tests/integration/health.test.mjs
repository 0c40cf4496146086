// GET /health tells the truth about end-to-end delivery, and GET /ready about start-up and the
// broker (docs/health.md): the canary notices a killed subscriber connection and a hung broker
// (SIGSTOP: nothing closes, nothing arrives), the adapter recovers by itself, and clients
// subscribed before and after lose nothing broadcast once the node is healthy again. A node
// whose broker is not up yet serves, answers 503 with the reason, and delivers once it is.
// Every broker here is private to the test: pausing or killing the shared one would disturb
// tests running in parallel.
import assert from 'node:assert/strict';
import net from 'node:net';
import {after, describe, test} from 'node:test';
import {chatId, connectWelcomed} from '../support/json_client.mjs';
import {startPrivatePostgres} from '../support/postgres.mjs';
import {eventually, privateRedis, redisCli, uniquePrefix} from '../support/redis_env.mjs';
import {freePort, startCablecast} from '../support/servers.mjs';

const INTERVAL_MS = 300;  // --health-interval: a canary every 300 ms keeps the test short

async function probe(server, path) {
  const response = await fetch(`http://127.0.0.1:${server.port}${path}`);
  return {status: response.status, body: await response.json()};
}

// Polls `path` until it answers `status`; returns that answer.
function until(server, path, status, timeoutMs = 10000) {
  return eventually(async () => {
    const answer = await probe(server, path);
    return answer.status === status ? answer : null;
  }, timeoutMs, `${path} answering ${status}`);
}

// Every client receives `count` messages on room `room`, in order, broadcast by `speaker`.
async function deliversAll(speaker, room, clients, count, label) {
  for (let i = 0; i < count; i++) speaker.perform(chatId(room), 'speak', {user: 's', text: `${label} ${i}`});
  for (const client of clients) {
    for (let i = 0; i < count; i++) {
      const next = await client.next((m) => m.identifier === chatId(room), 5000);
      assert.equal(next.message.text, `${label} ${i}`);
    }
  }
}

describe('health: /health and /ready with Redis', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('a killed subscriber connection and a hung broker make /health 503, then the node recovers and loses nothing', async () => {
    const redis = await privateRedis();
    cleanup.push(() => redis.dispose());
    const server = await startCablecast(['--pubsub', 'redis', '--redis-url', redis.url,
      '--channel-prefix', uniquePrefix('health'), '--health-interval', String(INTERVAL_MS)]);
    cleanup.push(() => server.stop('SIGKILL'));

    const healthy = await until(server, '/health', 200);
    assert.equal(healthy.body.status, 'ok');
    assert.equal(healthy.body.pubsub.adapter, 'redis');
    assert.equal(typeof healthy.body.canary.last_round_trip_ms, 'number');
    assert.equal((await probe(server, '/ready')).status, 200);

    const before = await connectWelcomed(`${server.url}?user=before`);
    const speaker = await connectWelcomed(`${server.url}?user=speaker`);
    cleanup.push(() => before.close(), () => speaker.close());
    await before.subscribe(chatId('h'));
    await speaker.subscribe(chatId('h'));  // perform needs the subscription

    // 1. Redis drops the subscriber connection: 503 within seconds, 200 once a canary came
    // back over the new connection.
    await redisCli(redis.port, 'CLIENT', 'KILL', 'TYPE', 'pubsub');
    const killed = await until(server, '/health', 503, 5000);
    assert.match(killed.body.reason, /pub\/sub down|reconnected/);
    await until(server, '/health', 200);
    const after1 = await connectWelcomed(`${server.url}?user=after1`);
    cleanup.push(() => after1.close());
    await after1.subscribe(chatId('h'));
    await deliversAll(speaker, 'h', [before, after1], 10, 'after the kill');

    // 2. The broker hangs (SIGSTOP): every connection stays open, nothing comes back. Only the
    // canary can tell; it makes the adapter reconnect, which succeeds once Redis resumes.
    const mark = server.logs.length;
    process.kill(redis.pid(), 'SIGSTOP');
    let resumed = false;
    cleanup.push(() => { if (!resumed) process.kill(redis.pid(), 'SIGCONT'); });
    const hung = await until(server, '/health', 503, 5000);
    assert.match(hung.body.reason, /canary/);
    await server.waitForLog(/health canary: not back within \d+ ms .* telling the redis adapter to reconnect/, 5000, mark);
    await server.waitForLog(/redis: reconnecting both connections .* the health canary did not come back/, 5000, mark);
    process.kill(redis.pid(), 'SIGCONT');
    resumed = true;
    const recovered = await until(server, '/health', 200, 20000);
    assert.ok(recovered.body.pubsub.reconnects >= 2, JSON.stringify(recovered.body));
    assert.ok(recovered.body.canary.missed >= 1, JSON.stringify(recovered.body));
    const after2 = await connectWelcomed(`${server.url}?user=after2`);
    cleanup.push(() => after2.close());
    await after2.subscribe(chatId('h'));
    await deliversAll(speaker, 'h', [before, after1, after2], 10, 'after the hang');
  });

  test('Redis not up yet: the node serves, /ready says why, and delivers once Redis is up', async () => {
    const redis = await privateRedis();
    cleanup.push(() => redis.dispose());
    await redis.stop();
    const server = await startCablecast(['--pubsub', 'redis', '--redis-url', redis.url,
      '--channel-prefix', uniquePrefix('late'), '--health-interval', String(INTERVAL_MS)]);
    cleanup.push(() => server.stop('SIGKILL'));

    const notReady = await probe(server, '/ready');
    assert.equal(notReady.status, 503);
    assert.equal(notReady.body.status, 'not_ready');
    assert.match(notReady.body.reason, /cannot connect to Redis/);
    const unhealthy = await probe(server, '/health');
    assert.equal(unhealthy.status, 503);
    assert.match(unhealthy.body.reason, /pub\/sub down: .*cannot connect to Redis/);

    // A client subscribing meanwhile waits for Redis (Rails' rule: confirmed means it misses
    // nothing), and is confirmed once Redis is up.
    const early = await connectWelcomed(`${server.url}?user=early`);
    cleanup.push(() => early.close());
    const confirmed = early.subscribe(chatId('late'), 30000);

    await redis.start();
    await until(server, '/ready', 200);
    await until(server, '/health', 200);
    await confirmed;
    const speaker = await connectWelcomed(`${server.url}?user=speaker`);
    cleanup.push(() => speaker.close());
    await speaker.subscribe(chatId('late'));  // perform needs the subscription
    await deliversAll(speaker, 'late', [early], 5, 'once up');
  });

  test('--pubsub-wait 2 without a broker: a clear message and a non-zero exit', async () => {
    const {runCablecast} = await import('../support/postgres.mjs');
    const started = Date.now();
    const r = await runCablecast(['serve', '--port', '0', '--pubsub', 'redis', '--pubsub-wait', '2',
      '--redis-url', `redis://127.0.0.1:${await freePort()}/0`]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /pub\/sub redis not connected after --pubsub-wait 2 s: .*cannot connect to Redis \(Connection refused\); stopping/);
    assert.ok(Date.now() - started >= 2000, 'it waited before giving up');
  });

  test('a bad URL or a refused password still fails at once', async () => {
    const {runCablecast} = await import('../support/postgres.mjs');
    const bad = await runCablecast(['serve', '--port', '0', '--pubsub', 'redis', '--redis-url', 'redis://127.0.0.1:notaport/0']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /invalid --redis-url/);
    const redis = await privateRedis();
    cleanup.push(() => redis.dispose());
    await redisCli(redis.port, 'CONFIG', 'SET', 'requirepass', 'right-pw');
    const refused = await runCablecast(['serve', '--port', '0', '--pubsub', 'redis',
      '--redis-url', `redis://:wrong-pw@127.0.0.1:${redis.port}/0`]);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /refused the credentials/);
  });
});

describe('health: PostgreSQL not up yet', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('the node serves with /ready 503, then connects, confirms waiting subscriptions and delivers', async () => {
    const pg = await startPrivatePostgres('health');
    cleanup.push(() => pg.stop());
    await pg.stop();
    const server = await startCablecast(['--pubsub', 'postgres', '--postgres-url', pg.url,
      '--channel-prefix', uniquePrefix('pglate'), '--health-interval', String(INTERVAL_MS)]);
    cleanup.push(() => server.stop('SIGKILL'));

    const notReady = await probe(server, '/ready');
    assert.equal(notReady.status, 503);
    assert.match(notReady.body.reason, /postgres .*Connection refused/);
    const early = await connectWelcomed(`${server.url}?user=early`);
    cleanup.push(() => early.close());
    const confirmed = early.subscribe(chatId('pg'), 30000);

    await pg.start();
    await until(server, '/ready', 200, 20000);
    await until(server, '/health', 200, 20000);
    await confirmed;
    await deliversAll(early, 'pg', [early], 5, 'once up');
  });
});

describe('health: the RPC backend', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('/health is 503 while --rpc-url cannot be reached and 200 once it accepts connections', async () => {
    const port = await freePort();
    const server = await startCablecast(['--rpc-url', `http://127.0.0.1:${port}/_anycable`,
      '--health-interval', String(INTERVAL_MS)]);
    cleanup.push(() => server.stop('SIGKILL'));
    const down = await until(server, '/health', 503);
    await eventually(async () => /rpc backend/.test((await probe(server, '/health')).body.reason ?? ''),
      5000, 'the RPC reason');
    assert.equal(down.body.rpc.target, `127.0.0.1:${port}`);
    // /ready does not depend on the RPC backend: the node can serve its own channels.
    assert.equal((await probe(server, '/ready')).status, 200);

    const backend = net.createServer((socket) => socket.destroy());
    await new Promise((resolve) => backend.listen(port, '127.0.0.1', resolve));
    cleanup.push(() => new Promise((resolve) => backend.close(resolve)));
    const up = await until(server, '/health', 200);
    assert.equal(up.body.rpc.reachable, true);
  });
});
