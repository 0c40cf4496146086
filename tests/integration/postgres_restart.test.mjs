// PostgreSQL restarts under two running Cablecast nodes: both survive, keep serving their
// WebSocket clients during the outage, report broadcasts made meanwhile as failed (log line),
// reconnect, LISTEN again to every live stream, and deliver what is broadcast once the broker
// is back. Runs its own PostgreSQL cluster (scripts/services.sh) so that stopping it does not
// disturb the tests sharing the main one. Needs scripts/with-services.sh; fails without it.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {benchmarkId, chatId, isMessageFor, welcomedClients} from '../support/json_client.mjs';
import {startPostgresNode, startPrivatePostgres, uniquePrefix} from '../support/postgres.mjs';

describe('PostgreSQL restart in the middle of a test', () => {
  const prefix = uniquePrefix('restart');
  let pg;
  let nodeA;
  let nodeB;
  const clients = welcomedClients();
  const client = (node, user) => clients.connect(`${node.url}?user=${user}`);

  before(async () => {
    pg = await startPrivatePostgres('restart-pg');
    [nodeA, nodeB] = await Promise.all([startPostgresNode({url: pg.url, prefix}),
                                        startPostgresNode({url: pg.url, prefix})]);
  });
  after(async () => {
    await clients.closeAll();
    await Promise.all([nodeA?.stop(), nodeB?.stop()]);
    await pg?.stop();
  });

  test('nodes survive, resubscribe, and deliver what is broadcast after the broker is back', async () => {
    const room = chatId('outage');
    const bench = benchmarkId(`outage-${prefix}`);
    const a = await client(nodeA, 'alice');
    const b = await client(nodeB, 'bob');
    await a.subscribe(room);
    await a.subscribe(bench);
    await b.subscribe(room);
    b.perform(room, 'speak', {user: 'bob', text: 'before'});
    assert.deepEqual((await a.next(isMessageFor(room), 5000)).message, {user: 'bob', text: 'before'});

    const markA = nodeA.logs.length;
    const markB = nodeB.logs.length;
    await pg.stop();
    await nodeA.waitForLog(/listener connection lost/, 10000, markA);
    await nodeB.waitForLog(/publisher connection lost/, 10000, markB);

    // The WebSocket side keeps serving during the outage: new connections are welcomed and
    // channel actions that do not need the broker answer.
    const c = await client(nodeA, 'carol');
    assert.ok(c);
    a.perform(bench, 'echo', {during: 'outage'});
    assert.deepEqual((await a.next(isMessageFor(bench), 5000)).message, {during: 'outage', action: 'echo'});

    // A broadcast during the outage fails visibly (the node logs it), it does not vanish.
    b.perform(room, 'speak', {user: 'bob', text: 'during'});
    await nodeB.waitForLog(/broadcast to chat_outage failed: .*PostgreSQL connection is down/, 5000, markB);

    await pg.start();
    await nodeA.waitForLog(/listener reconnected; LISTEN again on [1-9]\d* channel/, 20000, markA);
    await nodeB.waitForLog(/publisher reconnected; [1-9]\d* broadcast\(s\) were refused while it was down/, 20000, markB);
    // The re-LISTEN is queued right after the reconnect line; a fresh subscription on node A
    // confirms only after its own LISTEN, which runs after the re-LISTENs on that connection.
    await c.subscribe(chatId('after'));

    b.perform(room, 'speak', {user: 'bob', text: 'after'});
    const got = await a.next(isMessageFor(room), 5000);
    assert.deepEqual(got.message, {user: 'bob', text: 'after'}, 'the outage broadcast must not reappear');
    assert.equal(nodeA.exitInfo, null);
    assert.equal(nodeB.exitInfo, null);
  });
});
