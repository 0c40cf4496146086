// Turbo Streams with no Ruby on the socket path, against the real binary: Turbo::StreamsChannel
// served natively, its signed_stream_name verified as turbo-rails verifies it. The names are
// signed by the real ActiveSupport::MessageVerifier (tests/support/rails_signing.rb, doing what
// Turbo.signed_stream_verifier does) with the raw key (config.turbo.signed_stream_verifier_key,
// --turbo-streams-secret) or the key Rails derives from secret_key_base (--secret-key-base;
// SHA256 or, with --turbo-key-digest sha1, SHA1). The Turbo Stream HTML is broadcast by Rails'
// own ActionCable.server.broadcast through its Redis adapter (reference/ruby/redis_broadcast.rb),
// which is what Turbo::StreamsChannel.broadcast_append_to ends in, and reaches Cablecast's
// clients as the `message` string.
//
// "Receives nothing" is fenced as in signed_streams.test.mjs: Redis hands broadcasts to the node
// in publish order, so once a later one reached an accepted subscription on the same socket, an
// earlier one for a rejected identifier would already be there.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {ActionCable, recordedSubscription} from '../support/actioncable.mjs';
import {connectWelcomed} from '../support/json_client.mjs';
import {assertNoSecretsLogged} from '../support/log_expectations.mjs';
import {hexKey, railsSigning, withPayload} from '../support/rails_signing.mjs';
import {rubyBroadcast, sharedRedis, uniquePrefix} from '../support/redis_env.mjs';
import {startCablecast} from '../support/servers.mjs';

const redis = sharedRedis();
const VERIFIER_KEY = 'turbo-verifier-key-of-the-test-app-27be';
// A test app's secret_key_base (128 hex characters, as `rails secret` prints).
const SECRET_KEY_BASE = 'f0e1d2c3b4a5968778695a4b3c2d1e0f'.repeat(4);
const SECRET = 'one-anycable-secret-of-the-turbo-test-6d31';

// What <turbo-cable-stream-source channel="Turbo::StreamsChannel" signed-stream-name="…">
// subscribes with (turbo-rails' cable_stream_source_element.js).
const turboId = (signed) => JSON.stringify({channel: 'Turbo::StreamsChannel', signed_stream_name: signed});
const append = (text) =>
  `<turbo-stream action="append" target="messages"><template><p>${text}</p></template></turbo-stream>`;

// Every server started, for the last test: none may log a key.
const servers = [];
async function start(args) {
  const server = await startCablecast(args);
  servers.push(server);
  return server;
}

async function answer(client, id) {
  client.subscribeCommand(id);
  const reply = await client.next((m) => m.identifier === id && /_subscription$/.test(m.type ?? ''), 5000);
  return reply.type;
}

/** A server on Redis under a prefix of its own; broadcast() is Rails' broadcast to it. */
async function startOnRedis(args, {prefix = uniquePrefix('turbo')} = {}) {
  const server = await start(['--pubsub', 'redis', '--redis-url', redis.url,
    ...(prefix ? ['--channel-prefix', prefix] : []), ...args]);
  const broadcast = (stream, ...messages) =>
    rubyBroadcast({url: redis.url, prefix, broadcasting: stream, messages});
  return {server, broadcast};
}

// turbo_stream_from @post, :comments (a GlobalID param, then the symbol) and turbo_stream_from "room".
const POST_COMMENTS = 'Z2lkOi8vdHVyYm8tdGVzdC9Qb3N0LzE:comments';

