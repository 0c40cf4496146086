// Turbo Streams in a real browser over Cablecast, with no Ruby on the socket path: a page using
// @hotwired/turbo and turbo-rails' <turbo-cable-stream-source> (npm @hotwired/turbo-rails, which
// loads @rails/actioncable) in headless Chromium subscribes to Turbo::StreamsChannel with a name
// signed by the real ActiveSupport::MessageVerifier under the key Rails derives from a test
// secret_key_base; Rails' ActionCable.server.broadcast (Redis adapter) publishes
// <turbo-stream action="append"> HTML; Cablecast (--secret-key-base, --pubsub redis) verifies the
// name natively and delivers; Turbo appends to the DOM. A second source with a forged name is
// rejected and appends nothing.
//
//   node --test tests/browser/turbo.test.mjs   (under scripts/with-services.sh, for the Redis)
//
// The page and the npm modules come from a small static server on loopback started here (no
// CDN): turbo-rails ships its sources with extensionless relative imports, as a bundler or
// importmap-rails resolves them, so the server adds ".js"; an import map names the packages.
import assert from 'node:assert/strict';
import {accessSync, constants, mkdirSync, readFileSync, statSync} from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import {test} from 'node:test';
import {chromium} from 'playwright-core';
import {railsSigning, withPayload} from '../support/rails_signing.mjs';
import {repoRoot} from '../support/paths.mjs';
import {rubyBroadcast, sharedRedis, uniquePrefix} from '../support/redis_env.mjs';
import {startCablecast} from '../support/servers.mjs';

const CHROMIUM = process.env.CABLECAST_CHROMIUM ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];
const SCREENSHOTS = path.join(repoRoot, 'tests/browser/screenshots');
const NODE_MODULES = path.join(repoRoot, 'node_modules');
const SECRET_KEY_BASE = '9a8b7c6d5e4f30211203f4e5d6c7b8a9'.repeat(4);

const IMPORT_MAP = {
  imports: {
    '@hotwired/turbo': '/npm/@hotwired/turbo/dist/turbo.es2017-esm.js',
    '@hotwired/turbo-rails': '/npm/@hotwired/turbo-rails/app/javascript/turbo/index.js',
    // turbo-rails' cable.js imports the client's ES module sources.
    '@rails/actioncable/src': '/npm/@rails/actioncable/src/index.js',
  },
};

const escapeAttribute = (s) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;');

function pageHtml({cableUrl, signedName, forgedName}) {
  return `<!doctype html>
<html>
<head>
  <meta charset="utf-8">
  <title>Turbo Streams over Cablecast</title>
  <meta name="action-cable-url" content="${escapeAttribute(cableUrl)}">
  <script type="importmap">${JSON.stringify(IMPORT_MAP)}</script>
  <script type="module">import "@hotwired/turbo-rails";</script>
  <style>body { font: 16px system-ui, sans-serif; margin: 2em; } #messages p { padding: .3em .6em; background: #eef; }</style>
</head>
<body>
  <h1>Turbo Streams over Cablecast</h1>
  <turbo-cable-stream-source id="room" channel="Turbo::StreamsChannel" signed-stream-name="${escapeAttribute(signedName)}"></turbo-cable-stream-source>
  <turbo-cable-stream-source id="forged" channel="Turbo::StreamsChannel" signed-stream-name="${escapeAttribute(forgedName)}"></turbo-cable-stream-source>
  <div id="messages"></div>
</body>
</html>`;
}

