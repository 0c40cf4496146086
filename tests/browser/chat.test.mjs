// End-to-end check of the demo chat page: the real cablecast binary serves the page and the official
// @rails/actioncable client, and two headless Chromium users chat through it.
//
//   node --test tests/browser/chat.test.mjs      (from the repo root; ctest runs exactly this)
//
// Environment: CABLECAST_BIN (default <root>/build/release/cablecast), CABLECAST_ROOT (default: two
// directories above this file), CABLECAST_CHROMIUM (default /usr/bin/chromium).
// A missing binary or browser is a FAILURE, not a skip: a green run must mean the page was exercised.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { accessSync, constants, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { chromium } from 'playwright-core';

const ROOT = resolve(process.env.CABLECAST_ROOT ?? fileURLToPath(new URL('../..', import.meta.url)));
const BIN = resolve(ROOT, process.env.CABLECAST_BIN ?? 'build/release/cablecast');
const CHROMIUM = process.env.CABLECAST_CHROMIUM ?? '/usr/bin/chromium';
const ASSETS = join(ROOT, 'src/server/assets');
const OFFICIAL_CLIENT = join(ROOT, 'node_modules/@rails/actioncable/app/assets/javascripts/actioncable.js');
const SCREENSHOTS = join(ROOT, 'tests/browser/screenshots');

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];
const SERVER_START_TIMEOUT_MS = 10_000;
const STEP_TIMEOUT_MS = 5_000; // any single UI expectation; everything is local
// After a barrier proves the server has processed later traffic, give a stray (wrongly routed)
// broadcast this long to show up before asserting it did not.
const STRAY_MESSAGE_GRACE_MS = 300;

function assertExecutable(path, what) {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    assert.fail(`${what} not found or not executable at ${path}`);
  }
}

