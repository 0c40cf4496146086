// Both ways the server writes to plain connections: batched with io_uring (the default: one
// submission per loop turn for all connections) and one sendmsg per connection
// (--io-uring=false, also what runs where the kernel refuses io_uring). The same traffic goes
// through each: broadcasts of 10 B to 60 KiB (several frames per write, writes the kernel only
// partly takes), to reading clients and to one that stops reading until its socket is full and
// then resumes. Everyone must get every broadcast, whole and in order.
import assert from 'node:assert/strict';
import {after, describe, test} from 'node:test';

import {benchmarkId, connectWelcomed} from '../support/json_client.mjs';
import {startCablecast, startLibraryProgram} from '../support/servers.mjs';
import {cablecastBin, withoutIoUringBin} from '../support/paths.mjs';
import {receivedBeforeEcho} from '../support/fence.mjs';

const SIZES = [10, 700, 9000, 60000];
const COUNT = 120;

for (const mode of ['true', 'false']) {
  describe(`--io-uring=${mode}`, () => {
    const cleanup = [];
    after(async () => {
      for (const fn of cleanup.reverse()) await fn();
    });

    test('every broadcast reaches readers and a paused-then-resumed reader, whole and in order', async () => {
      const server = await startCablecast([`--io-uring=${mode}`, '--threads', '2']);
      cleanup.push(async () => assert.equal(await server.stop(), 0));
      const expected = mode === 'true' ? /sends: batched with io_uring/ : /sends: one sendmsg per connection .*--io-uring=false/;
      await server.waitForLog(expected, 3000);  // the start-up log names the write path

      const id = benchmarkId(`wp-${mode}`);
      const clients = [];
      for (let i = 0; i < 12; i++) {
        const c = await connectWelcomed(`${server.url}?user=r${i}`);
        cleanup.push(() => c.terminate());
        await c.subscribe(id);
        clients.push(c);
      }
      const paused = await connectWelcomed(`${server.url}?user=paused`);
      cleanup.push(() => paused.terminate());
      await paused.subscribe(id);
      paused.ws._socket.pause();  // stop reading: its socket fills, the server must wait for room

      const sender = clients[0];
      for (let n = 0; n < COUNT; n++) {
        sender.perform(id, 'broadcast', {n, payload: 'x'.repeat(SIZES[n % SIZES.length])});
      }
      const check = async (c, who) => {
        for (let n = 0; n < COUNT; n++) {
          const m = await c.next((msg) => msg.identifier === id && msg.message?.action === 'broadcast', 10000);
          assert.equal(m.message.n, n, `${who}: broadcast ${n} in order`);
          assert.equal(m.message.payload.length, SIZES[n % SIZES.length], `${who}: broadcast ${n} whole`);
        }
      };
      await Promise.all(clients.map((c, i) => check(c, `reader ${i}`)));
      // ~2.1 MB went to the paused client: more than loopback socket buffers hold, less than
      // --max-outbound-bytes (4 MiB), so the server kept the rest queued until it reads again.
      paused.ws._socket.resume();
      await check(paused, 'paused reader');
      // No duplicates: nothing more before an echo on each connection (answered after anything
      // already queued for it).
      for (const c of [...clients, paused]) {
        const extra = (await receivedBeforeEcho(c, id)).filter((m) => m.message?.action === 'broadcast');
        assert.deepEqual(extra, [], 'no duplicates');
      }
    });

    test('one frame per loop turn into a full socket: the send that finds no room waits, nothing is lost', async () => {
      // Each broadcast waits for the previous one to come back, so each is its own flush (one
      // frame, one send per flush) while the paused client's socket fills up: the send that
      // finds no room (in practice a short write, then would-block) leaves the connection
      // waiting for room, out of later batches, until the client reads again.
      const server = await startCablecast([`--io-uring=${mode}`, '--threads', '1']);
      cleanup.push(async () => assert.equal(await server.stop(), 0));
      const id = benchmarkId(`wp1-${mode}`);
      const sender = await connectWelcomed(`${server.url}?user=s`);
      const paused = await connectWelcomed(`${server.url}?user=p`);
      cleanup.push(() => sender.terminate(), () => paused.terminate());
      await sender.subscribe(id);
      await paused.subscribe(id);
      paused.ws._socket.pause();
      const payload = 'y'.repeat(1200);
      const total = 1500;  // ~1.8 MB: beyond the socket buffers, under --max-outbound-bytes
      for (let n = 0; n < total; n++) {
        sender.perform(id, 'broadcast', {n, payload});
        await sender.next((m) => m.message?.action === 'broadcast' && m.message.n === n, 5000);
      }
      paused.ws._socket.resume();
      for (let n = 0; n < total; n++) {
        const m = await paused.next((msg) => msg.message?.action === 'broadcast', 10000);
        assert.equal(m.message.n, n);
        assert.equal(m.message.payload, payload);
      }
    });
  });
}

describe('the kernel refuses io_uring (a seccomp profile): the server falls back by itself', () => {
  test('it logs why and serves every broadcast with one sendmsg per connection', async () => {
    // io_uring on (the default), but io_uring_setup fails with EPERM in this process.
    const server = await startLibraryProgram(withoutIoUringBin,
                                             [cablecastBin, 'serve', '--port', '0', '--threads', '1'],
                                             {kind: 'cablecast without io_uring'});
    try {
      await server.waitForLog(/sends: io_uring unavailable \(.*\): one sendmsg per connection per loop turn/, 3000);
      const id = benchmarkId('no-uring');
      const readers = [await connectWelcomed(server.url), await connectWelcomed(server.url)];
      for (const c of readers) await c.subscribe(id);
      for (let n = 0; n < 20; n++) readers[0].perform(id, 'broadcast', {n, payload: 'x'.repeat(SIZES[n % SIZES.length])});
      for (const c of readers) {
        for (let n = 0; n < 20; n++) {
          const m = await c.next((msg) => msg.identifier === id && msg.message?.action === 'broadcast', 10000);
          assert.equal(m.message.n, n);
        }
        c.terminate();
      }
    } finally {
      assert.equal(await server.stop(), 0);
    }
  });
});
