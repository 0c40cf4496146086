// Broadcasts from the application (docs/broadcasting.md), against the real binary: POST
// /_broadcast on the main port (AnyCable's publication format, Bearer key, 401/404/405/413/422/
// 503/201), meta (exclude_socket, broadcast_type), data that is not JSON, remote disconnects;
// across two nodes on Redis (through the adapter, meta in its envelope), and anycable-rails'
// Redis channel "__anycable__", which every node receives once.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import {after, describe, test} from 'node:test';
import {chatId, connectWelcomed} from '../support/json_client.mjs';
import {startCablecast} from '../support/servers.mjs';
import {eventually, privateRedis, redisCli, sharedRedis, uniquePrefix} from '../support/redis_env.mjs';

const KEY = 'test-broadcast-key-0123456789';

/** One HTTP request to `port`; resolves {status, headers, text}. */
function request(port, {path: target = '/_broadcast', method = 'POST', key = KEY, body, headers = {},
  chunked = false} = {}) {
  return new Promise((resolve, reject) => {
    const all = {...headers};
    if (key !== null) all.authorization = `Bearer ${key}`;
    const data = body === undefined || typeof body === 'string' ? body : JSON.stringify(body);
    if (data !== undefined && !chunked) all['content-length'] = Buffer.byteLength(data);
    const req = http.request({host: '127.0.0.1', port, path: target, method, headers: all, agent: false},
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => { text += chunk; });
        res.on('end', () => resolve({status: res.statusCode, headers: res.headers, text}));
      });
    req.on('error', reject);
    req.end(data);
  });
}

/** A publication as AnyCable takes it: `message` (a JS value) travels as JSON text in "data". */
const publication = (stream, message, meta) => ({stream, data: JSON.stringify(message), ...(meta ? {meta} : {})});

