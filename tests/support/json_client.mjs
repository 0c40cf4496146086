// A JSON-level Action Cable client on top of `ws`: every server frame is kept in arrival order and
// read with next(predicate, timeoutMs), which skips the periodic {"type":"ping"} frames. Raw frame
// texts are kept too, so tests can compare identifiers byte for byte.
import WebSocket from 'ws';

export const PROTOCOLS = ['actioncable-v1-json', 'actioncable-unsupported'];

export class JsonClient {
  constructor(ws) {
    this.ws = ws;
    this.queue = [];      // {msg, text} not yet consumed
    this.texts = [];      // every non-ping text ever received
    this.waiters = [];
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closeInfo = {code, reason: reason.toString()};
        this.#wake();
        resolve(this.closeInfo);
      });
    });
    ws.on('message', (data, isBinary) => {
      const text = isBinary ? data : data.toString('utf8');
      let msg;
      try {
        msg = JSON.parse(text);
      } catch {
        msg = {unparsable: String(text)};
      }
      if (msg && msg.type === 'ping') {
        this.lastPing = msg;
        this.pings = (this.pings || 0) + 1;
        return;
      }
      this.texts.push(String(text));
      this.queue.push({msg, text: String(text)});
      this.#wake();
    });
    ws.on('error', () => {});
  }

  #wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Sends a JS value as JSON, or a string verbatim. */
  send(value) {
    this.ws.send(typeof value === 'string' ? value : JSON.stringify(value));
  }

  subscribeCommand(identifier) {
    this.send({command: 'subscribe', identifier: typeof identifier === 'string' ? identifier : JSON.stringify(identifier)});
  }

  /** Sends subscribe and waits for the confirmation (or rejection, which throws). */
  async subscribe(identifier, timeoutMs = 3000) {
    const id = typeof identifier === 'string' ? identifier : JSON.stringify(identifier);
    this.subscribeCommand(id);
    const reply = await this.next((m) => m.identifier === id && /_subscription$/.test(m.type ?? ''), timeoutMs);
    if (reply.type !== 'confirm_subscription') throw new Error(`subscription ${id} answered ${JSON.stringify(reply)}`);
    return id;
  }

  perform(identifier, action, data = {}) {
    this.send({command: 'message', identifier, data: JSON.stringify({...data, action})});
  }

  /**
   * Resolves with the next non-ping message matching `predicate`; non-matching messages are
   * consumed. Rejects on timeout or close. Use nextEntry() to also get the raw text.
   */
  async next(predicate = () => true, timeoutMs = 3000) {
    return (await this.nextEntry(predicate, timeoutMs)).msg;
  }

  async nextEntry(predicate = () => true, timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.queue.length) {
        const e = this.queue.shift();
        if (predicate(e.msg, e.text)) return e;
      }
      if (this.closeInfo) throw new Error(`closed (${this.closeInfo.code}) while waiting; received: ${JSON.stringify(this.texts)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; received: ${JSON.stringify(this.texts)}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits `ms` and returns (consuming) every non-ping message that arrived meanwhile. */
  async drain(ms) {
    await new Promise((r) => setTimeout(r, ms));
    return this.queue.splice(0).map((e) => e.msg);
  }

  close(code = 1000) {
    if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) this.ws.close(code);
    return this.closed;
  }

  terminate() {
    this.ws.terminate();
  }
}

/**
 * Opens a ws connection. Resolves once open (the welcome is NOT consumed; see connectWelcomed).
 * options: protocols (default the Action Cable list), headers, ca (trusted certificate for
 * wss:// to a server with a test certificate).
 */
export function connectJson(url, {protocols = PROTOCOLS, headers = {}, timeoutMs = 5000, ca} = {}) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, {headers, perMessageDeflate: false, handshakeTimeout: timeoutMs,
                                              ...(ca ? {ca} : {})});
    const client = new JsonClient(ws);
    ws.once('open', () => resolve(client));
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused with HTTP ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

/** Connects and waits for {"type":"welcome"}. */
export async function connectWelcomed(url, options = {}) {
  const client = await connectJson(url, options);
  const welcome = await client.next(() => true, options.timeoutMs ?? 5000);
  if (welcome.type !== 'welcome') throw new Error(`expected welcome, got ${JSON.stringify(welcome)}`);
  return client;
}

/** A predicate for next(): a message (not a confirmation, rejection or ping) on `identifier`. */
export const isMessageFor = (identifier) => (m) => m.identifier === identifier && m.message !== undefined;

/**
 * Welcomed connections a test opens one by one with connect(url) and closes together with
 * closeAll() (in its after() hook), whatever the cases that opened them did.
 */
export function welcomedClients() {
  const open = [];
  return {
    async connect(url, options) {
      const client = await connectWelcomed(url, options);
      open.push(client);
      return client;
    },
    closeAll: () => Promise.all(open.map((c) => c.close())),
  };
}

export const benchmarkId = (id = '1') => JSON.stringify({channel: 'BenchmarkChannel', id});
export const chatId = (room) => JSON.stringify({channel: 'ChatChannel', room});
