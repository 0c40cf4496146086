// No message lost (AnyCable's reliable streams, protocol.md 7.2-7.3), against the real binary
// with the client people use, @anycable/core, on actioncable-v1-ext-json: a TCP proxy between
// them is cut and restored while numbered broadcasts go on through the HTTP API, and every
// number arrives exactly once, in order, whether the client comes back on the same node (session
// restored from memory) or on another one (sessions and history in Redis). When what was
// missed is no longer kept, the client is told (reject_history). Clients of the plain protocol
// see exactly the frames they always did.
//
// Waits are generous and never measure time: "the server saw the drop" is its log line, "the
// client is back" is the cable's connect event, "everything arrived" is the last number.
import assert from 'node:assert/strict';
import {after, describe, test} from 'node:test';
import {connectExt, followStream, httpBroadcast, pubsubId, waitForConnects} from '../support/anycable_client.mjs';
import {SESSION_SAVED, extendedProtocolFixture} from '../support/ext_fixture.mjs';
import {connectJson} from '../support/json_client.mjs';
import {eventually, redisCli, sharedRedis, uniquePrefix} from '../support/redis_env.mjs';

const KEY = 'reliable-streams-broadcast-key-5f2c';
const WAIT_MS = 30000;
const TEST = {timeout: 180000};
const range = (from, to) => Array.from({length: to - from + 1}, (_, i) => from + i);
const numbers = (followed) => followed.messages.map((m) => m.message.n);

