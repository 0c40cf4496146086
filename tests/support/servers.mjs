// Starting and stopping real server processes for tests: Cablecast (the binary under test) and
// the Ruby Action Cable reference (puma + reference/ruby/config.ru). Both return the same handle
// so a test can run one scenario against either:
//   {kind, url, port, proc, logs, waitForLog(regex, ms), logsSince(mark), stop(signal) -> exit code}
// A missing binary or puma throws: tests must fail, never skip, when the server is absent.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import readline from 'node:readline';
import {cablecastBin, repoRoot, rubyReferenceApp} from './paths.mjs';

const READY_TIMEOUT_MS = 15000;
const STOP_TIMEOUT_MS = 10000;

/** Finds a free TCP port on 127.0.0.1 (the kernel picks it, we release it right away). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const {port} = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function findOnPath(name) {
  for (const dir of (process.env.PATH || '').split(':')) {
    const candidate = `${dir}/${name}`;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {}
  }
  return null;
}

/**
 * Spawns `command args`, collects every stdout/stderr line into `logs`, and resolves once a line
 * matches `readyPattern` (its first capture group, if any, is returned as `readyMatch`).
 */
// Safety net: a server a test forgot (or failed) to stop must not outlive the test process.
const running = new Set();
// Every server this test file started, for the failure report below.
const started = [];
const LINES_SHOWN_ON_FAILURE = 60;
process.on('exit', (code) => {
  for (const p of running) p.kill('SIGKILL');
  // A failing file (node's test runner exits 1) prints what its servers logged, so a failure
  // seen once in CI can be read afterwards instead of only reproduced.
  if (code === 0 || started.length === 0) return;
  const report = [`--- the ${started.length} server(s) this file started, last ` +
                  `${LINES_SHOWN_ON_FAILURE} lines each ---`];
  for (const s of started) {
    const exit = s.exitInfo ? JSON.stringify(s.exitInfo) : 'running';
    report.push(`[${s.kind} pid ${s.proc.pid}, exit ${exit}] ${s.commandLine}`);
    if (s.logs.length > LINES_SHOWN_ON_FAILURE) report.push(`  ... ${s.logs.length - LINES_SHOWN_ON_FAILURE} lines before`);
    for (const line of s.logs.slice(-LINES_SHOWN_ON_FAILURE)) report.push(`  ${line}`);
  }
  process.stderr.write(`${report.join('\n')}\n`);
});

function spawnServer({kind, command, args, cwd, env, readyPattern}) {
  const proc = spawn(command, args, {cwd, env: {...process.env, ...env}, stdio: ['ignore', 'pipe', 'pipe']});
  running.add(proc);
  proc.on('exit', () => running.delete(proc));
  const logs = [];
  const waiters = new Set();
  let exitInfo = null;
  const exited = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      exitInfo = {code, signal};
      resolve(exitInfo);
    });
  });

  const onLine = (line) => {
    logs.push(line);
    if (process.env.CABLECAST_TEST_VERBOSE) process.stderr.write(`[${kind}] ${line}\n`);
    for (const w of waiters) {
      const m = w.regex.exec(line);
      if (m) {
        waiters.delete(w);
        w.resolve(m);
      }
    }
  };
  readline.createInterface({input: proc.stdout}).on('line', onLine);
  readline.createInterface({input: proc.stderr}).on('line', onLine);

  /** Resolves with the match of the first log line (already seen from `from` on, or future). */
  function waitForLog(regex, timeoutMs = 3000, from = 0) {
    for (let i = from; i < logs.length; i++) {
      const m = regex.exec(logs[i]);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const w = {
        regex,
        resolve: (m) => { clearTimeout(timer); resolve(m); },
        // The process is gone and its output fully read: no such line can come any more.
        gone: () => {
          clearTimeout(timer);
          reject(new Error(`${kind} exited without a log line matching ${regex}; last lines:\n` +
                           logs.slice(-15).join('\n')));
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`${kind}: no log line matching ${regex} within ${timeoutMs} ms; last lines:\n` +
                         logs.slice(-15).join('\n')));
      }, timeoutMs);
      waiters.add(w);
    });
  }
  proc.on('close', () => {
    for (const w of waiters) w.gone();
    waiters.clear();
  });

  const ready = new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`${kind} did not become ready within ${READY_TIMEOUT_MS} ms:\n${logs.join('\n')}`));
    }, READY_TIMEOUT_MS);
    proc.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`${kind}: cannot start ${command}: ${err.message}`));
    });
    exited.then((info) => {
      clearTimeout(timer);
      reject(new Error(`${kind} exited before it was ready (${JSON.stringify(info)}):\n${logs.join('\n')}`));
    });
    waitForLog(readyPattern, READY_TIMEOUT_MS + 1000).then((m) => {
      clearTimeout(timer);
      resolve(m);
    }, () => {});
  });

  /** Sends `signal` and resolves with the exit code (or the signal name if killed by one). */
  async function stop(signal = 'SIGTERM', timeoutMs = STOP_TIMEOUT_MS) {
    if (!exitInfo) {
      proc.kill(signal);
      const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      await exited;
      clearTimeout(timer);
    }
    return exitInfo.code ?? exitInfo.signal;
  }

  const handle = {kind, proc, logs, ready, exited, waitForLog, stop,
                  commandLine: [command, ...args].join(' '),
                  get exitInfo() { return exitInfo; }};
  started.push(handle);
  return handle;
}

