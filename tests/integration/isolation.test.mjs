// Isolation between connections and what the server writes to its log:
// - a connection receives exactly the streams it subscribed to, nothing else (no prefix or
//   substring matching of stream names, no delivery after unsubscribe);
// - a rejected subscription leaves no stream behind: a later broadcast on the stream it asked
//   for reaches nobody through it, and subscribing again later yields exactly one copy;
// - each connection is identified from its own request, even when many connect at once;
// - secrets a client sends (Cookie, Authorization, a token in the query) never reach the log,
//   not even at debug level, whatever the outcome of the request;
// - client text cannot forge log lines (a newline in a bad command stays inside one line).
import assert from 'node:assert/strict';
import net from 'node:net';
import {after, before, describe, test} from 'node:test';

import {benchmarkId, chatId, connectWelcomed} from '../support/json_client.mjs';
import {rawConnect, rawUpgrade} from '../support/raw_ws.mjs';
import {startCablecast} from '../support/servers.mjs';
import {broadcastVia, receivedBeforeBroadcast} from '../support/fence.mjs';

// "Nothing else arrived" is fenced by a later broadcast of the same publisher on a stream the
// checked client also holds (tests/support/fence.mjs), never by a sleep.
const FENCE = benchmarkId('~fence');  // stream "all~fence": no other stream here is its prefix

