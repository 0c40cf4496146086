// "Nothing arrives" without a fixed wait. A check that sleeps and then finds an empty inbox proves
// little: on a slow machine the stray message may simply not be there yet. Instead, send a fence
// after the thing that must not arrive, on a path that keeps order with it, and collect what the
// client received before the fence: the fence's arrival proves that anything sent earlier would
// have arrived first. Paths that keep order (docs/architecture.md):
//   - later broadcasts of the same publisher (its commands are handled in order, each broadcast is
//     posted to every loop in that order), on any stream the client is subscribed to;
//   - a reply on the client's own connection (an `echo`) to anything already queued for it.
import {benchmarkId} from './json_client.mjs';

/**
 * Publishes through `client`'s BenchmarkChannel subscription `id` and waits for the publisher's
 * own copy, so the broadcast has certainly gone through the server before anyone else's inbox
 * is read. (The publisher's inbox is consumed on the way: never check a publisher's.)
 */
export async function broadcastVia(client, id, payload, timeoutMs = 5000) {
  client.perform(id, 'broadcast', payload);
  await client.next((m) => m.identifier === id && m.message?.action === 'broadcast' &&
                           m.message.tag === payload.tag, timeoutMs);
}

/**
 * Every non-ping message `client` (a JsonClient) receives before the first one matching
 * `isFence`, which must arrive within `timeoutMs` (if it does not, the check fails: a missing
 * fence never passes as "nothing arrived").
 */
export async function receivedBefore(client, isFence, timeoutMs = 5000) {
  const before = [];
  await client.next((m) => {
    if (isFence(m)) return true;
    before.push(m);
    return false;
  }, timeoutMs);
  return before;
}

let fences = 0;
const nextTag = () => `fence-${process.pid}-${++fences}`;

/**
 * Broadcasts a fence from `publisher` on its BenchmarkChannel subscription `fenceId` (every
 * client in `clients` must be subscribed to it too) and resolves with, per client, what it
 * received before that fence.
 */
export async function receivedBeforeBroadcast(clients, publisher, fenceId = benchmarkId('~fence')) {
  const tag = nextTag();
  await broadcastVia(publisher, fenceId, {tag});
  return Promise.all(clients.map((c) =>
    receivedBefore(c, (m) => m.identifier === fenceId && m.message?.tag === tag)));
}

/**
 * Sends `echo` on `client`'s own BenchmarkChannel subscription `id` and resolves with what it
 * received before the answer: everything the server had queued for this connection.
 */
export async function receivedBeforeEcho(client, id) {
  const tag = nextTag();
  client.perform(id, 'echo', {tag});
  return receivedBefore(client, (m) => m.identifier === id && m.message?.tag === tag &&
                                       m.message?.action === 'echo');
}
