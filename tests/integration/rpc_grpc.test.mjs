// Cablecast in front of an application served over gRPC (anycable.RPC, the contract of the
// anycable gem's gRPC server), here a real gRPC server in Ruby (Debian's ruby-grpc,
// tests/support/grpc_backend/server.rb): the scenarios of the HTTP RPC test, over the other
// transport.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';
import {after, before, test} from 'node:test';

import {connectJson} from '../support/json_client.mjs';
import {repoRoot} from '../support/paths.mjs';
import {startCablecast} from '../support/servers.mjs';
import {eventually} from '../support/redis_env.mjs';

const BROADCAST_KEY = 'grpc-test-broadcast-key';
const JWT_SECRET = 'grpc-test-jwt-secret';

/** Starts the Ruby gRPC application; resolves with {port, calls, stop}. */
async function startGrpcApp(port = 0) {
  const script = path.join(repoRoot, 'tests/support/grpc_backend/server.rb');
  const proc = spawn('ruby', [script, '--port', String(port), '--exit-with-stdin'],
                     {stdio: ['pipe', 'pipe', 'inherit']});
  const calls = [];
  const listening = new Promise((resolve, reject) => {
    proc.on('exit', (code) => reject(new Error(`gRPC app exited early (${code})`)));
    readline.createInterface({input: proc.stdout}).on('line', (line) => {
      const event = JSON.parse(line);
      if (event.event === 'listening') resolve(event.port);
      if (event.event === 'call') calls.push(event);
    });
  });
  const actualPort = await listening;
  return {
    port: actualPort,
    calls,
    stop: () => new Promise((resolve) => {
      proc.removeAllListeners('exit');
      proc.on('exit', resolve);
      proc.kill('SIGTERM');
    }),
  };
}

let app;
let server;

before(async () => {
  app = await startGrpcApp();
  server = await startCablecast([
    '--rpc-url', `grpc://127.0.0.1:${app.port}`, '--broadcast-key', BROADCAST_KEY,
    '--jwt-secret', JWT_SECRET, '--rpc-timeout', '2000',
  ]);
});

after(async () => {
  await server?.stop();
  await app?.stop();
});

const chat = (room) => JSON.stringify({channel: 'ChatChannel', room});
const open = (query = '', options = {}) => connectJson(`${server.url}${query}`, options);
const callsOf = (method) => app.calls.filter((c) => c.method === method);

async function broadcast(stream, message) {
  const res = await fetch(`http://127.0.0.1:${server.port}/_broadcast`, {
    method: 'POST',
    headers: {Authorization: `Bearer ${BROADCAST_KEY}`, 'Content-Type': 'application/json'},
    body: JSON.stringify({stream, data: JSON.stringify(message)}),
  });
  assert.equal(res.status, 201);
}

test('connect over gRPC: accepted with the metadata AnyCable sends, refused with the app\'s frame', async () => {
  const ann = await open('?user=ann', {headers: {Cookie: 'theme=dark'}});
  assert.deepEqual(await ann.next(), {type: 'welcome'});
  const call = callsOf('Connect').at(-1);
  assert.equal(call.metadata.protov, 'v1');
  assert.match(call.metadata.sid, /^[A-Za-z0-9_-]{22}$/);
  assert.equal(call.request.env.url, `http://127.0.0.1:${server.port}/cable?user=ann`);
  assert.equal(call.request.env.headers.cookie, 'theme=dark');
  assert.equal(call.request.env.headers.REMOTE_ADDR, '127.0.0.1');
  ann.close();

  const nobody = await open();
  assert.deepEqual(await nobody.next(), {type: 'disconnect', reason: 'unauthorized', reconnect: false});
  assert.equal((await nobody.closed).code, 1000);
});

test('subscriptions confirmed with their streams or rejected; streams deliver broadcasts', async () => {
  const [bob, cat] = [await open('?user=bob'), await open('?user=cat')];
  for (const c of [bob, cat]) {
    await c.next((m) => m.type === 'welcome');
    await c.subscribe(chat('lobby'));
  }
  const roomless = JSON.stringify({channel: 'ChatChannel'});
  bob.send({command: 'subscribe', identifier: roomless});
  assert.deepEqual(await bob.next((m) => m.identifier === roomless), {identifier: roomless, type: 'reject_subscription'});
  await broadcast('chat_lobby', {text: 'to everyone'});
  for (const c of [bob, cat]) assert.deepEqual((await c.next((m) => m.message?.text)).message, {text: 'to everyone'});
  bob.close();
  cat.close();
});

test('state round trip and transmissions only to the caller', async () => {
  const [dan, eve] = [await open('?user=dan'), await open('?user=eve')];
  const id = chat('garden');
  for (const c of [dan, eve]) {
    await c.next((m) => m.type === 'welcome');
    await c.subscribe(id);
  }
  dan.perform(id, 'speak', {text: 'hi'});
  // room comes from the subscription's istate, user from the connection's identifiers
  assert.deepEqual((await dan.next((m) => m.message?.text)).message, {text: 'hi', room: 'garden', user: 'dan'});
  const speak = callsOf('Command').at(-1);
  assert.deepEqual(speak.request.env.istate, {room: 'garden'});
  assert.equal(speak.request.connection_identifiers, JSON.stringify({user: 'dan'}));
  await broadcast('chat_garden', {fence: 1});
  await eve.next((m) => m.message?.fence);
  assert.ok(!eve.texts.some((t) => t.includes('"hi"')), 'a transmission reached another client');
  dan.close();
  eve.close();
});

test('a reply that stops streams and asks to disconnect is applied in order', async () => {
  const fay = await open('?user=fay');
  await fay.next((m) => m.type === 'welcome');
  const id = chat('exit');
  await fay.subscribe(id);
  fay.perform(id, 'leave');
  assert.equal((await fay.closed).code, 1000);
});

test('a closed connection is reported once with its subscriptions', async () => {
  const gus = await open('?user=gus');
  await gus.next((m) => m.type === 'welcome');
  await gus.subscribe(chat('a'));
  await gus.subscribe(chat('b'));
  const before = callsOf('Disconnect').length;
  gus.close();
  await eventually(() => callsOf('Disconnect').length > before, 5000, 'a Disconnect call');
  const call = callsOf('Disconnect')[before];
  assert.equal(call.request.identifiers, JSON.stringify({user: 'gus'}));
  assert.deepEqual([...call.request.subscriptions].sort(), [chat('a'), chat('b')]);
  assert.deepEqual(JSON.parse(call.request.env.istate[chat('a')]), {room: 'a'});
});

test('the application down: 1011 and no frame; back on the same port: served again', async () => {
  const port = app.port;
  await app.stop();
  const early = await open('?user=hal');
  assert.equal((await early.closed).code, 1011);
  assert.deepEqual(early.texts, []);
  app = await startGrpcApp(port);
  await eventually(async () => {
    const later = await open('?user=hal');
    try {
      return (await later.next(() => true, 3000)).type === 'welcome';
    } catch {
      return false;
    } finally {
      later.close();
    }
  }, 10000, 'a welcome after the application came back');
});
