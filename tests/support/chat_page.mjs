// Driving the demo chat page (src/app/assets/) in headless Debian Chromium through
// playwright-core, for the browser tests (tests/browser/*.test.mjs):
//   launchChromium() -> browser; openChatPage(browser, url, {name}) -> user {name, context, page,
//   problems, externalRequests, failedRequests, sockets}; waitConnected, send, renderedMessages,
//   screenshot, withTimeout.
// A missing browser is a FAILURE, not a skip: a green run must mean the page was exercised.
import assert from 'node:assert/strict';
import { accessSync, constants, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { repoRoot } from './paths.mjs';

export const CHROMIUM = process.env.CABLECAST_CHROMIUM ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(repoRoot, 'tests/browser/screenshots');
export const STEP_TIMEOUT_MS = 5_000; // any single UI expectation; everything is local

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

export function assertExecutable(path, what) {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    assert.fail(`${what} not found or not executable at ${path}`);
  }
}

/** Starts headless Chromium (CABLECAST_CHROMIUM, default Debian's /usr/bin/chromium). */
export function launchChromium() {
  assertExecutable(CHROMIUM, 'Chromium (set CABLECAST_CHROMIUM or install the chromium package)');
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * Opens `baseUrl`/ in a browser context of its own (so localStorage and the connection are not
 * shared), with every console error, page error, failed or non-2xx request, WebSocket and
 * off-origin request recorded for later assertions. With `name`, the page starts under that chat
 * name (as a returning visitor: it is in localStorage before the page's script runs).
 */
export async function openChatPage(browser, baseUrl, { name } = {}) {
  const context = await browser.newContext({ viewport: { width: 1100, height: 720 } });
  const user = { name, context, problems: [], externalRequests: [], failedRequests: [], sockets: [] };
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (new URL(url).origin === baseUrl) return route.continue();
    user.externalRequests.push(url);
    return route.abort();
  });
  if (name !== undefined) {
    await context.addInitScript((stored) => localStorage.setItem('cablecast.chat.name', stored), name);
  }
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_TIMEOUT_MS);
  page.on('pageerror', (error) => user.problems.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') user.problems.push(`console error: ${message.text()}`);
  });
  page.on('requestfailed', (request) => {
    const url = request.url();
    if (new URL(url).origin === baseUrl) user.failedRequests.push(`${url}: ${request.failure()?.errorText}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) user.failedRequests.push(`${response.url()}: HTTP ${response.status()}`);
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
  return user;
}

/** Waits until the status badge says the page's subscription to `room` as `name` is confirmed. */
export function waitConnected(page, name, room, { timeout } = {}) {
  return page.waitForSelector(
    `#status[data-state="connected"][data-user="${name}"][data-room="${room}"]`,
    timeout === undefined ? undefined : { timeout },
  );
}

/** Types `text` and sends it with Enter or the Send button; resolves once the page sent it. */
export async function send(page, text, { via = 'enter' } = {}) {
  await page.fill('#message-input', text);
  if (via === 'enter') await page.press('#message-input', 'Enter');
  else await page.click('#send');
  // The page clears the input only once the message was handed to an open socket.
  await page.waitForFunction(() => document.querySelector('#message-input').value === '');
}

/** The rendered message list once it has at least `count` entries: [{user, text, own}]. */
export async function renderedMessages(page, count = 0, { timeout } = {}) {
  await page.waitForFunction(
    (n) => document.querySelectorAll('#messages > li').length >= n,
    count,
    timeout === undefined ? undefined : { timeout },
  );
  return page.$$eval('#messages > li', (items) =>
    items.map((li) => ({
      user: li.querySelector('.author').textContent,
      text: li.querySelector('.text').textContent,
      own: li.classList.contains('own'),
    })),
  );
}

export async function withTimeout(promise, what, timeoutMs = STEP_TIMEOUT_MS) {
  let timer;
  const expired = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out: ${what}`)), timeoutMs);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Saves tests/browser/screenshots/<label>.png and prints its path. */
export async function screenshot(page, label) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${label}.png`);
  await page.screenshot({ path });
  console.log(`screenshot: ${path}`);
}
