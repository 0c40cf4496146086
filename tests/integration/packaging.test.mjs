// packaging/: the example config file starts the server as it is (only the port overridden,
// as a second instance would), and the systemd unit is one systemd accepts.
import assert from 'node:assert/strict';
import {execFile, execFileSync} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {test} from 'node:test';
import {promisify} from 'node:util';

import {ActionCable, recordedSubscription} from '../support/actioncable.mjs';
import {cablecastBin, repoRoot} from '../support/paths.mjs';
import {startCablecast} from '../support/servers.mjs';

const run = promisify(execFile);
const configFile = path.join(repoRoot, 'packaging/cablecast.toml');
const unitFile = path.join(repoRoot, 'packaging/cablecast.service');

test('the server starts with packaging/cablecast.toml and serves the official client', async (t) => {
  const server = await startCablecast(['--config', configFile]);
  t.after(() => server.stop());
  const consumer = ActionCable.createConsumer(`${server.url}?user=ops`);
  t.after(() => consumer.disconnect());
  const room = recordedSubscription(consumer, {channel: 'ChatChannel', room: 'ops'});
  await room.waitFor('connected');
  room.subscription.perform('speak', {text: 'config ok'});
  assert.equal((await room.waitFor('received', (m) => m.text !== undefined)).text, 'config ok');
  consumer.disconnect();
  assert.equal(await server.stop(), 0);
});

test('every setting the config shows, commented or not, is a flag of cablecast serve', async () => {
  const {stdout: help} = await run(cablecastBin, ['serve', '--help']);
  const keys = [...fs.readFileSync(configFile, 'utf8').matchAll(/^(?:# )?([a-z_]+) = /gm)].map((m) => m[1]);
  assert.ok(keys.length >= 40, `the example shows the common settings (${keys.length} found)`);
  for (const key of keys) {
    assert.ok(help.includes(`--${key.replaceAll('_', '-')}`), `${key} is not a cablecast serve flag`);
  }
});

test('the unit runs the installed binary with the config, reloads TLS on SIGHUP, is hardened', () => {
  const unit = fs.readFileSync(unitFile, 'utf8');
  const settings = new Map();
  for (const line of unit.split('\n')) {
    const m = /^(\w+)=(.*)$/.exec(line);
    if (m) settings.set(m[1], m[2]);
  }
  assert.equal(settings.get('ExecStart'),
               '/usr/local/bin/cablecast serve --config /etc/cablecast/cablecast.toml');
  assert.equal(settings.get('ExecReload'), '/bin/kill -HUP $MAINPID');
  assert.equal(settings.get('Restart'), 'on-failure');
  for (const [key, value] of [['DynamicUser', 'yes'], ['NoNewPrivileges', 'yes'],
                              ['ProtectSystem', 'strict'], ['ProtectHome', 'yes'],
                              ['PrivateTmp', 'yes']]) {
    assert.equal(settings.get(key), value, key);
  }
  assert.ok(Number(settings.get('LimitNOFILE')) >= 65536, 'LimitNOFILE is high');
  assert.match(settings.get('RestrictAddressFamilies'), /^AF_INET AF_INET6( AF_UNIX)?$/);
});

function onPath(name) {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], {stdio: 'ignore'});
    return true;
  } catch {
    return false;
  }
}

test('systemd-analyze verify accepts the unit without a warning', async (t) => {
  if (!onPath('systemd-analyze')) {
    const why = 'systemd-analyze is not installed (Debian package systemd): unit not verified';
    console.log(`# SKIP: ${why}`);
    return t.skip(why);
  }
  // verify also checks that ExecStart's program exists: point it at the binary under test, the
  // rest of the unit unchanged.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-unit-'));
  t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
  const unit = fs.readFileSync(unitFile, 'utf8').replace('/usr/local/bin/cablecast', cablecastBin);
  fs.writeFileSync(path.join(dir, 'cablecast.service'), unit);
  const {stdout, stderr} = await run('systemd-analyze', ['verify', path.join(dir, 'cablecast.service')])
      .catch((error) => assert.fail(`systemd-analyze verify failed:\n${error.stdout}${error.stderr}`));
  // A directive systemd cannot parse is only a warning, with exit status 0: none may appear.
  assert.equal(`${stdout}${stderr}`.trim(), '');
});
