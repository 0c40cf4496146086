// Interop with the real Ruby Action Cable 6.1 (Debian ruby-actioncable + ruby-redis) on one
// Redis, same channel_prefix: Rails' redis adapter broadcasting reaches Cablecast's clients,
// and Cablecast's broadcasts reach the clients of a Ruby Action Cable server (and back); Rails'
// remote_connections.where(...).disconnect closes Cablecast's connections of that identity.
import assert from 'node:assert/strict';
import {after, describe, test} from 'node:test';
import {chatId, connectWelcomed} from '../support/json_client.mjs';
import {startCablecast} from '../support/servers.mjs';
import {rubyBroadcast, rubyRemoteDisconnect, sharedRedis, startRubyRedisReference, uniquePrefix}
  from '../support/redis_env.mjs';

const redis = sharedRedis();

describe('redis: interop with Ruby Action Cable', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });
  async function cablecast(prefix) {
    const args = ['--pubsub', 'redis', '--redis-url', redis.url];
    if (prefix) args.push('--channel-prefix', prefix);
    const server = await startCablecast(args);
    cleanup.push(() => server.stop('SIGKILL'));
    return server;
  }
  async function client(url, user = 'interop') {
    const c = await connectWelcomed(`${url}?user=${user}`);
    cleanup.push(() => c.close());
    return c;
  }

  for (const withPrefix of [true, false]) {
    test(`ActionCable.server.broadcast from Ruby reaches Cablecast clients (${withPrefix ? 'with' : 'without'} channel_prefix)`, async () => {
      const prefix = withPrefix ? uniquePrefix('rails') : '';
      const room = uniquePrefix('room');  // unique stream names also isolate the no-prefix case
      const server = await cablecast(prefix);
      const c = await client(server.url);
      await c.subscribe(chatId(room));
      // A Hash, a String with HTML (ActiveSupport escapes <, >, &), a number, unicode, nested.
      const messages = [{text: 'hi', user: 'ruby'}, '<script>alert("x")</script> & co', 42,
        {nested: {list: [1, 'é', null, true]}}];
      await rubyBroadcast({url: redis.url, prefix, broadcasting: `chat_${room}`, messages});
      for (const expected of messages) {
        const m = await c.next((msg) => msg.identifier === chatId(room), 5000);
        assert.deepEqual(m.message, expected);
      }
    });
  }

  test("a Ruby Action Cable server's clients receive Cablecast's broadcasts, and the reverse", async () => {
    const prefix = uniquePrefix('mixed');
    const ruby = await startRubyRedisReference({url: redis.url, prefix});
    cleanup.push(() => ruby.stop());
    const server = await cablecast(prefix);

    const rubyClient = await client(ruby.url);
    const ourClient = await client(server.url);
    await rubyClient.subscribe(chatId('mixed'), 10000);
    await ourClient.subscribe(chatId('mixed'));

    ourClient.perform(chatId('mixed'), 'speak', {user: 'cablecast', text: 'to Rails'});
    for (const c of [rubyClient, ourClient]) {
      const m = await c.next((msg) => msg.identifier === chatId('mixed'), 5000);
      assert.deepEqual(m.message, {user: 'cablecast', text: 'to Rails'});
    }

    rubyClient.perform(chatId('mixed'), 'speak', {user: 'rails', text: 'to Cablecast'});
    for (const c of [rubyClient, ourClient]) {
      const m = await c.next((msg) => msg.identifier === chatId('mixed'), 5000);
      assert.deepEqual(m.message, {user: 'rails', text: 'to Cablecast'});
    }
  });

  test("Rails' remote_connections.where(user:).disconnect closes that user's connections only", async () => {
    const prefix = uniquePrefix('remote');
    const server = await cablecast(prefix);
    const room = uniquePrefix('room');
    const user = uniquePrefix('user');
    const targets = [await client(server.url, user), await client(server.url, user)];
    const bystander = await client(server.url, `${user}_other`);
    await bystander.subscribe(chatId(room));
    await rubyRemoteDisconnect({url: redis.url, prefix, user});
    for (const c of targets) {
      // Rails 6.1 publishes {"type":"disconnect"} with no "reconnect": it means true (7.0 too).
      assert.deepEqual(await c.next((m) => m.type === 'disconnect', 10000),
                       {type: 'disconnect', reason: 'remote', reconnect: true});
      assert.equal((await c.closed).code, 1000);
    }
    await rubyBroadcast({url: redis.url, prefix, broadcasting: `chat_${room}`, messages: ['after']});
    assert.equal((await bystander.next((m) => m.identifier === chatId(room), 5000)).message, 'after');
  });
});
