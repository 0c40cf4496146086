// Deadlines that protect the server: the HTTP handshake timeout (slowloris), the idle timeout
// with its WebSocket ping probe (and --idle-timeout 0: none), and the close-handshake deadline.
// No upper time bound is asserted (a loaded machine is slow, not wrong): a deadline is proven by
// the server closing by itself and logging why, and by never closing before it.
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

// Resolves with the ms until the server closes a raw TCP connection (the test never closes it;
// the test's own timeout is the generous upper wait).
function timeUntilClosed(socket) {
  const started = Date.now();
  return new Promise((resolve) => socket.on('close', () => resolve(Date.now() - started)));
}

test('a client that sends no request is dropped after the handshake timeout', async () => {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  const ms = await timeUntilClosed(socket);
  // 700 ms deadline, checked by a once-per-second sweep: never before it.
  assert.ok(ms >= 650, `closed after ${ms} ms`);
  await server.waitForLog(/handshake timeout/);
});

test('a client that dribbles a partial request is dropped too (slowloris)', async () => {
  const socket = net.connect(server.port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write('GET /cable HTTP/1.1\r\nHost: x\r\n');
  const timer = setInterval(() => socket.writable && socket.write('X-Slow: 1\r\n'), 200);
  const ms = await timeUntilClosed(socket);
  clearInterval(timer);
  assert.ok(ms >= 650, `closed after ${ms} ms`);
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

test('a client that never answers our close frame is cut off by the server after the close deadline', async () => {
  // Half-open allowed: the client keeps its side open after the server's FIN, answering nothing.
  const ws = await rawConnect(server.port, {allowHalfOpen: true});
  const serverFin = new Promise((resolve) => ws.socket.once('end', resolve));
  const mark = server.logs.length;
  // An unmasked client frame is a protocol error: the server sends close 1002, half-closes, and
  // waits 2 s for the client's close frame.
  ws.sendRaw(Buffer.from([0x81, 0x02, 0x68, 0x69]));
  const close = await ws.nextFrame((f) => f.opcode === OP.CLOSE, 5000);
  assert.equal(close.code, 1002);
  await serverFin;
  assert.equal(ws.ended, false, 'the client side is still open');
  await server.waitForLog(/close handshake did not finish within 2000 ms/, 10000, mark);
  // The server's socket is gone: bytes the client sends now are answered with a reset (Node
  // reports it on a later write), so the client learns its connection is closed.
  const poke = setInterval(() => ws.socket.writable && ws.sendText('{}'), 100);
  const ended = await ws.waitEnded(10000);
  clearInterval(poke);
  assert.equal(ended, true, 'the server still holds the connection');
});

test('--idle-timeout 0: no WebSocket ping and no close, however long the client is silent', async () => {
  const quiet = await startCablecast(['--idle-timeout', '0']);
  try {
    const ws = await rawConnect(quiet.port);
    // The fence: two Action Cable pings (3 s apart) come from the same loop whose once-a-second
    // sweep would probe or close an idle connection; a zero read as "at once" would have closed
    // it before the second one.
    const seen = [];
    for (let pings = 0; pings < 2;) {
      const f = await ws.nextFrame(() => true, 10000);
      seen.push(f.opcode === OP.TEXT ? f.text : `opcode ${f.opcode}`);
      if (f.opcode === OP.TEXT && f.text.includes('"type":"ping"')) pings++;
    }
    assert.deepEqual(seen.filter((t) => !t.includes('"type":"ping"')), ['{"type":"welcome"}'],
                     'nothing but the welcome and Action Cable pings (no WebSocket ping, no close)');
    ws.sendJson({command: 'subscribe', identifier: JSON.stringify({channel: 'BenchmarkChannel'})});
    assert.equal((await ws.nextJson((m) => m.type === 'confirm_subscription')).type, 'confirm_subscription');
    ws.destroy();
  } finally {
    assert.equal(await quiet.stop(), 0);
  }
});
