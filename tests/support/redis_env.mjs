// What the Redis tests need besides servers.mjs: the broker scripts/with-services.sh started
// (CABLECAST_TEST_REDIS_URL / _PORT; missing -> the test FAILS, it never skips), redis-cli, a
// private redis-server a test may stop and restart (or start with a password) without
// disturbing tests running in parallel on the shared one, Rails' redis adapter from Ruby
// (reference/ruby/redis_broadcast.rb), its remote_connections (redis_remote_disconnect.rb) and the
// Ruby reference server on Redis (reference/ruby/config_redis.ru).
import {execFile, spawn} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import {promisify} from 'node:util';
import {freePort} from './servers.mjs';
import {cablecastBin, repoRoot} from './paths.mjs';

const run = promisify(execFile);

/** The shared test broker. Throws (the test fails) when the harness did not start it. */
export function sharedRedis() {
  const url = process.env.CABLECAST_TEST_REDIS_URL;
  const port = process.env.CABLECAST_TEST_REDIS_PORT;
  if (!url || !port) {
    throw new Error('CABLECAST_TEST_REDIS_URL/PORT are not set: run under scripts/with-services.sh');
  }
  return {url, port: Number(port)};
}

/** A channel prefix no other test uses, so tests on one Redis do not see each other. */
export function uniquePrefix(name) {
  return `${name}_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs redis-cli against `port` and returns its trimmed output. */
export async function redisCli(port, ...args) {
  const {stdout} = await run('redis-cli', ['-p', String(port), ...args]);
  return stdout.trim();
}

/** PUBSUB NUMSUB of one channel, as a number. */
export async function numsub(port, channel) {
  const lines = (await redisCli(port, 'PUBSUB', 'NUMSUB', channel)).split('\n');
  return Number(lines[1]);
}

/** Polls `check` (async, returns truthy) until it holds or `timeoutMs` passes. */
export async function eventually(check, timeoutMs = 5000, what = 'condition') {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function services(command, dir, port) {
  return run('bash', ['-c', `source scripts/services.sh; ${command} "$1"`, 'services', dir], {
    cwd: repoRoot,
    env: {...process.env, ...(port ? {REDIS_PORT: String(port)} : {})},
  });
}

/**
 * A private redis-server (scripts/services.sh) in its own directory, for tests that stop and
 * restart the broker. {url, port, stop(), start(), restart(), dispose()}.
 */
export async function privateRedis() {
  sharedRedis();  // the harness must be in place, as for every Redis test
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-redis-'));
  await services('services_start_redis', dir);
  const port = Number(fs.readFileSync(path.join(dir, 'redis.port'), 'utf8').trim());
  const handle = {
    port,
    url: `redis://127.0.0.1:${port}/0`,
    /** The redis-server's process id (to SIGSTOP it: a broker that hangs without closing). */
    pid: () => Number(fs.readFileSync(path.join(dir, 'redis.pid'), 'utf8').trim()),
    stop: () => services('services_stop_redis', dir, port),
    start: () => services('services_start_redis', dir, port),
    async dispose() {
      await handle.stop().catch(() => {});
      fs.rmSync(dir, {recursive: true, force: true});
    },
  };
  return handle;
}

/** A redis-server requiring `password` (child process), for authentication tests. */
export async function passwordRedis(password) {
  sharedRedis();
  const port = await freePort();
  const proc = spawn('redis-server', ['--bind', '127.0.0.1', '--port', String(port), '--save', '',
    '--appendonly', 'no', '--requirepass', password], {stdio: 'ignore'});
  await eventually(async () => {
    try {
      return (await redisCli(port, '-a', password, '--no-auth-warning', 'PING')) === 'PONG';
    } catch {
      return false;
    }
  }, 5000, 'redis-server with a password to start');
  return {port, proc, stop: () => new Promise((r) => { proc.once('exit', r); proc.kill('SIGTERM'); })};
}

/**
 * Broadcasts each of `messages` (JS values) with ActionCable.server.broadcast through Rails'
 * redis adapter, in one Ruby process. Resolves once Ruby printed "done".
 */
export async function rubyBroadcast({url, prefix, broadcasting, messages}) {
  const script = path.join(repoRoot, 'reference', 'ruby', 'redis_broadcast.rb');
  const {stdout} = await run('ruby', [script, url, prefix ?? '', broadcasting,
    ...messages.map((m) => JSON.stringify(m))], {timeout: 30000});
  if (!/^done$/m.test(stdout)) throw new Error(`redis_broadcast.rb did not finish: ${stdout}`);
}

/**
 * Publishes `message` (a JS value) to `stream` with `cablecast broadcast` through Redis, as an
 * operator's script would. Resolves once the command exited 0.
 */
export async function cablecastBroadcast({url, prefix, stream, message}) {
  const args = ['broadcast', stream, JSON.stringify(message), '--pubsub', 'redis', '--redis-url', url];
  if (prefix) args.push('--channel-prefix', prefix);
  await run(cablecastBin, args, {timeout: 15000});
}

/**
 * Closes every connection identified as `user`, anywhere, with Rails'
 * ActionCable.server.remote_connections.where(user:).disconnect through Rails' redis adapter
 * (reference/ruby/redis_remote_disconnect.rb). Resolves once Ruby printed "done".
 */
export async function rubyRemoteDisconnect({url, prefix, user}) {
  const script = path.join(repoRoot, 'reference', 'ruby', 'redis_remote_disconnect.rb');
  const {stdout} = await run('ruby', [script, url, prefix ?? '', user], {timeout: 30000});
  if (!/^done$/m.test(stdout)) throw new Error(`redis_remote_disconnect.rb did not finish: ${stdout}`);
}

/**
 * Starts the Ruby reference server (puma + reference/ruby/config_redis.ru) on Rails' redis
 * adapter. Same handle shape as servers.mjs: {url, port, logs, waitForLog, stop}.
 */
export async function startRubyRedisReference({url, prefix}) {
  const port = await freePort();
  const proc = spawn('puma', ['-b', `tcp://127.0.0.1:${port}`, '-t', '0:8',
    path.join(repoRoot, 'reference', 'ruby', 'config_redis.ru')], {
    cwd: repoRoot,
    env: {...process.env, RACK_ENV: 'development', CABLECAST_REDIS_URL: url,
      CABLECAST_CHANNEL_PREFIX: prefix ?? ''},
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs = [];
  const exited = new Promise((resolve) => proc.once('exit', (code, signal) => resolve(code ?? signal)));
  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`puma did not start:\n${logs.join('\n')}`)), 20000);
    const onLine = (line) => {
      logs.push(line);
      if (process.env.CABLECAST_TEST_VERBOSE) process.stderr.write(`[ruby] ${line}\n`);
      if (/Listening on (?:tcp|http):\/\/127\.0\.0\.1:\d+/.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    };
    readline.createInterface({input: proc.stdout}).on('line', onLine);
    readline.createInterface({input: proc.stderr}).on('line', onLine);
    exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`puma exited (${code}):\n${logs.join('\n')}`));
    });
  });
  await ready;
  return {
    port, logs, url: `ws://127.0.0.1:${port}/cable`,
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}
