// wss:// and https:// with --tls-cert/--tls-key. The certificate is made at test time (openssl
// from Debian; a throw-away EC key, valid one day, for 127.0.0.1 and localhost) and trusted by
// the clients explicitly, so every connection here verifies the server's certificate.
// Covered: the official @rails/actioncable client over wss (chat, large messages both ways, a
// burst in order), the demo page over https, what old or weak clients get (TLS 1.0/1.1, non-AEAD
// TLS 1.2 suites, --tls-min-version 1.3), a plain ws:// client on the TLS port, the handshake
// timeout (a silent TCP peer and a TLS peer that never sends its request), graceful shutdown over
// TLS, start-up errors, and the memory an idle TLS connection costs.
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import {promisify} from 'node:util';
import {after, before, describe, test} from 'node:test';
import {ActionCable, recordedSubscription, webSocketOptions} from '../support/actioncable.mjs';
import {benchmarkId, connectWelcomed} from '../support/json_client.mjs';
import {cablecastBin} from '../support/paths.mjs';
import {rawUpgrade} from '../support/raw_ws.mjs';
import {rssKiB, startCablecast, underAsan} from '../support/servers.mjs';

const run = promisify(execFile);
const RESTART = {type: 'disconnect', reason: 'server_restart', reconnect: true};

async function makeCertificate(dir, name) {
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1',
                        '-nodes', '-days', '1', '-subj', '/CN=localhost',
                        '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1',
                        '-keyout', key, '-out', cert]);
  return {cert, key, pem: fs.readFileSync(cert)};
}

/** A TLS handshake with the given client options; resolves {protocol, cipher, fingerprint} or {error}. */
function tryTls(port, options) {
  return new Promise((resolve) => {
    const socket = tls.connect({host: '127.0.0.1', port, servername: 'localhost', ...options});
    socket.once('secureConnect', () => {
      const result = {protocol: socket.getProtocol(), cipher: socket.getCipher().name,
                      fingerprint: socket.getPeerCertificate().fingerprint256};
      socket.destroy();
      resolve(result);
    });
    socket.once('error', (error) => resolve({error: error.code || error.message}));
  });
}

/** Resolves with how many ms until the server closed a connection made by `open`. */
function closedAfter(open, timeoutMs) {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = open();
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`still open after ${timeoutMs} ms`));
    }, timeoutMs);
    socket.on('error', () => {});
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Date.now() - started);
    });
  });
}


