// What operators read: `--log-format json` (one JSON object per line, the connection's id on the
// lines about it, one access-log line per connection at close with its bytes), `cablecast config`
// (every setting of serve, where it came from, no secret's value) and `cablecast --version`.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';

import {benchmarkId, connectWelcomed} from '../support/json_client.mjs';
import {cablecastBin} from '../support/paths.mjs';
import {OP, rawConnect} from '../support/raw_ws.mjs';
import {startCablecast} from '../support/servers.mjs';

/** Runs the binary to completion: resolves with {code, stdout, stderr}. */
function run(args, env = {}) {
  return new Promise((resolve) => {
    execFile(cablecastBin, args, {env: {...process.env, ...env}, timeout: 10000}, (err, stdout, stderr) => {
      resolve({code: err ? err.code : 0, stdout, stderr});
    });
  });
}

/** `key = value   # source` lines of `cablecast config` -> Map key -> {value, source}. */
function parseConfig(stdout) {
  const settings = new Map();
  for (const line of stdout.trim().split('\n')) {
    const m = /^([a-z0-9_]+) = (.*?)\s+# (.+)$/.exec(line);
    assert.ok(m, `not a setting line: ${line}`);
    settings.set(m[1], {value: m[2], source: m[3]});
  }
  return settings;
}

describe('cablecast config', () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-config-'));
  });
  after(() => fs.rmSync(dir, {recursive: true, force: true}));

  const secrets = {
    fileSecret: 'file-secret-7f3a9',
    filePassword: 'file-redis-pw-41c2',
    envJwt: 'env-jwt-secret-c0d4',
    anycableStreams: 'anycable-streams-secret-88e1',
    envPgPassword: 'env-pg-pw-2b7e',
    flagKey: 'flag-broadcast-key-5d90',
    flagRpc: 'flag-rpc-secret-e6f1',
  };

  test('lists every setting of serve with its source, and no secret value', async () => {
    const file = path.join(dir, 'cablecast.toml');
    fs.writeFileSync(file, `secret = "${secrets.fileSecret}"\n` +
                           `redis_url = "redis://:${secrets.filePassword}@127.0.0.1:6379/0"\n` +
                           'max_subscriptions = 7\n');
    const env = {
      CABLECAST_JWT_SECRET: secrets.envJwt,
      ANYCABLE_STREAMS_SECRET: secrets.anycableStreams,
      CABLECAST_POSTGRES_URL: `host=db password=${secrets.envPgPassword} dbname=app`,
    };
    const {code, stdout, stderr} = await run(
        ['config', '--config', file, '--port', '9123', '--broadcast-key', secrets.flagKey,
         `--rpc-secret=${secrets.flagRpc}`, '--log-format', 'json'], env);
    assert.equal(code, 0, stderr);
    for (const secret of Object.values(secrets)) {
      assert.ok(!stdout.includes(secret), `stdout reveals ${secret}:\n${stdout}`);
      assert.ok(!stderr.includes(secret), `stderr reveals ${secret}:\n${stderr}`);
    }
    const settings = parseConfig(stdout);
    const expect = (key, value, source) => {
      assert.ok(settings.has(key), `${key} is listed`);
      assert.deepEqual(settings.get(key), {value, source}, key);
    };
    expect('port', '9123', 'flag');
    expect('log_format', '"json"', 'flag');
    expect('broadcast_key', '"****"', 'flag');
    expect('rpc_secret', '"****"', 'flag');
    expect('jwt_secret', '"****"', 'env CABLECAST_JWT_SECRET');
    expect('streams_secret', '"****"', 'env ANYCABLE_STREAMS_SECRET');
    expect('postgres_url', '"host=db password=**** dbname=app"', 'env CABLECAST_POSTGRES_URL');
    expect('secret', '"****"', `file ${file}`);
    expect('redis_url', '"redis://:****@127.0.0.1:6379/0"', `file ${file}`);
    expect('max_subscriptions', '7', `file ${file}`);
    expect('host', '"127.0.0.1"', 'default');
    expect('turbo_streams_secret', '""', 'default');
    expect('config', `"${file}"`, 'flag');

    // Every flag `serve --help` documents is listed, under its own name.
    const help = (await run(['serve', '--help'])).stdout;
    const flags = [...help.matchAll(/^\s+(?:-\w, )?--([a-z0-9-]+)/gm)].map((m) => m[1]).filter((f) => f !== 'help');
    assert.ok(flags.length > 40, help);
    for (const flag of flags) assert.ok(settings.has(flag.replaceAll('-', '_')), `--${flag} is listed`);
    assert.equal(settings.size, flags.length);
  });

  test('an invalid setting exits 2 with the error, as serve refuses it', async () => {
    const bad = await run(['config', '--path', 'cable']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /invalid setting: --path "cable" must start with \//);
    const format = await run(['config'], {CABLECAST_LOG_FORMAT: 'yaml'});
    assert.equal(format.code, 2);
    assert.match(format.stderr, /unknown log format "yaml"/);
  });
});

