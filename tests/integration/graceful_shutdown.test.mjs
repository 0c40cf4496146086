// SIGTERM / SIGINT: every connected client is told {"type":"disconnect","reason":"server_restart",
// "reconnect":true} (so the official client reconnects to the next instance), gets a close frame,
// and the process exits 0 promptly. (Rails under puma sends nothing on shutdown; Cablecast follows
// ActionCable.server.restart semantics instead — see tests/conformance/FINDINGS.md.)
import assert from 'node:assert/strict';
import {after, describe, test} from 'node:test';
import {OP, rawConnect} from '../support/raw_ws.mjs';
import {benchmarkId} from '../support/json_client.mjs';
import {startTarget, targetIsRuby} from '../support/servers.mjs';

const RESTART = '{"type":"disconnect","reason":"server_restart","reconnect":true}';

describe('graceful shutdown', {skip: targetIsRuby && 'puma shutdown sends nothing (FINDINGS.md)'}, () => {
  const servers = [];
  after(async () => {
    for (const s of servers) await s.stop('SIGKILL');
  });

  for (const signal of ['SIGTERM', 'SIGINT']) {
    test(`${signal}: clients get server_restart then a close frame; exit code 0`, async () => {
      const server = await startTarget();
      servers.push(server);
      const clients = [];
      for (let i = 0; i < 3; i++) {
        const ws = await rawConnect(server.port, {path: `/cable?user=u${i}`});
        assert.equal((await ws.nextFrame()).text, '{"type":"welcome"}');
        const id = benchmarkId(`shutdown-${i}`);
        ws.sendJson({command: 'subscribe', identifier: id});
        assert.deepEqual(await ws.nextJson(), {identifier: id, type: 'confirm_subscription'});
        clients.push(ws);
      }

      // stop() sends SIGKILL after 8 s: an exit code of 0 means the drain finished by itself.
      const exitCode = server.stop(signal, 8000);
      for (const ws of clients) {
        const disconnect = await ws.nextFrame((f) => f.opcode !== OP.TEXT || !f.text.includes('"ping"'), 5000);
        assert.equal(disconnect.text, RESTART);
        const close = await ws.nextFrame(() => true, 5000);
        assert.equal(close.opcode, OP.CLOSE, `expected a close frame, got ${JSON.stringify(close.text)}`);
        assert.equal(close.code, 1000, "Rails closes with 1000 after a disconnect message");
        ws.sendClose(close.code);
        assert.ok(await ws.waitEnded(5000), 'TCP connection still open after the close handshake');
      }
      assert.equal(await exitCode, 0);
      assert.ok(!server.logs.some((l) => /shutdown deadline reached/.test(l)), 'the drain needed no forcing');
    });
  }

  test('--shutdown-timeout: a client that never finishes the close handshake is cut at the deadline', async () => {
    // 1 s, under the connection's own 2 s close-handshake deadline, so the shutdown's is the one met.
    const server = await startTarget(['--shutdown-timeout', '1000']);
    servers.push(server);
    // Half-open allowed: the client keeps its side open after the server's FIN, answering nothing.
    const ws = await rawConnect(server.port, {path: '/cable?user=stubborn', allowHalfOpen: true});
    assert.equal((await ws.nextFrame()).text, '{"type":"welcome"}');
    const exitCode = server.stop('SIGTERM', 8000);
    const disconnect = await ws.nextFrame((f) => f.opcode !== OP.TEXT || !f.text.includes('"ping"'), 5000);
    assert.equal(disconnect.text, RESTART);
    assert.equal((await ws.nextFrame(() => true, 5000)).opcode, OP.CLOSE);
    // No close frame back: the server aborts the connection at its deadline and exits 0 by itself.
    await server.waitForLog(/shutdown deadline reached: aborting 1 connections/, 8000);
    assert.equal(await exitCode, 0);
    assert.equal(ws.ended, false, 'the client never closed its side: the server cut it');
    ws.destroy();
  });
});
