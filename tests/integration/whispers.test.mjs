// Whispers (AnyCable's extended protocol, protocol.md 7.5) against the real binary: what
// @anycable/core's channel.whisper() sends on a public $pubsub stream (whispers always on there)
// reaches every other subscriber, never the sender, carries no position, and never enters the
// stream's history.
//
// "The sender got nothing" is fenced: a broadcast sent after the others received the whisper
// reaches each event loop after it, so had the sender been sent the whisper, it would have
// arrived before that broadcast.
import assert from 'node:assert/strict';
import {after, describe, test} from 'node:test';
import {anycable, connectExt, followStream, httpBroadcast, pubsubId} from '../support/anycable_client.mjs';
import {extendedProtocolFixture} from '../support/ext_fixture.mjs';

const KEY = 'whispers-broadcast-key-2e7a';
const WAIT_MS = 30000;
const TEST = {timeout: 120000};
const TYPING = {event: 'typing', user: 'Ann'};
const isTyping = (m) => m && m.event === 'typing';

describe('whispers', () => {
  const fixture = extendedProtocolFixture(after, KEY);
  const cleanup = {push: (fn) => fixture.defer(fn)};
  const server = (extra) => fixture.server(extra);
  const tab = (url, room, name) => fixture.tab(url, room, name);
  async function raw(url, id) {
    const {client} = await connectExt(url);
    cleanup.push(() => client.close());
    await client.subscribe(id, WAIT_MS);
    return client;
  }

  test('a whisper reaches the other subscribers, not the sender, without a position', TEST, async () => {
    const s = await server();
    const room = 'room/whisper';
    const id = pubsubId(room);
    const sender = await tab(s.url, room, 'sender');
    const other = await tab(s.url, room, 'other');
    const wire = await raw(s.url, id);

    await sender.channel.whisper(TYPING);
    const got = await other.waitForMessage(isTyping, WAIT_MS);
    assert.deepEqual(got.message, TYPING);
    assert.equal(got.meta, undefined, 'no stream position: whispers are not in history');
    const frame = await wire.nextEntry((m) => m.identifier === id, WAIT_MS);
    assert.equal(frame.text, JSON.stringify({identifier: id, message: TYPING}));

    await httpBroadcast(s.port, KEY, room, {fence: 1});
    await sender.waitForMessage((m) => m.fence === 1, WAIT_MS);
    assert.deepEqual(sender.messages.map((m) => m.message), [{fence: 1}], 'the sender got no echo');
    await other.waitForMessage((m) => m.fence === 1, WAIT_MS);
    assert.deepEqual(other.messages.map((m) => m.message), [TYPING, {fence: 1}]);

    // A string whisper from the raw client (data is a JSON value, not JSON text in a string).
    assert.deepEqual((await wire.next((m) => m.identifier === id, WAIT_MS)).message, {fence: 1});
    wire.send({command: 'whisper', identifier: id, data: 'typing…'});
    assert.equal((await other.waitForMessage((m) => m === 'typing…', WAIT_MS)).message, 'typing…');
    assert.equal((await sender.waitForMessage((m) => m === 'typing…', WAIT_MS)).message, 'typing…');
    await httpBroadcast(s.port, KEY, room, {fence: 2});
    const next = await wire.nextEntry((m) => m.identifier === id, WAIT_MS);
    assert.deepEqual(next.msg.message, {fence: 2}, `the raw sender got its own whisper: ${next.text}`);
  });

  test('whispers are not in history: a client asking for everything since long ago gets broadcasts only', TEST, async () => {
    const s = await server();
    const room = 'room/history';
    const id = pubsubId(room);
    const sender = await tab(s.url, room, 'sender');
    const other = await tab(s.url, room, 'other');

    await httpBroadcast(s.port, KEY, room, {n: 1});
    await sender.waitForMessage((m) => m.n === 1, WAIT_MS);
    await sender.channel.whisper(TYPING);
    await other.waitForMessage(isTyping, WAIT_MS);
    await httpBroadcast(s.port, KEY, room, {n: 2});
    await other.waitForMessage((m) => m.n === 2, WAIT_MS);
    const [one, two] = other.messages.filter((m) => m.message.n).map((m) => m.meta);
    assert.equal(two.offset, one.offset + 1, 'the whisper took no offset');

    // A fresh client subscribing with history since a minute ago (within --history-ttl).
    const {client} = await connectExt(s.url);
    cleanup.push(() => client.close());
    const since = Math.floor(Date.now() / 1000) - 60;
    client.send({command: 'subscribe', identifier: id, history: {since}});
    const replies = [];
    for (;;) {
      const {msg, text} = await client.nextEntry((m) => m.identifier === id, WAIT_MS);
      replies.push(text);
      if (msg.type === 'confirm_history' || msg.type === 'reject_history') break;
    }
    const position = (n, meta) => ({identifier: id, message: {n}, stream_id: room, epoch: meta.epoch, offset: meta.offset});
    assert.deepEqual(replies, [
      JSON.stringify({identifier: id, type: 'confirm_subscription'}),
      JSON.stringify(position(1, one)),
      JSON.stringify(position(2, two)),
      JSON.stringify({type: 'confirm_history', identifier: id}),
    ]);
  });
});
