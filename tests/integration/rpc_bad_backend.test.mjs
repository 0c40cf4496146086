// An RPC backend that misbehaves: replies that are not JSON, are huge, lack fields, have fields
// of the wrong type, never come, or come as errors. Each must be a clear failure for that one
// call (connect: close 1011 with no frame; command: nothing sent, the connection and its other
// subscriptions stay up), never a crash; the server keeps serving and logs each cause.
// `make sanitize` runs this file against the ASan + UBSan build too.
import assert from 'node:assert/strict';
import http from 'node:http';
import {after, before, test} from 'node:test';

import {connectJson} from '../support/json_client.mjs';
import {startCablecast} from '../support/servers.mjs';

// What the backend answers, chosen per call by the client: connect by the `mode` query
// parameter, commands by the subscription's `mode` param. `ok` behaves.
const replies = {
  ok: (call) =>
    call === 'connect'
      ? {status: 1, identifiers: '{"user":"u"}', transmissions: ['{"type":"welcome"}']}
      : null,  // commands: filled in by commandReply
  garbage: () => 'this is not json {',
  huge: () => JSON.stringify({status: 1, transmissions: ['x'.repeat(20 * 1024 * 1024)]}),
  missing: () => '{}',  // no status: ERROR
  wrong_types: () => JSON.stringify({status: 'yes', streams: 'not-a-list', transmissions: [1, 2]}),
  http_500: () => ({httpStatus: 500}),
  slow: () => ({delayMs: 4000}),
};

function commandReply(body) {
  const identifier = body.identifier;
  if (body.command === 'subscribe') {
    return {status: 1, streams: ['s'], transmissions: [JSON.stringify({identifier, type: 'confirm_subscription'})]};
  }
  return {status: 1, transmissions: [JSON.stringify({identifier, message: {pong: true}})]};
}

let backend;
let server;
const sockets = new Set();

before(async () => {
  backend = http.createServer(async (req, res) => {
    let raw = '';
    for await (const chunk of req) raw += chunk;
    const body = JSON.parse(raw);
    const call = req.url.split('/').pop();
    let mode = 'ok';
    if (call === 'connect') {
      mode = new URL(body.env.url).searchParams.get('mode') ?? 'ok';
    } else if (body.identifier) {
      mode = JSON.parse(body.identifier).mode ?? 'ok';
      if (body.command === 'message') mode = JSON.parse(body.data).mode ?? mode;
      if (body.command === 'subscribe' && mode !== 'ok') mode = 'ok';  // subscribe fine, act badly
    }
    let reply = replies[mode](call);
    if (reply === null) reply = commandReply(body);
    if (reply?.delayMs) {
      await new Promise((r) => setTimeout(r, reply.delayMs));
      reply = call === 'connect' ? replies.ok('connect') : commandReply(body);
    }
    if (reply?.httpStatus) {
      res.writeHead(reply.httpStatus);
      return res.end('boom');
    }
    res.writeHead(200, {'content-type': 'application/json'});
    res.end(typeof reply === 'string' ? reply : JSON.stringify(reply));
  });
  backend.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise((r) => backend.listen(0, '127.0.0.1', r));
  server = await startCablecast([
    '--rpc-url', `http://127.0.0.1:${backend.address().port}/rpc`, '--rpc-timeout', '1500',
  ]);
});

after(async () => {
  await server?.stop();
  for (const s of sockets) s.destroy();
  await new Promise((r) => backend.close(r));
});

const channel = (mode) => JSON.stringify({channel: 'AppChannel', mode});

for (const mode of ['garbage', 'huge', 'missing', 'wrong_types', 'http_500', 'slow']) {
  test(`a connect answered "${mode}" closes the socket with 1011 and no frame`, async () => {
    const client = await connectJson(`${server.url}?mode=${mode}`);
    const closed = await client.closed;
    assert.equal(closed.code, 1011);
    assert.deepEqual(client.texts, []);
  });

  test(`a command answered "${mode}" gets nothing, and the connection keeps working`, async () => {
    const client = await connectJson(`${server.url}?mode=ok`);
    await client.next((m) => m.type === 'welcome');
    const bad = await client.subscribe(channel(mode));
    const good = await client.subscribe(channel('ok'));
    client.perform(bad, 'act', {mode});
    client.perform(good, 'act');  // fence: in order, after the bad command's outcome
    const reply = await client.next((m) => m.message?.pong, 6000);
    assert.equal(reply.identifier, good);
    const answeredBad = client.texts.map((t) => JSON.parse(t)).filter((m) => m.identifier === bad && m.message);
    assert.deepEqual(answeredBad, [], 'the failed command answered something');
    assert.equal(client.closeInfo, undefined);
    client.close();
  });
}

// While a command waits for the application, the connection's later commands wait behind it
// (strict order), holding at most 1 MiB; a client that floods past it is closed with 1008.
test('commands piled up behind a pending one past 1 MiB close the connection with 1008', async () => {
  const client = await connectJson(`${server.url}?mode=ok`);
  await client.next((m) => m.type === 'welcome');
  const slow = await client.subscribe(channel('slow'));
  const mark = server.logs.length;
  client.perform(slow, 'act', {mode: 'slow'});  // answered after --rpc-timeout (1.5 s)
  // 20 commands of 60 KB (under --max-message-size each): 1.2 MB queued behind the slow one.
  const pad = 'p'.repeat(60 * 1024);
  for (let i = 0; i < 20; i++) client.perform(slow, 'act', {pad});
  const closed = await Promise.race([client.closed, new Promise((r) => setTimeout(() => r({code: 'still open after 10 s'}), 10000).unref())]);
  assert.equal(closed.code, 1008);
  await server.waitForLog(/sent \d+ bytes of commands while an earlier one was pending \(limit 1048576\)/, 5000, mark);
});

test('every failure was logged with its cause, and the server is still serving', async () => {
  const logs = server.logs.join('\n');
  assert.match(logs, /RPC connect failed/);
  assert.match(logs, /RPC message failed/);
  const client = await connectJson(`${server.url}?mode=ok`);
  assert.equal((await client.next()).type, 'welcome');
  client.close();
});
