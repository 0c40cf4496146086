// The RPC backend's own capacity, with no Cablecast in between (bench/rpc.sh): POSTs the calls
// `cablecast serve --rpc-url` makes when clients connect and subscribe to BenchmarkChannel, one
// connect and one subscribe command per client, straight to the backend, with as many in
// flight as Cablecast allows by default (--rpc-concurrency 28), over keep-alive connections.
//
//   node bench/rpc_backend_load.mjs --url http://127.0.0.1:PORT/_anycable --clients 10000 \
//     [--concurrency 28] [--stream-id bench] [--user bench]
//
// Prints one JSON line: {"calls":N,"failed":N,"seconds":S,"calls_per_s":R,"concurrency":C}.
// The request bodies and headers are the ones Cablecast sends (src/rpc/http_codec.cpp,
// http_backend.cpp: the env's url and REMOTE_ADDR, the session id and protocol headers), so the
// backend does the same work per call as behind Cablecast.
import net from 'node:net';
import {randomBytes} from 'node:crypto';
import {parseArgs} from 'node:util';

const {values} = parseArgs({
  options: {
    url: {type: 'string'},
    clients: {type: 'string', default: '10000'},
    concurrency: {type: 'string', default: '28'},
    'stream-id': {type: 'string', default: 'bench'},
    user: {type: 'string', default: 'bench'},
    'ws-url': {type: 'string', default: 'http://127.0.0.1:8080/cable'},
  },
});
if (!values.url) {
  console.error('usage: node bench/rpc_backend_load.mjs --url http://HOST:PORT/_anycable [--clients N]');
  process.exit(1);
}
const base = new URL(values.url);
const clients = Number(values.clients);
const concurrency = Number(values.concurrency);

const env = {url: `${values['ws-url']}?user=${encodeURIComponent(values.user)}`, headers: {REMOTE_ADDR: '127.0.0.1'}};
const identifier = JSON.stringify({channel: 'BenchmarkChannel', id: values['stream-id']});
const identifiers = JSON.stringify({user: values.user});
const connectBody = JSON.stringify({env});
const subscribeBody = JSON.stringify({command: 'subscribe', identifier, connection_identifiers: identifiers, env});
const prefix = base.pathname.replace(/\/$/, '');

// The request as Cablecast writes it (Beast: one buffer, these headers). The driver is kept as
// light as it can be (raw sockets, requests built from strings, replies only framed and
// checked) so that it measures the backend, not itself: it shares a core with nothing else of
// ours, but on a 2-core box any CPU it spends is CPU the machine does not give the backend.
function request(method, body, sid) {
  return Buffer.from(
    `POST ${prefix}/${method} HTTP/1.1\r\nHost: ${base.host}\r\nUser-Agent: cablecast\r\n` +
      `Content-Type: application/json\r\nX-AnyCable-Meta-Sid: ${sid}\r\n` +
      `X-AnyCable-Meta-Protov: v1\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}

// Where the body of the reply at the start of `data` ends and what it is, or null while
// incomplete. Node's http server frames replies with Content-Length or chunked (it chunks when
// writeHead() came before end(), as in tests/support/serverless_backend.mjs).
function parseReply(data) {
  const headEnd = data.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const head = data.subarray(0, headEnd).toString('latin1');
  const ok = head.startsWith('HTTP/1.1 200');
  let at = headEnd + 4;
  const length = /\r\ncontent-length: *(\d+)/i.exec(head);
  if (length) {
    const end = at + Number(length[1]);
    return end <= data.length ? {ok, body: data.subarray(at, end).toString('utf8'), end} : null;
  }
  if (!/\r\ntransfer-encoding: *chunked/i.test(head)) throw new Error(`unframed reply: ${head}`);
  const chunks = [];
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = parseInt(data.subarray(at, lineEnd).toString('latin1'), 16);
    if (!Number.isFinite(size)) throw new Error('bad chunk size');
    const end = lineEnd + 2 + size + 2;
    if (end > data.length) return null;
    if (size === 0) return {ok, body: Buffer.concat(chunks).toString('utf8'), end};
    chunks.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = end;
  }
}

// One keep-alive connection carrying one request at a time, as one of Cablecast's pooled ones.
function openConnection() {
  return new Promise((resolve, reject) => {
    const socket = net.connect({host: base.hostname, port: Number(base.port)});
    socket.setNoDelay(true);
    let buffered = Buffer.alloc(0);
    let pending = null;
    socket.on('data', (chunk) => {
      buffered = buffered.length ? Buffer.concat([buffered, chunk]) : chunk;
      if (!pending) return;
      let reply;
      try {
        reply = parseReply(buffered);
      } catch (error) {
        return pending.fail(error);
      }
      if (!reply) return;
      buffered = buffered.subarray(reply.end);
      const done = pending;
      pending = null;
      // status 1 is SUCCESS in AnyCable's protocol; "status":1 is how serverless-js writes it.
      done.ok(reply.ok && reply.body.includes('"status":1'));
    });
    socket.on('error', (error) => (pending ? pending.fail(error) : reject(error)));
    const exchange = (bytes) =>
      new Promise((ok, fail) => {
        pending = {ok, fail};
        socket.write(bytes);
      });
    exchange.close = () => socket.destroy();
    socket.on('connect', () => resolve(exchange));
  });
}

// Call 2k is client k's connect, 2k+1 its subscribe: both kinds stay mixed in flight, as behind
// Cablecast, where each client subscribes as soon as it is welcomed.
const total = clients * 2;
let next = 0;
let failed = 0;
const sids = Array.from({length: clients}, () => randomBytes(12).toString('base64url'));
async function worker(exchange) {
  while (next < total) {
    const call = next++;
    const client = call >> 1;
    const bytes = call % 2 === 0 ? request('connect', connectBody, sids[client])
                                 : request('command', subscribeBody, sids[client]);
    if (!(await exchange(bytes))) failed += 1;
  }
}

const connections = await Promise.all(Array.from({length: concurrency}, openConnection));
const started = performance.now();
await Promise.all(connections.map(worker));
const seconds = (performance.now() - started) / 1000;
for (const connection of connections) connection.close();
console.log(JSON.stringify({calls: total, failed, seconds: Number(seconds.toFixed(3)),
  calls_per_s: Math.round(total / seconds), concurrency}));
