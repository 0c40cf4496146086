// AnyCable's JWT identification against the real binary, with tokens made by the libraries
// applications use: npm `jose` and `@anycable/serverless-js`' identificator. A token in the query
// (`jid`, the official @rails/actioncable client), the X-JID header or the sub-protocol
// `anycable-token.<token>` (raw ws) identifies the connection with its `ext` claim, no connect
// call; an expired one is refused with token_expired, anything forged with unauthorized, and a
// missing one falls through to the demo's ?user= identification unless --enforce-jwt. The key
// comes from --jwt-secret, --secret (derived) or ANYCABLE_SECRET; no secret is ever logged.
//
// Who a connection is identified as is read from the server's debug line "connection <sid>
// identified as <identifiers>": it prints the object C++ channels get from
// connection_identifiers() (the demo ChatChannel takes its user from the speak data, as the
// Ruby reference does, so it cannot show them), and the sid ties it to the welcome frame.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {after, before, describe, test} from 'node:test';
import {ActionCable, openedSockets, recordedSubscription} from '../support/actioncable.mjs';
import {chatId, connectJson, PROTOCOLS} from '../support/json_client.mjs';
import {jwtRequest} from '../support/jwt_tokens.mjs';
import {assertNoSecretsLogged} from '../support/log_expectations.mjs';
import {startCablecast} from '../support/servers.mjs';

// Distinct, recognisable secrets: the last test looks for each of them in every log line.
const JWT_SECRET = 'jwt-secret-for-the-jwt-test-7c1f0e';
const SECRET = 'one-anycable-secret-for-the-jwt-test-4b9d2a';
const ENV_SECRET = 'anycable-secret-from-the-environment-e83a51';
const OTHER_SECRET = 'not-the-server-secret-0f4a77';

const servers = [];
const presentedTokens = [];
async function start(args, options) {
  const server = await startCablecast(args, options);
  servers.push(server);
  return server;
}

const now = () => Math.floor(Date.now() / 1000);
// The token an application's backend hands its page, via @anycable/serverless-js.
async function appToken(identifiers, {secret = JWT_SECRET, exp = '1h'} = {}) {
  const token = await jwtRequest({op: 'identificator', secret, exp, identifiers});
  presentedTokens.push(token);
  return token;
}
async function joseToken(identifiers, {secret = JWT_SECRET, alg = 'HS256', exp = '1h'} = {}) {
  const token = await jwtRequest({op: 'sign', alg, secret, exp, claims: {ext: JSON.stringify(identifiers)}});
  presentedTokens.push(token);
  return token;
}

/** The identifiers the server logged for session `sid`. */
async function identifiersOf(server, sid) {
  const m = await server.waitForLog(new RegExp(`connection ${sid} identified as (\\{.*\\})$`), 5000);
  return JSON.parse(m[1]);
}

/** Connects with ws, expects the welcome, and returns {client, sid, identifiers}. */
async function welcomed(server, url, options) {
  const client = await connectJson(url, options);
  const welcome = await client.next();
  assert.equal(welcome.type, 'welcome', JSON.stringify(welcome));
  assert.match(welcome.sid, /^[A-Za-z0-9_-]{16,}$/, 'a token-identified welcome carries the session id');
  return {client, sid: welcome.sid, identifiers: await identifiersOf(server, welcome.sid)};
}

/** Connects with ws and expects the refusal frame, then a normal close. */
async function refused(url, reason, options) {
  const client = await connectJson(url, options);
  assert.deepEqual(await client.next(), {type: 'disconnect', reason, reconnect: false});
  assert.equal((await client.closed).code, 1000);
  assert.equal(client.texts.length, 1, `only the disconnect frame: ${client.texts}`);
}

const consumers = [];
function consumer(url) {
  const c = ActionCable.createConsumer(url);
  consumers.push(c);
  return c;
}
// The frames the official consumer's (only) socket receives, from its first one on: the socket
// is created synchronously by subscriptions.create, before any frame can arrive.
function framesOfLastSocket() {
  const frames = [];
  openedSockets.at(-1).socket.addEventListener('message', (e) => frames.push(JSON.parse(String(e.data))));
  return frames;
}

function disconnectConsumers() {
  for (const c of consumers.splice(0)) c.disconnect();
}

