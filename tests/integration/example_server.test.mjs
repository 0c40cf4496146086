// The examples/minimal_server program works as its comments say: the connect hook (cookie or
// query), stream_for, run_blocking, and the rejection of an anonymous connection.
import assert from 'node:assert/strict';
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {connectJson} from '../support/json_client.mjs';
import {freePort} from '../support/servers.mjs';

const binary = path.join(path.dirname(process.env.CABLECAST_BIN ?? 'build/release/cablecast'),
                         'examples', 'minimal_server');
let proc;
let port;

before(async () => {
  assert.ok(fs.existsSync(binary), `example binary missing: ${binary}`);
  port = await freePort();
  proc = spawn(binary, [String(port)], {stdio: ['ignore', 'ignore', 'pipe']});
  await new Promise((resolve, reject) => {
    let seen = '';
    proc.stderr.on('data', (d) => {
      seen += d;
      if (/listening on/.test(seen)) resolve();
    });
    proc.on('exit', (code) => reject(new Error(`example exited early (${code}): ${seen}`)));
  });
});

after(async () => {
  proc.kill('SIGTERM');
  const code = await new Promise((resolve) => proc.on('exit', resolve));
  assert.equal(code, 0);
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
