// Redis goes away in the middle of serving (a restart on the same port): the nodes keep serving
// WebSocket clients, broadcasts made during the outage fail loudly (log line, not silently),
// the adapter reconnects with backoff, resubscribes every live stream, and delivers what is
// broadcast once the broker is back. Uses a private redis-server so that stopping it does not
// disturb tests running in parallel on the shared one.
import assert from 'node:assert/strict';
import {after, describe, test} from 'node:test';
import {benchmarkId, chatId, connectWelcomed} from '../support/json_client.mjs';
import {startCablecast} from '../support/servers.mjs';
import {eventually, numsub, privateRedis, redisCli, uniquePrefix} from '../support/redis_env.mjs';

describe('redis: broker restart', () => {
  const cleanup = [];
  after(async () => {
    for (const fn of cleanup.reverse()) await fn();
  });

  test('nodes survive a Redis restart, resubscribe, and deliver what is broadcast afterwards', async () => {
    const redis = await privateRedis();
    cleanup.push(() => redis.dispose());
    const prefix = uniquePrefix('restart');
    const args = ['--pubsub', 'redis', '--redis-url', redis.url, '--channel-prefix', prefix];
    const a = await startCablecast(args);
    const b = await startCablecast(args);
    cleanup.push(() => a.stop('SIGKILL'), () => b.stop('SIGKILL'));

    const listener = await connectWelcomed(`${a.url}?user=listener`);
    const speaker = await connectWelcomed(`${b.url}?user=speaker`);
    cleanup.push(() => listener.close(), () => speaker.close());
    await listener.subscribe(chatId('r'));
    await speaker.subscribe(chatId('r'));
    speaker.perform(chatId('r'), 'speak', {user: 's', text: 'before'});
    assert.equal((await listener.next((m) => m.identifier === chatId('r'))).message.text, 'before');

    const markA = a.logs.length;
    const markB = b.logs.length;
    await redis.stop();
    await a.waitForLog(/redis subscriber connection .* lost/, 5000, markA);
    await b.waitForLog(/redis publisher connection .* lost/, 5000, markB);

    // The WebSocket side keeps serving: new connections, subscriptions on live streams, actions.
    const during = await connectWelcomed(`${b.url}?user=during`);
    cleanup.push(() => during.close());
    // A broadcast during the outage is reported as failed, never silently dropped.
    speaker.perform(chatId('r'), 'speak', {user: 's', text: 'during the outage'});
    await b.waitForLog(/broadcast to chat_r failed: not connected to Redis/, 5000, markB);

    await redis.start();
    // chat_r, the listener's internal broadcasting (action_cable/listener, remote disconnects)
    // and the node's health canary stream (docs/health.md).
    await a.waitForLog(/redis subscriber reconnected .* resubscribing 3 stream/, 10000, markA);
    // A channel's broadcast enters stream history: it leaves through the history connection.
    await b.waitForLog(/redis history reconnected .* 1 broadcast\(s\) failed while it was down/, 10000, markB);
    await eventually(async () => (await numsub(redis.port, `${prefix}:chat_r`)) === 2, 5000, 'resubscription');

    speaker.perform(chatId('r'), 'speak', {user: 's', text: 'after'});
    const next = await listener.next((m) => m.identifier === chatId('r'), 5000);
    assert.equal(next.message.text, 'after', 'the outage broadcast must not appear late either');
    // anycable-rails' channel was subscribed again too (before the streams, on the same link).
    await redisCli(redis.port, 'PUBLISH', '__anycable__', JSON.stringify({stream: 'chat_r', data: '"via __anycable__"'}));
    assert.equal((await listener.next((m) => m.identifier === chatId('r'), 5000)).message, 'via __anycable__');

    // A subscription made after the restart is confirmed by the new broker connection.
    await during.subscribe(benchmarkId('after-restart'));
    during.perform(benchmarkId('after-restart'), 'broadcast', {n: 1});
    const echo = await during.next((m) => m.identifier === benchmarkId('after-restart') && m.message.action === 'broadcast');
    assert.equal(echo.message.n, 1);
  });
});