describe('TLS (wss:// and https://)', () => {
  let dir;
  let certificate;
  let server;
  const consumers = [];
  const cleanup = [];

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-tls-'));
    certificate = await makeCertificate(dir, 'server');
    webSocketOptions.ca = certificate.pem;
    server = await startCablecast(['--tls-cert', certificate.cert, '--tls-key', certificate.key,
                                   '--handshake-timeout', '1000']);
    server.wss = `wss://127.0.0.1:${server.port}/cable`;
  });
  after(async () => {
    for (const c of consumers) c.disconnect();
    for (const fn of cleanup.reverse()) await fn();
    await server?.stop('SIGKILL');
    fs.rmSync(dir, {recursive: true, force: true});
  });

  function consumer(url) {
    const c = ActionCable.createConsumer(url);
    consumers.push(c);
    return c;
  }

  test('announces wss:// and negotiates TLS 1.3 by default', async () => {
    await server.waitForLog(/listening on .*\(wss:\/\/127\.0\.0\.1:\d+\/cable, TLS 1\.2\+\)/);
    const result = await tryTls(server.port, {ca: certificate.pem});
    assert.equal(result.protocol, 'TLSv1.3', JSON.stringify(result));
  });

  test('the official client chats over wss://, with large messages and a burst in order', async () => {
    const alice = consumer(`${server.wss}?user=alice`);
    const bob = consumer(`${server.wss}?user=bob`);
    const a = recordedSubscription(alice, {channel: 'ChatChannel', room: 'tls'});
    const b = recordedSubscription(bob, {channel: 'ChatChannel', room: 'tls'});
    await a.waitFor('connected');
    await b.waitFor('connected');
    a.subscription.perform('speak', {user: 'alice', text: 'over TLS'});
    assert.deepEqual(await b.waitFor('received'), {user: 'alice', text: 'over TLS'});

    // 200 KiB each way: many TLS records per message, in both directions.
    const big = 'x'.repeat(200 * 1024);
    a.subscription.perform('speak', {user: 'alice', text: big});
    const got = await b.waitFor('received', (m) => m.text.length === big.length, 10000);
    assert.equal(got.text, big);

    // A burst of broadcasts: the server gathers queued frames into shared records.
    const echo = recordedSubscription(bob, {channel: 'BenchmarkChannel', id: 'tls-burst'});
    await echo.waitFor('connected');
    const plain = await connectWelcomed(`${server.wss}?user=sender`, {ca: certificate.pem});
    cleanup.push(() => plain.close());
    await plain.subscribe(benchmarkId('tls-burst'));
    for (let i = 0; i < 500; i++) {
      plain.send({command: 'message', identifier: benchmarkId('tls-burst'),
                  data: JSON.stringify({action: 'broadcast', n: i, pad: 'y'.repeat(i % 97)})});
    }
    await echo.waitFor('received', (m) => m.n === 499, 10000);
    const numbers = echo.received().filter((m) => m.action === 'broadcast').map((m) => m.n);
    assert.deepEqual(numbers, Array.from({length: 500}, (_, i) => i));
  });

  test('the demo page is served over https://', async () => {
    const body = await new Promise((resolve, reject) => {
      https.get({host: '127.0.0.1', port: server.port, path: '/', ca: certificate.pem, servername: 'localhost'},
                (res) => {
                  let text = '';
                  res.on('data', (c) => (text += c));
                  res.on('end', () => resolve({status: res.statusCode, text}));
                }).on('error', reject);
    });
    assert.equal(body.status, 200);
    assert.match(body.text, /<!doctype html>/i);
  });

  test('old protocol versions and weak suites are refused, with one log line each', async () => {
    const mark = server.logs.length;
    const old = await tryTls(server.port, {ca: certificate.pem, minVersion: 'TLSv1', maxVersion: 'TLSv1.1',
                                           ciphers: 'DEFAULT@SECLEVEL=0'});
    assert.ok(old.error, `TLS 1.1 was accepted: ${JSON.stringify(old)}`);
    await server.waitForLog(/TLS handshake failed: unsupported protocol/, 3000, mark);

    const tls12 = await tryTls(server.port, {ca: certificate.pem, maxVersion: 'TLSv1.2'});
    assert.equal(tls12.protocol, 'TLSv1.2', JSON.stringify(tls12));
    assert.match(tls12.cipher, /^ECDHE-.*(GCM|CHACHA20)/, 'TLS 1.2 uses a forward-secret AEAD suite');

    const weak = await tryTls(server.port, {ca: certificate.pem, maxVersion: 'TLSv1.2', ciphers: 'AES128-SHA:AES256-SHA'});
    assert.ok(weak.error, `a CBC suite without forward secrecy was accepted: ${JSON.stringify(weak)}`);
    await server.waitForLog(/TLS handshake failed: no shared cipher/, 3000, mark);
  });

  test('a plain ws:// client on the TLS port gets a readable 400, and wss keeps working', async () => {
    const res = await rawUpgrade({port: server.port});
    assert.equal(res.status, 400);
    assert.match(res.body, /This port speaks TLS: use https:\/\/ or wss:\/\//);
    const client = await connectWelcomed(server.wss, {ca: certificate.pem});
    await client.close();
  });

  test('the handshake timeout covers the TLS handshake and the HTTP request behind it', async () => {
    // A TCP peer that never says hello.
    // Never before the deadline; how soon after is the machine's business (the wait is generous).
    const silent = await closedAfter(() => net.connect(server.port, '127.0.0.1'), 10000);
    assert.ok(silent >= 800, `silent TCP peer closed after ${silent} ms`);
    // A TLS peer that finishes the handshake but never sends its HTTP request.
    const mute = await closedAfter(() => tls.connect({host: '127.0.0.1', port: server.port, ca: certificate.pem,
                                                      servername: 'localhost'}), 10000);
    assert.ok(mute >= 800, `TLS peer without a request closed after ${mute} ms`);
  });

  test('an idle wss:// connection costs a few KiB of server memory', async () => {
    const count = 300;
    const clients = [];
    const first = await connectWelcomed(server.wss, {ca: certificate.pem});
    clients.push(first);
    await new Promise((r) => setTimeout(r, 200));
    const before = rssKiB(server.proc.pid);
    for (let i = 1; i < count; i++) {
      const c = await connectWelcomed(`${server.wss}?user=m${i}`, {ca: certificate.pem});
      await c.subscribe(benchmarkId(`mem${i % 10}`));
      clients.push(c);
    }
    await new Promise((r) => setTimeout(r, 300));
    const perConnection = (rssKiB(server.proc.pid) - before) / (count - 1);
    console.log(`idle subscribed wss:// connection: ${perConnection.toFixed(1)} KiB of server RSS each`);
    // Two 17 KiB record buffers per connection (asio::ssl::stream's) would show as > 34 KiB.
    // Under AddressSanitizer (scripts/sanitize.sh) RSS measures the sanitizer's quarantine and
    // redzones instead: the bound is for the release build.
    const asan = underAsan(server.proc.pid);
    if (!asan) assert.ok(perConnection < 24, `${perConnection.toFixed(1)} KiB per idle TLS connection`);
    await Promise.all(clients.map((c) => c.close()));
  });

  test('start-up refuses a missing key, a key of another certificate, and half a configuration', async () => {
    const other = await makeCertificate(dir, 'other');
    const cases = [
      {args: ['--tls-cert', certificate.cert, '--tls-key', path.join(dir, 'missing.key')],
       expect: /cannot load the TLS private key .*missing\.key/},
      {args: ['--tls-cert', certificate.cert, '--tls-key', other.key], expect: /does not match the certificate/},
      {args: ['--tls-cert', certificate.cert], expect: /TLS needs both a certificate file and a private key file/},
      {args: ['--tls-cert', path.join(dir, 'missing.crt'), '--tls-key', certificate.key],
       expect: /cannot load the TLS certificate .*missing\.crt/},
    ];
    for (const {args, expect} of cases) {
      const outcome = await run(cablecastBin, ['serve', '--port', '0', ...args], {timeout: 10000})
          .then(() => ({code: 0, output: ''}), (err) => ({code: err.code, output: `${err.stdout}${err.stderr}`}));
      assert.equal(outcome.code, 1, `${args.join(' ')}: exit ${outcome.code}\n${outcome.output}`);
      assert.match(outcome.output, expect);
    }
  });

  test('--tls-min-version 1.3 refuses TLS 1.2 clients', async () => {
    const strict = await startCablecast(['--tls-cert', certificate.cert, '--tls-key', certificate.key,
                                         '--tls-min-version', '1.3']);
    cleanup.push(() => strict.stop('SIGKILL'));
    const tls12 = await tryTls(strict.port, {ca: certificate.pem, maxVersion: 'TLSv1.2'});
    assert.ok(tls12.error, `TLS 1.2 was accepted: ${JSON.stringify(tls12)}`);
    const tls13 = await tryTls(strict.port, {ca: certificate.pem});
    assert.equal(tls13.protocol, 'TLSv1.3');
  });

  test('SIGHUP reloads the certificate for new connections; bad files keep the current one', async () => {
    const first = await makeCertificate(dir, 'first');
    const second = await makeCertificate(dir, 'second');
    const cert = path.join(dir, 'live.crt');
    const key = path.join(dir, 'live.key');
    fs.copyFileSync(first.cert, cert);
    fs.copyFileSync(first.key, key);
    const node = await startCablecast(['--tls-cert', cert, '--tls-key', key]);
    cleanup.push(() => node.stop('SIGKILL'));
    const ca = [first.pem, second.pem];
    const fingerprintOf = async (pem) => new crypto.X509Certificate(pem).fingerprint256;

    assert.equal((await tryTls(node.port, {ca})).fingerprint, await fingerprintOf(first.pem));
    const open = await connectWelcomed(`wss://127.0.0.1:${node.port}/cable`, {ca});
    cleanup.push(() => open.close());
    const id = await open.subscribe(benchmarkId('reload'));

    fs.copyFileSync(second.cert, cert);
    fs.copyFileSync(second.key, key);
    let mark = node.logs.length;
    node.proc.kill('SIGHUP');
    await node.waitForLog(/TLS certificate reloaded/, 3000, mark);
    assert.equal((await tryTls(node.port, {ca})).fingerprint, await fingerprintOf(second.pem));
    // The connection made before the reload keeps working.
    open.send({command: 'message', identifier: id, data: JSON.stringify({action: 'echo', n: 1})});
    assert.deepEqual((await open.next((m) => m.identifier === id)).message, {action: 'echo', n: 1});

    fs.writeFileSync(key, 'not a key');
    mark = node.logs.length;
    node.proc.kill('SIGHUP');
    await node.waitForLog(/TLS reload failed: keeping the current certificate/, 3000, mark);
    assert.equal((await tryTls(node.port, {ca})).fingerprint, await fingerprintOf(second.pem));
    assert.equal(node.exitInfo, null, 'the server is still running');
  });

  test('SIGTERM over TLS: server_restart, a close frame, exit 0', async () => {
    const node = await startCablecast(['--tls-cert', certificate.cert, '--tls-key', certificate.key]);
    cleanup.push(() => node.stop('SIGKILL'));
    const client = await connectWelcomed(`wss://127.0.0.1:${node.port}/cable`, {ca: certificate.pem});
    await client.subscribe(benchmarkId('tls-stop'));
    const exitCode = node.stop('SIGTERM', 8000);
    assert.deepEqual(await client.next((m) => m.type === 'disconnect', 5000), RESTART);
    const closed = await client.closed;
    assert.equal(closed.code, 1000);
    assert.equal(await exitCode, 0);
  });
});
