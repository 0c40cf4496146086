// Several Cablecast nodes sharing one PostgreSQL (LISTEN/NOTIFY): what a client of one node
// broadcasts reaches the clients of every node, in order, through the channel Rails would use;
// too-large payloads and bad start-up settings fail loudly. Also prints the latency of one
// broadcast across two nodes (p50/p99 over 200 samples) for bench/nodes.sh (docs/benchmarks.md);
// the test asserts that each arrives, never a time.
// Needs scripts/with-services.sh (CABLECAST_TEST_POSTGRES_URL); fails without it.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {benchmarkId, chatId, isMessageFor, welcomedClients} from '../support/json_client.mjs';
import {postgresUrl, quantile, runCablecast, startPostgresNode, uniquePrefix} from '../support/postgres.mjs';

describe('two Cablecast nodes sharing PostgreSQL', () => {
  const prefix = uniquePrefix('nodes');
  let nodeA;
  let nodeB;
  const clients = welcomedClients();
  const client = (node, user) => clients.connect(`${node.url}?user=${user}`);

  before(async () => {
    [nodeA, nodeB] = await Promise.all([startPostgresNode({prefix}), startPostgresNode({prefix})]);
  });
  after(async () => {
    await clients.closeAll();
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
  });

  test('a client on node A receives what a client on node B broadcasts', async () => {
    const id = chatId('lobby');
    const a = await client(nodeA, 'alice');
    const b = await client(nodeB, 'bob');
    await a.subscribe(id);  // confirmed only once node A's LISTEN ran
    await b.subscribe(id);
    b.perform(id, 'speak', {user: 'bob', text: 'hello from B'});
    const atA = await a.next(isMessageFor(id), 5000);
    assert.deepEqual(atA.message, {user: 'bob', text: 'hello from B'});
    const atB = await b.next(isMessageFor(id), 5000);
    assert.deepEqual(atB.message, {user: 'bob', text: 'hello from B'});
  });

  test('broadcasts of one publisher arrive in order on every node', async () => {
    const id = chatId('ordered');
    const a = await client(nodeA, 'alice');
    const b = await client(nodeB, 'bob');
    await a.subscribe(id);
    await b.subscribe(id);
    const count = 200;
    for (let i = 0; i < count; i++) b.perform(id, 'speak', {user: 'bob', text: String(i)});
    for (const c of [a, b]) {
      const seen = [];
      for (let i = 0; i < count; i++) seen.push((await c.next(isMessageFor(id), 5000)).message.text);
      assert.deepEqual(seen, Array.from({length: count}, (_, i) => String(i)));
    }
  });

  test('`cablecast broadcast` with the same prefix reaches the nodes; another prefix does not', async () => {
    const id = chatId('cli');
    const a = await client(nodeA, 'alice');
    await a.subscribe(id);
    const other = await runCablecast(['broadcast', '--pubsub', 'postgres', '--postgres-url', postgresUrl(),
                                      '--channel-prefix', `${prefix}x`, 'chat_cli', '{"text":"wrong prefix"}']);
    assert.equal(other.code, 0, other.stderr);
    const same = await runCablecast(['broadcast', '--pubsub', 'postgres', '--postgres-url', postgresUrl(),
                                     '--channel-prefix', prefix, 'chat_cli', '{"text":"right prefix"}']);
    assert.equal(same.code, 0, same.stderr);
    // The CLI runs one after the other, so the wrong one would have arrived first.
    const got = await a.next(isMessageFor(id), 5000);
    assert.deepEqual(got.message, {text: 'right prefix'});
  });

  test('a payload of 8000 bytes or more is refused with a clear error, never dropped silently', async () => {
    const huge = JSON.stringify({text: 'x'.repeat(8000)});
    const cli = await runCablecast(['broadcast', '--pubsub', 'postgres', '--postgres-url', postgresUrl(),
                                    '--channel-prefix', prefix, 'chat_big', huge]);
    assert.equal(cli.code, 1, cli.stderr);
    assert.match(cli.stderr, /publish failed: .*must be shorter than 8000 bytes/);

    // From a channel on node B: the node logs it; node A's subscriber gets nothing, then the
    // next (small) broadcast.
    const id = benchmarkId(`big-${prefix}`);
    const a = await client(nodeA, 'alice');
    const b = await client(nodeB, 'bob');
    await a.subscribe(id);
    await b.subscribe(id);
    const mark = nodeB.logs.length;
    b.perform(id, 'broadcast', {blob: 'y'.repeat(8000)});
    await nodeB.waitForLog(/broadcast to all.* refused: its payload is \d+ bytes.*shorter than 8000 bytes/, 5000, mark);
    b.perform(id, 'broadcast', {small: true});
    const got = await a.next(isMessageFor(id), 5000);
    assert.deepEqual(got.message, {small: true, action: 'broadcast'});
  });

  test('200 single broadcasts across two nodes each arrive (latency printed)', async (t) => {
    const id = benchmarkId(`latency-${prefix}`);
    const a = await client(nodeA, 'alice');
    const b = await client(nodeB, 'bob');
    await a.subscribe(id);
    await b.subscribe(id);
    const samples = [];
    for (let i = 0; i < 200; i++) {
      const started = process.hrtime.bigint();
      b.perform(id, 'broadcast', {n: i});
      const got = await a.next((m) => m.identifier === id && m.message?.n === i, 5000);
      assert.equal(got.message.n, i);
      samples.push(Number(process.hrtime.bigint() - started) / 1e6);
    }
    const p50 = quantile(samples, 0.5);
    const p99 = quantile(samples, 0.99);
    const line = `postgres cross-node broadcast latency over ${samples.length} samples: ` +
                 `p50 ${p50.toFixed(2)} ms, p99 ${p99.toFixed(2)} ms, max ${Math.max(...samples).toFixed(2)} ms`;
    t.diagnostic(line);
    console.log(line);
  });
});

describe('PostgreSQL start-up errors: a clear message and a non-zero exit', () => {
  test('a malformed --postgres-url', async () => {
    const r = await runCablecast(['serve', '--port', '0', '--pubsub', 'postgres',
                                  '--postgres-url', 'postgres://127.0.0.1/app?nosuchoption=1']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /invalid --postgres-url: .*nosuchoption/);
  });

  test('nothing listening at the URL past --pubsub-wait', async () => {
    // Without --pubsub-wait the node would serve and wait (tests/integration/health.test.mjs).
    const r = await runCablecast(['serve', '--port', '0', '--pubsub', 'postgres', '--pubsub-wait', '1',
                                  '--postgres-url', 'postgres://postgres@127.0.0.1:1/postgres']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /not connected after --pubsub-wait 1 s: .*Connection refused/);
  });

  test('the server refuses the login', async () => {
    const url = postgresUrl().replace('://postgres@', '://no_such_role@');
    const r = await runCablecast(['serve', '--port', '0', '--pubsub', 'postgres', '--postgres-url', url]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /role "no_such_role" does not exist/);
    assert.match(r.stderr, /could not start: could not connect to PostgreSQL/);
  });
});