describe('Turbo::StreamsChannel served natively', () => {
  const app = {};
  const signed = {};
  before(async () => {
    [app.raw, app.sha256, app.sha1] = await Promise.all([
      startOnRedis(['--turbo-streams-secret', VERIFIER_KEY]),
      startOnRedis(['--secret-key-base', SECRET_KEY_BASE]),
      startOnRedis(['--secret-key-base', SECRET_KEY_BASE, '--turbo-key-digest', 'sha1']),
    ]);
    [signed.raw, signed.sha256, signed.sha1, signed.sha256Room, signed.otherKey] = await railsSigning([
      {op: 'turbo_sign', name: POST_COMMENTS, verifier_key: VERIFIER_KEY},
      {op: 'turbo_sign', name: POST_COMMENTS, secret_key_base: SECRET_KEY_BASE, digest: 'SHA256'},
      {op: 'turbo_sign', name: POST_COMMENTS, secret_key_base: SECRET_KEY_BASE, digest: 'SHA1'},
      {op: 'turbo_sign', name: 'room', secret_key_base: SECRET_KEY_BASE, digest: 'SHA256'},
      {op: 'sign', digest: 'SHA256', key_hex: hexKey('another-apps-key'), name: POST_COMMENTS},
    ]);
  });
  after(async () => {
    await Promise.all(Object.values(app).map((a) => a.server.stop()));
  });

  const cases = [
    {server: 'raw', name: 'raw', what: 'the raw key (--turbo-streams-secret)', refusedBy: ['sha256', 'sha1']},
    {server: 'sha256', name: 'sha256', what: 'the key derived from secret_key_base with SHA256 (--secret-key-base)', refusedBy: ['raw', 'sha1']},
    {server: 'sha1', name: 'sha1', what: 'the key derived with SHA1 (--turbo-key-digest sha1)', refusedBy: ['raw', 'sha256']},
  ];
  for (const c of cases) {
    test(`a name Rails signed with ${c.what} is confirmed and gets Rails' Turbo Stream broadcasts`, async () => {
      const client = await connectWelcomed(app[c.server].server.url);
      try {
        const id = turboId(signed[c.name]);
        assert.equal(await answer(client, id), 'confirm_subscription');
        const html = append(`a comment via ${c.name} « é »`);
        await app[c.server].broadcast(POST_COMMENTS, html);
        assert.deepEqual(await client.next((m) => m.message !== undefined, 5000), {identifier: id, message: html});
      } finally {
        await client.close();
      }
    });

    test(`the same name is rejected by the servers with the other keys (${c.refusedBy.join(', ')})`, async () => {
      for (const other of c.refusedBy) {
        const client = await connectWelcomed(app[other].server.url);
        try {
          assert.equal(await answer(client, turboId(signed[c.name])), 'reject_subscription');
        } finally {
          await client.close();
        }
      }
    });
  }

  test('tampered, foreign, $pubsub-style and missing names are rejected and receive nothing', async () => {
    const client = await connectWelcomed(app.sha256.server.url);
    try {
      const fence = turboId(signed.sha256Room);
      assert.equal(await answer(client, fence), 'confirm_subscription');
      const rejected = [
        turboId(withPayload(signed.sha256Room, POST_COMMENTS)),
        turboId(signed.otherKey),
        JSON.stringify({channel: 'Turbo::StreamsChannel', stream_name: POST_COMMENTS}),
        JSON.stringify({channel: 'Turbo::StreamsChannel'}),
        turboId(''),
      ];
      for (const id of rejected) assert.equal(await answer(client, id), 'reject_subscription', id);

      await app.sha256.broadcast(POST_COMMENTS, append('not for you'));
      await app.sha256.broadcast('room', append('fence'));
      assert.deepEqual(await client.next((m) => m.message !== undefined, 5000),
                       {identifier: fence, message: append('fence')});
      const leaked = client.texts.map((t) => JSON.parse(t))
          .filter((m) => rejected.includes(m.identifier) && m.type !== 'reject_subscription');
      assert.deepEqual(leaked, []);
    } finally {
      await client.close();
    }
  });
});

describe('without --turbo-streams-secret or --secret-key-base', () => {
  for (const args of [[], ['--secret', SECRET]]) {
    test(`Turbo::StreamsChannel is not served natively (${args[0] ?? 'no flags'}; no --rpc-url: rejected as unknown)`, async () => {
      const server = await start(args);
      try {
        const [name] = await railsSigning([{op: 'turbo_sign', name: 'room', verifier_key: SECRET}]);
        const client = await connectWelcomed(server.url);
        assert.equal(await answer(client, turboId(name)), 'reject_subscription');
        await server.waitForLog(/Subscription class not found: "Turbo::StreamsChannel"/);
        if (args.length) {
          // --secret did turn on the $pubsub channel, with the same key: only Turbo stays off.
          const pubsubId = JSON.stringify({channel: '$pubsub', signed_stream_name: name});
          assert.equal(await answer(client, pubsubId), 'confirm_subscription');
        }
        await client.close();
      } finally {
        await server.stop();
      }
    });
  }
});

describe("Rails broadcasting Turbo Streams through Redis to Cablecast's Turbo subscribers", () => {
  const consumers = [];
  after(() => {
    for (const c of consumers) c.disconnect();
  });

  for (const withPrefix of [true, false]) {
    test(`an Action Cable app's broadcast of Turbo Stream HTML reaches the official client and a raw one (${withPrefix ? 'with' : 'without'} channel_prefix)`, async () => {
      // Unique stream names keep the no-prefix case apart from other tests on the same Redis.
      const stream = `${uniquePrefix('Z2lkOi8vdHVyYm8tdGVzdC9Sb29tLzE')}:messages`;
      const app = await startOnRedis(['--secret-key-base', SECRET_KEY_BASE], {prefix: withPrefix ? uniquePrefix('rails') : ''});
      try {
        const [name] = await railsSigning([{op: 'turbo_sign', name: stream, secret_key_base: SECRET_KEY_BASE, digest: 'SHA256'}]);
        const official = ActionCable.createConsumer(app.server.url);
        consumers.push(official);
        const source = recordedSubscription(official, {channel: 'Turbo::StreamsChannel', signed_stream_name: name});
        const raw = await connectWelcomed(app.server.url);
        await source.waitFor('connected');
        assert.equal(await answer(raw, turboId(name)), 'confirm_subscription');

        const html = [append('hi'), append('<b>"quoted" & unicode ✓</b>'),
          '<turbo-stream action="remove" target="message_1"></turbo-stream>'];
        await app.broadcast(stream, ...html);
        for (const expected of html) {
          assert.equal(await source.waitFor('received', (m) => m === expected), expected);
          assert.deepEqual(await raw.next((m) => m.message !== undefined, 5000), {identifier: turboId(name), message: expected});
        }
        assert.deepEqual(source.received(), html);
        official.disconnect();
        await raw.close();
      } finally {
        await app.server.stop();
      }
    });
  }
});

test('no key, secret_key_base or key derived from it appears in any server log (--log-level debug)', async () => {
  assert.equal(servers.length, 7);
  const derived = await railsSigning(['SHA256', 'SHA1'].map((digest) =>
    ({op: 'turbo_key', digest, secret_key_base: SECRET_KEY_BASE})));
  assertNoSecretsLogged(servers, [VERIFIER_KEY, SECRET_KEY_BASE, SECRET, ...derived]);
});
