// The application side of the RPC benchmarks (bench/rpc.sh): an AnyCable RPC-over-HTTP backend
// written with @anycable/serverless-js, through the same module the tests use
// (tests/support/serverless_backend.mjs), with the BenchmarkChannel of `cablecast bench`.
//
//   node bench/rpc_backend.mjs [--port 0]
//
// Prints one line `{"url":"http://127.0.0.1:PORT/_anycable","port":PORT}` once it listens. On
// SIGTERM or SIGINT it prints one line of statistics and exits:
//   {"calls":{"connect":N,"command":N,"disconnect":N},"failed":N,"first_ms":T,"last_ms":T,
//    "cpu_ms":C,"disconnect_first_ms":T,"disconnect_last_ms":T}
// first/last: when the first and the last connect or command call was answered (ms, on
// performance.now()'s clock), so a driver can tell how many calls the backend answered over
// which span, with the disconnects that follow a run kept apart; cpu_ms: the CPU time (user +
// system) the process used over that span, which on a shared machine tells the backend's cost
// per call apart from the time it waited for a core.
import {pathToFileURL} from 'node:url';
import {parseArgs} from 'node:util';

import {Channel, startServerlessBackend} from '../tests/support/serverless_backend.mjs';

// As the native one (src/app/builtin_channels.cpp) and Rails' benchmark app: the stream is
// "all" + the `id` param (Ruby interpolation: absent or null gives "all"), `echo` transmits the
// data back with its action (the load generator matches replies on action "echo").
export class BenchmarkChannel extends Channel {
  async subscribed(handle, params) {
    handle.streamFrom(`all${params.id ?? ''}`);
  }
  async echo(handle, params, data) {
    handle.transmit({action: 'echo', ...data});
  }
}

// Identification by a query parameter, like the demo connect hook (`?user=`): anonymous without.
export function connectByQuery(handle) {
  const user = new URL(handle.env.url).searchParams.get('user') || 'anonymous';
  handle.identifiedBy({user});
}

/**
 * Starts the benchmark backend; `stats()` reports what it answered so far (see the top).
 * @param {{port?: number}} [options]
 */
export async function startBenchmarkBackend({port = 0} = {}) {
  const calls = {};
  let failed = 0;
  const span = {first: null, last: null, cpuFirst: null, cpuLast: null};
  const disconnectSpan = {first: null, last: null};
  const backend = await startServerlessBackend({
    port,
    recordCalls: false,
    channels: {BenchmarkChannel: new BenchmarkChannel()},
    connect: connectByQuery,
    onCall: (record) => {
      const now = performance.now();
      const method = record.method ?? 'other';
      calls[method] = (calls[method] ?? 0) + 1;
      if (record.status !== 200) failed += 1;
      const s = method === 'disconnect' ? disconnectSpan : span;
      s.first ??= now;
      s.last = now;
      if (s === span) {
        const {user, system} = process.cpuUsage();
        span.cpuFirst ??= user + system;
        span.cpuLast = user + system;
      }
    },
  });
  return {
    ...backend,
    stats: () => ({
      calls: {...calls},
      failed,
      first_ms: span.first,
      last_ms: span.last,
      cpu_ms: span.cpuFirst === null ? null : (span.cpuLast - span.cpuFirst) / 1000,
      disconnect_first_ms: disconnectSpan.first,
      disconnect_last_ms: disconnectSpan.last,
    }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const {values} = parseArgs({options: {port: {type: 'string', default: '0'}}});
  const backend = await startBenchmarkBackend({port: Number(values.port)});
  console.log(JSON.stringify({url: backend.url, port: backend.port}));
  const stop = async () => {
    console.log(JSON.stringify(backend.stats()));
    await backend.close();
    process.exit(0);
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}
