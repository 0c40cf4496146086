// The demo chat page on AnyCable's extended protocol, in headless Chromium against the real binary:
// what `actioncable-v1-ext-json` adds to the chat, seen by two users (alice, bob) in one room.
//  * Presence: each page lists both members of the room (screenshots demo-presence-*.png).
//  * Whispers: typing on one page shows "alice is typing…" on the other, for a few seconds, never
//    on the sender's page (screenshot demo-typing.png).
//  * No message lost through a network drop: bob's page reaches the server through a TCP proxy the
//    test cuts (and the browser is switched offline) while alice sends; once the network is back
//    bob's page shows every message once, in order, and the whispers sent meanwhile are not replayed.
//  * No message lost through a server restart (with --pubsub redis; skipped without
//    CABLECAST_TEST_REDIS_URL, see scripts/with-services.sh): bob is cut off, the server is stopped
//    with SIGTERM and started again on the same port, alice (reconnected by herself) goes on, and
//    bob's page, open all along, ends with the same list as alice's.
//
//   node --test tests/browser/anycable_demo.test.mjs
//   scripts/with-services.sh node --test tests/browser/anycable_demo.test.mjs   (with the restart)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startCablecast } from '../support/servers.mjs';
import { startTcpProxy } from '../support/tcp_proxy.mjs';
import { uniquePrefix } from '../support/redis_env.mjs';
import {
  launchChromium,
  openChatPage,
  renderedMessages,
  screenshot,
  send,
  waitConnected,
} from '../support/chat_page.mjs';

// The page's client reconnects with a randomized backoff of 1.5-9 s after a server's disconnect.
const RECONNECT_TIMEOUT_MS = 20_000;
// The page shows a typing indicator for 3 s after the last whisper.
const TYPING_CLEARED_TIMEOUT_MS = 8_000;
const CLIENT_MODULES = ['/vendor/@anycable/web/index.js', '/vendor/@anycable/core/index.js', '/vendor/nanoevents/index.js'];

const frames = (socket) => socket.received.concat(socket.sent).map((frame) => JSON.parse(frame));
const sentFrames = (socket) => socket.sent.map((frame) => JSON.parse(frame));
const receivedFrames = (socket) => socket.received.map((frame) => JSON.parse(frame));
const isTypingWhisper = (frame) => frame.message?.event === 'typing';

async function presenceList(page, expectedIds) {
  await page.waitForFunction(
    (ids) =>
      JSON.stringify([...document.querySelectorAll('#presence-list [data-id]')].map((li) => li.dataset.id)) ===
      JSON.stringify(ids),
    expectedIds,
  );
  return page.$$eval('#presence-list > li', (items) =>
    items.map((li) => ({ id: li.dataset.id, self: li.classList.contains('self') })),
  );
}

function typingText(page) {
  return page.textContent('#typing');
}

async function switchRoom(page, name, room) {
  await page.fill('#room', room);
  await page.press('#room', 'Enter');
  await waitConnected(page, name, room);
}

// Bob's network goes away: the proxy resets his connection and the browser is offline, so the
// client sees what it sees when a laptop loses Wi-Fi.
async function cutOff(user, proxy) {
  await user.context.setOffline(true);
  proxy.cut();
  await user.page.waitForSelector('#status[data-state="disconnected"]');
}

// The network is back: the browser fires `online`, on which @anycable/web reconnects at once.
async function reconnectAfterCut(user, proxy, room) {
  const socketsBefore = user.sockets.length;
  proxy.restore();
  await user.context.setOffline(false);
  await waitConnected(user.page, user.name, room, { timeout: RECONNECT_TIMEOUT_MS });
  assert.ok(user.sockets.length > socketsBefore, `${user.name} reconnected on a new socket`);
  return user.sockets.at(-1);
}

// Chromium logs each reconnect attempt the client makes while the test holds the browser offline.
const OFFLINE_ATTEMPT = /^console error: WebSocket connection to .* failed: .*net::ERR_INTERNET_DISCONNECTED$/;

