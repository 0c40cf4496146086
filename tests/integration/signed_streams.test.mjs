// AnyCable's signed streams against the real binary: `$pubsub` subscriptions whose
// signed_stream_name was signed by the real ActiveSupport::MessageVerifier (SHA256, JSON; Debian's
// ruby-activesupport, as a Rails app signs them), keyed by --streams-secret or by --secret alone,
// receive what `cablecast broadcast` publishes through Redis; tampered names and names signed
// with another key get reject_subscription and receive nothing; unsigned `stream_name` only with
// --public-streams.
//
// "Receives nothing" is fenced: broadcasts reach a node through one Redis connection in publish
// order and are handed to each event loop in that order, so once a later broadcast has reached an
// accepted subscription on the same socket, any frame of the earlier one for a rejected
// identifier would already have arrived.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {connectWelcomed} from '../support/json_client.mjs';
import {assertNoSecretsLogged} from '../support/log_expectations.mjs';
import {hexKey, railsSigning, withPayload} from '../support/rails_signing.mjs';
import {cablecastBroadcast, sharedRedis, uniquePrefix} from '../support/redis_env.mjs';
import {startCablecast} from '../support/servers.mjs';

const redis = sharedRedis();
const STREAMS_SECRET = 'streams-secret-of-the-test-app-51d0';
const SECRET = 'one-anycable-secret-of-the-test-app-a93c';
const OTHER_KEY = 'somebody-elses-key';

const pubsub = (params) => JSON.stringify({channel: '$pubsub', ...params});
const signedId = (signed) => pubsub({signed_stream_name: signed});

// Every server started, for the last test: none may log a key.
const servers = [];

/** Sends subscribe and resolves with the server's answer for exactly that identifier. */
async function answer(client, id) {
  client.subscribeCommand(id);
  const reply = await client.next((m) => m.identifier === id && /_subscription$/.test(m.type ?? ''), 5000);
  return reply.type;
}

// One server on Redis under a channel prefix of its own; `args` add the keys.
async function startOnRedis(args) {
  const prefix = uniquePrefix('signed');
  const server = await startCablecast(['--pubsub', 'redis', '--redis-url', redis.url, '--channel-prefix', prefix, ...args]);
  servers.push(server);
  const broadcast = (stream, message) => cablecastBroadcast({url: redis.url, prefix, stream, message});
  return {server, broadcast};
}

/** Names whose standard Base64 (of the JSON) holds "+" and "/", where the URL-safe one differs. */
const URL_SAFE_NAME = 'chat/~~~?>';
assert.match(Buffer.from(JSON.stringify(URL_SAFE_NAME)).toString('base64'), /[+/]/);

describe('$pubsub with --streams-secret', () => {
  let app;
  let client;
  const signed = {};
  before(async () => {
    app = await startOnRedis(['--streams-secret', STREAMS_SECRET]);
    client = await connectWelcomed(app.server.url);
    const key = hexKey(STREAMS_SECRET);
    [signed.chat, signed.unicode, signed.urlSafe, signed.otherKey, signed.sha1] = await railsSigning([
      {op: 'sign', digest: 'SHA256', key_hex: key, name: 'chat/2023'},
      {op: 'sign', digest: 'SHA256', key_hex: key, name: 'salle été 42'},
      // anycable-rails' AnyCable::Streams.signed encodes URL-safe.
      {op: 'sign_url_safe', digest: 'SHA256', key_hex: key, name: URL_SAFE_NAME},
      {op: 'sign', digest: 'SHA256', key_hex: hexKey(OTHER_KEY), name: 'chat/2023'},
      {op: 'sign', digest: 'SHA1', key_hex: key, name: 'chat/2023'},
    ]);
  });
  after(async () => {
    await client?.close();
    await app?.server.stop();
  });

  test('names Rails signed are confirmed and receive the broadcasts of their stream', async () => {
    const streams = {'chat/2023': signed.chat, 'salle été 42': signed.unicode, [URL_SAFE_NAME]: signed.urlSafe};
    assert.notEqual(signed.urlSafe.split('--')[0], Buffer.from(JSON.stringify(URL_SAFE_NAME)).toString('base64'));
    for (const name of Object.values(streams)) {
      assert.equal(await answer(client, signedId(name)), 'confirm_subscription');
    }
    for (const [stream, name] of Object.entries(streams)) {
      await app.broadcast(stream, {text: `to ${stream}`});
      const m = await client.next((msg) => msg.message !== undefined, 5000);
      assert.deepEqual(m, {identifier: signedId(name), message: {text: `to ${stream}`}});
    }
  });

  test('a tampered name, another key, another digest and an unsigned stream_name are rejected and receive nothing', async () => {
    const fence = signedId(signed.chat);  // confirmed in the test above, on this socket
    const tampered = signedId(withPayload(signed.chat, 'admin/secrets'));
    const otherKey = signedId(signed.otherKey);
    const sha1 = signedId(signed.sha1);
    const unsigned = pubsub({stream_name: 'chat/2023'});
    const notAString = pubsub({signed_stream_name: 42});
    const missing = pubsub({});
    const rejected = [tampered, otherKey, sha1, unsigned, notAString, missing];
    for (const id of rejected) assert.equal(await answer(client, id), 'reject_subscription', id);

    await app.broadcast('admin/secrets', {text: 'for admins'});
    await app.broadcast('chat/2023', {text: 'fence'});
    const fenced = await client.next((m) => m.identifier === fence && m.message?.text === 'fence', 5000);
    assert.ok(fenced);
    const leaked = client.texts.map((t) => JSON.parse(t))
        .filter((m) => rejected.includes(m.identifier) && m.type !== 'reject_subscription');
    assert.deepEqual(leaked, []);
    assert.ok(!client.texts.some((t) => t.includes('for admins')));
  });
});

