// Several processes on one port (--reuse-port, SO_REUSEPORT) joined by Redis: the kernel
// spreads the connections over all of them, a broadcast from a client of any process reaches
// every client exactly once and in order, a process can leave (SIGTERM) while the others keep
// accepting on the port, and without the flag a second process cannot bind the port at all.
import assert from 'node:assert/strict';
import {after, describe, test} from 'node:test';

import {chatId, connectWelcomed} from '../support/json_client.mjs';
import {freePort, startCablecast} from '../support/servers.mjs';
import {receivedBefore} from '../support/fence.mjs';
import {sharedRedis, uniquePrefix} from '../support/redis_env.mjs';

const redis = sharedRedis();

describe('several processes share one port (--reuse-port)', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });
  async function node(port, args) {
    const server = await startCablecast(args, {port});
    cleanup.push(() => server.stop('SIGKILL'));
    return server;
  }
  // Which node accepted user `user`'s connection, from the nodes' debug log lines (read from a
  // pipe, so a line may arrive after the client's welcome: wait a little for it).
  async function ownerOf(nodes, user) {
    const deadline = Date.now() + 3000;
    for (;;) {
      const owners = nodes.filter((n) => n.logs.some((l) => l.includes('identified as') && l.includes(`"${user}"`)));
      if (owners.length === 1 || Date.now() > deadline) {
        assert.equal(owners.length, 1, `${user} identified by ${owners.length} nodes`);
        return owners[0];
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  test('without --reuse-port a second process cannot bind the port', async () => {
    const port = await freePort();
    await node(port, []);
    await assert.rejects(node(port, []), /cannot listen on 127\.0\.0\.1:\d+: Address already in use/);
    // Both must ask for sharing: one that did not, then one that does, still conflict.
    await assert.rejects(node(port, ['--reuse-port']), /Address already in use/);
  });

  test('connections spread over three processes; broadcasts from each reach all clients once, in order', async () => {
    const port = await freePort();
    const prefix = uniquePrefix('reuseport');
    const args = ['--reuse-port', '--pubsub', 'redis', '--redis-url', redis.url, '--channel-prefix', prefix];
    const nodes = [await node(port, args), await node(port, args), await node(port, args)];
    for (const n of nodes) await n.waitForLog(/shared \(SO_REUSEPORT\)/, 2000);  // the start-up log names the sharing

    // The kernel picks a process per connection by a hash of the addresses: with 60
    // connections each of three processes gets some (all on one: probability ~1e-10).
    const clients = [];
    for (let i = 0; i < 60; i++) {
      const c = await connectWelcomed(`ws://127.0.0.1:${port}/cable?user=rp${i}`);
      cleanup.push(() => c.terminate());
      await c.subscribe(chatId('shared'));
      clients.push({user: `rp${i}`, c});
    }
    const owners = [];
    for (const x of clients) owners.push(await ownerOf(nodes, x.user));
    const perNode = nodes.map((n) => clients.filter((_, i) => owners[i] === n));
    for (const [i, list] of perNode.entries()) assert.ok(list.length > 0, `node ${i} accepted no connection`);

    // Three broadcasts from a client of each process: everyone gets all nine, in order.
    const sent = [];
    for (const list of perNode) {
      for (let k = 0; k < 3; k++) {
        const text = `${list[0].user}#${k}`;
        list[0].c.perform(chatId('shared'), 'speak', {user: list[0].user, text});
        sent.push(text);
      }
    }
    for (const {user, c} of clients) {
      const got = [];
      while (got.length < sent.length) {
        got.push((await c.next((m) => m.identifier === chatId('shared'), 5000)).message.text);
      }
      // Each sender's own three stay in order; senders interleave as the broker orders them.
      for (const list of perNode) {
        const from = got.filter((t) => t.startsWith(`${list[0].user}#`));
        assert.deepEqual(from, [0, 1, 2].map((k) => `${list[0].user}#${k}`), `order at ${user}`);
      }
    }
    // No duplicates: nothing but pings and confirmations before one more broadcast (the fence,
    // published through Redis after all nine were delivered).
    clients[0].c.perform(chatId('shared'), 'speak', {user: clients[0].user, text: 'fence'});
    for (const {user, c} of clients) {
      const extra = await receivedBefore(c, (m) => m.message?.text === 'fence');
      assert.deepEqual(extra.filter((m) => m.message), [], `no duplicates at ${user}`);
    }

    // One process leaves; the port keeps accepting, on the two others.
    assert.equal(await nodes[0].stop(), 0);
    const survivors = nodes.slice(1);
    for (let i = 0; i < 20; i++) {
      const c = await connectWelcomed(`ws://127.0.0.1:${port}/cable?user=late${i}`);
      cleanup.push(() => c.terminate());
      assert.ok(survivors.includes(await ownerOf(survivors, `late${i}`)));
    }
  });

  test('with the memory pub/sub the server warns that processes will not share broadcasts', async () => {
    const port = await freePort();
    const server = await node(port, ['--reuse-port']);
    await server.waitForLog(/--reuse-port with the memory pub\/sub/, 2000);
  });
});
