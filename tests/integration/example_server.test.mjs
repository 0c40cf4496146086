// The examples/minimal_server program works as its comments say: the connect hook (cookie or
// query), stream_for, run_blocking, and the rejection of an anonymous connection.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {connectJson} from '../support/json_client.mjs';
import {freePort, startLibraryProgram} from '../support/servers.mjs';

const binary = path.join(path.dirname(process.env.CABLECAST_BIN ?? 'build/release/cablecast'),
                         'examples', 'minimal_server');
let example;
let port;

before(async () => {
  assert.ok(fs.existsSync(binary), `example binary missing: ${binary}`);
  port = await freePort();
  example = await startLibraryProgram(binary, [String(port)], {kind: 'minimal_server'});
});

after(async () => {
  assert.equal(await example?.stop(), 0);
});

const notes = JSON.stringify({channel: 'NotesChannel', board: 'ideas'});

test('a user from the cookie subscribes, is greeted, and sees notes added on the board', async () => {
  const alice = await connectJson(`ws://127.0.0.1:${port}/cable`, {headers: {Cookie: 'user=alice'}});
  const bob = await connectJson(`ws://127.0.0.1:${port}/cable?user=bob`);
  for (const c of [alice, bob]) {
    await c.next((m) => m.type === 'welcome');
    c.send({command: 'subscribe', identifier: notes});
  }
  assert.deepEqual((await alice.next((m) => m.identifier === notes)).message, {hello: 'alice'});
  await alice.next((m) => m.type === 'confirm_subscription');
  await bob.next((m) => m.type === 'confirm_subscription');
  alice.send({command: 'message', identifier: notes, data: JSON.stringify({action: 'add', text: 'ship it'})});
  for (const c of [alice, bob]) {
    const note = await c.next((m) => m.message?.text);
    assert.deepEqual(note.message, {user: 'alice', text: 'ship it'});
  }
  alice.close();
  bob.close();
});

test('a subscription without a board is rejected, an anonymous connection refused', async () => {
  const carol = await connectJson(`ws://127.0.0.1:${port}/cable?user=carol`);
  await carol.next((m) => m.type === 'welcome');
  const noBoard = JSON.stringify({channel: 'NotesChannel'});
  carol.send({command: 'subscribe', identifier: noBoard});
  assert.equal((await carol.next((m) => m.identifier === noBoard)).type, 'reject_subscription');
  carol.close();
  const anonymous = await connectJson(`ws://127.0.0.1:${port}/cable`);
  assert.deepEqual(await anonymous.next(() => true),
                   {type: 'disconnect', reason: 'unauthorized', reconnect: false});
});