test('cablecast --version and cablecast version print the version, commit and build type', async () => {
  const flag = await run(['--version']);
  const command = await run(['version']);
  assert.equal(flag.code, 0, flag.stderr);
  assert.equal(command.code, 0, command.stderr);
  assert.match(command.stdout, /^cablecast \d+\.\d+\.\d+ \(commit ([0-9a-f]{7,}(-dirty)?|unknown), \w+\)\n$/);
  assert.equal(flag.stdout, command.stdout);
});

describe('--log-format json', () => {
  let server;
  before(async () => {
    server = await startCablecast(['--log-format', 'json']);
  });
  after(async () => {
    if (server) await server.stop();
  });

  test('every line parses; connection lines carry the id; one access line per connection', async () => {
    const a = await connectWelcomed(server.url);
    await a.subscribe(benchmarkId('1'));
    a.send({command: 'message', identifier: benchmarkId('1'), data: JSON.stringify({action: 'echo', text: 'hé "quoted"'})});
    await a.next((m) => m.message?.text === 'hé "quoted"');
    // A bad frame whose text forges a second log line: it must stay inside one JSON string.
    a.send('not json\n{"level":"error","message":"forged"}\u0001');
    const aPort = a.ws._socket.localPort;
    const b = await connectWelcomed(server.url);
    const bPort = b.ws._socket.localPort;
    // A client breaking RFC 6455 (reserved bits set): closed with 1002.
    const raw = await rawConnect(server.port, {protocols: ['actioncable-v1-json']});
    const rawPort = raw.socket.localPort;
    raw.sendFrame({opcode: OP.TEXT, payload: Buffer.from('{}'), rsv: 4});
    await server.waitForLog(new RegExp(`"message":"connection closed".*"remote":"127\\.0\\.0\\.1:${rawPort}"`));

    a.ws.close(1000, 'bye');
    await a.closed;
    const closedA = await server.waitForLog(new RegExp(`"message":"connection closed".*"remote":"127\\.0\\.0\\.1:${aPort}"`));
    assert.ok(closedA);
    const exit = await server.stop();
    assert.equal(exit, 0);
    await b.closed;

    const lines = server.logs.map((line) => {
      let parsed;
      assert.doesNotThrow(() => { parsed = JSON.parse(line); }, `not JSON: ${line}`);
      assert.equal(typeof parsed.time, 'string', line);
      assert.match(parsed.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.equal(typeof parsed.level, 'string', line);
      assert.equal(typeof parsed.message, 'string', line);
      return parsed;
    });
    assert.ok(!lines.some((l) => l.message === 'forged'), 'no forged line');

    const access = lines.filter((l) => l.message === 'connection closed');
    const accessA = access.filter((l) => l.remote === `127.0.0.1:${aPort}`);
    const accessB = access.filter((l) => l.remote === `127.0.0.1:${bPort}`);
    assert.equal(accessA.length, 1, JSON.stringify(access));
    assert.equal(accessB.length, 1, JSON.stringify(access));
    const accessRaw = access.filter((l) => l.remote === `127.0.0.1:${rawPort}`);
    assert.equal(accessRaw.length, 1, JSON.stringify(access));
    assert.equal(access.length, 3, 'one access line per connection');
    assert.equal(accessRaw[0].reason, 'protocol error');
    assert.equal(accessRaw[0].close_code, 1002);
    assert.ok(lines.some((l) => l.conn === accessRaw[0].conn && /closing connection 1002/.test(l.message)));

    const [lineA] = accessA;
    assert.match(lineA.conn, /^\d+-\d+$/);
    assert.notEqual(lineA.conn, accessB[0].conn);
    assert.equal(lineA.path, '/cable');
    assert.equal(lineA.subprotocol, 'actioncable-v1-json');
    assert.equal(lineA.close_code, 1000);
    assert.equal(lineA.reason, 'client closed');
    assert.equal(typeof lineA.duration_ms, 'number');
    // Exactly what went over the client's socket, the HTTP upgrade included.
    assert.equal(lineA.bytes_in, a.ws._socket.bytesWritten);
    assert.equal(lineA.bytes_out, a.ws._socket.bytesRead);
    assert.equal(accessB[0].reason, 'server shutdown');

    // The connection's other lines (identified, the bad frame) carry its id.
    const aboutA = lines.filter((l) => l.conn === lineA.conn);
    assert.ok(aboutA.some((l) => /identified/.test(l.message)), JSON.stringify(aboutA));
    const badFrame = aboutA.find((l) => /Could not execute command/.test(l.message));
    assert.ok(badFrame, JSON.stringify(aboutA));
    assert.ok(badFrame.message.includes('forged'));
    // Lines about no connection have none.
    assert.ok(lines.some((l) => /listening on/.test(l.message) && l.conn === undefined));
  });
});
