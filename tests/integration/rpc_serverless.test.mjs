// Cablecast in front of an application written with AnyCable's own backend library,
// @anycable/serverless-js: connect, commands and disconnect over HTTP RPC, broadcasts back
// through the HTTP broadcast API, tokens from its identificator. The application is the real
// library (tests/support/serverless_backend.mjs), not an imitation of it.
import assert from 'node:assert/strict';
import {after, before, test} from 'node:test';

import {connectExt} from '../support/anycable_client.mjs';
import {connectJson} from '../support/json_client.mjs';
import {SESSION_SAVED} from '../support/ext_fixture.mjs';
import {freePort, startCablecast} from '../support/servers.mjs';
import {
  Channel,
  broadcaster,
  identificator,
  startServerlessBackend,
} from '../support/serverless_backend.mjs';

const RPC_SECRET = 'rpc-secret-for-tests';
const BROADCAST_KEY = 'broadcast-key-for-tests';
const JWT_SECRET = 'jwt-secret-for-tests';

let server;
let backend;
let backendPort;
let broadcast;  // serverless-js's broadcaster, pointed at Cablecast's POST /_broadcast
const disconnects = [];

class ChatChannel extends Channel {
  async subscribed(handle, params) {
    if (!params.room) return handle.reject();
    handle.streamFrom(`chat_${params.room}`);
    handle.state = {room: params.room, count: 0};
  }
  async bump(handle) {
    // The state lives in Cablecast between calls (istate): the count only grows if it came back.
    handle.state.count += 1;
    handle.transmit({count: handle.state.count});
  }
  async whoami(handle) {
    handle.transmit({you: handle.identifiers});
  }
  async speak(handle, params, data) {
    await broadcast(`chat_${params.room}`, {user: handle.identifiers.user, text: data.text});
  }
  async leave(handle, params) {
    handle.stopStreamFrom(`chat_${params.room}`);
  }
}

// A room with whispers ("typing…") and presence. serverless-js has no whispers_to or presence
// helper: the channel state keys AnyCable reads, "$w" (the whisper stream) and "$p" (the presence
// stream), go into the reply's istate, as anycable-rails' whispers_to and presence do.
class RoomChannel extends Channel {
  async subscribed(handle, params) {
    const stream = `room_${params.room}`;
    handle.streamFrom(stream);
    handle.state = {room: params.room, count: 0};
    handle.env.istate = {...(handle.env.istate ?? {}), $w: stream, $p: stream};
  }
  async bump(handle) {
    handle.state.count += 1;
    handle.transmit({count: handle.state.count});
  }
  async speak(handle, params, data) {
    await broadcast(`room_${params.room}`, {user: handle.identifiers.user, text: data.text});
  }
}

async function startBackend(port = 0) {
  return startServerlessBackend({
    secret: RPC_SECRET,
    port,
    channels: {ChatChannel: new ChatChannel(), RoomChannel: new RoomChannel()},
    connect: (handle) => {
      const token = new URL(handle.env.url).searchParams.get('user');
      if (!token || token === 'mallory') return handle.reject();
      handle.identifiedBy({user: token});
    },
    disconnect: (handle) => {
      disconnects.push(handle.identifiers);
    },
  });
}

before(async () => {
  backend = await startBackend();
  backendPort = backend.port;
  server = await startCablecast([
    '--rpc-url', backend.url, '--rpc-secret', RPC_SECRET, '--broadcast-key', BROADCAST_KEY,
    '--jwt-secret', JWT_SECRET, '--rpc-timeout', '2000',
  ]);
  broadcast = broadcaster(`http://127.0.0.1:${server.port}/_broadcast`, BROADCAST_KEY);
});

after(async () => {
  await server?.stop();
  await backend?.close();
});

const chat = (room) => JSON.stringify({channel: 'ChatChannel', room});
const open = (query = '', options = {}) => connectJson(`${server.url}${query}`, options);
const callsOf = (method) => backend.calls.filter((c) => c.method === method);

