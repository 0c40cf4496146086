// Loads the official @rails/actioncable consumer into Node. The package targets browsers, so it
// needs a WebSocket implementation (ws, which speaks the same EventTarget-style API) and the few
// DOM globals it touches: the global add/removeEventListener + document.visibilityState used by
// ConnectionMonitor for "page became visible" reconnects, and document.createElement/head for
// relative URLs and <meta> config (we always pass absolute ws:// URLs, so those stay inert).
import WebSocket from 'ws';

const visibilityListeners = new Set();
if (!globalThis.document) {
  globalThis.document = {
    visibilityState: 'visible',
    head: {querySelector: () => null},
    createElement: () => ({}),
  };
}
if (!globalThis.addEventListener) {
  globalThis.addEventListener = (type, fn) => {
    if (type === 'visibilitychange') visibilityListeners.add(fn);
  };
  globalThis.removeEventListener = (type, fn) => {
    if (type === 'visibilitychange') visibilityListeners.delete(fn);
  };
}

/** Every socket the consumers open, in order, so tests can tell whether a client reconnected. */
export const openedSockets = [];
/** Options for every socket the consumers open, e.g. {ca} to trust a test certificate (wss://). */
export const webSocketOptions = {};
class TrackedWebSocket extends WebSocket {
  constructor(url, protocols) {
    super(url, protocols, webSocketOptions);
    openedSockets.push({url: String(url), socket: this});
  }
}

const ActionCable = await import('@rails/actioncable');
ActionCable.adapters.WebSocket = TrackedWebSocket;
ActionCable.adapters.logger = {log: (...m) => process.env.CABLECAST_TEST_VERBOSE && console.log(...m)};
if (process.env.CABLECAST_TEST_VERBOSE) ActionCable.logger.enabled = true;

export {ActionCable};

/** Simulates the page becoming visible again (the client reopens a stale/closed connection). */
export function fireVisibilityChange() {
  for (const fn of visibilityListeners) fn();
}

/**
 * Creates a subscription whose callbacks are recorded as events; waitFor(name, pred, ms) resolves
 * with the first recorded event of that name (past or future) matching pred.
 */
export function recordedSubscription(consumer, params) {
  const events = [];
  const waiters = new Set();
  const push = (name, arg) => {
    events.push({name, arg});
    for (const w of waiters) if (w.name === name && w.pred(arg)) {
      waiters.delete(w);
      w.resolve(arg);
    }
  };
  const subscription = consumer.subscriptions.create(params, {
    connected(info) { push('connected', info); },
    disconnected(info) { push('disconnected', info); },
    rejected() { push('rejected', undefined); },
    received(data) { push('received', data); },
  });
  function waitFor(name, pred = () => true, timeoutMs = 5000, from = 0) {
    const seen = events.slice(from).find((e) => e.name === name && pred(e.arg));
    if (seen) return Promise.resolve(seen.arg);
    return new Promise((resolve, reject) => {
      const w = {name, pred, resolve: (a) => { clearTimeout(t); resolve(a); }};
      const t = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no '${name}' callback within ${timeoutMs} ms; events: ${JSON.stringify(events)}`));
      }, timeoutMs);
      waiters.add(w);
    });
  }
  return {subscription, events, waitFor, received: () => events.filter((e) => e.name === 'received').map((e) => e.arg)};
}
