// Presence (AnyCable's extended protocol, protocol.md 7.6) against the real binary, with
// @anycable/core's own presence API (channel.presence.join/leave/info) as a page uses it, on
// public $pubsub streams, where presence is always on: one presence id is one member however
// many tabs or nodes it joined from, its leave comes when its last tab goes (at once on an
// explicit leave, after --presence-ttl when a connection closed or its node died), and a tab
// that reconnects within the ttl does not flicker.
//
// "No event" checks are fenced by state: the member list the server reports after the step
// (a presence command answered after the step's own commands) still holds the member.
import assert from 'node:assert/strict';
import {after, describe, test} from 'node:test';
import {anycable, connectExt, followStream, pubsubId, waitForConnects} from '../support/anycable_client.mjs';
import {SESSION_SAVED, extendedProtocolFixture} from '../support/ext_fixture.mjs';
import {sharedRedis, uniquePrefix} from '../support/redis_env.mjs';
import {startTcpProxy} from '../support/tcp_proxy.mjs';

const KEY = 'presence-broadcast-key-8d41';
const WAIT_MS = 30000;
const TEST = {timeout: 180000};
const ANN = {name: 'Ann'};
const BOB = {name: 'Bob'};

/** The presence events of one id, as {type, id}. */
const eventsOf = (followed, id) => followed.presence.filter((e) => e.id === id).map((e) => ({type: e.type, id: e.id}));

/** The member list the server has now (not the client's cached one): {id: info}. */
async function membersSeenBy(followed) {
  followed.channel.presence.reset();
  return followed.channel.presence.info();
}

