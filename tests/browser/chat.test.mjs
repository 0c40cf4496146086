// End-to-end check of the demo chat page: the real cablecast binary serves the page and its client
// (@anycable/web on the extended protocol, from the npm package), and two headless Chromium users
// chat through it. tests/browser/anycable_demo.test.mjs covers what the extended protocol adds
// (presence, typing whispers, no message lost through a network drop or a server restart).
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
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cablecastBin as BIN, repoRoot as ROOT } from '../support/paths.mjs';
import {
  assertExecutable,
  launchChromium,
  openChatPage,
  renderedMessages as messagesOnceAtLeast,
  screenshot,
  send,
  waitConnected,
  withTimeout,
} from '../support/chat_page.mjs';

const ASSETS = join(ROOT, 'src/app/assets');
const NODE_MODULES = join(ROOT, 'node_modules');
const OFFICIAL_CLIENT = join(NODE_MODULES, '@rails/actioncable/app/assets/javascripts/actioncable.js');

const SERVER_START_TIMEOUT_MS = 10_000;

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

// One chat user on a first visit: a generated guest name, then renamed through the name field.
async function openUser(browser, baseUrl, name) {
  const user = await openChatPage(browser, baseUrl);
  user.name = name;
  const { page } = user;
  const guest = await page.inputValue('#name');
  assert.match(guest, /^guest-[a-z0-9]{4}$/, 'a first visit gets a generated guest name');
  await waitConnected(page, guest, 'lobby');
  // Renaming must reopen the connection under the new name (the server identifies it by ?user=).
  await page.fill('#name', name);
  await page.press('#name', 'Enter');
  await waitConnected(page, name, 'lobby');
  return user;
}

const parsedFrames = (frames) => frames.map((frame) => JSON.parse(frame));

test('demo chat page works end to end in Chromium', { timeout: 60_000 }, async (t) => {
  assertExecutable(BIN, 'cablecast binary (set CABLECAST_BIN or build the release preset)');

  const server = startServer();
  // Chromium starts while the server does; together they are most of this test's run time.
  const browserReady = launchChromium();
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

  await t.test('serves the page, its assets, @anycable/web and the official client', async () => {
    const expected = [
      ['/', join(ASSETS, 'index.html'), /^text\/html\b/],
      ['/chat.js', join(ASSETS, 'chat.js'), /^(text|application)\/javascript\b/],
      ['/chat.css', join(ASSETS, 'chat.css'), /^text\/css\b/],
      ['/actioncable.js', OFFICIAL_CLIENT, /^(text|application)\/javascript\b/],
      // The client's entry points, as the import map in index.html names them.
      ...['@anycable/web', '@anycable/core', 'nanoevents'].map((pkg) => [
        `/vendor/${pkg}/index.js`,
        join(NODE_MODULES, pkg, 'index.js'),
        /^(text|application)\/javascript\b/,
      ]),
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
    await screenshot(alice.page, 'alice');
    await screenshot(bob.page, 'bob');

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
    // message in his room, sent only then, reaches only him and fences the check: a stray lobby
    // message, published first, would have reached bob's socket before it.
    const lobbyOnly = 'anyone still in the lobby?';
    const nightOnly = 'night shift checking in';
    await send(alice.page, lobbyOnly, { via: 'enter' });
    await messagesOnceAtLeast(alice.page, 3);
    await send(bob.page, nightOnly, { via: 'enter' });
    await messagesOnceAtLeast(bob.page, 1);
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
    await screenshot(bob.page, 'bob-other-room');

    // The name survives a reload (localStorage) and is used for the very first connection.
    await bob.page.reload();
    assert.equal(await bob.page.inputValue('#name'), 'bob');
    await waitConnected(bob.page, 'bob', 'lobby');
    assert.ok(bob.sockets.at(-1).url.endsWith('/cable?user=bob'), bob.sockets.at(-1).url);

    for (const user of [alice, bob]) {
      assert.deepEqual(user.problems, [], `${user.name}: no console or page errors`);
      assert.deepEqual(user.externalRequests, [], `${user.name}: the page loads nothing off-origin`);
      assert.deepEqual(user.failedRequests, [], `${user.name}: every request of the page succeeds`);
    }
  });
});
