// Prometheus metrics (docs/metrics.md): a scripted client session moves every counter by exactly
// what it did, `promtool check metrics` accepts the scrape, and a real Prometheus server scraping
// the node answers a PromQL query with the open connection count.
//
// The node serves /metrics on a port of its own (--metrics-port), so scraping moves none of the
// byte counters it reports; every byte the clients write and read is counted on their side
// (net.Socket bytesWritten / bytesRead) and compared with the server's totals.
import assert from 'node:assert/strict';
import {spawn, spawnSync} from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import {after, before, describe, test} from 'node:test';

import {benchmarkId, chatId, connectWelcomed} from '../support/json_client.mjs';
import {encodeFrame, OP, rawConnect} from '../support/raw_ws.mjs';
import {freePort, startCablecast} from '../support/servers.mjs';

const KEY = 'metrics-test-key';
const MAX_OUTBOUND_BYTES = 65536;

/** GET a URL; resolves with {status, headers, body}. */
function get(url) {
  return new Promise((resolve, reject) => {
    http.get(url, {agent: false}, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => (body += chunk));
      res.on('end', () => resolve({status: res.statusCode, headers: res.headers, body}));
    }).on('error', reject);
  });
}

/** Parses the exposition text into {"name{labels}": number}. */
function parseMetrics(text) {
  const samples = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples[line.slice(0, at)] = Number(line.slice(at + 1));
  }
  return samples;
}

/**
 * Sends one HTTP request on a fresh socket and reads until the server closes it; the byte counts
 * are the socket's own, so they are exactly what the server reads and writes.
 */
function exchange(port, request) {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => resolve({text, written: socket.bytesWritten, read: socket.bytesRead}));
    socket.write(request);
  });
}

/** Writes a metrics text to promtool's standard input; returns its result. */
function promtoolCheck(text) {
  return spawnSync('promtool', ['check', 'metrics'], {input: text, encoding: 'utf8'});
}