describe('JWT identification with --jwt-secret', () => {
  let server;
  before(async () => {
    server = await start(['--jwt-secret', JWT_SECRET, '--demo-channels', 'true']);
  });
  after(async () => {
    disconnectConsumers();
    await server.stop();
  });

  test("the official client with an @anycable/serverless-js token in ?jid= is identified by its ext claim and chats", async () => {
    const token = await appToken({user: 'alice', role: 'editor'});
    const alice = consumer(`${server.url}?jid=${token}`);
    const chat = recordedSubscription(alice, {channel: 'ChatChannel', room: 'jwt-lobby'});
    const frames = framesOfLastSocket();
    assert.deepEqual(await chat.waitFor('connected'), {reconnected: false});

    const welcome = frames.find((f) => f.type === 'welcome');
    assert.match(welcome.sid, /^[A-Za-z0-9_-]{16,}$/);
    assert.deepEqual(await identifiersOf(server, welcome.sid), {user: 'alice', role: 'editor'});

    chat.subscription.perform('speak', {user: 'alice', text: 'signed in with a token'});
    assert.deepEqual(await chat.waitFor('received'), {user: 'alice', text: 'signed in with a token'});
  });

  for (const alg of ['HS256', 'HS384', 'HS512']) {
    test(`a jose ${alg} token in the X-JID header and in the anycable-token sub-protocol identifies the connection`, async () => {
      const token = await joseToken({user: `bob-${alg}`}, {alg});

      const byHeader = await welcomed(server, server.url, {headers: {'X-JID': token}});
      assert.deepEqual(byHeader.identifiers, {user: `bob-${alg}`});

      const byProtocol = await welcomed(server, server.url, {protocols: [...PROTOCOLS, `anycable-token.${token}`]});
      assert.deepEqual(byProtocol.identifiers, {user: `bob-${alg}`});
      // The server answers with the Action Cable protocol, never the token.
      assert.equal(byProtocol.client.ws.protocol, 'actioncable-v1-json');

      // Both connections work: subscribe to the C++ channel and exchange a broadcast.
      const id = chatId(`jwt-${alg}`);
      await byHeader.client.subscribe(id);
      await byProtocol.client.subscribe(id);
      byHeader.client.perform(id, 'speak', {user: 'b', text: alg});
      for (const c of [byHeader.client, byProtocol.client]) {
        assert.deepEqual((await c.next((m) => m.identifier === id)).message, {user: 'b', text: alg});
      }
      byHeader.client.close();
      byProtocol.client.close();
    });
  }

  test('a valid token wins over ?user= in the same query', async () => {
    const token = await appToken({user: 'carol'});
    const {client, identifiers} = await welcomed(server, `${server.url}?user=mallory&jid=${token}`);
    assert.deepEqual(identifiers, {user: 'carol'});
    client.close();
  });

  test('an expired token gets token_expired; the official client does not reconnect', async () => {
    const expired = await appToken({user: 'dave'}, {exp: now() - 60});
    await refused(`${server.url}?jid=${expired}`, 'token_expired');
    await refused(server.url, 'token_expired', {headers: {'X-JID': expired}});

    const url = `${server.url}?jid=${expired}`;
    const c = consumer(url);
    const s = recordedSubscription(c, {channel: 'ChatChannel', room: 'never'});
    const frames = framesOfLastSocket();
    assert.deepEqual(await s.waitFor('disconnected'), {willAttemptReconnect: false});
    assert.deepEqual(frames, [{type: 'disconnect', reason: 'token_expired', reconnect: false}]);
    // The client stopped its connection monitor, the only thing that would reopen the socket.
    assert.equal(c.connection.monitor.isRunning(), false);
    assert.equal(s.events.some((e) => e.name === 'connected'), false);
    assert.equal(openedSockets.filter((o) => o.url === url).length, 1);
  });

  test('forged tokens get unauthorized: another key, a swapped payload, alg none, garbage', async () => {
    const otherKey = await appToken({user: 'erin'}, {secret: OTHER_SECRET});
    const [header, , signature] = (await appToken({user: 'erin'})).split('.');
    const adminPayload = Buffer.from(JSON.stringify({ext: JSON.stringify({user: 'admin'}), exp: now() + 3600}))
        .toString('base64url');
    const swapped = `${header}.${adminPayload}.${signature}`;
    const unsigned = await jwtRequest({op: 'unsecured', claims: {ext: JSON.stringify({user: 'admin'})}});
    const notSigned = await jwtRequest({op: 'sign', alg: 'HS256', secret: JWT_SECRET, claims: {sub: 'no ext'}});
    for (const token of [otherKey, swapped, unsigned, notSigned, 'garbage']) {
      await refused(`${server.url}?jid=${token}`, 'unauthorized');
      await refused(server.url, 'unauthorized', {protocols: [...PROTOCOLS, `anycable-token.${token}`]});
    }

    const c = consumer(`${server.url}?jid=${swapped}`);
    const s = recordedSubscription(c, {channel: 'ChatChannel', room: 'never'});
    assert.deepEqual(await s.waitFor('disconnected'), {willAttemptReconnect: false});
    assert.equal(c.connection.monitor.isRunning(), false);
  });

  test('without a token the connection falls through to the demo ?user= identification', async () => {
    const client = await connectJson(`${server.url}?user=frank`);
    const welcome = await client.next();
    assert.equal(welcome.type, 'welcome');
    const m = await server.waitForLog(/connection (\S+) identified as \{"user":"frank"\}$/, 5000);
    assert.ok(m);
    client.close();
  });
});

