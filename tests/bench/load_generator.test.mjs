// The benchmark instrument itself (bench/load, `cablecast bench`) against the real server, in
// small runs: every mode completes, counts what it should, and reports no missing, duplicated
// or reordered delivery; results go to the CSV. Figures are not asserted (benchmarks are not
// tests); this only guards that `make bench` measures something real. The same for the limit
// server bench/compare.sh measures Cablecast against (bench/limit): the generator's broadcast
// and connect modes get what they need from it, through both of its write paths.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {after, before, describe, test} from 'node:test';

import {benchmarkId, connectWelcomed} from '../support/json_client.mjs';
import {cablecastBin, limitBin} from '../support/paths.mjs';
import {startCablecast, startLibraryProgram} from '../support/servers.mjs';

const run = promisify(execFile);

// One `cablecast bench MODE` run against `server`, its rows appended to `csv`: stdout and the CSV's lines.
async function benchAgainst(server, csv, mode, args) {
  const {stdout} = await run(cablecastBin, ['bench', mode, '--url', server.url, '--server-pid', String(server.proc.pid),
                                        '--source-ips', '2', '--settle', '0.2', '--csv', csv, ...args],
                             {timeout: 60000});
  const rows = fs.readFileSync(csv, 'utf8').trim().split('\n');
  return {stdout, rows};
}

