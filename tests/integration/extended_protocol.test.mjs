// The extended protocol's rules that reliable_streams, presence and whispers do not cover, against
// the real binary with real clients (@anycable/core, raw `ws` clients of either protocol) and
// real brokers (Redis, PostgreSQL from scripts/with-services.sh):
//   * pongs: --pong-timeout closes an ext client that answers no ping (no_pong), and only that;
//   * restore rules: header over query, unknown or expired sids, plain clients, sessions the
//     server closed, a sid taken once;
//   * PostgreSQL: history on one node, and what a client moving to another node is told;
//   * anycable-rails' redisx broadcasts (XADD __anycable__) on two nodes: once each, positioned,
//     in history;
//   * a C++ channel's stream_from(name, {.whisper, .presence}) (the demo's ChatChannel), over the
//     plain and the extended protocol.
//
// "Nothing arrived" is fenced by a later event (a broadcast, or further pings), never by a sleep;
// the one sleep waits out --sessions-ttl, which is the point of that check.
import assert from 'node:assert/strict';
import http from 'node:http';
import {after, describe, test} from 'node:test';
import {connectExt, followStream, httpBroadcast, pubsubId, waitForConnects} from '../support/anycable_client.mjs';
import {connectJson} from '../support/json_client.mjs';
import {startPostgresNode, uniquePrefix as postgresPrefix} from '../support/postgres.mjs';
import {eventually, redisCli, sharedRedis, uniquePrefix} from '../support/redis_env.mjs';
import {sleep} from '../support/servers.mjs';
import {SESSION_SAVED, extendedProtocolFixture} from '../support/ext_fixture.mjs';

const KEY = 'extended-protocol-broadcast-key-71c3';
const WAIT_MS = 30000;
const TEST = {timeout: 180000};
const range = (from, to) => Array.from({length: to - from + 1}, (_, i) => from + i);
const numbers = (followed) => followed.messages.map((m) => m.message.n);

/** POSTs a publication body as it is (e.g. AnyCable's disconnect command) to /_broadcast. */
function postPublication(port, body) {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path: '/_broadcast', method: 'POST', agent: false,
      headers: {authorization: `Bearer ${KEY}`, 'content-type': 'application/json',
        'content-length': Buffer.byteLength(text)}}, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 201 ? resolve() :
        reject(new Error(`POST /_broadcast answered ${res.statusCode}`))));
    });
    req.on('error', reject);
    req.end(text);
  });
}

/**
 * Counts the {"type":"ping"} frames `client` (a JsonClient) receives, answering each with
 * {"command":"pong"} when `answer` is set. wait(n) resolves once n pings arrived in all.
 */
function watchPings(client, {answer = false} = {}) {
  let seen = 0;
  const waiters = new Set();
  client.ws.on('message', (data) => {
    let msg;
    try {
      msg = JSON.parse(String(data));
    } catch {
      return;
    }
    if (msg?.type !== 'ping') return;
    seen += 1;
    if (answer) client.send({command: 'pong'});
    for (const w of [...waiters]) w();
  });
  return {
    get seen() { return seen; },
    wait(count, timeoutMs = WAIT_MS) {
      if (seen >= count) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (seen < count) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(seen);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`${seen} pings, not ${count}, within ${timeoutMs} ms`));
        }, timeoutMs);
        waiters.add(check);
      });
    },
  };
}

