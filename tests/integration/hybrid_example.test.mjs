// examples/hybrid_server works as its comments say: CursorChannel is served in C++, every other
// channel by the application over RPC (a @anycable/serverless-js backend), and the native
// channel knows the user the application identified.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {after, before, test} from 'node:test';

import {connectJson} from '../support/json_client.mjs';
import {freePort, startLibraryProgram} from '../support/servers.mjs';
import {Channel, startServerlessBackend} from '../support/serverless_backend.mjs';

const binary = path.join(path.dirname(process.env.CABLECAST_BIN ?? 'build/release/cablecast'),
                         'examples', 'hybrid_server');
let backend;
let example;
let port;

class NotesChannel extends Channel {
  async subscribed(handle) {
    handle.streamFrom('notes');
  }
  async hello(handle) {
    handle.transmit({hello: handle.identifiers.user});
  }
}

before(async () => {
  assert.ok(fs.existsSync(binary), `example binary missing: ${binary}`);
  backend = await startServerlessBackend({
    channels: {NotesChannel: new NotesChannel()},
    connect: (handle) => handle.identifiedBy({user: new URL(handle.env.url).searchParams.get('user')}),
  });
  port = await freePort();
  example = await startLibraryProgram(binary, [String(port), backend.url], {kind: 'hybrid_server'});
});

after(async () => {
  assert.equal(await example?.stop(), 0);
  await backend.close();
});

test('the native channel runs in C++ with the identity the application gave; the rest goes to the app', async () => {
  const [ann, bob] = [await connectJson(`ws://127.0.0.1:${port}/cable?user=ann`),
                      await connectJson(`ws://127.0.0.1:${port}/cable?user=bob`)];
  const cursor = JSON.stringify({channel: 'CursorChannel', document: 'spec'});
  const notes = JSON.stringify({channel: 'NotesChannel'});
  for (const c of [ann, bob]) {
    await c.next((m) => m.type === 'welcome');
    await c.subscribe(cursor);
    await c.subscribe(notes);
  }
  const commandsBefore = backend.calls.filter((c) => c.method === 'command').length;
  ann.perform(cursor, 'move', {x: 3, y: 4});
  for (const c of [ann, bob]) {
    const moved = await c.next((m) => m.identifier === cursor && m.message);
    assert.deepEqual(moved.message, {who: {user: 'ann'}, x: 3, y: 4});
  }
  assert.equal(backend.calls.filter((c) => c.method === 'command').length, commandsBefore,
               'the native channel made no RPC call');
  bob.perform(notes, 'hello');
  assert.deepEqual((await bob.next((m) => m.identifier === notes && m.message)).message, {hello: 'bob'});
  const subscribes = backend.calls.filter((c) => c.body?.command === 'subscribe').map((c) => c.body.identifier);
  assert.ok(!subscribes.includes(cursor), 'CursorChannel was sent to the application');
  ann.close();
  bob.close();
});