describe('cablecast bench against the server', () => {
  let server;
  let dir;
  before(async () => {
    server = await startCablecast(['--log-level', 'info', '--threads', '1', '--broadcast-key', 'bench-key']);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-bench-test-'));
  });
  after(async () => {
    assert.equal(await server.stop(), 0);
    fs.rmSync(dir, {recursive: true, force: true});
  });
  const bench = (mode, args) => benchAgainst(server, path.join(dir, `${mode}.csv`), mode, args);
  const number = (stdout, re) => stdout.match(re)?.slice(1).map(Number);

  test('broadcast: two steps, four senders, every client gets every broadcast once, in order', async () => {
    const {stdout, rows} = await bench('broadcast', ['--steps', '50,300', '--samples', '10', '--senders', '4']);
    const samples = [...stdout.matchAll(/latency over (\d+) samples.*timeouts (\d+)/g)];
    assert.deepEqual(samples.map((m) => [Number(m[1]), Number(m[2])]), [[40, 0], [40, 0]], stdout);
    assert.equal([...stdout.matchAll(/delivery: missing 0, duplicates 0, out of order 0/g)].length, 2, stdout);
    assert.equal([...stdout.matchAll(/failures 0, dropped 0/g)].length, 2, stdout);
    assert.ok(number(stdout, /server CPU: ([\d.]+) s/)[0] > 0, 'server CPU read from /proc');
    assert.equal(rows.length, 3, 'CSV: header + one row per step');
  });

  test('echo: replies counted, none lost or reordered', async () => {
    const {stdout} = await bench('echo', ['--clients', '20', '--in-flight', '4', '--duration', '1', '--warmup', '0.2']);
    assert.match(stdout, /delivery: missing 0, duplicates 0, out of order 0/);
    // Something was delivered and counted; the rate itself is a benchmark figure (docs/benchmarks.md).
    assert.ok(number(stdout, /throughput: (\d+)\/s/)[0] > 0, stdout);
  });

  test('fanout: many streams at once, every delivery accounted for', async () => {
    const {stdout} = await bench('fanout', ['--streams', '10', '--clients-per-stream', '20', '--duration', '1', '--warmup', '0.2']);
    assert.match(stdout, /delivery: missing 0, duplicates 0, out of order 0/);
    // Something was delivered and counted; the rate itself is a benchmark figure (docs/benchmarks.md).
    assert.ok(number(stdout, /throughput: (\d+)\/s/)[0] > 0, stdout);
  });

  test('connect: all subscribed, RSS per connection measured, a hold ended early by SIGTERM', async () => {
    const started = Date.now();
    const child = execFile(cablecastBin, ['bench', 'connect', '--url', server.url, '--server-pid', String(server.proc.pid),
                                      '--clients', '500', '--hold', '60', '--settle', '0.2']);
    let out = '';
    let signalled = false;
    child.stdout.on('data', (d) => {
      out += d;
      if (!signalled && /holding 500 connections/.test(out)) {
        signalled = true;
        child.kill('SIGTERM');
      }
    });
    const code = await new Promise((resolve) => child.on('exit', (c) => resolve(c)));
    assert.equal(code, 0, out);
    assert.ok(Date.now() - started < 30000, 'the hold ended on SIGTERM');
    assert.match(out, /connect: [\d.]+ s \(\d+\/s\), failures 0, dropped 0/);
    assert.match(out, /server RSS: [\d.]+ MiB idle .* = \d+ B\/connection/);
    assert.match(out, /0 messages received while holding/);
  });

  test('broadcast over the extended protocol: positioned frames, every client gets every broadcast once', async () => {
    const {stdout} = await bench('broadcast', ['--steps', '200', '--samples', '10', '--ext-protocol']);
    assert.match(stdout, /latency over 10 samples.*timeouts 0/, stdout);
    assert.match(stdout, /delivery: missing 0, duplicates 0, out of order 0/, stdout);
    assert.match(stdout, /failures 0, dropped 0/, stdout);
  });

  test('recover: clients cut off while HTTP broadcasts go on are restored and miss nothing', async () => {
    const {stdout, rows} = await bench('recover', ['--clients', '200', '--broadcast-key', 'bench-key', '--rate', '40',
                                                   '--before', '0.3', '--outage', '0.5', '--after', '0.3']);
    assert.match(stdout, /recovery: 200 restored with history, 0 history rejected, 0 new sessions \(not restored\), 0 not back/, stdout);
    const [during] = number(stdout, /(\d+) during the outage/);
    assert.ok(during > 0, `broadcasts went on during the outage: ${stdout}`);
    assert.match(stdout, /lost per client: total 0, clients with a loss 0, most by one client 0; duplicates 0, out of order 0/);
    assert.match(stdout, /\(POST \/_broadcast at 40\/s, 0 failed\)/);
    assert.equal(rows.length, 2, 'CSV: header + one row');
  });

  test('recover: without history the clients come back restored but the run reports what they lost', async () => {
    const noHistory = await startCablecast(['--log-level', 'info', '--threads', '1', '--broadcast-key', 'k', '--history-limit', '0']);
    try {
      const err = await run(cablecastBin, ['bench', 'recover', '--url', noHistory.url, '--source-ips', '2', '--clients', '50',
                                           '--broadcast-key', 'k', '--rate', '40', '--before', '0.3', '--outage', '0.5',
                                           '--after', '0.3'], {timeout: 60000}).then(() => null, (e) => e);
      assert.ok(err, 'exit status 2: messages were lost');
      assert.equal(err.code, 2, err.stderr);
      assert.match(err.stdout, /recovery: 0 restored with history, 50 history rejected/, err.stdout);
      const [lost, clients] = number(err.stdout, /lost per client: total (\d+), clients with a loss (\d+)/);
      assert.ok(lost >= 50, err.stdout);
      assert.equal(clients, 50, err.stdout);
    } finally {
      assert.equal(await noHistory.stop(), 0);
    }
  });

  test('a server that is not there is a clear error, not a hang', async () => {
    await assert.rejects(run(cablecastBin, ['bench', 'broadcast', '--url', 'ws://127.0.0.1:1/cable', '--steps', '5', '--samples', '1',
                                        '--connect-timeout', '5'], {timeout: 30000}),
                         (err) => err.code === 1 && /Connection refused/.test(err.stderr) &&
                                  /nothing to measure/.test(err.stderr));
  });
});

