// Safe by default against cross-site WebSocket hijacking, over a real socket: without
// --allowed-origins a browser request (it carries Origin) upgrades only from the page's own
// host and port, a request without Origin (not a browser) still upgrades, and another site gets
// Rails' 404 before the upgrade with one log line. --allowed-origins adds origins; '*' accepts
// every request.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';

import {rawUpgrade} from '../support/raw_ws.mjs';
import {startCablecast} from '../support/servers.mjs';

// Upgrades with these request headers (null removes a default one) and returns the status; an
// accepted socket must greet the client, so "101" means a working connection.
async function upgradeStatus(port, headers) {
  const res = await rawUpgrade({port, headers});
  try {
    if (res.status === 101) assert.deepEqual(await res.ws.nextJson(), {type: 'welcome'});
    return res.status;
  } finally {
    res.ws?.destroy();
  }
}

describe('without --allowed-origins', () => {
  let server;
  before(async () => { server = await startCablecast(); });
  after(async () => assert.equal(await server.stop(), 0));

  test('the page of the same host and port upgrades', async () => {
    assert.equal(await upgradeStatus(server.port, {Origin: `http://127.0.0.1:${server.port}`}), 101);
  });

  test('the same host is compared case-insensitively, with the scheme\'s default port', async () => {
    assert.equal(await upgradeStatus(server.port, {Host: 'Cable.Example', Origin: 'http://cable.example'}), 101);
    assert.equal(await upgradeStatus(server.port, {Host: 'cable.example:443', Origin: 'https://cable.example'}), 101);
    assert.equal(await upgradeStatus(server.port, {Host: '[::1]:8080', Origin: 'http://[::1]:8080'}), 101);
  });

  test('a request without Origin (not a browser) upgrades', async () => {
    assert.equal(await upgradeStatus(server.port, {Origin: null}), 101);
  });

  test('another site, or another port of the same host, gets 404 and one log line each', async () => {
    const mark = server.logs.length;
    assert.equal(await upgradeStatus(server.port, {Origin: 'http://evil.example'}), 404);
    assert.equal(await upgradeStatus(server.port, {Origin: `http://127.0.0.1:${server.port + 1}`}), 404);
    assert.equal(await upgradeStatus(server.port, {Origin: 'null'}), 404);
    // The last refusal's line fences the earlier ones: once it is in, theirs are too.
    await server.waitForLog(/refused WebSocket upgrade.*'null'/, 5000, mark);
    const lines = server.logs.slice(mark).filter((l) => /refused WebSocket upgrade/.test(l));
    assert.equal(lines.length, 3, lines.join('\n'));
    assert.match(lines[0], /\(404\).*origin 'http:\/\/evil\.example' is not the Host's/);
  });
});

describe('with --allowed-origins', () => {
  let server;
  before(async () => { server = await startCablecast(['--allowed-origins', 'https://app.example']); });
  after(async () => assert.equal(await server.stop(), 0));

  test('a listed origin and the same origin upgrade; another one does not', async () => {
    assert.equal(await upgradeStatus(server.port, {Origin: 'https://app.example'}), 101);
    assert.equal(await upgradeStatus(server.port, {Origin: `http://127.0.0.1:${server.port}`}), 101);
    assert.equal(await upgradeStatus(server.port, {Origin: 'https://evil.example'}), 404);
  });

  test('a request without Origin is refused, as Rails does once origins are listed', async () => {
    assert.equal(await upgradeStatus(server.port, {Origin: null}), 404);
  });
});

describe("with --allowed-origins '*'", () => {
  let server;
  before(async () => { server = await startCablecast(['--allowed-origins', '*']); });
  after(async () => assert.equal(await server.stop(), 0));

  test('every request upgrades, from any site or none', async () => {
    assert.equal(await upgradeStatus(server.port, {Origin: 'http://evil.example'}), 101);
    assert.equal(await upgradeStatus(server.port, {Origin: null}), 101);
  });
});