describe('--enforce-jwt and --jwt-param', () => {
  let enforcing;
  let renamed;
  before(async () => {
    enforcing = await start(['--jwt-secret', JWT_SECRET, '--enforce-jwt']);
    renamed = await start(['--jwt-secret', JWT_SECRET, '--jwt-param', 'token']);
  });
  after(async () => {
    await enforcing.stop();
    await renamed.stop();
  });

  test('--enforce-jwt refuses a connection without a token (even with ?user=) and accepts a valid one', async () => {
    await refused(`${enforcing.url}?user=grace`, 'unauthorized');
    const {client, identifiers} = await welcomed(enforcing, `${enforcing.url}?jid=${await appToken({user: 'grace'})}`);
    assert.deepEqual(identifiers, {user: 'grace'});
    client.close();
  });

  test('--jwt-param token reads ?token= and X-TOKEN; ?jid= is then no token at all', async () => {
    const token = await appToken({user: 'heidi'});
    const byQuery = await welcomed(renamed, `${renamed.url}?token=${token}`);
    assert.deepEqual(byQuery.identifiers, {user: 'heidi'});
    const byHeader = await welcomed(renamed, renamed.url, {headers: {'X-TOKEN': token}});
    assert.deepEqual(byHeader.identifiers, {user: 'heidi'});

    const ignored = await connectJson(`${renamed.url}?jid=${token}&user=ivan`);
    assert.equal((await ignored.next()).type, 'welcome');
    await renamed.waitForLog(/connection \S+ identified as \{"user":"ivan"\}$/, 5000);
    for (const c of [byQuery.client, byHeader.client, ignored]) c.close();
  });
});

describe('the JWT key from the one AnyCable secret', () => {
  test('--secret alone verifies tokens signed with it', async () => {
    const server = await start(['--secret', SECRET]);
    try {
      const {client, identifiers} = await welcomed(server, `${server.url}?jid=${await appToken({user: 'judy'}, {secret: SECRET})}`);
      assert.deepEqual(identifiers, {user: 'judy'});
      client.close();
      await refused(`${server.url}?jid=${await appToken({user: 'judy'}, {secret: OTHER_SECRET})}`, 'unauthorized');
    } finally {
      await server.stop();
    }
  });

  test('ANYCABLE_SECRET (and ANYCABLE_ENFORCE_JWT) from the environment, as anycable-go reads them', async () => {
    const server = await start([], {env: {ANYCABLE_SECRET: ENV_SECRET, ANYCABLE_ENFORCE_JWT: 'true'}});
    try {
      const {client, identifiers} = await welcomed(server, `${server.url}?jid=${await joseToken({user: 'ken'}, {secret: ENV_SECRET})}`);
      assert.deepEqual(identifiers, {user: 'ken'});
      client.close();
      await refused(`${server.url}?jid=${await joseToken({user: 'ken'}, {secret: OTHER_SECRET})}`, 'unauthorized');
      await refused(`${server.url}?user=ken`, 'unauthorized');
    } finally {
      await server.stop();
    }
  });
});

test('no secret, key derived from one, or token appears in any server log (--log-level debug)', () => {
  assert.equal(servers.length, 5);
  const hmacHex = (secret, label) => crypto.createHmac('sha256', secret).update(label).digest('hex');
  const secrets = [JWT_SECRET, SECRET, ENV_SECRET];
  assertNoSecretsLogged(servers, [...secrets, ...presentedTokens,
    ...secrets.flatMap((s) => [hmacHex(s, 'broadcast-cable'), hmacHex(s, 'rpc-cable')])]);
});
