// Helpers for the tests that run Cablecast nodes (and Rails) over PostgreSQL LISTEN/NOTIFY.
// scripts/with-services.sh starts a private PostgreSQL and exports CABLECAST_TEST_POSTGRES_URL,
// _PORT, _DATA and CABLECAST_TEST_SERVICES_DIR. Without them these helpers throw, so the tests
// fail (never skip) when run outside it.
import {execFile, spawn} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import {cablecastBin, repoRoot} from './paths.mjs';
import {freePort, startCablecast} from './servers.mjs';

function requiredEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests under scripts/with-services.sh, which ` +
                    'starts a private PostgreSQL for them');
  }
  return value;
}

export const postgresUrl = () => requiredEnv('CABLECAST_TEST_POSTGRES_URL');

/** A channel prefix no other test uses, so tests can share one PostgreSQL. */
export const uniquePrefix = (name) => `${name}_${crypto.randomBytes(4).toString('hex')}`;

/** Starts a Cablecast node on the PostgreSQL adapter. */
export function startPostgresNode({url = postgresUrl(), prefix, args = []} = {}) {
  const flags = ['--pubsub', 'postgres', '--postgres-url', url];
  if (prefix !== undefined) flags.push('--channel-prefix', prefix);
  return startCablecast([...flags, ...args]);
}

/** Runs a command to its end: {code, stdout, stderr}. */
export function run(command, args, {env = {}, timeoutMs = 20000} = {}) {
  return new Promise((resolve) => {
    execFile(command, args, {cwd: repoRoot, env: {...process.env, ...env}, timeout: timeoutMs},
             (error, stdout, stderr) => {
               resolve({code: error ? (error.code ?? error.signal ?? 1) : 0, stdout, stderr});
             });
  });
}

/** `cablecast <args>` (e.g. serve with a bad URL, or broadcast) to its end. */
export const runCablecast = (args, options) => run(cablecastBin, args, options);

/**
 * Rails' own postgresql adapter broadcasting (reference/ruby/postgres_broadcast.rb), in one
 * Ruby process (loading Rails takes seconds): `broadcasts` is a list of [stream, message].
 */
export function rubyBroadcast({url = postgresUrl(), prefix, broadcasts}) {
  const env = {DATABASE_URL: url};
  if (prefix !== undefined) env.CHANNEL_PREFIX = prefix;
  const args = broadcasts.flatMap(([stream, message]) => [stream, JSON.stringify(message)]);
  return run('ruby', [path.join(repoRoot, 'reference/ruby/postgres_broadcast.rb'), ...args], {env});
}

/**
 * The Ruby Action Cable reference server with Rails' postgresql adapter
 * (reference/ruby/postgres.ru under Debian's puma). Resolves with {url, logs, stop()}.
 */
export async function startRubyPostgresServer({url = postgresUrl(), prefix} = {}) {
  const port = await freePort();
  const env = {...process.env, RACK_ENV: 'development', DATABASE_URL: url};
  if (prefix !== undefined) env.CHANNEL_PREFIX = prefix;
  const proc = spawn('puma', ['-b', `tcp://127.0.0.1:${port}`, '-t', '0:8',
                              path.join(repoRoot, 'reference/ruby/postgres.ru')],
                     {cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe']});
  const logs = [];
  const exited = new Promise((resolve) => proc.on('exit', (code, signal) => resolve(code ?? signal)));
  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`puma did not start:\n${logs.join('\n')}`)), 20000);
    const onLine = (line) => {
      logs.push(line);
      if (process.env.CABLECAST_TEST_VERBOSE) process.stderr.write(`[ruby-pg] ${line}\n`);
      if (/Listening on (tcp|http):\/\/127\.0\.0\.1/.test(line)) {
        clearTimeout(timer);
        resolve();
      }
    };
    readline.createInterface({input: proc.stdout}).on('line', onLine);
    readline.createInterface({input: proc.stderr}).on('line', onLine);
    proc.on('error', (e) => reject(new Error(`cannot start puma: ${e.message}`)));
    exited.then((code) => reject(new Error(`puma exited (${code}):\n${logs.join('\n')}`)));
  });
  return {
    url: `ws://127.0.0.1:${port}/cable`,
    logs,
    async stop() {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * A PostgreSQL cluster of the test's own (scripts/services.sh), for tests that stop and
 * restart the broker without disturbing the tests sharing the main one. Lives in
 * $CABLECAST_TEST_SERVICES_DIR/<name> (removed with it by with-services.sh).
 */
export async function startPrivatePostgres(name) {
  const servicesDir = requiredEnv('CABLECAST_TEST_SERVICES_DIR');
  const dir = path.join(servicesDir, `${name}-${crypto.randomBytes(3).toString('hex')}`);
  fs.mkdirSync(dir, {mode: 0o755});
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const services = path.join(repoRoot, 'scripts/services.sh');
  const call = async (fn) => {
    const r = await run('bash', ['-c', `source "${services}"; POSTGRES_PORT=${port} ${fn} "${dir}"`],
                        {timeoutMs: 60000});
    if (r.code !== 0) throw new Error(`${fn} failed (${r.code}): ${r.stderr}`);
  };
  await call('services_start_postgres');
  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dir,
    stop: () => call('services_stop_postgres'),
    start: () => call('services_start_postgres'),
  };
}

/** The value at quantile q (0..1) of numbers (nearest rank). */
export function quantile(values, q) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}
