// An AnyCable RPC-over-HTTP backend for tests, built with the real @anycable/serverless-js (its
// `handler`, `Application` and `Channel`), served by Node's http module on 127.0.0.1.
//
//   import {startServerlessBackend, Channel} from '../support/serverless_backend.mjs';
//
//   class ChatChannel extends Channel {
//     async subscribed(handle, params) { handle.streamFrom(`chat_${params.room}`); }
//     async speak(handle, params, data) { handle.transmit({echo: data.text}); }
//   }
//   const backend = await startServerlessBackend({
//     secret: 'rpc-secret',                         // optional: then "Bearer rpc-secret" is required
//     channels: {ChatChannel: new ChatChannel()},   // keyed by the identifier's "channel"
//     connect: async (handle) => handle.identifiedBy({user: 'ann'}),   // or handle.reject()
//   });
//   // cablecast serve --rpc-url ${backend.url} --rpc-secret rpc-secret ...
//   backend.calls;          // every RPC received: {method, path, headers, body, status, reply}
//   await backend.close();
//
// serverless-js answers exactly as it would on Vercel: `{status, identifiers, transmissions,
// error_msg, env}` for connect (welcome or disconnect transmission), `{status, disconnect,
// stop_streams, streams, stopped_streams, transmissions, env, error_msg}` for commands, and a
// handler that throws is answered `{status: 0, error_msg}` (as its README's examples do).
import http from 'node:http';
import {register} from 'node:module';

// serverless-js's ES modules import directories ('../rpc'), which plain Node refuses: install
// the resolution hook first, then load the package with a dynamic import.
register('./esm_directory_imports.mjs', import.meta.url);
const serverless = await import('@anycable/serverless-js');

export const {Application, Channel, ConnectionHandle, ChannelHandle, Status, broadcaster, identificator} =
  serverless;

const METHODS = new Set(['connect', 'command', 'disconnect']);
const MAX_BODY_BYTES = 16 * 1024 * 1024;

/**
 * Starts the backend.
 * @param {object} [options]
 * @param {string} [options.secret] required as "Authorization: Bearer <secret>" (401 otherwise)
 * @param {Record<string, InstanceType<typeof Channel>>} [options.channels] channel instances by
 *   the name clients put in the identifier's "channel"
 * @param {(handle: ConnectionHandle) => (void|Promise<void>)} [options.connect] the application's
 *   connect: call `handle.identifiedBy({...})` to accept or `handle.reject()`; default: accept
 *   with identifiers `{}` (serverless-js needs identifiers for later commands)
 * @param {(handle: ConnectionHandle) => (void|Promise<void>)} [options.disconnect]
 * @param {string} [options.basePath='/_anycable'] the URL prefix of connect/command/disconnect
 * @param {number} [options.port=0] the port (0: any free one; a fixed one to restart a backend)
 * @param {(call: object) => void} [options.onCall] called with each record as it is added
 * @param {boolean} [options.recordCalls=true] false: keep no records (`calls` stays empty) and
 *   leave their headers and body unparsed; `onCall` still gets {method, path, status}. For load
 *   (bench/rpc_backend.mjs), where the records would grow without bound and cost a parse per call
 * @returns {Promise<{url: string, port: number, calls: object[], close: () => Promise<void>}>}
 *   `url` is what --rpc-url takes (http://127.0.0.1:<port><basePath>)
 */
export async function startServerlessBackend(options = {}) {
  const {secret, channels = {}, basePath = '/_anycable', port = 0, onCall, recordCalls = true} = options;
  const connect = options.connect ?? ((handle) => handle.identifiedBy({}));
  const disconnect = options.disconnect ?? (() => {});

  class TestApplication extends Application {
    async connect(handle) {
      await connect(handle);
    }
    async disconnect(handle) {
      await disconnect(handle);
    }
  }
  const app = new TestApplication();
  for (const [name, channel] of Object.entries(channels)) app.registerChannel(name, channel);

  const calls = [];
  const server = http.createServer(async (req, res) => {
    const record = {method: null, path: req.url, headers: recordCalls ? {...req.headers} : null, body: null,
      status: 0, reply: null};
    const answer = (status, reply) => {
      record.status = status;
      if (recordCalls) {
        record.reply = reply;
        calls.push(record);
      }
      onCall?.(record);
      res.writeHead(status, {'content-type': 'application/json'});
      res.end(reply === null ? '' : JSON.stringify(reply));
    };
    try {
      const raw = await readBody(req);
      const url = new URL(req.url, `http://${req.headers.host ?? '127.0.0.1'}`);
      const method = url.pathname.startsWith(`${basePath}/`) ? url.pathname.slice(basePath.length + 1) : null;
      record.method = method;
      if (recordCalls) {
        try {
          record.body = JSON.parse(raw);
        } catch {
          record.body = raw;
        }
      }
      if (req.method !== 'POST' || !METHODS.has(method)) return answer(404, null);
      if (secret && req.headers.authorization !== `Bearer ${secret}`) return answer(401, null);
      const headers = new Headers();
      for (const [name, value] of Object.entries(req.headers)) {
        headers.set(name, Array.isArray(value) ? value.join(', ') : value);
      }
      const request = new Request(url, {method: 'POST', headers, body: raw});
      try {
        answer(200, await serverless.handler(request, app));
      } catch (error) {
        answer(200, {status: Status.ERROR, error_msg: String(error?.message ?? error)});
      }
    } catch (error) {
      if (!res.headersSent) answer(400, {error: String(error?.message ?? error)});
    }
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actualPort = server.address().port;
  return {
    url: `http://127.0.0.1:${actualPort}${basePath}`,
    port: actualPort,
    calls,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // keep-alive connections would hold close() open
      }),
  };
}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