describe('Prometheus metrics', () => {
  let server;
  let metricsUrl;

  before(async () => {
    const metricsPort = await freePort();
    server = await startCablecast(['--threads', '2', '--metrics-port', String(metricsPort),
      '--broadcast-key', KEY, '--max-outbound-bytes', String(MAX_OUTBOUND_BYTES)]);
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
  });
  after(async () => {
    await server?.stop();
  });

  const scrape = async () => {
    const res = await get(metricsUrl);
    assert.equal(res.status, 200);
    return {text: res.body, values: parseMetrics(res.body)};
  };
  // Waits for the server to see what the clients did (closes are reported asynchronously): polls
  // the scrape for a condition instead of sleeping a guessed time.
  const scrapeUntil = async (ready, what, timeoutMs = 10000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const s = await scrape();
      if (ready(s.values)) return s;
      if (Date.now() > deadline) assert.fail(`${what}: not reached; last scrape:\n${s.text}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  test('is served with the exposition content type on its own port; the main port answers 404', async () => {
    const res = await get(metricsUrl);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    assert.match(res.body, /^# HELP cablecast_connections /m);
    assert.match(res.body, /^process_resident_memory_bytes \d+/m);
    assert.equal((await get(`http://127.0.0.1:${server.port}/metrics`)).status, 404);
  });

  test('a scripted session moves every counter by exactly what it did, and promtool accepts the scrape', async () => {
    const before = (await scrapeUntil((v) => v.cablecast_connections === 0, 'no connection open')).values;
    const delta = (after, name) => after[name] - before[name];

    // Four clients on one stream: two per event loop (connections are handed out round-robin).
    const clients = [];
    for (let i = 0; i < 4; i++) clients.push(await connectWelcomed(server.url));
    const sockets = clients.map((c) => c.ws._socket);  // kept: ws forgets it once closed
    const id = benchmarkId('metrics');
    for (const c of clients) await c.subscribe(id);

    // Two refused subscriptions: the channel rejects (ChatChannel without a room) and no such
    // channel. One frame that is no command at all.
    const refused = [chatId(''), JSON.stringify({channel: 'NoSuchChannel'})];
    for (const identifier of refused) {
      clients[0].subscribeCommand(identifier);
      const reply = await clients[0].next((m) => m.identifier === identifier);
      assert.equal(reply.type, 'reject_subscription');
    }
    clients[1].send('this is not JSON');

    const during = (await scrapeUntil((v) => v.cablecast_subscriptions === before.cablecast_subscriptions + 4,
                                      'four subscriptions')).values;
    assert.equal(during.cablecast_connections, 4);
    // Each loop listens to the benchmark stream and to the internal stream of user "anonymous"
    // (remote disconnects): 2 loops x 2 streams.
    assert.equal(delta(during, 'cablecast_streams'), 4);

    // Three broadcasts by the channel (its "broadcast" action) and one through the HTTP API;
    // each reaches the four subscribers.
    for (let n = 0; n < 3; n++) clients[2].perform(id, 'broadcast', {n});
    const body = JSON.stringify({stream: 'allmetrics', data: JSON.stringify({n: 3})});
    const api = await exchange(server.port,
                               `POST /_broadcast HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY}\r\n` +
                               `Content-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`);
    assert.match(api.text, /^HTTP\/1\.1 201 /);
    for (const c of clients) {
      const seen = new Set();
      while (seen.size < 4) seen.add((await c.next((m) => m.identifier === id && m.message?.n !== undefined)).message.n);
    }

    // A handshake refused: an unsupported Sec-WebSocket-Version.
    const refusedHandshake = await exchange(server.port,
                                            'GET /cable HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n' +
                                            'Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n' +
                                            'Sec-WebSocket-Version: 8\r\n\r\n');
    assert.match(refusedHandshake.text, /^HTTP\/1\.1 426 /);

    await Promise.all(clients.map((c) => c.close()));
    const {text, values: now} = await scrapeUntil((v) => v.cablecast_connections === 0, 'every client gone');

    const commands = (type) => delta(now, `cablecast_commands_received_total{type="${type}"}`);
    assert.equal(commands('subscribe'), 6);
    assert.equal(commands('message'), 3);
    assert.equal(commands('invalid'), 1);
    for (const type of ['unsubscribe', 'history', 'join', 'leave', 'presence', 'whisper', 'pong', 'ping']) {
      assert.equal(commands(type), 0, type);
    }
    assert.equal(delta(now, 'cablecast_messages_delivered_total'), 16);  // 4 broadcasts x 4 subscribers
    assert.equal(delta(now, 'cablecast_broadcasts_total{source="channel"}'), 3);
    assert.equal(delta(now, 'cablecast_broadcasts_total{source="api"}'), 1);
    assert.equal(delta(now, 'cablecast_broadcasts_total{source="pubsub"}'), 4);
    // Each broadcast reached a shard with subscribers on both loops.
    assert.equal(delta(now, 'cablecast_broadcast_fanout_seconds_count'), 8);
    assert.equal(delta(now, 'cablecast_handshakes_rejected_total{reason="version"}'), 1);
    for (const reason of ['bad_request', 'not_websocket', 'origin', 'connection_limit']) {
      assert.equal(delta(now, `cablecast_handshakes_rejected_total{reason="${reason}"}`), 0, reason);
    }
    assert.equal(delta(now, 'cablecast_subscriptions_rejected_total{reason="rejected"}'), 1);
    assert.equal(delta(now, 'cablecast_subscriptions_rejected_total{reason="unknown_channel"}'), 1);
    assert.equal(delta(now, 'cablecast_subscriptions_rejected_total{reason="limit"}'), 0);
    assert.equal(delta(now, 'cablecast_slow_clients_dropped_total'), 0);
    assert.equal(delta(now, 'cablecast_subscriptions'), 0);
    assert.equal(delta(now, 'cablecast_streams'), 0);

    const written = sockets.reduce((sum, s) => sum + s.bytesWritten, 0) + api.written + refusedHandshake.written;
    const read = sockets.reduce((sum, s) => sum + s.bytesRead, 0) + api.read + refusedHandshake.read;
    assert.equal(delta(now, 'cablecast_received_bytes_total'), written);
    assert.equal(delta(now, 'cablecast_sent_bytes_total'), read);

    const check = promtoolCheck(text);
    assert.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
  });

  test('a client that stops reading is dropped once, and counted once', async (t) => {
    const before = (await scrape()).values;
    const id = benchmarkId('slow');
    const stalled = await rawConnect(server.port);
    t.after(() => stalled.socket.destroy());
    stalled.socket.pause();  // never reads again: the kernel buffers fill, then the server's queue
    const sender = await connectWelcomed(server.url);
    t.after(() => sender.close());
    await sender.subscribe(id);
    // The stalled client subscribes with a raw frame (its reads are paused, so no confirmation is
    // awaited); the sender's own broadcasts come back to it, which paces it.
    stalled.socket.write(encodeFrame({opcode: OP.TEXT, payload: Buffer.from(JSON.stringify({command: 'subscribe', identifier: id})),
                                      maskKey: Buffer.from([1, 2, 3, 4])}));
    await scrapeUntil((v) => v.cablecast_subscriptions === before.cablecast_subscriptions + 2, 'both subscribed');

    // One broadcast at a time, each awaited by the sender (which gets it and the action's result,
    // about 32 KiB, under MAX_OUTBOUND_BYTES), so only the stalled client's queue grows.
    const padding = 'x'.repeat(16 * 1024);
    let sent = 0;
    for (;;) {
      if (sent % 20 === 0) {
        const values = (await scrape()).values;
        if (values.cablecast_slow_clients_dropped_total > before.cablecast_slow_clients_dropped_total) break;
        assert.ok(sent < 4000, 'the stalled client was never dropped');
      }
      sender.perform(id, 'broadcast', {n: sent, padding});
      await sender.next((m) => m.identifier === id && m.message?.n === sent && m.message.action === 'broadcast', 10000);
      sent++;
    }
    await sender.close();
    stalled.socket.destroy();
    const now = (await scrapeUntil((v) => v.cablecast_connections === 0, 'every client gone')).values;
    assert.equal(now.cablecast_slow_clients_dropped_total - before.cablecast_slow_clients_dropped_total, 1);
    assert.equal(now.cablecast_subscriptions, before.cablecast_subscriptions);
    assert.equal(now['cablecast_broadcasts_total{source="channel"}'] - before['cablecast_broadcasts_total{source="channel"}'], sent);
    // The sender got every broadcast; the stalled client some of them before it was dropped.
    assert.ok(now.cablecast_messages_delivered_total - before.cablecast_messages_delivered_total > sent);
  });

  test('a real Prometheus server scrapes the node and answers a PromQL query with the connection count', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-prometheus-'));
    t.after(() => fs.rmSync(dir, {recursive: true, force: true}));
    const port = await freePort();
    fs.writeFileSync(path.join(dir, 'prometheus.yml'),
                     `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: cablecast\n` +
                     `    static_configs:\n      - targets: ['${new URL(metricsUrl).host}']\n`);
    const prometheus = spawn('prometheus', [`--config.file=${path.join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`],
                             {stdio: ['ignore', 'ignore', 'pipe']});
    let log = '';
    prometheus.stderr.on('data', (chunk) => (log += chunk));
    const exited = new Promise((resolve) => prometheus.on('exit', resolve));
    t.after(async () => {
      prometheus.kill('SIGTERM');
      await exited;
    });

    const clients = [];
    for (let i = 0; i < 3; i++) clients.push(await connectWelcomed(server.url));
    t.after(() => Promise.all(clients.map((c) => c.close())));

    // Prometheus needs a moment to start and a scrape or two: ask until it answers 3.
    const query = `http://127.0.0.1:${port}/api/v1/query?query=cablecast_connections`;
    const deadline = Date.now() + 30000;
    let last;
    for (;;) {
      last = await get(query).catch((e) => ({status: 0, body: String(e)}));
      if (last.status === 200) {
        const answer = JSON.parse(last.body);
        assert.equal(answer.status, 'success');
        const value = answer.data.result[0]?.value?.[1];
        if (value === '3') break;
      }
      assert.ok(Date.now() < deadline, `no answer of 3 connections; last: ${last.status} ${last.body}\n${log}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  });
});

describe('Prometheus metrics on the main port', () => {
  test('are served at /metrics by default', async (t) => {
    const server = await startCablecast([]);
    t.after(() => server.stop());
    const res = await get(`http://127.0.0.1:${server.port}/metrics`);
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
    const check = promtoolCheck(res.body);
    assert.equal(check.status, 0, `promtool check metrics: ${check.stdout}${check.stderr}`);
  });

  test('answer 404 with --metrics=false', async (t) => {
    const server = await startCablecast(['--metrics=false']);
    t.after(() => server.stop());
    assert.equal((await get(`http://127.0.0.1:${server.port}/metrics`)).status, 404);
  });
});
