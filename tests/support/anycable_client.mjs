// AnyCable's own client, @anycable/core, in Node, on the extended protocol
// (actioncable-v1-ext-json), as an application's page would run it; plus what tests need around
// it: recorded streams, the HTTP broadcast API, and a raw `ws` client speaking the extended
// protocol by hand for checks on exact wire frames.
//
//   const cable = anycable(proxy.url());                 // lazy: connects on first subscribe
//   const chat = await followStream(cable, 'chat/1');    // $pubsub stream_name, recorded
//   await httpBroadcast(server.port, KEY, 'chat/1', {n: 1});
//   await chat.waitForMessages(1);
import http from 'node:http';
import WebSocket from 'ws';
import {BaseLogger, createCable} from '@anycable/core';
import {connectJson} from './json_client.mjs';

export const EXT_PROTOCOL = 'actioncable-v1-ext-json';

// Logs the client's own lines when CABLECAST_TEST_VERBOSE is set, like the servers' lines.
class TestLogger extends BaseLogger {
  constructor(name) {
    super(process.env.CABLECAST_TEST_VERBOSE ? 'debug' : 'error');
    this.name = name;
  }

  writeLogEntry(level, msg, details) {
    process.stderr.write(`[${this.name} ${level}] ${msg} ${details === undefined ? '' : JSON.stringify(details)}\n`);
  }
}

/**
 * An @anycable/core cable on the extended protocol over `ws`. Reconnects 50 ms after a drop
 * (the default back-off waits seconds, which only slows the tests down; the protocol is the
 * same), and records every connect as {reconnect, restored} in `cable.connects`, and the session
 * ids the server handed out in `cable.sids`. `options` go to createCable (e.g. historyTimestamp).
 */
export function anycable(url, {name = 'anycable', ...options} = {}) {
  const cable = createCable(url, {
    protocol: EXT_PROTOCOL,
    websocketImplementation: WebSocket,
    logger: new TestLogger(name),
    reconnectStrategy: () => 50,
    ...options,
  });
  cable.connects = [];
  cable.on('connect', (event) => cable.connects.push(event));
  return cable;
}

/** Resolves once `cable` has connected `count` times in all (the first connect included). */
export function waitForConnects(cable, count, timeoutMs = 30000) {
  return waitUntil(() => cable.connects.length >= count && cable.connects, (fn) => cable.on('connect', fn),
    timeoutMs, () => `the cable connected ${cable.connects.length} times, not ${count},`);
}

/**
 * Resolves with `check()` once it is truthy, re-checking whenever `subscribe`'s callback fires;
 * rejects after `timeoutMs` with `what()` in the message.
 */
function waitUntil(check, subscribe, timeoutMs, what) {
  const value = check();
  if (value) return Promise.resolve(value);
  return new Promise((resolve, reject) => {
    let unbind = () => {};
    const timer = setTimeout(() => {
      unbind();
      reject(new Error(`${what()} within ${timeoutMs} ms`));
    }, timeoutMs);
    unbind = subscribe(() => {
      const v = check();
      if (!v) return;
      clearTimeout(timer);
      unbind();
      resolve(v);
    });
  });
}

/**
 * Subscribes `cable` to the public $pubsub stream `name` (cable.streamFrom) and records what the
 * channel receives: `messages` ({message, meta} in arrival order; meta has stream, epoch, offset
 * when the server sent a position), `infos` (history_received / history_not_found / ...) and
 * `presence` events. Resolves once the subscription is confirmed (rejects after `timeoutMs`).
 * `name` may also be a channel the test made itself, e.g. cable.subscribeTo('ChatChannel', {room}).
 */