test('the application accepts a connection: its welcome arrives and its identifiers stick', async () => {
  const before = callsOf('connect').length;
  const ann = await open('?user=ann', {headers: {Cookie: 'session=abc', 'X-Private': 'no'}});
  const welcome = await ann.next();
  assert.equal(welcome.type, 'welcome');
  const call = callsOf('connect')[before];
  assert.equal(call.headers.authorization, `Bearer ${RPC_SECRET}`);
  assert.equal(call.headers['x-anycable-meta-protov'], 'v1');
  assert.match(call.headers['x-anycable-meta-sid'], /^[A-Za-z0-9_-]{22}$/);
  assert.equal(welcome.sid, call.headers['x-anycable-meta-sid'], 'serverless-js welcomes with our sid');
  assert.equal(call.body.env.url, `http://127.0.0.1:${server.port}/cable?user=ann`);
  assert.deepEqual(call.body.env.headers, {cookie: 'session=abc', REMOTE_ADDR: '127.0.0.1'});
  const id = chat('lobby');
  await ann.subscribe(id);
  ann.perform(id, 'whoami');
  assert.deepEqual((await ann.next((m) => m.message?.you)).message, {you: {user: 'ann'}});
  ann.close();
});

test('the application refuses a connection: its disconnect frame, then a close', async () => {
  const mallory = await open('?user=mallory');
  assert.deepEqual(await mallory.next(), {type: 'disconnect', reason: 'unauthorized'});
  const closed = await mallory.closed;
  assert.equal(closed.code, 1000);
});

test('subscriptions are confirmed or rejected by the application', async () => {
  const bob = await open('?user=bob');
  await bob.next((m) => m.type === 'welcome');
  const good = chat('books');
  const bad = JSON.stringify({channel: 'ChatChannel'});
  bob.send({command: 'subscribe', identifier: good});
  bob.send({command: 'subscribe', identifier: bad});
  assert.deepEqual(await bob.next((m) => m.identifier === good), {identifier: good, type: 'confirm_subscription'});
  assert.deepEqual(await bob.next((m) => m.identifier === bad), {identifier: bad, type: 'reject_subscription'});
  bob.close();
});

test('an action broadcasts through the HTTP API to every subscriber, transmissions reach only the caller', async () => {
  const [cat, dan] = [await open('?user=cat'), await open('?user=dan')];
  const id = chat('garden');
  for (const c of [cat, dan]) {
    await c.next((m) => m.type === 'welcome');
    await c.subscribe(id);
  }
  cat.perform(id, 'speak', {text: 'hello'});
  for (const c of [cat, dan]) {
    assert.deepEqual((await c.next((m) => m.message?.text)).message, {user: 'cat', text: 'hello'});
  }
  cat.perform(id, 'bump');
  assert.deepEqual((await cat.next((m) => m.message?.count)).message, {count: 1});
  // Fence: dan's own broadcast arrives after anything cat's bump could have sent him.
  dan.perform(id, 'speak', {text: 'fence'});
  await dan.next((m) => m.message?.text === 'fence');
  assert.ok(!dan.texts.some((t) => t.includes('"count"')), 'a transmission reached another client');
  cat.close();
  dan.close();
});

test('channel state makes the round trip: each command sees the state the previous reply left', async () => {
  const eve = await open('?user=eve');
  await eve.next((m) => m.type === 'welcome');
  const id = chat('state');
  await eve.subscribe(id);
  for (const expected of [1, 2, 3]) {
    eve.perform(id, 'bump');
    assert.deepEqual((await eve.next((m) => m.message?.count)).message, {count: expected});
  }
  const lastCommand = callsOf('command').at(-1);
  assert.deepEqual(JSON.parse(lastCommand.body.env.istate[id]), {room: 'state', count: 2});
  eve.close();
});

test('stopStreamFrom stops the stream for that client only', async () => {
  const [fay, gus] = [await open('?user=fay'), await open('?user=gus')];
  const id = chat('quiet');
  for (const c of [fay, gus]) {
    await c.next((m) => m.type === 'welcome');
    await c.subscribe(id);
  }
  fay.perform(id, 'leave');
  fay.perform(id, 'bump');  // fence: the leave reply was applied before this one
  await fay.next((m) => m.message?.count);
  gus.perform(id, 'speak', {text: 'anyone?'});
  await gus.next((m) => m.message?.text === 'anyone?');
  fay.perform(id, 'bump');  // a later fence on fay's side
  await fay.next((m) => m.message?.count === 2);
  assert.ok(!fay.texts.some((t) => t.includes('anyone?')), 'fay still received the stream');
  fay.close();
  gus.close();
});

