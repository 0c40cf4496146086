// What the extended-protocol test files share: servers with public streams and a broadcast key,
// TCP proxies, @anycable/core cables, each stopped after the file's tests (in reverse order).
//   const ext = extendedProtocolFixture(after, KEY);
//   const s = await ext.server(['--history-limit', '5']);
import {anycable, followStream} from './anycable_client.mjs';
import {startCablecast} from './servers.mjs';
import {startTcpProxy} from './tcp_proxy.mjs';

// What a node logs once a closed ext session's state is saved: a client that comes back before
// it would get a fresh session (the save runs after the connection's own close lines).
export const SESSION_SAVED = /session \S+ saved for a restore/;

export function extendedProtocolFixture(after, broadcastKey) {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });
  return {
    /** Runs `fn` after the tests (last registered, first run). */
    defer(fn) {
      cleanup.push(fn);
    },
    /** A running server (or node), killed after the tests. */
    track(s) {
      cleanup.push(() => s.stop('SIGKILL'));
      return s;
    },
    /** A Cablecast with --public-streams and the broadcast key, plus `extra` flags. */
    async server(extra = []) {
      return this.track(
        await startCablecast(['--public-streams', '--broadcast-key', broadcastKey, ...extra]));
    },
    async proxyTo(port) {
      const proxy = await startTcpProxy(port);
      cleanup.push(() => proxy.close());
      return proxy;
    },
    /** An @anycable/core cable on the extended protocol. */
    cable(url, options) {
      const c = anycable(url, options);
      cleanup.push(() => c.disconnect());
      return c;
    },
    /** A tab: a cable (named `name`) at `url` following the public stream `room` (followStream). */
    async tab(url, room, name) {
      const cable = this.cable(url, {name});
      return Object.assign(await followStream(cable, room), {cable});
    },
  };
}