describe('$pubsub with --secret alone, and with --public-streams', () => {
  let fromSecret;
  let publicToo;
  before(async () => {
    fromSecret = await startOnRedis(['--secret', SECRET]);
    publicToo = await startOnRedis(['--streams-secret', STREAMS_SECRET, '--public-streams']);
  });
  after(async () => {
    await fromSecret?.server.stop();
    await publicToo?.server.stop();
  });

  test('--secret alone is the streams key (anycable-go derives streams_secret from it)', async () => {
    const [good, wrong] = await railsSigning([
      {op: 'sign', digest: 'SHA256', key_hex: hexKey(SECRET), name: 'news'},
      {op: 'sign', digest: 'SHA256', key_hex: hexKey(STREAMS_SECRET), name: 'news'},
    ]);
    const client = await connectWelcomed(fromSecret.server.url);
    try {
      assert.equal(await answer(client, signedId(wrong)), 'reject_subscription');
      assert.equal(await answer(client, pubsub({stream_name: 'news'})), 'reject_subscription');
      assert.equal(await answer(client, signedId(good)), 'confirm_subscription');
      await fromSecret.broadcast('news', 'a string message');
      assert.deepEqual(await client.next((m) => m.message !== undefined, 5000),
                       {identifier: signedId(good), message: 'a string message'});
    } finally {
      await client.close();
    }
  });

  test('--public-streams accepts an unsigned stream_name beside signed names', async () => {
    const [good] = await railsSigning([
      {op: 'sign', digest: 'SHA256', key_hex: hexKey(STREAMS_SECRET), name: 'lobby'},
    ]);
    const client = await connectWelcomed(publicToo.server.url);
    try {
      const open = pubsub({stream_name: 'lobby'});
      assert.equal(await answer(client, open), 'confirm_subscription');
      assert.equal(await answer(client, signedId(good)), 'confirm_subscription');
      // A forged signed name is still refused: public streams do not turn verification off.
      assert.equal(await answer(client, signedId(withPayload(good, 'vault'))), 'reject_subscription');
      await publicToo.broadcast('lobby', {n: 1});
      const got = [await client.next((m) => m.message !== undefined, 5000),
                   await client.next((m) => m.message !== undefined, 5000)];
      assert.deepEqual(got.map((m) => m.identifier).sort(), [open, signedId(good)].sort());
      for (const m of got) assert.deepEqual(m.message, {n: 1});
    } finally {
      await client.close();
    }
  });
});

test('no key appears in any server log (--log-level debug)', () => {
  assert.equal(servers.length, 3);
  assertNoSecretsLogged(servers, [STREAMS_SECRET, SECRET, OTHER_KEY]);
});
