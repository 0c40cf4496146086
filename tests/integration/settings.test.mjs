// Where `cablecast serve` takes its settings from, and what it does with bad ones. Sources, the
// strongest first: the command line, CABLECAST_<FLAG> variables, the --config TOML file (top
// level or a [serve] table). A value that breaks a rule stops the server at start with one line
// naming the flag, whichever source it came from (a config file's values pass no CLI11 check, so
// the rules live in Server::start).
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';

import {connectWelcomed} from '../support/json_client.mjs';
import {cablecastBin} from '../support/paths.mjs';
import {startCablecast} from '../support/servers.mjs';

/** Runs `cablecast serve` expected to refuse to start: resolves with {code, stderr}. */
function refusedStart(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = execFile(cablecastBin, ['serve', '--port', '0', ...args],
                           {env: {...process.env, ...env}, timeout: 10000}, (err, stdout, stderr) => {
      if (!err) return reject(new Error(`the server started and exited 0:\n${stderr}`));
      if (err.killed) return reject(new Error(`the server started (killed after 10 s):\n${stderr}`));
      resolve({code: err.code, stderr: stdout + stderr});
    });
    child.stdin?.end();
  });
}

describe('settings: command line, environment, config file', () => {
  let dir;
  const servers = [];
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-settings-'));
  });
  after(async () => {
    for (const s of servers) await s.stop();
    fs.rmSync(dir, {recursive: true, force: true});
  });
  function configFile(name, text) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, text);
    return file;
  }
  async function servedPath(args, env) {
    const server = await startCablecast(args, {env});
    servers.push(server);
    const line = server.logs.find((l) => /listening on/.test(l));
    return /\(ws:\/\/127\.0\.0\.1:\d+(\/[^),]*)/.exec(line)[1];
  }

  test('the command line beats the environment, which beats the file', async () => {
    const file = configFile('paths.toml', 'path = "/from-file"\nmax_subscriptions = 7\n');
    assert.equal(await servedPath(['--config', file]), '/from-file');
    assert.equal(await servedPath(['--config', file], {CABLECAST_PATH: '/from-env'}), '/from-env');
    assert.equal(await servedPath(['--config', file, '--path', '/from-cli'], {CABLECAST_PATH: '/from-env'}),
                 '/from-cli');
    // The file's path is really where clients connect.
    const server = servers[0];
    const c = await connectWelcomed(`ws://127.0.0.1:${server.port}/from-file`);
    c.terminate();
  });

  // `cablecast config` prints what `serve` would use and where each value came from.
  function effective(args, env = {}) {
    return new Promise((resolve, reject) => {
      execFile(cablecastBin, ['config', ...args], {env: {...process.env, ...env}, timeout: 10000}, (err, stdout, stderr) => {
        if (err) return reject(new Error(`cablecast config failed: ${stderr}`));
        const settings = {};
        for (const line of stdout.split('\n')) {
          const m = /^(\w+) = (.*?)\s+# (.*)$/.exec(line);
          if (m) settings[m[1]] = {value: m[2], from: m[3].replace(/ .*/, '')};
        }
        resolve(settings);
      });
    });
  }

  test('flag > environment > file > default, for settings of every type', async () => {
    const file = configFile('layers.toml', [
      'max_subscriptions = 7', 'log_level = "warn"', 'io_uring = false', 'idle_timeout = 1111',
      'channel_prefix = "file"', 'reuse_port = true', 'handshake_timeout = 2222', '',
    ].join('\n'));
    const env = {
      CABLECAST_MAX_SUBSCRIPTIONS: '8', CABLECAST_LOG_LEVEL: 'error', CABLECAST_CHANNEL_PREFIX: 'env',
      CABLECAST_REUSE_PORT: 'false', CABLECAST_HANDSHAKE_TIMEOUT: '3333',
    };
    const got = await effective(['--config', file, '--max-subscriptions', '9', '--handshake-timeout', '4444'], env);
    const pick = (...keys) => Object.fromEntries(keys.map((k) => [k, `${got[k].value} (${got[k].from})`]));
    assert.deepEqual(pick('max_subscriptions', 'handshake_timeout', 'log_level', 'channel_prefix', 'reuse_port',
                          'io_uring', 'idle_timeout', 'shutdown_timeout', 'path'), {
      max_subscriptions: '9 (flag)',           // integer: all three set, the flag wins
      handshake_timeout: '4444 (flag)',        // a duration in ms
      log_level: '"error" (env)',               // an enumeration: environment over file
      channel_prefix: '"env" (env)',            // a string
      reuse_port: 'false (env)',                // a boolean turned off by the environment
      io_uring: 'false (file)',                 // a boolean from the file alone
      idle_timeout: '1111 (file)',
      shutdown_timeout: '5000 (default)',       // set nowhere
      path: '"/cable" (default)',
    });
    // A boolean flag beats an environment variable and a file both saying otherwise.
    const flag = await effective(['--config', file, '--io-uring=true'], {CABLECAST_IO_URING: 'false'});
    assert.deepEqual([flag.io_uring.value, flag.io_uring.from], ['true', 'flag']);
  });

  test('serve applies the layers: --max-subscriptions from the environment over the file', async () => {
    const file = configFile('subs.toml', 'max_subscriptions = 1\n');
    const server = await startCablecast(['--config', file], {env: {CABLECAST_MAX_SUBSCRIPTIONS: '2'}});
    servers.push(server);
    const c = await connectWelcomed(server.url);
    const ids = [1, 2, 3].map((n) => JSON.stringify({channel: 'BenchmarkChannel', id: `layer${n}`}));
    for (const id of ids) c.subscribeCommand(id);
    const answers = [];
    for (const id of ids) answers.push((await c.next((m) => m.identifier === id)).type);
    assert.deepEqual(answers, ['confirm_subscription', 'confirm_subscription', 'reject_subscription']);
    c.terminate();
  });

  test('io_uring = false in the file, or CABLECAST_IO_URING=false, selects one sendmsg per connection', async () => {
    const file = configFile('uring.toml', 'io_uring = false\n');
    for (const [args, env] of [[['--config', file], {}], [[], {CABLECAST_IO_URING: 'false'}]]) {
      const server = await startCablecast(args, {env});
      servers.push(server);
      await server.waitForLog(/sends: one sendmsg per connection .*--io-uring=false/, 3000);
      // And it serves: a broadcast comes back over that write path.
      const c = await connectWelcomed(server.url);
      const id = await c.subscribe(JSON.stringify({channel: 'BenchmarkChannel', id: 'uring'}));
      c.perform(id, 'broadcast', {n: 1});
      assert.equal((await c.next((m) => m.message?.action === 'broadcast')).message.n, 1);
      c.terminate();
    }
  });

  test('a [serve] table and CABLECAST_CONFIG work too', async () => {
    const file = configFile('table.toml', '[serve]\npath = "/in-table"\n');
    assert.equal(await servedPath([], {CABLECAST_CONFIG: file}), '/in-table');
  });

  test('a bad value stops the start with a line naming the flag, from any source', async () => {
    const cases = [
      {args: ['--config', configFile('path.toml', 'path = "cable"\n')], expect: /invalid setting: --path "cable" must start with \//},
      {args: ['--config', configFile('size.toml', 'max_message_size = 10\n')], expect: /--max-message-size 10 is outside 128\.\.1073741824/},
      {args: ['--max-outbound-bytes', '100'], expect: /--max-outbound-bytes 100 is outside 4096\.\.4294967296/},
      {args: [], env: {CABLECAST_TLS_MIN_VERSION: '1.0'}, expect: /--tls-min-version "1\.0" must be 1\.2 or 1\.3/},
      {args: ['--threads', '5000'], expect: /--threads 5000 is outside 0\.\.1024/},
    ];
    for (const c of cases) {
      const {code, stderr} = await refusedStart(c.args, c.env);
      assert.equal(code, 1, stderr);
      assert.match(stderr, c.expect);
      assert.match(stderr, /could not start: Invalid argument/);
    }
  });

  test('an unknown log level, key or a TOML syntax error is refused with exit 2', async () => {
    const level = await refusedStart(['--config', configFile('level.toml', 'log_level = "loud"\n')]);
    assert.equal(level.code, 2, level.stderr);
    assert.match(level.stderr, /unknown log level "loud"/);
    const fromEnv = await refusedStart([], {CABLECAST_LOG_LEVEL: 'chatty'});
    assert.equal(fromEnv.code, 2, fromEnv.stderr);
    assert.match(fromEnv.stderr, /unknown log level "chatty"/);
    const key = await refusedStart(['--config', configFile('key.toml', 'prot = 9000\n')]);
    assert.equal(key.code, 2, key.stderr);
    assert.match(key.stderr, /key\.toml: unknown setting "prot"/);
    const syntax = await refusedStart(['--config', configFile('syntax.toml', 'port = 9000\npath = \n')]);
    assert.equal(syntax.code, 2, syntax.stderr);
    assert.match(syntax.stderr, /syntax\.toml:2:\d+: /);
  });
});
