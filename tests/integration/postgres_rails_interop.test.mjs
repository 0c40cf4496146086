// Cablecast and the real Rails Action Cable (Debian ruby-actioncable 6.1 with its postgresql
// adapter, ruby-activerecord, ruby-pg) on one PostgreSQL: a Ruby process broadcasting through
// Rails' adapter reaches Cablecast's clients, and Cablecast's broadcasts reach the clients of a
// Rails Action Cable server, with and without channel_prefix, including names long enough to be
// hashed (SHA1). Needs scripts/with-services.sh; fails without it.
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {chatId, isMessageFor, welcomedClients} from '../support/json_client.mjs';
import {postgresUrl, rubyBroadcast, runCablecast, startPostgresNode, startRubyPostgresServer,
        uniquePrefix} from '../support/postgres.mjs';

// With "chat_" (and a prefix) this is well over 63 bytes: Rails and Cablecast both LISTEN/NOTIFY
// on SHA1("[<prefix>:]chat_<room>"). ASCII, so Rails 6.1's character count and our byte count
// agree.
const longRoom = 'a-room-name-long-enough-to-push-the-channel-past-63-bytes-' + 'z'.repeat(20);

for (const withPrefix of [true, false]) {
  describe(`Rails postgresql adapter interop (${withPrefix ? 'with' : 'without'} channel_prefix)`, () => {
    const prefix = withPrefix ? uniquePrefix('rails') : undefined;
    // Without a prefix the rooms themselves must be unique to this run.
    const tag = uniquePrefix('r');
    const rooms = {short: `short_${tag}`, 'hashed long': `${longRoom}_${tag}`};
    const cliArgs = ['broadcast', '--pubsub', 'postgres', '--postgres-url', postgresUrl(),
                     ...(withPrefix ? ['--channel-prefix', prefix] : [])];
    let node;
    let rails;
    const clients = welcomedClients();
    const client = (url) => clients.connect(`${url}?user=tester`);

    before(async () => {
      [node, rails] = await Promise.all([startPostgresNode({prefix}), startRubyPostgresServer({prefix})]);
    });
    after(async () => {
      await clients.closeAll();
      await Promise.all([node?.stop(), rails?.stop()]);
    });

    test("a Ruby process broadcasting through Rails' adapter reaches Cablecast clients (short and hashed names)", async () => {
      const subscribers = [];
      for (const room of Object.values(rooms)) {
        const c = await client(node.url);
        await c.subscribe(chatId(room));
        subscribers.push([c, chatId(room), `chat_${room}`]);
      }
      const r = await rubyBroadcast({prefix, broadcasts: subscribers.flatMap(([, , stream]) => [
        [stream, {text: 'from rails', n: 1}], [stream, 'a <string>'], [stream, {text: "it's", n: 3}]])});
      assert.equal(r.code, 0, r.stderr);
      for (const [c, id] of subscribers) {
        assert.deepEqual((await c.next(isMessageFor(id), 5000)).message, {text: 'from rails', n: 1});
        assert.equal((await c.next(isMessageFor(id), 5000)).message, 'a <string>');
        assert.deepEqual((await c.next(isMessageFor(id), 5000)).message, {text: "it's", n: 3});
      }
    });

    for (const [kind, room] of Object.entries(rooms)) {
      test(`Cablecast broadcasts reach the clients of a Rails Action Cable server (${kind} name)`, async () => {
        const id = chatId(room);
        const railsClient = await client(rails.url);
        await railsClient.subscribe(id, 10000);  // Rails confirms after its LISTEN ran
        // From a Cablecast client's channel action...
        const c = await client(node.url);
        await c.subscribe(id);
        c.perform(id, 'speak', {user: 'cablecast', text: 'to rails'});
        assert.deepEqual((await railsClient.next(isMessageFor(id), 5000)).message,
                         {user: 'cablecast', text: 'to rails'});
        // ...and from `cablecast broadcast`.
        const r = await runCablecast([...cliArgs, `chat_${room}`, '{"via":"cli"}']);
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual((await railsClient.next(isMessageFor(id), 5000)).message, {via: 'cli'});
      });
    }

    // Once is enough (the prefix plays no part in it): each Ruby process costs ~2 s of loading.
    if (withPrefix) {
      test('Rails itself fails on a payload of 8000 bytes; Cablecast refuses it before sending', async () => {
        const r = await rubyBroadcast({prefix, broadcasts: [[`chat_big_${tag}`, 'x'.repeat(8000)]]});
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /payload string too long/);
        const ours = await runCablecast([...cliArgs, `chat_big_${tag}`, JSON.stringify('x'.repeat(8000))]);
        assert.equal(ours.code, 1);
        assert.match(ours.stderr, /must be shorter than 8000 bytes/);
      });
    }
  });
}