function assertHealthy(users) {
  for (const user of users) {
    const problems = user.problems.filter((problem) => !OFFLINE_ATTEMPT.test(problem));
    assert.deepEqual(problems, [], `${user.name}: no console or page errors`);
    assert.deepEqual(user.externalRequests, [], `${user.name}: the page loads nothing off-origin`);
    assert.deepEqual(user.failedRequests, [], `${user.name}: no request of the page fails (no 404)`);
  }
}

// What was said in the room, in order: say() sends from one page and waits until that page shows
// it (so the server has broadcast it); view(name) is the list each page must end up showing.
function conversation() {
  const lines = [];
  return {
    get length() {
      return lines.length;
    },
    async say(user, text) {
      await send(user.page, text);
      lines.push({ user: user.name, text });
      await renderedMessages(user.page, lines.length);
    },
    view(me) {
      return lines.map(({ user, text }) => ({ user, text, own: user === me }));
    },
  };
}

test('the demo chat on the extended protocol', { timeout: 240_000 }, async (t) => {
  const browserReady = launchChromium();
  browserReady.catch(() => {}); // reported where it is awaited
  t.after(async () => (await browserReady.catch(() => null))?.close());

  await t.test('presence, typing and a network drop lose nothing', async (st) => {
    const server = await startCablecast();
    st.after(() => server.stop());
    const proxy = await startTcpProxy(server.port);
    st.after(() => proxy.close());
    const browser = await browserReady;

    const alice = await openChatPage(browser, `http://127.0.0.1:${server.port}`, { name: 'alice' });
    const bob = await openChatPage(browser, `http://127.0.0.1:${proxy.port}`, { name: 'bob' });
    st.after(() => Promise.all([alice.context.close(), bob.context.close()]));
    await waitConnected(alice.page, 'alice', 'lobby');
    await waitConnected(bob.page, 'bob', 'lobby');

    // The client came from the binary's copy of the npm packages, through the import map.
    const loaded = await alice.page.evaluate(() =>
      performance.getEntriesByType('resource').map((entry) => new URL(entry.name).pathname),
    );
    for (const module of CLIENT_MODULES) assert.ok(loaded.includes(module), `the page loaded ${module}`);
    const aliceSocket = alice.sockets.at(-1);
    const welcome = receivedFrames(aliceSocket).find((frame) => frame.type === 'welcome');
    assert.equal(typeof welcome?.sid, 'string', 'the extended protocol: the welcome carries a session id');

    // Presence: both pages list both members, each marking itself.
    assert.deepEqual(await presenceList(alice.page, ['alice', 'bob']), [
      { id: 'alice', self: true },
      { id: 'bob', self: false },
    ]);
    assert.deepEqual(await presenceList(bob.page, ['alice', 'bob']), [
      { id: 'alice', self: false },
      { id: 'bob', self: true },
    ]);
    assert.equal(await alice.page.textContent('#presence-count'), '2');
    const joins = sentFrames(aliceSocket).filter((frame) => frame.command === 'join');
    assert.deepEqual(
      joins.map((frame) => frame.presence),
      [{ id: 'alice', info: { name: 'alice' } }],
      'alice joined the room once, as herself',
    );
    await screenshot(alice.page, 'demo-presence-alice');
    await screenshot(bob.page, 'demo-presence-bob');

    // Typing: alice's keystrokes whisper to bob, who sees the indicator until it times out.
    await alice.page.fill('#message-input', 'hello the');
    await bob.page.waitForFunction(() => document.querySelector('#typing').textContent === 'alice is typing…');
    await screenshot(bob.page, 'demo-typing');
    await bob.page.waitForFunction(() => document.querySelector('#typing').textContent === '', null, {
      timeout: TYPING_CLEARED_TIMEOUT_MS,
    });
    await alice.page.fill('#message-input', '');

    const chat = conversation();
    await chat.say(alice, 'hello there');
    await chat.say(bob, 'hi alice');
    assert.deepEqual(await renderedMessages(alice.page, 2), chat.view('alice'));
    assert.deepEqual(await renderedMessages(bob.page, 2), chat.view('bob'));
    // Bob's message reached alice after his typing whisper: the server had handled alice's
    // whispers long before, and not one came back to her.
    assert.ok(
      receivedFrames(aliceSocket).some((frame) => isTypingWhisper(frame) && frame.message.name === 'bob'),
      "alice's page received bob's typing whisper",
    );
    assert.ok(
      !receivedFrames(aliceSocket).some((frame) => isTypingWhisper(frame) && frame.message.name === 'alice'),
      'a whisper never comes back to its sender',
    );

    // A network drop on bob's side while alice goes on talking (and typing).
    await cutOff(bob, proxy);
    for (const n of [1, 2, 3]) await chat.say(alice, `while bob is away ${n}`);
    assert.equal(await alice.page.textContent('#presence-count'), '2', 'a dropped member stays listed for the presence TTL');
    const bobSocket = await reconnectAfterCut(bob, proxy, 'lobby');
    assert.match(bobSocket.url, /[?&]sid=[\w-]/, "bob's client asks to restore its session");
    assert.equal(receivedFrames(bobSocket)[0]?.restored, true, "the server restores bob's session");
    assert.deepEqual(await renderedMessages(bob.page, chat.length), chat.view('bob'));
    assert.deepEqual(await renderedMessages(alice.page, chat.length), chat.view('alice'));
    await presenceList(bob.page, ['alice', 'bob']);
    assert.ok(!frames(bobSocket).some(isTypingWhisper), 'whispers sent while bob was away are not replayed');
    assert.equal(await typingText(bob.page), '');
    await screenshot(bob.page, 'demo-after-network-drop');

    // And the conversation goes on live on the recovered connection, each message once.
    await chat.say(bob, 'back again');
    assert.deepEqual(await renderedMessages(alice.page, chat.length), chat.view('alice'));
    assert.deepEqual(await renderedMessages(bob.page, chat.length), chat.view('bob'));
    assertHealthy([alice, bob]);
  });

  const redisUrl = process.env.CABLECAST_TEST_REDIS_URL;
  await t.test(
    'a server restart on Redis loses nothing for a page that stays open',
    { skip: redisUrl ? false : 'CABLECAST_TEST_REDIS_URL is not set (run under scripts/with-services.sh)' },
    async (st) => {
      const args = ['--pubsub', 'redis', '--redis-url', redisUrl, '--channel-prefix', uniquePrefix('demo')];
      let server = await startCablecast(args);
      const port = server.port;
      st.after(() => server.stop());
      const proxy = await startTcpProxy(port);
      st.after(() => proxy.close());
      const browser = await browserReady;
      // A room of its own: history and presence live in Redis, shared with every other test.
      const room = `restart-${process.pid}-${Date.now().toString(36)}`;

      const alice = await openChatPage(browser, `http://127.0.0.1:${port}`, { name: 'alice' });
      const bob = await openChatPage(browser, `http://127.0.0.1:${proxy.port}`, { name: 'bob' });
      st.after(() => Promise.all([alice.context.close(), bob.context.close()]));
      await switchRoom(alice.page, 'alice', room);
      await switchRoom(bob.page, 'bob', room);
      await presenceList(alice.page, ['alice', 'bob']);

      const chat = conversation();
      await chat.say(alice, 'before the restart');
      await renderedMessages(bob.page, 1);

      await cutOff(bob, proxy);
      await chat.say(alice, 'bob is away, the server still up');
      assert.equal(await server.stop('SIGTERM'), 0, 'the server shuts down cleanly on SIGTERM');
      server = await startCablecast(args, { port });
      await waitConnected(alice.page, 'alice', room, { timeout: RECONNECT_TIMEOUT_MS });
      await chat.say(alice, 'the server is back');

      const bobSocket = await reconnectAfterCut(bob, proxy, room);
      assert.equal(receivedFrames(bobSocket)[0]?.restored, true, 'the restarted server restores the session from Redis');
      assert.deepEqual(await renderedMessages(bob.page, chat.length), chat.view('bob'));
      assert.deepEqual(await renderedMessages(alice.page, chat.length), chat.view('alice'));
      await presenceList(bob.page, ['alice', 'bob']);
      await screenshot(bob.page, 'demo-after-server-restart');
      // A later message fences the check: nothing recovered twice arrived in between.
      await chat.say(bob, 'back after the restart');
      assert.deepEqual(await renderedMessages(alice.page, chat.length), chat.view('alice'));
      assert.deepEqual(await renderedMessages(bob.page, chat.length), chat.view('bob'));
      assertHealthy([alice, bob]);
    },
  );
});
