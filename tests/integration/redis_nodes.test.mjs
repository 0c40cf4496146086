// Several Cablecast nodes on one Redis (--pubsub redis): what a client on one node broadcasts
// reaches the subscribers on every node; one SUBSCRIBE per stream per node, UNSUBSCRIBE when the
// last local subscriber leaves; confirm_subscription only once Redis has the subscription; the
// channel prefix separates applications; start-up refuses bad URLs and credentials.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import {promisify} from 'node:util';
import {after, describe, test} from 'node:test';
import {chatId, connectWelcomed} from '../support/json_client.mjs';
import {cablecastBin} from '../support/paths.mjs';
import {startCablecast} from '../support/servers.mjs';
import {receivedBefore} from '../support/fence.mjs';
import {eventually, numsub, passwordRedis, redisCli, sharedRedis, uniquePrefix} from '../support/redis_env.mjs';

const run = promisify(execFile);
const redis = sharedRedis();

function redisArgs(prefix, url = redis.url) {
  return ['--pubsub', 'redis', '--redis-url', url, '--channel-prefix', prefix];
}

/** Runs `cablecast serve` expecting it to refuse to start; resolves {code, output}. */
async function failedStart(args) {
  try {
    await run(cablecastBin, ['serve', '--port', '0', ...args], {timeout: 15000});
  } catch (err) {
    return {code: err.code, output: `${err.stdout}${err.stderr}`};
  }
  throw new Error('the server started');
}