describe('presence', () => {
  const fixture = extendedProtocolFixture(after, KEY);
  const cleanup = {push: (fn) => fixture.defer(fn)};
  const server = (extra) => fixture.server(extra);
  const tab = (url, room, name) => fixture.tab(url, room, name);
  function redisNodes(prefix, extra = []) {
    const redis = sharedRedis();
    const args = ['--pubsub', 'redis', '--redis-url', redis.url, '--channel-prefix', prefix, ...extra];
    return Promise.all([server(args), server(args)]);
  }

  test('one id from two tabs is one member; it leaves only after its last tab left', TEST, async () => {
    const s = await server();
    const room = 'room/1';
    const observer = await tab(s.url, room, 'observer');
    const first = await tab(s.url, room, 'first tab');
    const second = await tab(s.url, room, 'second tab');
    // And a raw client of the extended protocol, for the exact frames.
    const raw = await connectExt(s.url);
    cleanup.push(() => raw.client.close());
    const id = pubsubId(room);
    await raw.client.subscribe(id, WAIT_MS);
    const presenceFrame = (type) => raw.client.nextEntry((m) => m.type === 'presence' && m.message.type === type, WAIT_MS);

    await first.channel.presence.join('u1', ANN);
    await observer.waitForPresence((e) => e.type === 'join' && e.id === 'u1', WAIT_MS);
    await second.channel.presence.join('u1', ANN);
    assert.deepEqual(await membersSeenBy(second), {u1: ANN}, 'after the second tab joined');
    assert.deepEqual(await membersSeenBy(observer), {u1: ANN});

    assert.equal((await presenceFrame('join')).text,
      JSON.stringify({type: 'presence', identifier: id, message: {type: 'join', id: 'u1', info: ANN}}));
    raw.client.send({command: 'presence', identifier: id, data: {}});
    assert.equal((await presenceFrame('info')).text, JSON.stringify({type: 'presence', identifier: id,
      message: {type: 'info', total: 1, records: [{id: 'u1', info: ANN}]}}));

    await first.channel.presence.leave();
    assert.deepEqual(await membersSeenBy(first), {u1: ANN}, 'still a member: the second tab is in');
    assert.deepEqual(await membersSeenBy(observer), {u1: ANN});

    await second.channel.presence.leave();
    await observer.waitForPresence((e) => e.type === 'leave' && e.id === 'u1', WAIT_MS);
    assert.deepEqual(eventsOf(observer, 'u1'), [{type: 'join', id: 'u1'}, {type: 'leave', id: 'u1'}]);
    assert.deepEqual(await membersSeenBy(observer), {});
    assert.equal((await presenceFrame('leave')).text,
      JSON.stringify({type: 'presence', identifier: id, message: {type: 'leave', id: 'u1'}}));
    assert.deepEqual(raw.client.queue.map((e) => e.text), [], 'one join and one leave frame in all');
  });

  test('a tab that closed leaves after --presence-ttl', TEST, async () => {
    const s = await server(['--presence-ttl', '2']);
    const room = 'room/ttl';
    const observer = await tab(s.url, room, 'observer');
    const bob = await tab(s.url, room, 'bob');
    await bob.channel.presence.join('bob', BOB);
    await observer.waitForPresence((e) => e.type === 'join' && e.id === 'bob', WAIT_MS);
    bob.cable.disconnect();
    await observer.waitForPresence((e) => e.type === 'leave' && e.id === 'bob', WAIT_MS);
    assert.deepEqual(await membersSeenBy(observer), {});
  });

  test('a tab whose network drops and comes back within --presence-ttl does not flicker', TEST, async () => {
    // The session is restored and @anycable/core joins again: Ann stays a member throughout and
    // leaves once, when she says so.
    // (The ttl only has to outlast the drop, milliseconds here; the session's old membership
    // lasts it out, so the final leave may wait for it.)
    const s = await server(['--presence-ttl', '5']);
    const room = 'room/flicker';
    const watcher = await tab(s.url, room, 'watcher');
    const proxy = await startTcpProxy(s.port);
    cleanup.push(() => proxy.close());
    const ann = await tab(proxy.url(), room, 'ann');
    await ann.channel.presence.join('ann', ANN);
    await watcher.waitForPresence((e) => e.type === 'join' && e.id === 'ann', WAIT_MS);
    const mark = s.logs.length;
    proxy.cut();
    await s.waitForLog(/connection aborted/, WAIT_MS, mark);
    await s.waitForLog(SESSION_SAVED, WAIT_MS, mark);
    proxy.restore();
    await waitForConnects(ann.cable, 2, WAIT_MS);
    assert.equal(ann.cable.connects[1].restored, true);
    assert.deepEqual(await membersSeenBy(ann), {ann: ANN}, 'after the reconnect');
    assert.deepEqual(await membersSeenBy(watcher), {ann: ANN});
    await ann.channel.presence.leave();
    await watcher.waitForPresence((e) => e.type === 'leave' && e.id === 'ann', WAIT_MS);
    assert.deepEqual(eventsOf(watcher, 'ann'), [{type: 'join', id: 'ann'}, {type: 'leave', id: 'ann'}],
      'no leave and join again around the reconnect');
  });

  test('one id from two nodes is one member, and leaves after its last tab (Redis)', TEST, async () => {
    const [a, b] = await redisNodes(uniquePrefix('presence'));
    const room = `room/${uniquePrefix('nodes')}`;
    const observer = await tab(b.url, room, 'observer on b');
    const onA = await tab(a.url, room, 'tab on a');
    const onB = await tab(b.url, room, 'tab on b');

    await onA.channel.presence.join(42, ANN);  // a number: String(42) on the wire
    await observer.waitForPresence((e) => e.type === 'join' && e.id === '42', WAIT_MS);
    await onB.channel.presence.join('42', ANN);
    assert.deepEqual(await membersSeenBy(onB), {42: ANN});
    assert.deepEqual(await membersSeenBy(onA), {42: ANN});

    await onA.channel.presence.leave();
    assert.deepEqual(await membersSeenBy(onA), {42: ANN}, 'still a member: the tab on b is in');
    assert.deepEqual(await membersSeenBy(observer), {42: ANN});
    await onB.channel.presence.leave();
    await observer.waitForPresence((e) => e.type === 'leave' && e.id === '42', WAIT_MS);
    assert.deepEqual(eventsOf(observer, '42'), [{type: 'join', id: '42'}, {type: 'leave', id: '42'}]);
    assert.deepEqual(await membersSeenBy(observer), {});
  });

  test('the members of a node killed with SIGKILL leave after --presence-ttl, seen on the other node (Redis)', TEST, async () => {
    const [doomed, survivor] = await redisNodes(uniquePrefix('presence_kill'), ['--presence-ttl', '2']);
    const room = `room/${uniquePrefix('kill')}`;
    const observer = await tab(survivor.url, room, 'observer');
    const gone = await tab(doomed.url, room, 'tab on the killed node');
    const staying = await tab(survivor.url, room, 'tab on the survivor');
    await gone.channel.presence.join('gone', ANN);
    await staying.channel.presence.join('staying', BOB);
    await observer.waitForPresence((e) => e.type === 'join' && e.id === 'gone', WAIT_MS);
    await observer.waitForPresence((e) => e.type === 'join' && e.id === 'staying', WAIT_MS);

    await doomed.stop('SIGKILL');
    gone.cable.disconnect();  // nowhere to go back to
    await observer.waitForPresence((e) => e.type === 'leave' && e.id === 'gone', 60000);
    assert.deepEqual(await membersSeenBy(observer), {staying: BOB});
    assert.deepEqual(eventsOf(observer, 'staying'), [{type: 'join', id: 'staying'}],
      'live members are kept alive by their node');
  });
});
