// A TCP proxy on a free loopback port in front of a server port, for tests that need a network
// drop: cut() destroys every live connection through it at once (both the client's socket and
// the one to the server, so each side sees its peer go away) and refuses new ones until
// restore(); retarget(port) sends new connections to another server, as a load balancer would
// after a node was lost. Bytes pass through untouched (WebSocket frames, TLS, anything).
//
//   const proxy = await startTcpProxy(server.port);
//   const cable = createCable(proxy.url('/cable'), ...);
//   proxy.cut(); ...; proxy.restore();
//   await proxy.close();
import net from 'node:net';

const HOST = '127.0.0.1';

/**
 * Starts a proxy listening on a free port of 127.0.0.1 that forwards to `targetPort` on
 * 127.0.0.1. Resolves with a handle:
 *   port, url(path = '/cable'): the ws:// URL of `path` through the proxy
 *   cut(): destroys every live connection; refuses new ones (accepts and closes them at once,
 *     so the port stays ours) until restore(). Returns how many connections it destroyed.
 *   restore(): lets new connections through again.
 *   retarget(port): new connections go to `port` from now on (live ones stay where they are).
 *   accepted: connections let through so far; waitForAccepted(n, ms): resolves once n were.
 *   close(): stops listening and destroys every live connection.
 */
export async function startTcpProxy(targetPort) {
  let target = targetPort;
  let isCut = false;
  let accepted = 0;
  const live = new Set();  // {client, upstream} pairs
  const acceptWaiters = new Set();

  const server = net.createServer((client) => {
    client.on('error', () => {});
    if (isCut) {
      // A dropped network: the client's connection attempt fails.
      client.destroy();
      return;
    }
    const upstream = net.connect(target, HOST);
    upstream.on('error', () => {});
    const pair = {client, upstream};
    live.add(pair);
    // Either side going away takes the other one with it, as a broken path would.
    const drop = () => {
      live.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    client.pipe(upstream);
    upstream.pipe(client);
    accepted += 1;
    for (const w of acceptWaiters) w();
  });
  server.on('error', () => {});
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const {port} = server.address();

  const destroyAll = () => {
    const pairs = [...live];
    live.clear();
    for (const {client, upstream} of pairs) {
      client.destroy();
      upstream.destroy();
    }
    return pairs.length;
  };

  return {
    port,
    url: (path = '/cable') => `ws://${HOST}:${port}${path}`,
    get accepted() { return accepted; },
    get live() { return live.size; },
    get isCut() { return isCut; },
    cut() {
      isCut = true;
      return destroyAll();
    },
    restore() {
      isCut = false;
    },
    retarget(newPort) {
      target = newPort;
    },
    waitForAccepted(count, timeoutMs = 30000) {
      if (accepted >= count) return Promise.resolve(accepted);
      return new Promise((resolve, reject) => {
        const check = () => {
          if (accepted < count) return;
          clearTimeout(timer);
          acceptWaiters.delete(check);
          resolve(accepted);
        };
        const timer = setTimeout(() => {
          acceptWaiters.delete(check);
          reject(new Error(`proxy accepted ${accepted} connections, not ${count}, within ${timeoutMs} ms`));
        }, timeoutMs);
        acceptWaiters.add(check);
      });
    },
    close() {
      isCut = true;
      destroyAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
