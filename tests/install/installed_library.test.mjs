// `make install` gives a C++ user what docs/install.md promises: the build tree installed into
// a fresh prefix, a project outside the tree (examples/installed) configured with
// find_package(Cablecast) against that prefix only and linked with cablecast::server, and the
// program it builds answers the official @rails/actioncable client.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, test} from 'node:test';
import {promisify} from 'node:util';

import {ActionCable, recordedSubscription} from '../support/actioncable.mjs';
import {cablecastBin, repoRoot} from '../support/paths.mjs';
import {startLibraryProgram} from '../support/servers.mjs';

const run = promisify(execFile);
const buildDir = path.dirname(cablecastBin);
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-install-'));
const prefix = path.join(work, 'prefix');
const appBuild = path.join(work, 'app');

async function cmake(args) {
  try {
    return await run('cmake', args, {maxBuffer: 64 * 1024 * 1024});
  } catch (error) {
    assert.fail(`cmake ${args.join(' ')} failed:\n${error.stdout}\n${error.stderr}`);
  }
}

before(async () => {
  await cmake(['--install', buildDir, '--prefix', prefix]);
});

after(() => fs.rmSync(work, {recursive: true, force: true}));

test('the prefix holds the binary, the public headers, the libraries and the CMake package', () => {
  for (const file of ['bin/cablecast', 'include/cablecast/server.hpp',
                      'include/cablecast/detail/channel_class.hpp',
                      'lib/cmake/Cablecast/CablecastConfig.cmake',
                      'lib/cmake/Cablecast/CablecastConfigVersion.cmake',
                      'lib/cmake/Cablecast/CablecastTargets.cmake', 'lib/libcablecast_server.a',
                      'share/cablecast/cablecast.service', 'share/cablecast/cablecast.toml']) {
    assert.ok(fs.existsSync(path.join(prefix, file)), `${file} is installed`);
  }
  // Only the public headers: the stages' own headers (src/) stay private.
  assert.deepEqual(fs.readdirSync(path.join(prefix, 'include')), ['cablecast']);
  // Nothing in the package points back into the source or build tree.
  const targets = fs.readdirSync(path.join(prefix, 'lib/cmake/Cablecast'))
      .map((f) => fs.readFileSync(path.join(prefix, 'lib/cmake/Cablecast', f), 'utf8')).join('\n');
  assert.ok(!targets.includes(repoRoot), 'the CMake package names no path of the source tree');
});

test('the installed libraries carry nothing of the cablecast program (src/app)', async () => {
  const programObjects = fs.readdirSync(path.join(repoRoot, 'src/app'))
      .filter((f) => f.endsWith('.cpp')).map((f) => `${f}.o`)
      .concat(['build_info.cpp.o', 'embedded_assets.cpp.o']);
  const libraries = fs.readdirSync(path.join(prefix, 'lib')).filter((f) => f.endsWith('.a'));
  assert.ok(libraries.includes('libcablecast_server.a'));
  for (const library of libraries) {
    const {stdout} = await run('ar', ['t', path.join(prefix, 'lib', library)]);
    const members = stdout.split('\n');
    for (const object of programObjects) {
      assert.ok(!members.includes(object), `${library} holds ${object} of the program`);
    }
  }
});

test('the installed binary runs', async () => {
  const {stdout} = await run(path.join(prefix, 'bin/cablecast'), ['serve', '--help']);
  assert.match(stdout, /--allowed-origins/);
});

test('a project built with find_package(Cablecast) against the prefix answers the official client',
     {timeout: 540_000}, async (t) => {
  // Ninja, no build type (no optimisation): one source file, built as fast as the compiler can.
  // No package registry: the prefix is the only place Cablecast can come from.
  await cmake(['-S', path.join(repoRoot, 'examples/installed'), '-B', appBuild, '-G', 'Ninja',
               `-DCMAKE_PREFIX_PATH=${prefix}`, '-DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF']);
  const cache = fs.readFileSync(path.join(appBuild, 'CMakeCache.txt'), 'utf8');
  assert.match(cache, new RegExp(`^Cablecast_DIR:PATH=${prefix}/lib/cmake/Cablecast$`, 'm'));
  await cmake(['--build', appBuild]);

  const server = await startLibraryProgram(path.join(appBuild, 'notes_server'), ['0'],
                                           {kind: 'notes_server'});
  t.after(() => server.stop());
  const consumer = ActionCable.createConsumer(`ws://127.0.0.1:${server.port}/cable?user=alice`);
  t.after(() => consumer.disconnect());
  const notes = recordedSubscription(consumer, {channel: 'NotesChannel', board: 'ideas'});
  await notes.waitFor('connected', () => true, 10_000);
  assert.deepEqual(await notes.waitFor('received', (m) => m.hello !== undefined), {hello: 'alice'});
  notes.subscription.perform('add', {text: 'ship it'});
  assert.deepEqual(await notes.waitFor('received', (m) => m.text !== undefined),
                   {user: 'alice', text: 'ship it'});
  consumer.disconnect();
  assert.equal(await server.stop(), 0, 'SIGTERM: a graceful shutdown, exit 0');
});