// Serves `/` (the page) and `/npm/<package path>` from node_modules, ".js" added to an
// extensionless module path. Nothing outside node_modules is reachable.
async function startStaticServer(html) {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    if (url.pathname === '/') {
      res.writeHead(200, {'content-type': 'text/html; charset=utf-8'});
      return res.end(html);
    }
    if (url.pathname.startsWith('/npm/')) {
      const file = path.resolve(NODE_MODULES, decodeURIComponent(url.pathname.slice(5)));
      if (file.startsWith(NODE_MODULES + path.sep)) {
        for (const candidate of [file, `${file}.js`]) {
          if (candidate.endsWith('.js') && statSync(candidate, {throwIfNoEntry: false})?.isFile()) {
            res.writeHead(200, {'content-type': 'text/javascript; charset=utf-8'});
            return res.end(readFileSync(candidate));
          }
        }
      }
    }
    res.writeHead(404, {'content-type': 'text/plain'});
    res.end('not found');
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

const turboId = (signed) => JSON.stringify({channel: 'Turbo::StreamsChannel', signed_stream_name: signed});
const append = (id, text) =>
  `<turbo-stream action="append" target="messages"><template><p id="${id}">${text}</p></template></turbo-stream>`;

test('a <turbo-cable-stream-source> page in Chromium applies a Turbo Stream broadcast by Rails', {timeout: 60_000}, async (t) => {
  accessSync(CHROMIUM, constants.X_OK);
  const redis = sharedRedis();
  const prefix = uniquePrefix('turbo_browser');
  const stream = `${uniquePrefix('Z2lkOi8vdHVyYm8tdGVzdC9Sb29tLzE')}:messages`;

  // The page is the application's, on another port than the cable: a cross-origin socket, so
  // the application's origin is listed as a deployment would.
  const cable = await startCablecast(['--pubsub', 'redis', '--redis-url', redis.url, '--channel-prefix', prefix,
    '--secret-key-base', SECRET_KEY_BASE, '--allowed-origins', 'http://127.0.0.1:*']);
  t.after(() => cable.stop());
  const browserReady = chromium.launch({executablePath: CHROMIUM, args: CHROMIUM_ARGS});
  browserReady.catch(() => {});  // reported where it is awaited
  t.after(async () => (await browserReady.catch(() => null))?.close());

  const [signedName, otherName] = await railsSigning([
    {op: 'turbo_sign', name: stream, secret_key_base: SECRET_KEY_BASE, digest: 'SHA256'},
    {op: 'turbo_sign', name: `${stream}:other`, secret_key_base: SECRET_KEY_BASE, digest: 'SHA256'},
  ]);
  // The other name's signature under this stream's name: verification must refuse it.
  const forgedName = withPayload(otherName, stream);
  const site = await startStaticServer(pageHtml({cableUrl: cable.url, signedName, forgedName}));
  t.after(() => new Promise((resolve) => site.close(resolve)));
  const origin = `http://127.0.0.1:${site.address().port}`;

  const browser = await browserReady;
  const context = await browser.newContext({viewport: {width: 900, height: 500}});
  const problems = [];
  const external = [];
  await context.route('**/*', (route) => {
    if (new URL(route.request().url()).origin === origin) return route.continue();
    external.push(route.request().url());
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
  page.on('console', (m) => m.type() === 'error' && problems.push(`console error: ${m.text()}`));
  const received = [];
  let frameArrived = () => {};
  page.on('websocket', (socket) => {
    socket.on('framereceived', (frame) => {
      received.push(JSON.parse(String(frame.payload)));
      frameArrived();
    });
  });
  const frame = async (predicate, what) => {
    const deadline = Date.now() + 10_000;
    while (!received.some(predicate)) {
      const left = deadline - Date.now();
      if (left <= 0) assert.fail(`no ${what} within 10 s; frames: ${JSON.stringify(received)}`);
      await new Promise((resolve) => {
        const timer = setTimeout(resolve, left);
        frameArrived = () => { clearTimeout(timer); resolve(); };
      });
    }
    return received.find(predicate);
  };

  await page.goto(`${origin}/`);
  // The element sets [connected] when its subscription is confirmed.
  await page.waitForSelector('#room[connected]', {state: 'attached'});
  await frame((m) => m.identifier === turboId(forgedName) && m.type === 'reject_subscription',
              'reject_subscription for the forged source');
  assert.equal(await page.getAttribute('#forged', 'connected'), null);
  assert.equal(await page.locator('#messages p').count(), 0);

  await rubyBroadcast({url: redis.url, prefix, broadcasting: stream,
    messages: [append('first', 'hi'), append('second', 'from Rails, through Redis « ✓ »')]});
  await page.waitForSelector('#messages p#second');
  // Exactly the two, in order: the forged source, had it been accepted, would have appended each
  // broadcast a second time before the second one rendered.
  assert.deepEqual(await page.locator('#messages p').allTextContents(),
                   ['hi', 'from Rails, through Redis « ✓ »']);
  assert.deepEqual(received.filter((m) => m.type !== 'ping' && m.message !== undefined).map((m) => m.identifier),
                   [turboId(signedName), turboId(signedName)]);

  mkdirSync(SCREENSHOTS, {recursive: true});
  const shot = path.join(SCREENSHOTS, 'turbo.png');
  await page.screenshot({path: shot});
  console.log(`screenshot: ${shot}`);
  assert.deepEqual(problems, []);
  assert.deepEqual(external, []);
});
