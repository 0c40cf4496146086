// The demo chat page over https:// and wss:// in headless Chromium: the browser's own TLS stack
// (not Node's OpenSSL) against Cablecast's --tls-cert/--tls-key, with the official client the page
// loads. The certificate is made at test time; this browser context is told to accept it
// (ignoreHTTPSErrors), which skips only the trust check, not the encryption.
import {test} from 'node:test';
import assert from 'node:assert/strict';
import {execFile} from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {promisify} from 'node:util';
import {chromium} from 'playwright-core';
import {startCablecast} from '../support/servers.mjs';

const run = promisify(execFile);
const CHROMIUM = process.env.CABLECAST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
                       '--disable-component-update', '--disable-sync', '--no-first-run'];

test('two Chromium users chat through the demo page over https:// and wss://', {timeout: 60_000}, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cablecast-browser-tls-'));
  const cert = path.join(dir, 'server.crt');
  const key = path.join(dir, 'server.key');
  await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
                        '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=IP:127.0.0.1',
                        '-keyout', key, '-out', cert]);
  const server = await startCablecast(['--tls-cert', cert, '--tls-key', key]);
  const browser = await chromium.launch({executablePath: CHROMIUM, args: CHROMIUM_ARGS});
  t.after(async () => {
    await browser.close();
    await server.stop('SIGKILL');
    fs.rmSync(dir, {recursive: true, force: true});
  });

  const baseUrl = `https://127.0.0.1:${server.port}`;
  async function user(name) {
    const context = await browser.newContext({ignoreHTTPSErrors: true});
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const sockets = [];
    page.on('websocket', (socket) => sockets.push(socket.url()));
    await page.goto(`${baseUrl}/?name=${name}`);
    await page.fill('#name', name);
    await page.press('#name', 'Enter');
    await page.waitForSelector(`#status[data-state="connected"][data-user="${name}"]`);
    return {page, sockets};
  }
  const alice = await user('alice');
  const bob = await user('bob');
  assert.ok(alice.sockets.length > 0 && alice.sockets.every((u) => u.startsWith(`wss://127.0.0.1:${server.port}/cable`)),
            `the page connected over wss://: ${alice.sockets.join(', ')}`);

  await alice.page.fill('#message-input', 'hello over TLS');
  await alice.page.press('#message-input', 'Enter');
  await bob.page.waitForFunction(() => [...document.querySelectorAll('#messages > li .text')]
      .some((el) => el.textContent === 'hello over TLS'));
  await alice.page.waitForFunction(() => [...document.querySelectorAll('#messages > li .text')]
      .some((el) => el.textContent === 'hello over TLS'));
  // Chromium first refuses the untrusted test certificate (the server logs the browser's
  // "certificate unknown" alert) and then proceeds as told; any other failure is a finding.
  const failures = server.logs.filter((l) => /TLS handshake failed: /.test(l));
  assert.deepEqual(failures.filter((l) => !/certificate unknown/.test(l)), [], server.logs.join('\n'));
});
