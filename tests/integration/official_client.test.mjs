// The official @rails/actioncable consumer (the one browsers load), unchanged, against the server:
// connect, subscribe, perform, receive broadcasts, unsubscribe, rejection, unauthorized
// connections, and automatic reconnection after a server restart.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {ActionCable, openedSockets, recordedSubscription} from '../support/actioncable.mjs';
import {connectWelcomed, benchmarkId} from '../support/json_client.mjs';
import {sleep, startTarget} from '../support/servers.mjs';

const consumers = [];
function consumer(url) {
  const c = ActionCable.createConsumer(url);
  consumers.push(c);
  return c;
}
function disconnectAll() {
  for (const c of consumers.splice(0)) c.disconnect();
}

describe('official @rails/actioncable client', () => {
  let server;
  before(async () => {
    server = await startTarget();
  });
  after(async () => {
    disconnectAll();
    await server?.stop();
  });

  test('connects, subscribes to ChatChannel and exchanges speak broadcasts between consumers', async () => {
    const alice = consumer(`${server.url}?user=alice`);
    const bob = consumer(`${server.url}?user=bob`);
    const a = recordedSubscription(alice, {channel: 'ChatChannel', room: 'lobby'});
    const b = recordedSubscription(bob, {channel: 'ChatChannel', room: 'lobby'});
    assert.deepEqual(await a.waitFor('connected'), {reconnected: false});
    await b.waitFor('connected');
    assert.equal(alice.connection.getProtocol(), 'actioncable-v1-json');

    a.subscription.perform('speak', {user: 'alice', text: 'hello'});
    assert.deepEqual(await b.waitFor('received'), {user: 'alice', text: 'hello'});
    // The sender streams the room too, so it receives its own message.
    assert.deepEqual(await a.waitFor('received'), {user: 'alice', text: 'hello'});

    // A different room is a different stream.
    const c = recordedSubscription(bob, {channel: 'ChatChannel', room: 'other'});
    await c.waitFor('connected');
    a.subscription.perform('speak', {user: 'alice', text: 'only lobby'});
    await b.waitFor('received', (m) => m.text === 'only lobby');
    // Fence: a message in the other room, published after the lobby's had reached bob's
    // connection, so a stray lobby message would have come first.
    c.subscription.perform('speak', {user: 'bob', text: 'fence'});
    await c.waitFor('received', (m) => m.text === 'fence');
    assert.deepEqual(c.received(), [{user: 'bob', text: 'fence'}]);
  });

  test('BenchmarkChannel echo and broadcast', async () => {
    const one = consumer(server.url);
    const two = consumer(server.url);
    const s1 = recordedSubscription(one, {channel: 'BenchmarkChannel', id: 'oc'});
    const s2 = recordedSubscription(two, {channel: 'BenchmarkChannel', id: 'oc'});
    await s1.waitFor('connected');
    await s2.waitFor('connected');

    s1.subscription.perform('echo', {text: 'ping?', n: 7});
    assert.deepEqual(await s1.waitFor('received'), {text: 'ping?', n: 7, action: 'echo'});

    s1.subscription.perform('broadcast', {text: 'to all'});
    assert.deepEqual(await s1.waitFor('received', (m) => m.action === 'broadcastResult'),
                     {text: 'to all', action: 'broadcastResult'});
    assert.deepEqual(await s1.waitFor('received', (m) => m.action === 'broadcast'),
                     {text: 'to all', action: 'broadcast'});
    assert.deepEqual(await s2.waitFor('received'), {text: 'to all', action: 'broadcast'});
    // Fence: an echo on each connection, answered after anything already queued for it. Exactly
    // one delivery per consumer before it, and the first echo went to its sender only.
    s1.subscription.perform('echo', {text: 'fence'});
    s2.subscription.perform('echo', {text: 'fence'});
    await s1.waitFor('received', (m) => m.text === 'fence');
    await s2.waitFor('received', (m) => m.text === 'fence');
    assert.deepEqual(s2.received().map((m) => m.action), ['broadcast', 'echo']);
    assert.deepEqual(s1.received().map((m) => m.action).sort(), ['broadcast', 'broadcastResult', 'echo', 'echo']);
  });

  test('unsubscribe stops deliveries', async () => {
    const listener = consumer(server.url);
    const sender = consumer(server.url);
    const gone = recordedSubscription(listener, {channel: 'ChatChannel', room: 'unsub'});
    const stays = recordedSubscription(listener, {channel: 'ChatChannel', room: 'unsub2'});
    const speaker = recordedSubscription(sender, {channel: 'ChatChannel', room: 'unsub'});
    const speaker2 = recordedSubscription(sender, {channel: 'ChatChannel', room: 'unsub2'});
    await Promise.all([gone, stays, speaker, speaker2].map((s) => s.waitFor('connected')));

    gone.subscription.unsubscribe();
    // Fence: the listener's own later message comes back only after the server has handled the
    // unsubscribe sent before it on the same socket.
    stays.subscription.perform('speak', {user: 'l', text: 'fence'});
    await stays.waitFor('received', (m) => m.text === 'fence');
    speaker.subscription.perform('speak', {user: 's', text: 'after unsubscribe'});
    speaker2.subscription.perform('speak', {user: 's', text: 'other room'});
    await speaker.waitFor('received', (m) => m.text === 'after unsubscribe');
    // The sender's later message in the other room is the fence: published after the one in
    // the room left, so it would have come second.
    await stays.waitFor('received', (m) => m.text === 'other room');
    assert.deepEqual(gone.received(), []);
  });

  test('ChatChannel without a room is rejected', async () => {
    const c = consumer(server.url);
    const noRoom = recordedSubscription(c, {channel: 'ChatChannel'});
    const emptyRoom = recordedSubscription(c, {channel: 'ChatChannel', room: ''});
    await noRoom.waitFor('rejected');
    await emptyRoom.waitFor('rejected');
    assert.equal(noRoom.events.some((e) => e.name === 'connected'), false);
    // The rejection removed the subscriptions from the consumer, so the guarantor stops retrying.
    assert.equal(c.subscriptions.findAll(noRoom.subscription.identifier).length, 0);
  });

  test('ChatChannel with a blank room (whitespace only, as Rails\' blank?) is rejected', async () => {
    const c = consumer(server.url);
    // ASCII whitespace, then the no-break and ideographic spaces Ruby's [[:space:]] matches.
    const blanks = [' ', '\t\n ', '\u00a0', '\u3000 \u2003'].map((room) =>
      recordedSubscription(c, {channel: 'ChatChannel', room}));
    // A room with a character beside its spaces is a room (and the fence: handled after them).
    const spaced = recordedSubscription(c, {channel: 'ChatChannel', room: ' lobby\u00a0'});
    for (const blank of blanks) await blank.waitFor('rejected');
    await spaced.waitFor('connected');
    for (const blank of blanks) assert.equal(blank.events.some((e) => e.name === 'connected'), false);
  });

  test('an unauthorized connection is disconnected and does not reconnect', async () => {
    const url = `${server.url}?reject=1`;
    const before = openedSockets.filter((s) => s.url === url).length;
    const c = consumer(url);
    const s = recordedSubscription(c, {channel: 'ChatChannel', room: 'x'});
    const info = await s.waitFor('disconnected');
    assert.deepEqual(info, {willAttemptReconnect: false});
    assert.equal(c.connection.monitor.isRunning(), false);
    assert.equal(s.events.some((e) => e.name === 'connected'), false);
    await sleep(1500);
    assert.equal(openedSockets.filter((x) => x.url === url).length - before, 1, 'client reconnected');
  });
});