describe('redis: several nodes', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });
  async function node(prefix, extra = []) {
    const server = await startCablecast([...redisArgs(prefix), ...extra]);
    cleanup.push(() => server.stop('SIGKILL'));
    return server;
  }
  async function client(server, user = 'u') {
    const c = await connectWelcomed(`${server.url}?user=${user}`);
    cleanup.push(() => c.close());
    return c;
  }

  test('three nodes: a broadcast from any node reaches the subscribers on all of them', async () => {
    const prefix = uniquePrefix('nodes');
    const nodes = [await node(prefix), await node(prefix), await node(prefix)];
    const clients = [];
    for (const n of nodes) {
      const c = await client(n);
      await c.subscribe(chatId('lobby'));
      clients.push(c);
    }
    for (let from = 0; from < nodes.length; from++) {
      clients[from].perform(chatId('lobby'), 'speak', {user: `n${from}`, text: `from ${from}`});
      for (const c of clients) {
        const m = await c.next((msg) => msg.identifier === chatId('lobby'));
        assert.deepEqual(m.message, {user: `n${from}`, text: `from ${from}`});
      }
    }
  });

  test('confirm_subscription means Redis has the subscription: a PUBLISH right after it arrives', async () => {
    const prefix = uniquePrefix('confirm');
    const server = await node(prefix);
    for (let i = 0; i < 20; i++) {
      const c = await client(server);
      await c.subscribe(chatId(`r${i}`));
      // Rails' own wire format: "<prefix>:<broadcasting>" and the JSON text as payload.
      await redisCli(redis.port, 'PUBLISH', `${prefix}:chat_r${i}`, JSON.stringify({n: i}));
      const m = await c.next((msg) => msg.identifier === chatId(`r${i}`));
      assert.deepEqual(m.message, {n: i});
      await c.close();
    }
  });

  test('one SUBSCRIBE per stream per node across event loops; UNSUBSCRIBE with the last subscriber', async () => {
    const prefix = uniquePrefix('refs');
    const server = await node(prefix, ['--threads', '3']);
    const channel = `${prefix}:chat_shared`;
    const clients = [];
    for (let i = 0; i < 6; i++) {  // round-robin: two clients on each of the three loops
      const c = await client(server, `u${i}`);
      await c.subscribe(chatId('shared'));
      clients.push(c);
    }
    assert.equal(await numsub(redis.port, channel), 1);
    for (const c of clients.slice(1)) await c.close();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(await numsub(redis.port, channel), 1, 'unsubscribed while a subscriber is left');
    await clients[0].close();
    await eventually(async () => (await numsub(redis.port, channel)) === 0, 5000, 'UNSUBSCRIBE');
  });

  test('the channel prefix separates applications on one Redis', async () => {
    const a = await node(uniquePrefix('appA'));
    const b = await node(uniquePrefix('appB'));
    const ca = await client(a);
    const cb = await client(b);
    await ca.subscribe(chatId('x'));
    await cb.subscribe(chatId('x'));
    ca.perform(chatId('x'), 'speak', {user: 'a', text: 'only A'});
    assert.deepEqual((await ca.next((m) => m.identifier === chatId('x'))).message, {user: 'a', text: 'only A'});
    // Fence: B's own message goes through the same Redis after A's; had node B subscribed to
    // A's channel, A's message would have reached it first.
    cb.perform(chatId('x'), 'speak', {user: 'b', text: 'fence'});
    assert.deepEqual(await receivedBefore(cb, (m) => m.message?.text === 'fence'), []);
  });

  test('`cablecast broadcast` publishes to the running nodes', async () => {
    const prefix = uniquePrefix('cli');
    const server = await node(prefix);
    const c = await client(server);
    await c.subscribe(chatId('cli'));
    const {stderr} = await run(cablecastBin, ['broadcast', 'chat_cli', '{"text":"from the CLI"}', ...redisArgs(prefix)]);
    assert.doesNotMatch(stderr, /error/i);
    assert.deepEqual((await c.next((m) => m.identifier === chatId('cli'))).message, {text: 'from the CLI'});
  });

  test('start-up: a malformed or TLS URL is refused with a clear message and a non-zero exit', async () => {
    const tls = await failedStart(redisArgs('p', 'rediss://127.0.0.1:6380/0'));
    assert.notEqual(tls.code, 0);
    assert.match(tls.output, /TLS\) is not supported/);
    const bad = await failedStart(redisArgs('p', 'redis://127.0.0.1:notaport/0'));
    assert.notEqual(bad.code, 0);
    assert.match(bad.output, /invalid --redis-url: port must be/);
  });

  test('start-up: nothing listening past --pubsub-wait -> "cannot connect to Redis" and a non-zero exit', async () => {
    // Without --pubsub-wait the node would serve and wait (tests/integration/health.test.mjs).
    const closed = await failedStart([...redisArgs('p', `redis://127.0.0.1:1/0`), '--pubsub-wait', '1']);
    assert.notEqual(closed.code, 0);
    assert.match(closed.output, /not connected after --pubsub-wait 1 s: .*cannot connect to Redis \(Connection refused\)/);
  });

  test('start-up: a missing or wrong password fails clearly; the right one works', async () => {
    const secured = await passwordRedis('s3cret-pw');
    cleanup.push(() => secured.stop());
    const missing = await failedStart(redisArgs('p', `redis://127.0.0.1:${secured.port}/0`));
    assert.notEqual(missing.code, 0);
    assert.match(missing.output, /refused the credentials.*NOAUTH/s);
    const wrong = await failedStart(redisArgs('p', `redis://:nope@127.0.0.1:${secured.port}/0`));
    assert.notEqual(wrong.code, 0);
    assert.match(wrong.output, /refused the credentials.*(WRONGPASS|invalid password)/s);
    assert.doesNotMatch(wrong.output, /nope/, 'the password must not be logged');

    const prefix = uniquePrefix('auth');
    const server = await startCablecast(redisArgs(prefix, `redis://:s3cret-pw@127.0.0.1:${secured.port}/0`));
    cleanup.push(() => server.stop('SIGKILL'));
    const c = await client(server);
    await c.subscribe(chatId('auth'));
    c.perform(chatId('auth'), 'speak', {user: 'a', text: 'authenticated'});
    assert.equal((await c.next((m) => m.identifier === chatId('auth'))).message.text, 'authenticated');
  });
});