test('a closed connection is reported once, with its subscriptions', async () => {
  const hal = await open('?user=hal');
  await hal.next((m) => m.type === 'welcome');
  await hal.subscribe(chat('one'));
  await hal.subscribe(chat('two'));
  const before = callsOf('disconnect').length;
  hal.close();
  const deadline = Date.now() + 5000;
  while (callsOf('disconnect').length === before && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const call = callsOf('disconnect')[before];
  assert.ok(call, 'no disconnect call');
  assert.equal(call.body.identifiers, JSON.stringify({user: 'hal'}));
  assert.deepEqual([...call.body.subscriptions].sort(), [chat('one'), chat('two')]);
  assert.deepEqual(disconnects.at(-1), {user: 'hal'});
});

test('tokens from serverless-js identificator: valid identifies with no connect call, expired and forged are refused', async () => {
  const good = await identificator(JWT_SECRET, '1h').generateToken({user: 'ivy'});
  const connectsBefore = callsOf('connect').length;
  const ivy = await open(`?jid=${good}`);
  const welcome = await ivy.next();
  assert.equal(welcome.type, 'welcome');
  assert.equal(callsOf('connect').length, connectsBefore, 'a token needs no connect call');
  const id = chat('tokens');
  await ivy.subscribe(id);
  ivy.perform(id, 'whoami');
  assert.deepEqual((await ivy.next((m) => m.message?.you)).message, {you: {user: 'ivy'}});
  ivy.close();

  // A number is an absolute expiry (Unix seconds) for jose: ten seconds ago.
  const expired = await identificator(JWT_SECRET, Math.floor(Date.now() / 1000) - 10).generateToken({user: 'old'});
  const late = await open(`?jid=${expired}`);
  assert.deepEqual(await late.next(), {type: 'disconnect', reason: 'token_expired', reconnect: false});

  const forged = await identificator('not-the-secret', '1h').generateToken({user: 'ivy'});
  const fake = await open(`?jid=${forged}`);
  assert.deepEqual(await fake.next(), {type: 'disconnect', reason: 'unauthorized', reconnect: false});
});

const room = (name) => JSON.stringify({channel: 'RoomChannel', room: name});
const openExt = (query, options = {}) => connectExt(`${server.url}${query}`, options);
const subscribeCalls = (identifier) => callsOf('command').filter((c) => c.body.command === 'subscribe' && c.body.identifier === identifier);
const connectCallsOf = (user) => callsOf('connect').filter((c) => new URL(c.body.env.url).searchParams.get('user') === user);
const isTyping = (m) => m.message?.event === 'typing';

async function disconnectCallFor(user, after) {
  const identifiers = JSON.stringify({user});
  const find = () => callsOf('disconnect').slice(after).find((c) => c.body.identifiers === identifiers);
  const deadline = Date.now() + 5000;
  while (!find() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  assert.ok(find(), `no disconnect call for ${user}`);
  return find();
}

test('a channel whose state names $w and $p gets whispers and presence, on either protocol', async () => {
  const id = room('whispers');
  const ann = (await openExt('?user=ann')).client;
  const bob = await open('?user=bob');
  await bob.next((m) => m.type === 'welcome');
  for (const c of [ann, bob]) await c.subscribe(id);

  ann.send({command: 'whisper', identifier: id, data: {event: 'typing', user: 'ann'}});
  assert.equal((await bob.nextEntry(isTyping)).text, JSON.stringify({identifier: id, message: {event: 'typing', user: 'ann'}}));
  bob.send({command: 'whisper', identifier: id, data: {event: 'typing', user: 'bob'}});
  assert.deepEqual((await ann.next(isTyping)).message, {event: 'typing', user: 'bob'});
  // Fence: a broadcast after both whispers; neither sender got its own.
  bob.perform(id, 'speak', {text: 'fence'});
  for (const c of [ann, bob]) await c.next((m) => m.message?.text === 'fence');
  assert.ok(!ann.texts.some((t) => t.includes('"event":"typing","user":"ann"')), 'ann got her whisper back');
  assert.ok(!bob.texts.some((t) => t.includes('"event":"typing","user":"bob"')), 'bob got his whisper back');

  const commandsBefore = callsOf('command').length;
  ann.send({command: 'join', identifier: id, presence: {id: 'ann', info: {name: 'Ann'}}});
  assert.equal((await bob.nextEntry((m) => m.type === 'presence')).text,
    JSON.stringify({type: 'presence', identifier: id, message: {type: 'join', id: 'ann', info: {name: 'Ann'}}}));
  bob.send({command: 'presence', identifier: id, data: {}});
  assert.deepEqual((await bob.next((m) => m.type === 'presence' && m.message.type === 'info')).message,
    {type: 'info', total: 1, records: [{id: 'ann', info: {name: 'Ann'}}]});
  ann.send({command: 'leave', identifier: id});
  assert.deepEqual((await bob.next((m) => m.type === 'presence')).message, {type: 'leave', id: 'ann'});
  assert.equal(callsOf('command').length, commandsBefore, 'whispers and presence never call the application');
  ann.close();
  bob.close();
});

test('a restored session gets its RPC subscription and state back without connect or subscribe calls', async () => {
  const id = room('restore');
  const first = await openExt('?user=kim');
  assert.equal(first.welcome.sid, connectCallsOf('kim')[0].headers['x-anycable-meta-sid']);
  await first.client.subscribe(id);
  first.client.perform(id, 'bump');
  assert.deepEqual((await first.client.next((m) => m.message?.count)).message, {count: 1});
  const lastBeforeDrop = callsOf('command').at(-1);
  const disconnectsBefore = callsOf('disconnect').length;
  const mark = server.logs.length;
  first.client.terminate();
  await server.waitForLog(/connection aborted/, 5000, mark);
  await server.waitForLog(SESSION_SAVED, 5000, mark);
  await disconnectCallFor('kim', disconnectsBefore);  // the application hears the connection went

  const back = await openExt('?user=kim', {sid: first.welcome.sid});
  assert.equal(back.welcome.restored, true, back.welcomeText);
  assert.deepEqual(back.welcome.restored_ids, [id]);
  back.client.send({command: 'history', identifier: id, history: {since: Math.floor(Date.now() / 1000) - 60}});
  await back.client.next((m) => m.type === 'confirm_history');
  assert.equal(connectCallsOf('kim').length, 1, 'no connect call on restore');
  assert.equal(subscribeCalls(id).length, 1, 'no subscribe call on restore');

  back.client.perform(id, 'bump');
  assert.deepEqual((await back.client.next((m) => m.message?.count)).message, {count: 2}, 'the state came back');
  const afterRestore = callsOf('command').at(-1);
  assert.equal(afterRestore.body.identifier, id);
  assert.deepEqual(afterRestore.body.env.istate, lastBeforeDrop.reply.env.istate,
    'the istate the application left before the drop');
  assert.deepEqual(JSON.parse(afterRestore.body.env.istate[id]), {room: 'restore', count: 1});
  assert.equal(afterRestore.body.env.istate.$w, 'room_restore');

  // Its streams and whispers are back too.
  const lee = await open('?user=lee');
  await lee.next((m) => m.type === 'welcome');
  await lee.subscribe(id);
  back.client.send({command: 'whisper', identifier: id, data: {event: 'typing', user: 'kim'}});
  assert.deepEqual((await lee.next(isTyping)).message, {event: 'typing', user: 'kim'});
  lee.perform(id, 'speak', {text: 'welcome back'});
  await back.client.next((m) => m.message?.text === 'welcome back');

  const closing = callsOf('disconnect').length;
  back.client.close();
  const last = await disconnectCallFor('kim', closing);
  assert.deepEqual(last.body.subscriptions, [id]);
  assert.deepEqual(JSON.parse(last.body.env.istate[id]), {[id]: JSON.stringify({room: 'restore', count: 2}),
    $w: 'room_restore', $p: 'room_restore'});
  lee.close();
});

test('the application down: connections close with 1011 and no frame; back up: served again', async () => {
  await backend.close();
  const early = await open('?user=jo');
  const entry = await early.closed;
  assert.equal(entry.code, 1011);
  assert.deepEqual(early.texts, [], 'no frame before the 1011 close');
  backend = await startBackend(backendPort);
  const later = await open('?user=jo');
  assert.equal((await later.next()).type, 'welcome');
  await later.subscribe(chat('back'));
  later.close();
});