describe('official client reconnects after a server restart', () => {
  let server;
  const savedStale = ActionCable.ConnectionMonitor.staleThreshold;
  before(async () => {
    server = await startTarget();
  });
  after(async () => {
    ActionCable.ConnectionMonitor.staleThreshold = savedStale;
    disconnectAll();
    await server?.stop();
  });

  test('re-subscribes after the server process is restarted on the same port', {timeout: 40000}, async () => {
    // 4 s > the 3 s ping interval, so a healthy connection never looks stale, yet the monitor
    // notices a dead one within ~4-8 s instead of the default 6-12 s.
    ActionCable.ConnectionMonitor.staleThreshold = 4;
    const c = consumer(server.url);
    const s = recordedSubscription(c, {channel: 'BenchmarkChannel', id: 'restart'});
    await s.waitFor('connected');
    const port = server.port;

    await server.stop('SIGTERM');
    const disconnected = await s.waitFor('disconnected');
    assert.deepEqual(disconnected, {willAttemptReconnect: true});
    server = await startTarget([], {port});

    const again = await s.waitFor('connected', (info) => info.reconnected === true, 25000);
    assert.deepEqual(again, {reconnected: true});

    // The new server knows the subscription: a broadcast from another client reaches it.
    const other = await connectWelcomed(server.url);
    try {
      const id = await other.subscribe(benchmarkId('restart'));
      other.perform(id, 'broadcast', {after: 'restart'});
      assert.deepEqual(await s.waitFor('received', (m) => m.after === 'restart'),
                       {after: 'restart', action: 'broadcast'});
    } finally {
      other.terminate();
    }
  });
});