describe('extended protocol', () => {
  const fixture = extendedProtocolFixture(after, KEY);
  const cleanup = {push: (fn) => fixture.defer(fn)};
  const track = (s) => fixture.track(s);
  const server = (extra) => fixture.server(extra);
  const proxyTo = (port) => fixture.proxyTo(port);
  const cable = (url, options) => fixture.cable(url, options);
  async function ext(url, options) {
    const connected = await connectExt(url, options);
    cleanup.push(() => connected.client.close());
    return connected;
  }
  async function plain(url) {
    const client = await connectJson(url);
    cleanup.push(() => client.close());
    assert.equal((await client.nextEntry(() => true, WAIT_MS)).text, '{"type":"welcome"}');
    return client;
  }
  /** An ext session subscribed to `stream`: {client, sid, id}. */
  async function sessionOn(url, stream) {
    const {client, welcome} = await ext(url);
    const id = pubsubId(stream);
    await client.subscribe(id, WAIT_MS);
    return {client, sid: welcome.sid, id};
  }
  /** Drops `client` without a close handshake and waits for `node` to log the connection gone. */
  async function vanish(client, node) {
    const mark = node.logs.length;
    client.terminate();
    await node.waitForLog(/connection aborted/, WAIT_MS, mark);
    await node.waitForLog(SESSION_SAVED, WAIT_MS, mark);  // else the client may come back first
  }
  /** Cuts the proxy and resolves once `node` logged that its side of the connection went away. */
  async function drop(proxy, node) {
    const mark = node.logs.length;
    assert.equal(proxy.cut(), 1, 'the client had exactly one live connection through the proxy');
    await node.waitForLog(/connection aborted/, WAIT_MS, mark);
  }

  describe('pongs', () => {
    test('--pong-timeout: an ext client answering no ping gets no_pong and a close; one that pongs and a plain one stay', TEST, async () => {
      // One loop: the three raw clients get the same ping ticks.
      const s = await server(['--pong-timeout', '2', '--threads', '1']);
      const room = 'pongs/room';
      const id = pubsubId(room);
      const silent = (await ext(s.url)).client;
      const ponging = (await ext(s.url)).client;
      const ponged = watchPings(ponging, {answer: true});
      const rails = await plain(s.url);
      const railsPings = watchPings(rails);
      // @anycable/core answers pings when asked to (protocolOptions.pongs).
      const core = cable(s.url, {name: 'ponging core', protocolOptions: {pongs: true}});
      const followed = await followStream(core, room);
      for (const c of [silent, ponging, rails]) await c.subscribe(id, WAIT_MS);

      const bye = await silent.nextEntry((m) => m.type === 'disconnect', WAIT_MS);
      assert.equal(bye.text, '{"type":"disconnect","reason":"no_pong","reconnect":true}');
      const closed = await silent.closed;
      assert.equal(closed.code, 1000);
      assert.equal(closed.reason, 'No Pong');
      await s.waitForLog(/no pong for 2 s \(--pong-timeout\)/, WAIT_MS);

      // Two more ticks: a full timeout window after the silent client was closed.
      await ponged.wait(ponged.seen + 2);
      await railsPings.wait(railsPings.seen + 2);
      await httpBroadcast(s.port, KEY, room, {fence: 1});
      for (const c of [ponging, rails]) {
        assert.deepEqual((await c.next((m) => m.identifier === id, WAIT_MS)).message, {fence: 1});
        assert.equal(c.closeInfo, undefined, 'still open');
        assert.ok(!c.texts.some((t) => t.includes('"disconnect"')), JSON.stringify(c.texts));
      }
      await followed.waitForMessage((m) => m.fence === 1, WAIT_MS);
      assert.equal(core.connects.length, 1, '@anycable/core never had to reconnect');
      assert.equal(core.state, 'connected');
    });

    test('{"command":"ping"} is answered {"type":"pong"}, on either protocol', TEST, async () => {
      const s = await server();
      const {client} = await ext(s.url);
      client.send({command: 'ping'});
      assert.equal((await client.nextEntry(() => true, WAIT_MS)).text, '{"type":"pong"}');
      const rails = await plain(s.url);
      rails.send({command: 'ping'});
      assert.equal((await rails.nextEntry(() => true, WAIT_MS)).text, '{"type":"pong"}');
    });
  });

  describe('session restore rules', () => {
    const isFresh = (welcome, oldSid) => welcome.type === 'welcome' && typeof welcome.sid === 'string' &&
      welcome.sid !== oldSid && !('restored' in welcome) && !('restored_ids' in welcome);

    test('the header X-AnyCable-Restore-Sid wins over the query parameter sid', TEST, async () => {
      const s = await server();
      const a = await sessionOn(s.url, 'restore/header');
      const b = await sessionOn(s.url, 'restore/query');
      await vanish(a.client, s);
      await vanish(b.client, s);

      const back = await ext(s.url, {sid: b.sid, headers: {'X-AnyCable-Restore-Sid': a.sid}});
      assert.equal(back.welcome.restored, true, back.welcomeText);
      assert.deepEqual(back.welcome.restored_ids, [a.id], 'the header\'s session');
      // The query's session was not touched: it is still there for its own client.
      const other = await ext(s.url, {sid: b.sid});
      assert.equal(other.welcome.restored, true, other.welcomeText);
      assert.deepEqual(other.welcome.restored_ids, [b.id]);
    });

    test('an unknown sid, or one past --sessions-ttl, gets a fresh welcome', TEST, async () => {
      const s = await server(['--sessions-ttl', '1']);
      const unknown = await ext(s.url, {sid: 'no-such-session-id'});
      assert.ok(isFresh(unknown.welcome, 'no-such-session-id'), unknown.welcomeText);
      assert.match(unknown.welcomeText, /^\{"type":"welcome","sid":"[^"]+"\}$/);

      const old = await sessionOn(s.url, 'restore/expired');
      await vanish(old.client, s);
      await sleep(2000);  // twice --sessions-ttl
      const late = await ext(s.url, {sid: old.sid});
      assert.ok(isFresh(late.welcome, old.sid), late.welcomeText);
      // Not subscribed: a broadcast to the old stream does not reach it, one to a new stream does.
      await late.client.subscribe(pubsubId('restore/fence'), WAIT_MS);
      await httpBroadcast(s.port, KEY, 'restore/expired', {n: 1});
      await httpBroadcast(s.port, KEY, 'restore/fence', {fence: 1});
      const first = await late.client.next((m) => m.message !== undefined, WAIT_MS);
      assert.deepEqual(first.message, {fence: 1}, 'the expired subscription did not come back');
    });

    test('a plain actioncable-v1-json client with ?sid= is never restored (and takes nothing)', TEST, async () => {
      const s = await server();
      const old = await sessionOn(s.url, 'restore/plain');
      await vanish(old.client, s);
      const rails = await plain(`${s.url}?sid=${old.sid}`);  // its welcome is exactly Rails'
      rails.subscribeCommand(pubsubId('restore/plain-fence'));
      await rails.next((m) => m.type === 'confirm_subscription', WAIT_MS);
      await httpBroadcast(s.port, KEY, 'restore/plain', {n: 1});
      await httpBroadcast(s.port, KEY, 'restore/plain-fence', {fence: 1});
      assert.deepEqual((await rails.next((m) => m.message !== undefined, WAIT_MS)).message, {fence: 1});
      // The session is still there for the ext client it belongs to.
      const back = await ext(s.url, {sid: old.sid});
      assert.equal(back.welcome.restored, true, back.welcomeText);
      assert.deepEqual(back.welcome.restored_ids, [old.id]);
    });

    test('a sid is taken once: a second connection with the same old sid gets a fresh welcome', TEST, async () => {
      const s = await server();
      const old = await sessionOn(s.url, 'restore/once');
      await vanish(old.client, s);
      const first = await ext(s.url, {sid: old.sid});
      assert.equal(first.welcome.restored, true, first.welcomeText);
      const second = await ext(s.url, {sid: old.sid});
      assert.ok(isFresh(second.welcome, old.sid), second.welcomeText);
      assert.notEqual(second.welcome.sid, first.welcome.sid);
    });

    test('a session the server closed with a remote disconnect is not restorable', TEST, async () => {
      // The demo's ?user= identification: the connection has identifiers to be disconnected by.
      const s = await server();
      const {client, welcome} = await ext(`${s.url}?user=kicked`);
      const id = pubsubId('restore/kicked');
      await client.subscribe(id, WAIT_MS);  // its state is saved from here on
      await postPublication(s.port, {command: 'disconnect',
        payload: {identifier: JSON.stringify({user: 'kicked'}), reconnect: true}});
      assert.deepEqual(await client.next((m) => m.type === 'disconnect', WAIT_MS),
        {type: 'disconnect', reason: 'remote', reconnect: true});
      await client.closed;
      // Coming back with that sid must authenticate again: nothing of the old session is handed out.
      const back = await ext(`${s.url}?user=kicked`, {sid: welcome.sid});
      assert.ok(isFresh(back.welcome, welcome.sid), back.welcomeText);
    });

    test('a session closed for no pong stays restorable (reconnect: true), though @anycable/core forgets its sid', TEST, async () => {
      const s = await server(['--pong-timeout', '2']);
      const old = await sessionOn(s.url, 'restore/no-pong');
      await old.client.next((m) => m.type === 'disconnect' && m.reason === 'no_pong', WAIT_MS);
      await old.client.closed;
      const back = await ext(s.url, {sid: old.sid});
      assert.equal(back.welcome.restored, true, back.welcomeText);
      assert.deepEqual(back.welcome.restored_ids, [old.id]);
    });
  });

  describe('PostgreSQL', () => {
    async function postgresNodes(count) {
      const prefix = postgresPrefix('ext');
      const nodes = [];
      for (let i = 0; i < count; i++) {
        nodes.push(track(await startPostgresNode({prefix, args: ['--public-streams', '--broadcast-key', KEY]})));
      }
      return nodes;
    }

    test('history on one node: a client dropped and restored on it gets every broadcast once, in order', TEST, async () => {
      const [node] = await postgresNodes(1);
      await node.waitForLog(/stream history: .*with --pubsub postgres every node numbers and keeps what it receives; a client that reconnects to another node gets reject_history/, WAIT_MS);
      const proxy = await proxyTo(node.port);
      const client = cable(proxy.url(), {name: 'pg client'});
      const chat = await followStream(client, 'pg/one');
      let n = 0;
      const send = async (count) => {
        for (let i = 0; i < count; i++) await httpBroadcast(node.port, KEY, 'pg/one', {n: ++n});
      };
      await send(5);
      await chat.waitForMessage((m) => m.n === 5, WAIT_MS);
      for (let i = 1; i <= 2; i++) {
        await drop(proxy, node);
        await send(7);
        proxy.restore();
        await send(2);
        await waitForConnects(client, 1 + i, WAIT_MS);
      }
      await send(3);
      await chat.waitForMessage((m) => m.n === n, WAIT_MS);
      assert.deepEqual(numbers(chat), range(1, n));
      const offsets = chat.messages.map((m) => m.meta.offset);
      assert.deepEqual(offsets, range(offsets[0], offsets[0] + n - 1), 'consecutive offsets');
      assert.deepEqual(client.connects.map((c) => c.restored), [false, true, true]);
    });

    test('a client moving to the other node gets a fresh session and reject_history, then live broadcasts', TEST, async () => {
      const [a, b] = await postgresNodes(2);
      const stream = `pg/${postgresPrefix('move')}`;
      const proxy = await proxyTo(a.port);
      const client = cable(proxy.url(), {name: 'pg mover'});
      const chat = await followStream(client, stream);
      for (let n = 1; n <= 3; n++) await httpBroadcast(a.port, KEY, stream, {n});
      const third = await chat.waitForMessage((m) => m.n === 3, WAIT_MS);
      const oldSid = client.sessionId;

      await drop(proxy, a);
      await httpBroadcast(a.port, KEY, stream, {n: 4});  // missed while offline
      proxy.retarget(b.port);
      proxy.restore();
      await waitForConnects(client, 2, WAIT_MS);
      assert.equal(client.connects[1].restored, false, 'sessions live in each node\'s process');
      assert.notEqual(client.sessionId, oldSid);
      await chat.waitForInfo('history_not_found', WAIT_MS);
      await httpBroadcast(b.port, KEY, stream, {n: 5});
      await chat.waitForMessage((m) => m.n === 5, WAIT_MS);
      assert.deepEqual(numbers(chat), [1, 2, 3, 5], 'the lost one is reported, not replayed from elsewhere');

      // On the wire: a's position is refused by b.
      const {client: raw} = await ext(b.url);
      const id = pubsubId(stream);
      raw.send({command: 'subscribe', identifier: id,
        history: {streams: {[stream]: {epoch: third.meta.epoch, offset: third.meta.offset}}}});
      assert.equal((await raw.nextEntry((m) => m.identifier === id, WAIT_MS)).text,
        JSON.stringify({identifier: id, type: 'confirm_subscription'}));
      assert.equal((await raw.nextEntry((m) => m.identifier === id, WAIT_MS)).text,
        JSON.stringify({type: 'reject_history', identifier: id}));
    });
  });

  test('redisx: 50 XADDs reach every client on two nodes once each, numbered 1..50, and stay in history', TEST, async () => {
    const redis = sharedRedis();
    const prefix = uniquePrefix('redisx');
    const streamKey = `redisx_${prefix}`;  // this test's own __anycable__
    const args = ['--pubsub', 'redis', '--redis-url', redis.url, '--channel-prefix', prefix,
      '--redis-broadcast-channel', streamKey];
    const nodes = [await server(args), await server(args)];
    const room = `room/${prefix}`;
    const xadd = async (from, to) => {
      for (let n = from; n <= to; n++) {
        // What anycable-rails' redisx adapter sends.
        await redisCli(redis.port, 'XADD', streamKey, '*', 'payload', JSON.stringify({stream: room, data: JSON.stringify({n})}));
      }
    };
    const proxy = await proxyTo(nodes[0].port);
    const mover = cable(proxy.url(), {name: 'mover'});
    const watchers = [];
    for (const [i, node] of nodes.entries()) {
      watchers.push(await followStream(cable(node.url, {name: `watcher on node ${i}`}), room));
    }
    const moving = await followStream(mover, room);
    const everyone = [...watchers, moving];

    await xadd(1, 20);
    for (const f of everyone) await f.waitForMessage((m) => m.n === 20, WAIT_MS);
    await drop(proxy, nodes[0]);
    await xadd(21, 40);  // the mover is offline: it gets these from history, on the other node
    proxy.retarget(nodes[1].port);
    proxy.restore();
    await waitForConnects(mover, 2, WAIT_MS);
    assert.equal(mover.connects[1].restored, true);
    await xadd(41, 50);
    for (const f of everyone) await f.waitForMessages(50, WAIT_MS);
    // Fence: a later broadcast arrives after any duplicate could have.
    await httpBroadcast(nodes[1].port, KEY, room, {fence: 1});
    for (const f of everyone) await f.waitForMessage((m) => m.fence === 1, WAIT_MS);

    // Two consumers may publish neighbouring entries in either order: offsets follow the order
    // Redis numbered them in, the same on every node and for every client.
    const offsetOf = new Map(watchers[0].messages.slice(0, 50).map((m) => [m.message.n, m.meta.offset]));
    for (const f of everyone) {
      const got = f.messages.slice(0, 50);
      assert.deepEqual(got.map((m) => m.message.n).sort((x, y) => x - y), range(1, 50), 'each once');
      assert.deepEqual(got.map((m) => m.meta.offset), range(1, 50), 'positions 1..50 in arrival order');
      assert.ok(got.every((m) => m.meta.epoch === got[0].meta.epoch), 'one epoch');
      assert.ok(got.every((m) => offsetOf.get(m.message.n) === m.meta.offset), 'the same position everywhere');
      assert.equal(f.messages.length, 51);
    }
    // Each entry was acknowledged and deleted by the node that read it.
    await eventually(async () => (await redisCli(redis.port, 'XLEN', streamKey)) === '0', WAIT_MS, 'the stream to be emptied');
    // A fresh client fetches them all from history, on either node.
    const {client: raw} = await ext(nodes[1].url);
    const id = pubsubId(room);
    raw.send({command: 'subscribe', identifier: id, history: {since: Math.floor(Date.now() / 1000) - 120}});
    await raw.next((m) => m.type === 'confirm_subscription', WAIT_MS);
    const replayed = [];
    for (;;) {
      const msg = await raw.next((m) => m.identifier === id, WAIT_MS);
      if (msg.type === 'confirm_history') break;
      replayed.push(msg.offset);
    }
    assert.deepEqual(replayed, range(1, 51), 'the 50 publications and the fence, in history');
  });

  describe('C++ channels with stream_from(name, {.whisper, .presence}) (the demo ChatChannel)', () => {
    const chatId = (room) => JSON.stringify({channel: 'ChatChannel', room});

    test('whispers and presence over the plain and the extended protocol', TEST, async () => {
      const s = await server();
      const room = 'lobby';
      const id = chatId(room);
      const pat = await plain(`${s.url}?user=pat`);
      await pat.subscribe(id, WAIT_MS);
      const eve = (await ext(`${s.url}?user=eve`)).client;
      await eve.subscribe(id, WAIT_MS);
      const coreCable = cable(`${s.url}?user=cam`, {name: 'cam'});
      const cam = await followStream(coreCable, coreCable.subscribeTo('ChatChannel', {room}));
      const typing = (user) => ({event: 'typing', user});
      const speak = (client, text) => client.perform(id, 'speak', {user: 'fence', text});
      const spoken = (text) => (m) => m.message?.text === text;

      // A plain client whispers: the others get it, without a position; it gets no echo.
      pat.send({command: 'whisper', identifier: id, data: typing('pat')});
      assert.equal((await eve.nextEntry((m) => m.message?.event === 'typing', WAIT_MS)).text,
        JSON.stringify({identifier: id, message: typing('pat')}));
      const whispered = await cam.waitForMessage((m) => m.event === 'typing', WAIT_MS);
      assert.equal(whispered.meta, undefined);
      speak(eve, 'after pat typed');
      await pat.next(spoken('after pat typed'), WAIT_MS);
      assert.ok(!pat.texts.some((t) => t.includes('typing')), `the plain sender got its whisper: ${pat.texts}`);

      // An ext client whispers: the plain client's frame is exactly the whisper.
      eve.send({command: 'whisper', identifier: id, data: typing('eve')});
      assert.equal((await pat.nextEntry((m) => m.message?.event === 'typing', WAIT_MS)).text,
        JSON.stringify({identifier: id, message: typing('eve')}));
      await cam.waitForMessage((m) => m.user === 'eve', WAIT_MS);
      // And @anycable/core's channel.whisper.
      await cam.channel.whisper(typing('cam'));
      assert.deepEqual((await pat.next((m) => m.message?.user === 'cam', WAIT_MS)).message, typing('cam'));
      assert.deepEqual((await eve.next((m) => m.message?.user === 'cam', WAIT_MS)).message, typing('cam'));

      // The channel's own broadcast: positioned for the ext client, Rails' frame for the plain one.
      speak(pat, 'hello');
      assert.equal((await pat.nextEntry(spoken('hello'), WAIT_MS)).text,
        JSON.stringify({identifier: id, message: {user: 'fence', text: 'hello'}}));
      const positioned = await eve.next(spoken('hello'), WAIT_MS);
      assert.equal(positioned.stream_id, `chat_${room}`);
      assert.ok(positioned.offset > 0);

      // Presence: a plain client joins, everyone (the plain one too) hears it.
      const presenceOf = (type, who) => (m) => m.type === 'presence' && m.message.type === type && m.message.id === who;
      pat.send({command: 'join', identifier: id, presence: {id: 'pat', info: {name: 'Pat'}}});
      const patJoin = JSON.stringify({type: 'presence', identifier: id, message: {type: 'join', id: 'pat', info: {name: 'Pat'}}});
      assert.equal((await eve.nextEntry(presenceOf('join', 'pat'), WAIT_MS)).text, patJoin);
      assert.equal((await pat.nextEntry(presenceOf('join', 'pat'), WAIT_MS)).text, patJoin);
      await cam.waitForPresence((e) => e.type === 'join' && e.id === 'pat', WAIT_MS);
      // An ext client and @anycable/core join; the plain client asks who is there.
      eve.send({command: 'join', identifier: id, presence: {id: 'eve', info: {name: 'Eve'}}});
      await pat.next(presenceOf('join', 'eve'), WAIT_MS);
      await cam.channel.presence.join('cam', {name: 'Cam'});
      await pat.next(presenceOf('join', 'cam'), WAIT_MS);
      pat.send({command: 'presence', identifier: id, data: {}});
      const info = await pat.next((m) => m.type === 'presence' && m.message.type === 'info', WAIT_MS);
      assert.equal(info.message.total, 3);
      assert.deepEqual([...info.message.records].sort((x, y) => x.id.localeCompare(y.id)),
        [{id: 'cam', info: {name: 'Cam'}}, {id: 'eve', info: {name: 'Eve'}}, {id: 'pat', info: {name: 'Pat'}}]);
      pat.send({command: 'leave', identifier: id});
      assert.equal((await eve.nextEntry(presenceOf('leave', 'pat'), WAIT_MS)).text,
        JSON.stringify({type: 'presence', identifier: id, message: {type: 'leave', id: 'pat'}}));
      await cam.waitForPresence((e) => e.type === 'leave' && e.id === 'pat', WAIT_MS);
    });

    test('a restored session\'s C++ channel is subscribed afresh and keeps its whispers', TEST, async () => {
      const s = await server();
      const id = chatId('restored');
      const pat = await plain(`${s.url}?user=pat`);
      await pat.subscribe(id, WAIT_MS);
      const first = await ext(`${s.url}?user=eve`);
      await first.client.subscribe(id, WAIT_MS);
      await vanish(first.client, s);

      const back = await ext(`${s.url}?user=eve`, {sid: first.welcome.sid});
      assert.equal(back.welcome.restored, true, back.welcomeText);
      assert.deepEqual(back.welcome.restored_ids, [id]);
      back.client.send({command: 'history', identifier: id, history: {since: Math.floor(Date.now() / 1000) - 60}});
      await back.client.next((m) => m.type === 'confirm_history', WAIT_MS);
      pat.send({command: 'whisper', identifier: id, data: {event: 'typing', user: 'pat'}});
      assert.deepEqual((await back.client.next((m) => m.message?.event === 'typing', WAIT_MS)).message,
        {event: 'typing', user: 'pat'});
      back.client.send({command: 'whisper', identifier: id, data: {event: 'typing', user: 'eve'}});
      assert.deepEqual((await pat.next((m) => m.message?.event === 'typing', WAIT_MS)).message,
        {event: 'typing', user: 'eve'});
      // The channel's actions work as before: its broadcast reaches both.
      back.client.perform(id, 'speak', {user: 'eve', text: 'back'});
      await pat.next((m) => m.message?.text === 'back', WAIT_MS);
      assert.ok(!back.client.texts.some((t) => t.includes('confirm_subscription')),
        'no confirmation frame on restore: the client never lost its subscription');
    });
  });
});
