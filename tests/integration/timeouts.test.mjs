// Deadlines that protect the server: the HTTP handshake timeout (slowloris), the idle timeout
// with its WebSocket ping probe, and the close-handshake deadline.
import assert from 'node:assert/strict';
import net from 'node:net';
import {after, before, test} from 'node:test';

import {OP, rawConnect} from '../support/raw_ws.mjs';
import {startCablecast} from '../support/servers.mjs';

let server;
before(async () => {
  server = await startCablecast(['--handshake-timeout', '700', '--idle-timeout', '2000']);
});
after(async () => {
  assert.equal(await server.stop(), 0);
});

// Resolves with the ms until the server closes a raw TCP connection.
function timeUntilClosed(socket) {
  const started = Date.now();
  return new Promise((resolve) => socket.on('close', () => resolve(Date.now() - started)));
}

test('a client that sends no request is dropped after the handshake timeout', async () => {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  const ms = await timeUntilClosed(socket);
  // 700 ms deadline, checked by a once-per-second sweep: closed between 0.7 and ~2.2 s.
  assert.ok(ms >= 650 && ms < 2500, `closed after ${ms} ms`);
  await server.waitForLog(/handshake timeout/);
});

test('a client that dribbles a partial request is dropped too (slowloris)', async () => {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write('GET /cable HTTP/1.1\r\nHost: x\r\n');
  const timer = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 200);
  const ms = await timeUntilClosed(socket);
  clearInterval(timer);
  assert.ok(ms >= 650 && ms < 2500, `closed after ${ms} ms`);
});

test('an idle client first gets a WebSocket ping, then a close 1001 when it never answers', async () => {
  const ws = await rawConnect(server.port);
  const started = Date.now();
  // The raw client never answers pings; Action Cable pings (text frames) do not count as
  // activity from the client.
  const ping = await ws.nextFrame((f) => f.opcode === OP.PING, 4000);
  const pingAt = Date.now() - started;
  assert.ok(pingAt >= 800, `ping after ${pingAt} ms (expected about half of 2000)`);
  const close = await ws.nextFrame((f) => f.opcode === OP.CLOSE, 4000);
  assert.equal(close.code, 1001);
  assert.ok(ping);
});

test('a client that answers pings stays connected past the idle timeout', async () => {
  const ws = await rawConnect(server.port);
  const deadline = Date.now() + 4500;
  while (Date.now() < deadline) {
    const frame = await ws.nextFrame(() => true, 3000);
    assert.notEqual(frame.opcode, OP.CLOSE, 'must not be closed while answering pings');
    if (frame.opcode === OP.PING) ws.sendFrame({opcode: OP.PONG, payload: frame.payload});
  }
  ws.sendJson({command: 'subscribe', identifier: JSON.stringify({channel: 'BenchmarkChannel'})});
  const confirm = await ws.nextJson((m) => m.type === 'confirm_subscription');
  assert.equal(confirm.type, 'confirm_subscription');
});