describe('streams reach only their subscribers', () => {
  let server;
  const clients = [];
  before(async () => {
    server = await startCablecast(['--max-subscriptions', '3']);
  });
  after(async () => {
    for (const c of clients) c.terminate();
    assert.equal(await server.stop(), 0);
  });
  async function client(user) {
    const c = await connectWelcomed(`${server.url}?user=${user}`);
    clients.push(c);
    return c;
  }

  test('similar stream names do not leak into each other', async () => {
    // BenchmarkChannel streams from "all" + id; ChatChannel from "chat_" + room.
    const alice = await client('alice');   // "alla"
    const bob = await client('bob');       // "allb"
    const carol = await client('carol');   // "allab" (alice's and bob's names are its prefix/suffix)
    const dave = await client('dave');     // "chat_a"
    const eve = await client('eve');       // subscribes to the fence only
    await alice.subscribe(benchmarkId('a'));
    await bob.subscribe(benchmarkId('b'));
    await carol.subscribe(benchmarkId('ab'));
    await dave.subscribe(chatId('a'));
    // Two publishers (the limit here is 3 subscriptions per connection) that are subscribed
    // too, so each publish is known to have gone through the server before inboxes are read.
    const pub1 = await client('pub1');
    const pub2 = await client('pub2');
    for (const c of [alice, bob, carol, dave, eve]) await c.subscribe(FENCE);
    await pub1.subscribe(benchmarkId('a'));
    await pub1.subscribe(benchmarkId('b'));
    await pub2.subscribe(benchmarkId('ab'));
    await pub2.subscribe(chatId('a'));
    await pub2.subscribe(FENCE);

    await broadcastVia(pub1, benchmarkId('a'), {tag: 'to-a'});
    await broadcastVia(pub1, benchmarkId('b'), {tag: 'to-b'});
    await broadcastVia(pub2, benchmarkId('ab'), {tag: 'to-ab'});
    pub2.perform(chatId('a'), 'speak', {user: 'pub2', text: 'to-chat-a'});
    await pub2.next((m) => m.message?.text === 'to-chat-a');

    const got = (await receivedBeforeBroadcast([alice, bob, carol, dave, eve], pub2, FENCE))
                    .map((inbox) => inbox.map((m) => `${m.identifier} ${m.message?.tag ?? m.message?.text}`));
    assert.deepEqual(got, [[`${benchmarkId('a')} to-a`], [`${benchmarkId('b')} to-b`],
                           [`${benchmarkId('ab')} to-ab`], [`${chatId('a')} to-chat-a`], []]);
  });

  test('two identifiers for one stream each get a copy; after unsubscribe, nothing', async () => {
    const frank = await client('frank');
    const sender = await client('sender');
    const spaced = '{"channel":"BenchmarkChannel", "id":"f"}';  // same stream "allf", other key
    await frank.subscribe(benchmarkId('f'));
    await frank.subscribe(spaced);
    await sender.subscribe(benchmarkId('f'));

    await sender.subscribe(benchmarkId('f-fence1'));
    await sender.subscribe(benchmarkId('f-fence2'));

    // Both copies arrive (in either order), then nothing more before the next broadcast.
    await broadcastVia(sender, benchmarkId('f'), {tag: 'one'});
    const first = [await frank.next((m) => m.message?.tag === 'one'), await frank.next((m) => m.message?.tag === 'one')];
    assert.deepEqual(first.map((m) => [m.identifier, m.message.tag]).sort(),
                     [[benchmarkId('f'), 'one'], [spaced, 'one']].sort());

    // A later subscription's confirmation fences each unsubscribe (commands are handled in order);
    // that subscription's stream then fences the broadcast before it.
    frank.send({command: 'unsubscribe', identifier: spaced});
    await frank.subscribe(benchmarkId('f-fence1'));
    await broadcastVia(sender, benchmarkId('f'), {tag: 'two'});
    assert.deepEqual((await receivedBeforeBroadcast([frank], sender, benchmarkId('f-fence1')))[0]
                         .map((m) => [m.identifier, m.message.tag]),
                     [[benchmarkId('f'), 'two']]);

    frank.send({command: 'unsubscribe', identifier: benchmarkId('f')});
    await frank.subscribe(benchmarkId('f-fence2'));
    await broadcastVia(sender, benchmarkId('f'), {tag: 'three'});
    assert.deepEqual((await receivedBeforeBroadcast([frank], sender, benchmarkId('f-fence2')))[0], []);
  });

  test('rejected subscriptions leave no stream behind', async () => {
    const gina = await client('gina');
    const sender = await client('sender2');
    await sender.subscribe(benchmarkId('g1'));
    await sender.subscribe(benchmarkId('g2'));
    await sender.subscribe(benchmarkId('x3'));  // the fence: gina holds it too
    // Unknown channel, a ChatChannel without a room, and (over --max-subscriptions 3) a
    // BenchmarkChannel subscription: all rejected.
    for (const id of [JSON.stringify({channel: 'NoSuchChannel', id: 'g1'}), chatId('')]) {
      gina.subscribeCommand(id);
      assert.equal((await gina.next((m) => m.identifier === id)).type, 'reject_subscription');
    }
    await gina.subscribe(benchmarkId('x1'));
    await gina.subscribe(benchmarkId('x2'));
    await gina.subscribe(benchmarkId('x3'));
    gina.subscribeCommand(benchmarkId('g2'));
    assert.equal((await gina.next((m) => m.identifier === benchmarkId('g2'))).type, 'reject_subscription');

    // Broadcasts on the streams the rejected subscriptions asked for reach nobody here.
    await broadcastVia(sender, benchmarkId('g1'), {tag: 'g1'});
    await broadcastVia(sender, benchmarkId('g2'), {tag: 'g2'});
    assert.deepEqual((await receivedBeforeBroadcast([gina], sender, benchmarkId('x3')))[0], []);

    // Make room, subscribe to g2 for real: exactly one copy per broadcast (no ghost of the
    // rejected attempt doubling it).
    gina.send({command: 'unsubscribe', identifier: benchmarkId('x1')});
    await gina.subscribe(benchmarkId('g2'));
    await broadcastVia(sender, benchmarkId('g2'), {tag: 'g2-again'});
    assert.deepEqual((await receivedBeforeBroadcast([gina], sender, benchmarkId('x3')))[0]
                         .map((m) => [m.identifier, m.message.tag]),
                     [[benchmarkId('g2'), 'g2-again']]);
  });

  test('subscribe, unsubscribe, subscribe in one burst: one copy, and none after the last unsubscribe', async () => {
    const hal = await client('hal');
    const sender = await client('sender3');
    const id = benchmarkId('h');
    const fence = benchmarkId('h-fence');
    await sender.subscribe(id);
    await sender.subscribe(fence);
    await hal.subscribe(fence);
    for (let i = 0; i < 20; i++) {
      hal.subscribeCommand(id);
      hal.send({command: 'unsubscribe', identifier: id});
    }
    // Commands are handled in order, so once all 21 confirmations are in, the last subscribe has
    // been handled (waiting for just one would return on the burst's first confirmation).
    hal.subscribeCommand(id);
    for (let n = 0; n < 21; n++) {
      assert.equal((await hal.next((m) => m.identifier === id && /_subscription$/.test(m.type ?? ''))).type,
                   'confirm_subscription', `confirmation ${n + 1} of 21`);
    }
    await broadcastVia(sender, id, {tag: 'h1'});
    assert.deepEqual((await receivedBeforeBroadcast([hal], sender, fence))[0]
                         .filter((m) => m.message).map((m) => m.message.tag), ['h1']);
    // Unsubscribe, then use a later subscription's confirmation as a fence: the unsubscribe
    // before it has certainly been handled by then.
    hal.send({command: 'unsubscribe', identifier: id});
    await hal.subscribe(benchmarkId('h-fence2'));
    await broadcastVia(sender, id, {tag: 'h2'});
    assert.deepEqual((await receivedBeforeBroadcast([hal], sender, fence))[0], []);
  });

  test('a refused connection receives nothing', async () => {
    const sender = await client('sender4');
    await sender.subscribe(benchmarkId('r'));
    const res = await rawUpgrade({port: server.port, path: '/cable?reject=1'});
    assert.equal(res.status, 101);
    const disconnect = await res.ws.nextJson();
    assert.deepEqual(disconnect, {type: 'disconnect', reason: 'unauthorized', reconnect: false});
    // Whatever it tries, it cannot subscribe.
    res.ws.sendJson({command: 'subscribe', identifier: benchmarkId('r')});
    await broadcastVia(sender, benchmarkId('r'), {tag: 'r'});
    assert.equal(await res.ws.waitEnded(5000), true);
    assert.ok(!res.ws.describe().includes('"tag":"r"'), res.ws.describe());
  });
});