describe('broadcast API', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });
  async function server(extra = [], options = {}) {
    const s = await startCablecast(['--broadcast-key', KEY, ...extra], options);
    cleanup.push(() => s.stop('SIGKILL'));
    return s;
  }
  async function node(prefix, extra = []) {
    return server(['--pubsub', 'redis', '--redis-url', sharedRedis().url, '--channel-prefix', prefix, ...extra]);
  }
  /** A welcomed client of user `user`, subscribed to chat room `room` (stream "chat_<room>"). */
  async function client(s, user, room) {
    const c = await connectWelcomed(`${s.url}?user=${user}`);
    cleanup.push(() => c.close());
    if (room) await c.subscribe(chatId(room));
    return c;
  }
  /** The session id the server gave `user`'s connection (its debug log line). */
  async function sidOf(s, user) {
    const line = new RegExp(`Registered connection (\\S+) \\(action_cable/${user}\\)`);
    return (await s.waitForLog(line))[1];
  }
  const fromRoom = (room) => (m) => m.identifier === chatId(room);

  test('one publication, then an array, reach two clients in order', async () => {
    const s = await server();
    const room = uniquePrefix('room');
    const clients = [await client(s, 'a', room), await client(s, 'b', room)];
    const one = await request(s.port, {body: publication(`chat_${room}`, {text: 'one'})});
    assert.equal(one.status, 201);
    assert.equal(one.text, '');
    const batch = [1, 2, 3].map((n) => publication(`chat_${room}`, {n}));
    assert.equal((await request(s.port, {body: batch})).status, 201);
    for (const c of clients) {
      assert.deepEqual((await c.next(fromRoom(room))).message, {text: 'one'});
      for (const n of [1, 2, 3]) assert.deepEqual((await c.next(fromRoom(room))).message, {n});
    }
  });

  test('401 without a key or with a wrong one, and nothing is delivered', async () => {
    const s = await server();
    const room = uniquePrefix('room');
    const c = await client(s, 'a', room);
    const missing = await request(s.port, {key: null, body: publication(`chat_${room}`, 'no key')});
    assert.equal(missing.status, 401);
    assert.equal(missing.headers['www-authenticate'], 'Bearer');
    for (const key of ['wrong', `${KEY}x`, KEY.slice(0, -1), '']) {
      assert.equal((await request(s.port, {key, body: publication(`chat_${room}`, 'bad key')})).status, 401, key);
    }
    assert.equal((await request(s.port, {body: publication(`chat_${room}`, 'fence')})).status, 201);
    assert.equal((await c.next(fromRoom(room))).message, 'fence', 'the refused ones came first otherwise');
    assert.ok(!s.logs.some((l) => l.includes(KEY)), 'the key is never logged');
  });

  test('404 when no key is configured: the endpoint is off, never open', async () => {
    const s = await startCablecast([]);
    cleanup.push(() => s.stop('SIGKILL'));
    assert.equal((await request(s.port, {key: null, body: publication('x', 1)})).status, 404);
    assert.equal((await request(s.port, {body: publication('x', 1)})).status, 404);
  });

  test('405 for other methods', async () => {
    const s = await server();
    const got = await request(s.port, {method: 'GET'});
    assert.equal(got.status, 405);
    assert.equal(got.headers.allow, 'POST');
  });

  test('422 for bodies that are not publications, with the reason; nothing is delivered', async () => {
    const s = await server();
    const room = uniquePrefix('room');
    const c = await client(s, 'a', room);
    const bad = ['', 'garbage', '{"stream":', '42', '[]', {data: '1'}, {stream: `chat_${room}`},
      {stream: `chat_${room}`, data: {text: 'an object, not JSON text'}}, {stream: '', data: '1'},
      {stream: `chat_${room}`, data: '1', meta: {exclude_socket: 5}},
      [publication(`chat_${room}`, 'valid'), {stream: `chat_${room}`}],
      {command: 'restart'}, {command: 'disconnect', payload: {identifier: 'not json'}}];
    for (const body of bad) {
      const got = await request(s.port, {body});
      assert.equal(got.status, 422, JSON.stringify(body));
      assert.ok(got.text.length > 0, 'the reason is in the body');
    }
    assert.equal((await request(s.port, {body: publication(`chat_${room}`, 'fence')})).status, 201);
    assert.equal((await c.next(fromRoom(room))).message, 'fence', 'no part of a refused array went out');
  });

  test('413 over --broadcast-max-body, declared or chunked; a body at the limit passes', async () => {
    const s = await server(['--broadcast-max-body', '1024']);
    const room = uniquePrefix('room');
    const c = await client(s, 'a', room);
    const big = publication(`chat_${room}`, 'x'.repeat(2000));
    assert.equal((await request(s.port, {body: big})).status, 413);
    assert.equal((await request(s.port, {body: big, chunked: true})).status, 413);
    const prefix = JSON.stringify(publication(`chat_${room}`, '')).length;
    const exact = publication(`chat_${room}`, 'y'.repeat(1024 - prefix));
    assert.equal(JSON.stringify(exact).length, 1024);
    assert.equal((await request(s.port, {body: exact, chunked: true})).status, 201);
    assert.equal((await c.next(fromRoom(room))).message, 'y'.repeat(1024 - prefix));
  });

  test('data that is not JSON is delivered as a string', async () => {
    const s = await server();
    const room = uniquePrefix('room');
    const c = await client(s, 'a', room);
    const texts = ['plain words', '{"unfinished":', '<b>html</b>', ''];
    const body = texts.map((data) => ({stream: `chat_${room}`, data}));
    assert.equal((await request(s.port, {body})).status, 201);
    for (const text of texts) assert.equal((await c.next(fromRoom(room))).message, text);
  });

  test('meta.exclude_socket skips that connection; broadcast_type sets the frames\' type', async () => {
    const s = await server();
    const room = uniquePrefix('room');
    const sender = await client(s, 'sender', room);
    const other = await client(s, 'other', room);
    const sid = await sidOf(s, 'sender');
    const stream = `chat_${room}`;
    assert.equal((await request(s.port, {body: publication(stream, 'not to the sender', {exclude_socket: sid})})).status, 201);
    assert.equal((await request(s.port, {body: publication(stream, 'typed', {broadcast_type: 'presence', transient: true})})).status, 201);
    assert.equal((await other.next(fromRoom(room))).message, 'not to the sender');
    for (const c of [sender, other]) {
      const {msg, text} = await c.nextEntry(fromRoom(room));
      assert.equal(msg.message, 'typed', 'the sender got the excluded one otherwise');
      assert.ok(text.startsWith(`{"type":"presence","identifier":`), text);
    }
  });

  test('a remote disconnect closes every connection with those identifiers, and only those', async () => {
    const s = await server();
    const room = uniquePrefix('room');
    const carol = [await client(s, 'carol', room), await client(s, 'carol', room)];
    const dave = await client(s, 'dave', room);
    const command = {command: 'disconnect', payload: {identifier: JSON.stringify({user: 'carol'}), reconnect: false}};
    assert.equal((await request(s.port, {body: command})).status, 201);
    for (const c of carol) {
      assert.deepEqual(await c.next((m) => m.type === 'disconnect'), {type: 'disconnect', reason: 'remote', reconnect: false});
      assert.equal((await c.closed).code, 1000);
    }
    assert.equal((await request(s.port, {body: publication(`chat_${room}`, 'still here')})).status, 201);
    assert.equal((await dave.next(fromRoom(room))).message, 'still here');
  });

  test('two nodes on Redis: a broadcast on one reaches the other, exclusion honoured there', async () => {
    const prefix = uniquePrefix('bcast');
    const a = await node(prefix);
    const b = await node(prefix);
    const room = uniquePrefix('room');
    const onA = await client(a, 'ann', room);
    const sender = await client(b, 'sender', room);
    const onB = await client(b, 'bea', room);
    const sid = await sidOf(b, 'sender');
    const stream = `chat_${room}`;
    assert.equal((await request(a.port, {body: [publication(stream, 1), publication(stream, 2, {exclude_socket: sid}),
      publication(stream, 3, {broadcast_type: 'custom'})]})).status, 201);
    for (const c of [onA, onB]) {
      for (const n of [1, 2, 3]) assert.equal((await c.next(fromRoom(room))).message, n);
    }
    assert.equal((await sender.next(fromRoom(room))).message, 1);
    const last = await sender.nextEntry(fromRoom(room));
    assert.equal(last.msg.message, 3, 'the excluded publication reached its sender on the other node');
    assert.equal(last.msg.type, 'custom');
  });

  test('two nodes on Redis: a remote disconnect over HTTP closes the connections on both', async () => {
    const prefix = uniquePrefix('remote');
    const a = await node(prefix);
    const b = await node(prefix);
    const room = uniquePrefix('room');
    const targets = [await client(a, 'erin', room), await client(b, 'erin', room)];
    const bystander = await client(b, 'frank', room);
    const command = {command: 'disconnect', payload: {identifier: '{"user":"erin"}', reconnect: true}};
    assert.equal((await request(a.port, {body: command})).status, 201);
    for (const c of targets) {
      assert.deepEqual(await c.next((m) => m.type === 'disconnect'), {type: 'disconnect', reason: 'remote', reconnect: true});
    }
    assert.equal((await request(a.port, {body: publication(`chat_${room}`, 'after')})).status, 201);
    assert.equal((await bystander.next(fromRoom(room))).message, 'after');
  });

  test('PUBLISH on __anycable__ (anycable-rails) reaches a client on each node exactly once', async () => {
    const prefix = uniquePrefix('anycable');
    const nodes = [await node(prefix), await node(prefix)];
    const room = uniquePrefix('room');
    const clients = [await client(nodes[0], 'u', room), await client(nodes[1], 'u', room)];
    const port = sharedRedis().port;
    // As anycable-rails' redis broadcast adapter sends them: no channel prefix on this channel.
    await redisCli(port, 'PUBLISH', '__anycable__', JSON.stringify({stream: `chat_${room}`, data: '{"text":"hi"}'}));
    await redisCli(port, 'PUBLISH', '__anycable__', JSON.stringify([publication(`chat_${room}`, 'second')]));
    for (const c of clients) {
      assert.deepEqual((await c.next(fromRoom(room))).message, {text: 'hi'});
      assert.equal((await c.next(fromRoom(room))).message, 'second', 'the first arrived more than once');
    }
    // Its disconnect command reaches every node too.
    const targets = [await client(nodes[0], 'gus'), await client(nodes[1], 'gus')];
    await redisCli(port, 'PUBLISH', '__anycable__',
      JSON.stringify({command: 'disconnect', payload: {identifier: '{"user":"gus"}', reconnect: false}}));
    for (const c of targets) {
      assert.deepEqual(await c.next((m) => m.type === 'disconnect'), {type: 'disconnect', reason: 'remote', reconnect: false});
    }
    await redisCli(port, 'PUBLISH', '__anycable__', 'not a publication');
    await nodes[0].waitForLog(/not a publication: the body is not valid JSON/);
  });

  test('503 while the broker is down: the application is told, never a silent loss', async () => {
    const broker = await privateRedis();
    cleanup.push(() => broker.dispose());
    const s = await server(['--pubsub', 'redis', '--redis-url', broker.url, '--channel-prefix', uniquePrefix('down')]);
    assert.equal((await request(s.port, {body: publication('chat_x', 1)})).status, 201);
    await broker.stop();
    const refused = await eventually(async () => {
      const got = await request(s.port, {body: publication('chat_x', 2)});
      return got.status === 503 ? got : null;
    }, 10000, 'a 503 once the broker is gone');
    assert.equal(refused.headers['retry-after'], '1');
  });

  test('settings: the key from the environment, the path and limit from the config file; bad ones refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-broadcast-'));
    cleanup.push(() => fs.rmSync(dir, {recursive: true, force: true}));
    const file = path.join(dir, 'cable.toml');
    fs.writeFileSync(file, 'broadcast_path = "/api/push"\nbroadcast_max_body = 200\n');
    const s = await startCablecast(['--config', file], {env: {CABLECAST_BROADCAST_KEY: KEY}});
    cleanup.push(() => s.stop('SIGKILL'));
    assert.equal((await request(s.port, {path: '/api/push', body: publication('x', 1)})).status, 201);
    assert.equal((await request(s.port, {path: '/api/push', body: publication('x', 'z'.repeat(300))})).status, 413);
    // The default path is nothing special any more: the demo page's answer to a POST.
    assert.equal((await request(s.port, {body: publication('x', 1)})).status, 405);
    for (const [args, flag] of [[['--broadcast-path', 'nope'], '--broadcast-path'],
      [['--broadcast-path', '/cable'], '--broadcast-path'], [['--broadcast-max-body', '10'], '--broadcast-max-body']]) {
      const refused = await startCablecast(args).then((x) => x.stop().then(() => null), (e) => e.message);
      assert.ok(refused && refused.includes(flag), `${args.join(' ')}: ${refused}`);
    }
  });
});