describe('reliable streams', () => {
  const fixture = extendedProtocolFixture(after, KEY);
  const cleanup = {push: (fn) => fixture.defer(fn)};
  const server = (extra) => fixture.server(extra);
  const proxyTo = (port) => fixture.proxyTo(port);
  const cable = (url, options) => fixture.cable(url, options);
  /** Broadcasts the next `count` numbers to `stream`, one after the other, through `ports()`. */
  function counter(stream, ports) {
    let n = 0;
    return {
      get last() { return n; },
      async send(count) {
        for (let i = 0; i < count; i++) {
          n += 1;
          await httpBroadcast(ports(n), KEY, stream, {n});
        }
      },
    };
  }
  /** Cuts the proxy and resolves once `node` logged that its side of the connection went away. */
  async function drop(proxy, node) {
    const mark = node.logs.length;
    assert.equal(proxy.cut(), 1, 'the client had exactly one live connection through the proxy');
    await node.waitForLog(/connection aborted/, WAIT_MS, mark);
    await node.waitForLog(SESSION_SAVED, WAIT_MS, mark);  // else the client may come back first
  }
  /** Every number once, in order, with consecutive offsets of one epoch. */
  function assertExactlyOnceInOrder(chat, last) {
    assert.deepEqual(numbers(chat), range(1, last));
    const positions = chat.messages.map((m) => m.meta);
    assert.ok(positions.every((p) => p && p.epoch === positions[0].epoch), 'one epoch throughout');
    const offsets = positions.map((p) => p.offset);
    assert.deepEqual(offsets, range(offsets[0], offsets[0] + last - 1), 'consecutive offsets');
  }

  test('every broadcast arrives exactly once, in order, through repeated network drops', TEST, async () => {
    const s = await server();
    const proxy = await proxyTo(s.port);
    const client = cable(proxy.url());
    const chat = await followStream(client, 'chat/1');
    const numbered = counter('chat/1', () => s.port);

    await numbered.send(5);
    // The client knows its position before the first drop: from then on it asks by offset.
    await chat.waitForMessage((m) => m.n === 5, WAIT_MS);
    const drops = 4;
    for (let i = 1; i <= drops; i++) {
      await numbered.send(3);  // possibly still in flight when the connection goes
      await drop(proxy, s);
      await numbered.send(10);  // while the client is offline
      proxy.restore();
      await numbered.send(3);  // while it reconnects and catches up
      await waitForConnects(client, 1 + i, WAIT_MS);
    }
    await numbered.send(5);
    await chat.waitForMessage((m) => m.n === numbered.last, WAIT_MS);

    assertExactlyOnceInOrder(chat, numbered.last);
    assert.ok(client.sessionId, 'the welcome carried a sid');
    assert.deepEqual(client.connects.map((c) => c.restored), [false, ...Array(drops).fill(true)],
      'every reconnect restored the session');
  });

  test('a client that comes back on another node gets every broadcast exactly once, in order (Redis)', TEST, async () => {
    const redis = sharedRedis();
    const prefix = uniquePrefix('reliable');
    const onRedis = ['--pubsub', 'redis', '--redis-url', redis.url, '--channel-prefix', prefix];
    const nodes = [await server(onRedis), await server(onRedis)];
    const stream = `chat/${prefix}`;
    const proxy = await proxyTo(nodes[0].port);
    const client = cable(proxy.url());
    const chat = await followStream(client, stream);
    // One publisher, through one node's HTTP API: its order is the order Redis numbers them in.
    // (Publishers on two nodes are ordered as Redis receives them: a 201 means "queued to
    // Redis", so two sequential requests to two nodes may be numbered the other way round.
    // Offsets agreeing across nodes is what the client hopping between them proves.)
    const numbered = counter(stream, () => nodes[0].port);

    await numbered.send(6);
    await chat.waitForMessage((m) => m.n === 6, WAIT_MS);
    const hops = 3;
    for (let i = 1; i <= hops; i++) {
      const from = nodes[(i - 1) % 2];
      const to = nodes[i % 2];
      const sid = client.sessionId;
      assert.ok(sid, 'the welcome carried a sid');
      await numbered.send(3);
      await drop(proxy, from);
      // The node the client left keeps its session in Redis, under its sid, for any node.
      await eventually(async () => (await redisCli(redis.port, '--scan', '--pattern', `*${sid}*`)) !== '',
        WAIT_MS, `session ${sid} to be saved in Redis`);
      await numbered.send(10);
      proxy.retarget(to.port);
      proxy.restore();
      await numbered.send(3);
      await waitForConnects(client, 1 + i, WAIT_MS);
      assert.equal(client.connects[i].restored, true, `hop ${i}: the welcome said restored:true`);
    }
    await numbered.send(5);
    await chat.waitForMessage((m) => m.n === numbered.last, WAIT_MS);

    assertExactlyOnceInOrder(chat, numbered.last);
  });

  test('a client whose missed messages were evicted is told so (reject_history), then gets live ones', TEST, async () => {
    const s = await server(['--history-limit', '5']);
    const proxy = await proxyTo(s.port);
    const client = cable(proxy.url());
    const chat = await followStream(client, 'chat/1');
    const numbered = counter('chat/1', () => s.port);

    await numbered.send(3);
    await chat.waitForMessage((m) => m.n === 3, WAIT_MS);
    await drop(proxy, s);
    await numbered.send(20);  // 4..23: only the last 5 are kept, 4 is gone
    proxy.restore();
    await chat.waitForInfo('history_not_found', WAIT_MS);
    await numbered.send(1);
    await chat.waitForMessage((m) => m.n === 24, WAIT_MS);
    assert.deepEqual(numbers(chat), [1, 2, 3, 24], 'nothing of a history that was refused');
  });

  test('the wire frames of history: positions, confirm_history, reject_history (raw ext client)', TEST, async () => {
    const s = await server(['--history-limit', '5']);
    const id = pubsubId('chat/2');
    const numbered = counter('chat/2', () => s.port);
    const first = await connectExt(s.url);
    cleanup.push(() => first.client.close());
    assert.match(first.welcomeText, /^\{"type":"welcome","sid":"[^"]+"\}$/);
    const sid = first.welcome.sid;
    await first.client.subscribe(id, WAIT_MS);
    await numbered.send(1);
    const {msg: one, text: oneText} = await first.client.nextEntry((m) => m.identifier === id, WAIT_MS);
    assert.equal(typeof one.epoch, 'string');
    assert.ok(one.epoch.length > 0);
    assert.equal(oneText, JSON.stringify({identifier: id, message: {n: 1}, stream_id: 'chat/2', epoch: one.epoch,
      offset: one.offset}), 'key order: identifier, message, stream_id, epoch, offset');
    const frame = (n, offset) => JSON.stringify({identifier: id, message: {n}, stream_id: 'chat/2', epoch: one.epoch,
      offset});

    // Gone without a close handshake, as a dropped network leaves it; the session is kept.
    const mark = s.logs.length;
    first.client.terminate();
    await s.waitForLog(/connection aborted/, WAIT_MS, mark);
    await s.waitForLog(SESSION_SAVED, WAIT_MS, mark);
    await numbered.send(20);  // offsets one.offset+1 .. one.offset+20; the last 5 are kept

    const back = await connectExt(s.url, {sid});
    cleanup.push(() => back.client.close());
    assert.equal(back.welcome.restored, true, back.welcomeText);
    assert.deepEqual(back.welcome.restored_ids, [id]);
    assert.notEqual(back.welcome.sid, sid, 'a restored session gets a new sid');
    assert.match(back.welcomeText, /^\{"type":"welcome","sid":"[^"]+","restored":true,"restored_ids":\[.*\]\}$/);

    const history = (streams) => back.client.send({command: 'history', identifier: id, history: {streams}});
    const reply = () => back.client.nextEntry((m) => m.identifier === id, WAIT_MS);
    // Evicted: the entry right after the client's position is no longer kept.
    history({'chat/2': {epoch: one.epoch, offset: one.offset}});
    assert.equal((await reply()).text, JSON.stringify({type: 'reject_history', identifier: id}));
    // Another generation of the stream's numbering.
    history({'chat/2': {epoch: `${one.epoch}-not`, offset: one.offset + 18}});
    assert.equal((await reply()).text, JSON.stringify({type: 'reject_history', identifier: id}));
    // Still kept: the two after it, in order, then the confirmation.
    history({'chat/2': {epoch: one.epoch, offset: one.offset + 18}});
    assert.equal((await reply()).text, frame(20, one.offset + 19));
    assert.equal((await reply()).text, frame(21, one.offset + 20));
    assert.equal((await reply()).text, JSON.stringify({type: 'confirm_history', identifier: id}));
    // Nothing missed: an empty history is a confirmation alone.
    history({'chat/2': {epoch: one.epoch, offset: one.offset + 20}});
    assert.equal((await reply()).text, JSON.stringify({type: 'confirm_history', identifier: id}));

    // subscribe may carry history: the missed messages follow the confirmation.
    const fresh = await connectExt(s.url);
    cleanup.push(() => fresh.client.close());
    const freshId = pubsubId('chat/2');
    fresh.client.send({command: 'subscribe', identifier: freshId,
      history: {streams: {'chat/2': {epoch: one.epoch, offset: one.offset + 19}}}});
    const freshReply = () => fresh.client.nextEntry((m) => m.identifier === freshId, WAIT_MS);
    assert.equal((await freshReply()).text, JSON.stringify({identifier: freshId, type: 'confirm_subscription'}));
    assert.equal((await freshReply()).text, frame(21, one.offset + 20));
    assert.equal((await freshReply()).text, JSON.stringify({type: 'confirm_history', identifier: freshId}));
  });

  test('plain actioncable-v1-json clients get exactly the frames they always did', TEST, async () => {
    const s = await server();  // history on (the default limit): it must not show on this protocol
    const client = await connectJson(s.url);  // the sub-protocols @rails/actioncable offers
    cleanup.push(() => client.close());
    assert.equal(client.ws.protocol, 'actioncable-v1-json');
    assert.equal((await client.nextEntry(() => true, WAIT_MS)).text, '{"type":"welcome"}');
    const id = pubsubId('chat/plain');
    client.subscribeCommand(id);
    assert.equal((await client.nextEntry(() => true, WAIT_MS)).text,
      JSON.stringify({identifier: id, type: 'confirm_subscription'}));
    const numbered = counter('chat/plain', () => s.port);
    await numbered.send(3);
    for (const n of [1, 2, 3]) {
      assert.equal((await client.nextEntry(() => true, WAIT_MS)).text, JSON.stringify({identifier: id, message: {n}}));
    }
    // Every frame it got, pings aside: no sid, no stream_id/epoch/offset anywhere.
    assert.ok(client.texts.every((t) => !/"(sid|stream_id|epoch|offset)"/.test(t)), JSON.stringify(client.texts));
  });
});