describe('cablecast bench against the limit server (bench/limit)', () => {
  let dir;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-limit-test-'));
  });
  after(() => fs.rmSync(dir, {recursive: true, force: true}));

  async function startLimit(args = []) {
    return startLibraryProgram(limitBin, ['--port', '0', ...args], {kind: 'cablecast-limit'});
  }

  for (const [writePath, args] of [['io_uring', []], ['sendmsg', ['--io-uring', 'false']]]) {
    test(`broadcast (${writePath}): two steps, four senders, every client gets every broadcast once, in order`, async () => {
      const server = await startLimit(args);
      try {
        const {stdout, rows} = await benchAgainst(server, path.join(dir, `broadcast-${writePath}.csv`), 'broadcast',
                                                  ['--label', 'limit', '--steps', '50,300', '--samples', '10', '--senders', '4']);
        const samples = [...stdout.matchAll(/latency over (\d+) samples.*timeouts (\d+)/g)];
        assert.deepEqual(samples.map((m) => [Number(m[1]), Number(m[2])]), [[40, 0], [40, 0]], stdout);
        assert.equal([...stdout.matchAll(/delivery: missing 0, duplicates 0, out of order 0/g)].length, 2, stdout);
        assert.equal([...stdout.matchAll(/failures 0, dropped 0/g)].length, 2, stdout);
        assert.equal(rows.length, 3, 'CSV: header + one row per step');
        assert.ok(rows.slice(1).every((row) => row.startsWith('limit,broadcast,')), rows.join('\n'));
      } finally {
        assert.equal(await server.stop(), 0);
      }
      // 2 steps x 10 samples x 4 senders, each to every client subscribed then (50, then 300).
      const stopped = await server.waitForLog(/stopping: 300 connections accepted, \d+ subscribed now, (\d+) broadcasts, (\d+) deliveries queued, 0 client messages ignored, 0 connections dropped/);
      assert.deepEqual([Number(stopped[1]), Number(stopped[2])], [80, 40 * 50 + 40 * 300], server.logs.join('\n'));
    });
  }

  test('it sends the frames Cablecast sends for the same commands, byte for byte', async () => {
    // What the generator sends: its identifier, and the broadcast action's data as a JSON string.
    const id = benchmarkId('bench');
    const data = JSON.stringify({action: 'broadcast', slot: 2, seq: 7, t: 1234567890123456, payload: 'x"\\y'});
    const framesFrom = async (server) => {
      const client = await connectWelcomed(server.url);
      await client.subscribe(id);
      client.send(JSON.stringify({command: 'message', identifier: id, data}));
      await client.next((m) => m.message?.action === 'broadcast');
      await client.close();
      // Cablecast also answers the sender with "broadcastResult", which the generator ignores.
      return client.texts.filter((text) => !text.includes('broadcastResult'));
    };
    const limit = await startLimit();
    let fromLimit;
    try {
      fromLimit = await framesFrom(limit);
    } finally {
      assert.equal(await limit.stop(), 0);
    }
    assert.equal(fromLimit.length, 3, fromLimit.join('\n'));  // welcome, confirmation, broadcast
    const cablecast = await startCablecast(['--log-level', 'info', '--threads', '1']);
    try {
      assert.deepEqual(fromLimit, await framesFrom(cablecast));
    } finally {
      assert.equal(await cablecast.stop(), 0);
    }
  });

  test('connect: every client upgraded, welcomed and confirmed', async () => {
    const server = await startLimit();
    try {
      const {stdout} = await benchAgainst(server, path.join(dir, 'connect.csv'), 'connect', ['--label', 'limit', '--clients', '500']);
      assert.match(stdout, /connect: [\d.]+ s \(\d+\/s\), failures 0, dropped 0/, stdout);
      assert.match(stdout, /server RSS: [\d.]+ MiB idle .* = \d+ B\/connection/, stdout);
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