describe('identification is per connection', () => {
  let server;
  before(async () => {
    server = await startCablecast();
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  test('50 connections at once are each identified from their own request', async () => {
    // The built-in channels do not expose identifiers to clients; the debug log does, one line
    // per connection. 50 simultaneous connections with distinct ?user= must give 50 lines with
    // exactly those 50 identities, each once: a request read into the wrong session would show
    // as a duplicate and a missing name.
    const mark = server.logs.length;
    const sockets = await Promise.all(Array.from({length: 50}, (_, i) =>
      rawConnect(server.port, {path: `/cable?user=user${i}`})));
    for (const ws of sockets) await ws.nextJson((m) => m.type === 'welcome');
    const identified = () => server.logs.slice(mark)
                                 .map((l) => /identified as (\{.*\})/.exec(l)?.[1])
                                 .filter(Boolean)
                                 .map((json) => JSON.parse(json).user);
    // The log arrives through a pipe, read by this process independently of the sockets: on a
    // busy machine the welcomes can come in before the lines that were written first.
    for (const deadline = Date.now() + 5000; identified().length < 50 && Date.now() < deadline;) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    assert.deepEqual(identified().sort(), Array.from({length: 50}, (_, i) => `user${i}`).sort());
    for (const ws of sockets) ws.destroy();
  });
});

describe('secrets never reach the log', () => {
  const SECRET = 'TOPSECRET';
  const secretHeaders = {Cookie: `secret=${SECRET}; other=1`, Authorization: `Bearer ${SECRET}`};
  let server;
  before(async () => {
    // startCablecast runs the server at debug level, the most verbose one it uses (it has no
    // trace-level statements).
    server = await startCablecast(['--allowed-origins', 'http://127.0.0.1:*']);
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
  });

  test('Cookie, Authorization and a query token are not logged, whatever the request', {timeout: 30000}, async () => {
    const port = server.port;
    const mark = server.logs.length;
    // An accepted connection that then does every kind of thing that gets logged.
    const ws = await rawConnect(port, {path: `/cable?user=u1&token=${SECRET}`, headers: secretHeaders});
    await ws.nextJson((m) => m.type === 'welcome');
    ws.sendJson({command: 'subscribe', identifier: benchmarkId('s')});
    await ws.nextJson((m) => m.type === 'confirm_subscription');
    ws.sendText('not json');
    ws.sendJson({command: 'nope', identifier: benchmarkId('s')});
    ws.sendJson({command: 'message', identifier: benchmarkId('s'), data: JSON.stringify({action: 'nope'})});
    ws.sendJson({command: 'subscribe', identifier: JSON.stringify({channel: 'NoSuchChannel'})});
    await ws.nextJson((m) => m.type === 'reject_subscription');
    ws.sendClose(1000);
    await ws.waitEnded();

    // Every refusal path, each carrying the secrets.
    const path = `/cable?token=${SECRET}`;
    const refused = [
      {path: `/cable?reject=1&token=${SECRET}`, status: 101},                        // unauthorized
      {path, headers: {'Sec-WebSocket-Version': '8'}, status: 426},
      {path, headers: {'Sec-WebSocket-Key': 'short'}, status: 400},
      {path, headers: {Origin: 'https://evil.example'}, status: 404},
      {path: `/cable/x?token=${SECRET}`, status: 404},
      {path, method: 'POST', status: 404},
      {path, headers: {'X-Padding': 'a'.repeat(9000)}, status: 431},
    ];
    for (const r of refused) {
      const res = await rawUpgrade({port, path: r.path, method: r.method, headers: {...secretHeaders, ...r.headers}});
      assert.equal(res.status, r.status, `${r.method ?? 'GET'} ${r.path} ${JSON.stringify(r.headers ?? {})}`);
      res.ws?.destroy();
    }
    // A request that is not valid HTTP, with the secret in it.
    await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => s.write(`GET /cable HTTP/1.1\r\nCookie: ${SECRET}\r\nBroken header line\r\n\r\n`));
      s.on('error', resolve);
      s.on('close', resolve);
      s.resume();
    });
    // The broken request is the last event: once its line is in, every earlier line is too.
    await server.waitForLog(/bad HTTP request/, 5000, mark);
    const leaks = server.logs.filter((l) => l.includes(SECRET));
    assert.deepEqual(leaks, [], 'no log line may contain the secret');
    // The log did record these events (so the check above looked at real lines).
    assert.ok(server.logs.some((l) => /unauthorized/i.test(l)));
    assert.ok(server.logs.some((l) => /refused WebSocket upgrade/i.test(l)));
  });

  test('a newline in client text cannot forge a log line', async () => {
    const mark = server.logs.length;
    const ws = await rawConnect(server.port);
    await ws.nextJson((m) => m.type === 'welcome');
    const forged = '[critical] FORGED-LINE admin logged in';
    ws.sendText(`not json\n${forged}`);
    ws.sendJson({command: 'subscribe', identifier: `{"channel":"NoSuchChannel\\n${forged}"}`});
    await ws.nextJson((m) => m.type === 'reject_subscription');
    await server.waitForLog(/NoSuchChannel.*FORGED-LINE/, 5000, mark);  // the later bad command's line
    const lines = server.logs.filter((l) => l.includes('FORGED-LINE'));
    assert.ok(lines.length >= 2, 'both bad commands were logged');
    for (const l of lines) assert.ok(!l.startsWith('[critical] FORGED-LINE'), `forged log line: ${JSON.stringify(l)}`);
    ws.destroy();
  });
});