// What the library logs once it accepts connections (its first capture group is the port).
const LISTENING_LINE = /listening on (?:127\.0\.0\.1|\[::1\]|0\.0\.0\.0|\[::\]|localhost):(\d+)/i;

/**
 * Starts build/release/cablecast (or $CABLECAST_BIN) with `serve --port 0 --log-level debug`
 * plus `args`, and waits for its `listening on 127.0.0.1:<port>` log line.
 */
export async function startCablecast(args = [], {port = 0, env = {}} = {}) {
  if (!fs.existsSync(cablecastBin)) {
    throw new Error(`Cablecast binary not found at ${cablecastBin} (build it with 'make build')`);
  }
  const server = spawnServer({
    kind: 'cablecast',
    command: cablecastBin,
    args: ['serve', '--port', String(port), '--log-level', 'debug', ...args],
    cwd: repoRoot,
    env,
    readyPattern: LISTENING_LINE,
  });
  const m = await server.ready;
  const actualPort = Number(m[1]);
  return Object.assign(server, {port: actualPort, url: `ws://127.0.0.1:${actualPort}/cable`});
}

/**
 * Starts another program built on the Cablecast library (an example, a program built against an
 * installed copy) and waits for the library's `listening on <host>:<port>` line.
 */
export async function startLibraryProgram(command, args = [], {kind = command, env = {}} = {}) {
  const server = spawnServer({kind, command, args, cwd: repoRoot, env, readyPattern: LISTENING_LINE});
  const m = await server.ready;
  const actualPort = Number(m[1]);
  return Object.assign(server, {port: actualPort, url: `ws://127.0.0.1:${actualPort}/cable`});
}

/** Starts the Ruby Action Cable reference (Debian's puma) on a free port (or `port`). */
export async function startRubyReference({port} = {}) {
  const puma = findOnPath('puma');
  if (!puma) throw new Error('puma is not installed (scripts/install-deps.sh installs it)');
  const chosen = port ?? (await freePort());
  const server = spawnServer({
    kind: 'ruby',
    command: puma,
    args: ['-b', `tcp://127.0.0.1:${chosen}`, '-t', '0:8', rubyReferenceApp],
    cwd: repoRoot,
    env: {RACK_ENV: 'development'},
    readyPattern: /Listening on (?:tcp|http):\/\/127\.0\.0\.1:(\d+)/,
  });
  await server.ready;
  return Object.assign(server, {port: chosen, url: `ws://127.0.0.1:${chosen}/cable`});
}

/** Starts the server named by `kind` ('cablecast' | 'ruby'). */
export function startServer(kind, args = []) {
  return kind === 'ruby' ? startRubyReference() : startCablecast(args);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * The server the integration tests run against: Cablecast, unless CABLECAST_TEST_TARGET=ruby
 * (used while developing the tests, to check them against Rails itself). `args` are Cablecast
 * command-line flags; the Ruby reference ignores them.
 */
export const targetIsRuby = process.env.CABLECAST_TEST_TARGET === 'ruby';

export function startTarget(args = [], {port} = {}) {
  return targetIsRuby ? startRubyReference({port}) : startCablecast(args, {port: port ?? 0});
}

/** VmRSS of process `pid` in KiB (/proc/PID/status). */
export function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}

/**
 * Whether process `pid` runs under AddressSanitizer (scripts/sanitize.sh). Its RSS then measures
 * the sanitizer's quarantine, shadow memory and redzones: memory bounds hold for release builds.
 */
export function underAsan(pid) {
  return /libasan|libclang_rt\.asan/.test(fs.readFileSync(`/proc/${pid}/maps`, 'utf8'));
}