export async function followStream(cable, name, {timeoutMs = 30000} = {}) {
  const channel = typeof name === 'string' ? cable.streamFrom(name) : name;
  if (typeof name !== 'string') name = channel.identifier;
  const messages = [];
  const infos = [];
  const presence = [];
  const listeners = new Set();
  const changed = () => {
    for (const fn of [...listeners]) fn();
  };
  channel.on('message', (message, meta) => {
    messages.push({message, meta});
    changed();
  });
  channel.on('info', (info) => {
    infos.push(info);
    changed();
  });
  channel.on('presence', (event) => {
    presence.push(event);
    changed();
  });
  const onChange = (fn) => {
    listeners.add(fn);
    return () => listeners.delete(fn);
  };
  // ensureSubscribed() waits through any number of failed connects: bound it, with the reason.
  let timer;
  await Promise.race([
    channel.ensureSubscribed(),
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name}: not subscribed within ${timeoutMs} ms (cable state ` +
        `${cable.state}, ${cable.connects.length} connects)`)), timeoutMs);
    }),
  ]).finally(() => clearTimeout(timer));
  const followed = {
    channel,
    messages,
    infos,
    presence,
    /** Resolves with the first recorded message matching `pred` (past or future). */
    waitForMessage(pred, timeoutMs = 30000) {
      return waitUntil(() => messages.find((m) => pred(m.message, m.meta)), onChange, timeoutMs,
        () => `${name}: no matching message; got ${JSON.stringify(messages.map((m) => m.message))}`);
    },
    /** Resolves once `count` messages were recorded. */
    waitForMessages(count, timeoutMs = 30000) {
      return waitUntil(() => messages.length >= count && messages, onChange, timeoutMs,
        () => `${name}: ${messages.length} messages, not ${count}`);
    },
    /** Resolves with the first info notification of `type` (past or future). */
    waitForInfo(type, timeoutMs = 30000) {
      return waitUntil(() => infos.find((i) => i.type === type), onChange, timeoutMs,
        () => `${name}: no '${type}' info; got ${JSON.stringify(infos)}`);
    },
    /** Resolves with the first presence event matching `pred` (past or future). */
    waitForPresence(pred, timeoutMs = 30000) {
      return waitUntil(() => presence.find(pred), onChange, timeoutMs,
        () => `${name}: no matching presence event; got ${JSON.stringify(presence)}`);
    },
  };
  return followed;
}

/** The identifier @anycable/core (and the tests' raw clients) use for $pubsub stream `name`. */
export const pubsubId = (name) => JSON.stringify({channel: '$pubsub', stream_name: name});

/**
 * Publishes `message` (a JS value) to `stream` through POST /_broadcast on `port`, as an
 * application does (docs/broadcasting.md). `meta` is added when given. Resolves on 201, rejects
 * with the status and body otherwise.
 */
export function httpBroadcast(port, key, stream, message, meta) {
  const body = JSON.stringify({stream, data: JSON.stringify(message), ...(meta ? {meta} : {})});
  return new Promise((resolve, reject) => {
    const req = http.request({host: '127.0.0.1', port, path: '/_broadcast', method: 'POST', agent: false,
      headers: {authorization: `Bearer ${key}`, 'content-type': 'application/json',
        'content-length': Buffer.byteLength(body)}}, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => { text += chunk; });
      res.on('end', () => (res.statusCode === 201 ? resolve() :
        reject(new Error(`POST /_broadcast answered ${res.statusCode}: ${text}`))));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/**
 * A raw `ws` client on the extended protocol (a JsonClient: next(pred), texts, send...). Resolves
 * {client, welcome, welcomeText} once the welcome arrived. `sid` reconnects with ?sid= as
 * @anycable/core does; `headers` e.g. {'X-AnyCable-Restore-Sid': sid}.
 */
export async function connectExt(url, {sid, headers = {}, protocols = [EXT_PROTOCOL], timeoutMs = 10000} = {}) {
  const target = new URL(url);
  if (sid) target.searchParams.set('sid', sid);
  const client = await connectJson(String(target), {protocols, headers, timeoutMs});
  const {msg: welcome, text: welcomeText} = await client.nextEntry(() => true, timeoutMs);
  if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${welcomeText}`);
  return {client, welcome, welcomeText};
}

/** Closes every cable in `cables` (the test's cleanup). */
export function disconnectAll(cables) {
  for (const cable of cables) cable.disconnect();
}