// Starts `cablecast serve --port 0` and resolves with the port it reports on stderr.
function startServer() {
  const child = spawn(BIN, ['serve', '--port', '0', '--log-level', 'info'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const port = new Promise((resolvePort, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no "listening on 127.0.0.1:<port>" within ${SERVER_START_TIMEOUT_MS} ms`)),
      SERVER_START_TIMEOUT_MS,
    );
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => {
      output += chunk;
      const match = /listening on 127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolvePort(Number(match[1]));
      }
    });
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`server exited before listening (code ${code}, signal ${signal})`));
    });
  });
  return { child, port, output: () => output };
}

async function stopServer(server) {
  const { child } = server;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  const killer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(killer);
}

// One chat user: its own browser context (so localStorage and the connection are not shared), with
// every console error, page error, WebSocket and off-origin request recorded for later assertions.
async function openUser(browser, baseUrl, name) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const user = { name, context, problems: [], externalRequests: [], sockets: [] };
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === baseUrl) return route.continue();
    user.externalRequests.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('pageerror', (error) => user.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') user.problems.push(`console error: ${message.text()}`);
  });
  page.on('websocket', (socket) => {
    const record = { url: socket.url(), sent: [], received: [] };
    record.closed = new Promise((resolveClosed) => socket.on('close', resolveClosed));
    socket.on('framesent', (frame) => record.sent.push(String(frame.payload)));
    socket.on('framereceived', (frame) => record.received.push(String(frame.payload)));
    user.sockets.push(record);
  });
  user.page = page;

  await page.goto(`${baseUrl}/`);
  const guest = await page.inputValue('#name');
  assert.match(guest, /^guest-[a-z0-9]{4}$/, 'a first visit gets a generated guest name');
  await waitConnected(page, guest, 'lobby');
  // Renaming must reopen the connection under the new name (the server identifies it by ?user=).
  await page.fill('#name', name);
  await page.press('#name', 'Enter');
  await waitConnected(page, name, 'lobby');
  return user;
}

function waitConnected(page, name, room) {
  return page.waitForSelector(
    `#status[data-state="connected"][data-user="${name}"][data-room="${room}"]`,
  );
}

async function send(page, text, { via }) {
  await page.fill('#message-input', text);
  if (via === 'enter') await page.press('#message-input', 'Enter');
  else await page.click('#send');
  // The page clears the input only once perform() handed the message to an open socket.
  await page.waitForFunction(() => document.querySelector('#message-input').value === '');
}

async function messagesOnceAtLeast(page, count) {
  await page.waitForFunction((n) => document.querySelectorAll('#messages > li').length >= n, count);
  return page.$$eval('#messages > li', (items) =>
    items.map((li) => ({
      user: li.querySelector('.author').textContent,
      text: li.querySelector('.text').textContent,
      own: li.classList.contains('own'),
    })),
  );
}

async function withTimeout(promise, what) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), STEP_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

const parsedFrames = (frames) => frames.map((frame) => JSON.parse(frame));

async function screenshot(user, label) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${label}.png`);
  await user.page.screenshot({ path });
  console.log(`screenshot: ${path}`);
}

test('demo chat page works end to end in Chromium', { timeout: 60_000 }, async (t) => {
  assertExecutable(BIN, 'cablecast binary (set CABLECAST_BIN or build the release preset)');
  assertExecutable(CHROMIUM, 'Chromium (set CABLECAST_CHROMIUM or install the chromium package)');

  const server = startServer();
  // Chromium starts while the server does; together they are most of this test's run time.
  const browserReady = chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  browserReady.catch(() => {}); // rejection is reported where it is awaited, below
  t.after(async () => {
    const browser = await browserReady.catch(() => null);
    await browser?.close();
    if (server.child.exitCode !== null || server.child.signalCode !== null) {
      console.log(`server exited during the test:\n${server.output().slice(-4000)}`);
    }
    await stopServer(server);
  });

  const port = await server.port.catch((error) =>
    assert.fail(`${error.message}\n--- server output ---\n${server.output().slice(-4000)}`),
  );
  const browser = await browserReady;
  const baseUrl = `http://127.0.0.1:${port}`;

  await t.test('serves the page, its assets and the official client', async () => {
    const expected = [
      ['/', join(ASSETS, 'index.html'), /^text\/html\b/],
      ['/chat.js', join(ASSETS, 'chat.js'), /^(text|application)\/javascript\b/],
      ['/chat.css', join(ASSETS, 'chat.css'), /^text\/css\b/],
      ['/actioncable.js', OFFICIAL_CLIENT, /^(text|application)\/javascript\b/],
    ];
    for (const [path, file, contentType] of expected) {
      const response = await fetch(baseUrl + path);
      assert.equal(response.status, 200, `GET ${path}`);
      assert.match(response.headers.get('content-type') ?? '', contentType, `Content-Type of ${path}`);
      // Byte-identical to the source tree: catches a binary that embedded stale assets.
      const body = Buffer.from(await response.arrayBuffer());
      assert.ok(body.equals(readFileSync(file)), `${path} is served byte-identical to ${file}`);
    }
  });

  await t.test('two users chat, switch rooms and keep their names', async (st) => {
    const alice = await openUser(browser, baseUrl, 'alice');
    const bob = await openUser(browser, baseUrl, 'bob');

    for (const user of [alice, bob]) {
      const [guestSocket, namedSocket] = user.sockets;
      assert.equal(user.sockets.length, 2, `${user.name}: one socket as guest, one after renaming`);
      assert.match(guestSocket.url, /[?&]user=guest-[a-z0-9]{4}$/);
      await withTimeout(guestSocket.closed, `${user.name}: the guest connection closes after renaming`);
      assert.ok(namedSocket.url.endsWith(`/cable?user=${user.name}`), namedSocket.url);
      assert.equal(await user.page.evaluate(() => localStorage.getItem('cablecast.chat.name')), user.name);
    }

    // Both directions, each visible to both sides exactly once, in the same order on both pages.
    const first = 'Hello bob — ünïcödé ✓';
    const second = 'hi <b>alice</b> & <i>co</i>'; // must render as text, not markup
    await send(alice.page, first, { via: 'enter' });
    await messagesOnceAtLeast(bob.page, 1);
    await send(bob.page, second, { via: 'click' });
    const aliceView = await messagesOnceAtLeast(alice.page, 2);
    const bobView = await messagesOnceAtLeast(bob.page, 2);
    assert.deepEqual(aliceView, [
      { user: 'alice', text: first, own: true },
      { user: 'bob', text: second, own: false },
    ]);
    assert.deepEqual(bobView, [
      { user: 'alice', text: first, own: false },
      { user: 'bob', text: second, own: true },
    ]);
    for (const user of [alice, bob]) {
      assert.equal(await user.page.locator('#messages b, #messages i').count(), 0, 'text is escaped');
      assert.equal(await user.page.textContent('#message-count'), '2 messages');
    }
    await screenshot(alice, 'alice');
    await screenshot(bob, 'bob');

    // Bob joins a free-text room: the lobby subscription is dropped and the list starts empty.
    await bob.page.fill('#room', 'night-shift');
    await bob.page.press('#room', 'Enter');
    await waitConnected(bob.page, 'bob', 'night-shift');
    assert.equal(await bob.page.textContent('#current-room'), '# night-shift');
    assert.equal(await bob.page.getAttribute('#room-list [data-room="night-shift"]', 'aria-current'), 'true');
    assert.equal(await bob.page.locator('#messages > li').count(), 0, 'switching rooms clears the list');
    const bobSocket = bob.sockets.at(-1);
    const unsubscribes = parsedFrames(bobSocket.sent).filter((f) => f.command === 'unsubscribe');
    assert.deepEqual(
      unsubscribes.map((f) => JSON.parse(f.identifier)),
      [{ channel: 'ChatChannel', room: 'lobby' }],
    );

    // Alice's lobby message reaches alice (so the server has fanned it out) but not bob; bob's
    // message in his room reaches only him.
    const lobbyOnly = 'anyone still in the lobby?';
    const nightOnly = 'night shift checking in';
    await send(alice.page, lobbyOnly, { via: 'enter' });
    await send(bob.page, nightOnly, { via: 'enter' });
    await messagesOnceAtLeast(alice.page, 3);
    await messagesOnceAtLeast(bob.page, 1);
    await sleep(STRAY_MESSAGE_GRACE_MS);
    assert.deepEqual(await messagesOnceAtLeast(bob.page, 0), [{ user: 'bob', text: nightOnly, own: true }]);
    assert.deepEqual((await messagesOnceAtLeast(alice.page, 0)).at(-1), {
      user: 'alice',
      text: lobbyOnly,
      own: true,
    });
    assert.equal(await alice.page.locator('#messages > li').count(), 3);
    assert.ok(
      !bobSocket.received.some((frame) => frame.includes(lobbyOnly)),
      'the server no longer sends lobby broadcasts to bob',
    );
    await screenshot(bob, 'bob-other-room');

    // The name survives a reload (localStorage) and is used for the very first connection.
    await bob.page.reload();
    assert.equal(await bob.page.inputValue('#name'), 'bob');
    await waitConnected(bob.page, 'bob', 'lobby');
    assert.ok(bob.sockets.at(-1).url.endsWith('/cable?user=bob'), bob.sockets.at(-1).url);

    for (const user of [alice, bob]) {
      assert.deepEqual(user.problems, [], `${user.name}: no console or page errors`);
      assert.deepEqual(user.externalRequests, [], `${user.name}: the page loads nothing off-origin`);
    }
  });
});
