// A WebSocket client written over plain TCP so tests control every byte: the HTTP upgrade
// request is written by hand (any header may be omitted or altered), frames can be sent masked or
// not, fragmented, with RSV bits or bad opcodes, and server frames are parsed exactly as received
// (including close code and reason). Refused upgrades report their HTTP status, headers and body.
import crypto from 'node:crypto';
import net from 'node:net';

export const OP = {CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa};
const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Encodes one client frame. `mask: false` produces an (illegal) unmasked client frame. */
export function encodeFrame({opcode = OP.TEXT, payload = Buffer.alloc(0), fin = true, rsv = 0,
                             mask = true, maskKey = crypto.randomBytes(4)} = {}) {
  const data = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const len = data.length;
  const head = [((fin ? 0x80 : 0) | ((rsv & 0x7) << 4) | (opcode & 0xf))];
  const maskBit = mask ? 0x80 : 0;
  if (len < 126) {
    head.push(maskBit | len);
  } else if (len < 65536) {
    head.push(maskBit | 126, len >> 8, len & 0xff);
  } else {
    head.push(maskBit | 127, 0, 0, 0, 0, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff,
              len & 0xff);
  }
  if (!mask) return Buffer.concat([Buffer.from(head), data]);
  const masked = Buffer.alloc(len);
  for (let i = 0; i < len; i++) masked[i] = data[i] ^ maskKey[i % 4];
  return Buffer.concat([Buffer.from(head), maskKey, masked]);
}

/** Builds a close payload: 2-byte code + UTF-8 reason. */
export function closePayload(code, reason = '') {
  const b = Buffer.alloc(2 + Buffer.byteLength(reason));
  b.writeUInt16BE(code, 0);
  b.write(reason, 2);
  return b;
}

/**
 * The header of the frame at `off` in `buf` up to its masking key: {b0, b1, len, p} (the first two
 * bytes, the payload length, where the key or payload starts), or null while it is incomplete.
 */
export function frameHeader(buf, off) {
  if (buf.length - off < 2) return null;
  let len = buf[off + 1] & 0x7f;
  let p = off + 2;
  if (len === 126) {
    if (buf.length - p < 2) return null;
    len = buf.readUInt16BE(p);
    p += 2;
  } else if (len === 127) {
    if (buf.length - p < 8) return null;
    len = Number(buf.readBigUInt64BE(p));
    p += 8;
  }
  return {b0: buf[off], b1: buf[off + 1], len, p};
}

/**
 * Parses as many complete server frames as `buf` holds.
 * Returns {frames, rest}. Each frame: {fin, rsv, opcode, masked, payload, text, code, reason}.
 */
export function parseFrames(buf) {
  const frames = [];
  let off = 0;
  for (let header; (header = frameHeader(buf, off));) {
    const {b0, b1, len} = header;
    let {p} = header;
    const masked = (b1 & 0x80) !== 0;
    let key = null;
    if (masked) {
      if (buf.length - p < 4) break;
      key = buf.subarray(p, p + 4);
      p += 4;
    }
    if (buf.length - p < len) break;
    let payload = Buffer.from(buf.subarray(p, p + len));
    if (masked) payload = payload.map((x, i) => x ^ key[i % 4]);
    const opcode = b0 & 0xf;
    const frame = {fin: (b0 & 0x80) !== 0, rsv: (b0 >> 4) & 0x7, opcode, masked, payload};
    if (opcode === OP.TEXT) frame.text = payload.toString('utf8');
    if (opcode === OP.CLOSE) {
      frame.code = payload.length >= 2 ? payload.readUInt16BE(0) : null;
      frame.reason = payload.length > 2 ? payload.subarray(2).toString('utf8') : '';
    }
    frames.push(frame);
    off = p + len;
  }
  return {frames, rest: buf.subarray(off)};
}

function parseHttpHead(text) {
  const [statusLine, ...lines] = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  const headers = {};
  for (const line of lines) {
    const i = line.indexOf(':');
    if (i > 0) {
      const k = line.slice(0, i).trim().toLowerCase();
      const v = line.slice(i + 1).trim();
      headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
    }
  }
  return {status: m ? Number(m[1]) : NaN, statusLine, headers};
}

export function acceptFor(key) {
  return crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
}

/**
 * Performs an HTTP request meant as a WebSocket upgrade.
 * options: port, host, path ('/cable'), method ('GET'), headers (extra/overrides; a value of
 * null removes a default header), key, protocols (string or array → Sec-WebSocket-Protocol),
 * raw (a complete request string to send instead), allowHalfOpen (keep our side open after the
 * server's FIN, as a client that never answers a close frame does).
 * Resolves with {status, headers, statusLine, body, ws}; `ws` (a RawWebSocket) only for 101.
 */
export function rawUpgrade({port, host = '127.0.0.1', path = '/cable', method = 'GET', headers = {},
                            key = crypto.randomBytes(16).toString('base64'), protocols, raw,
                            timeoutMs = 5000, allowHalfOpen = false} = {}) {
  const defaults = {
    Host: `${host}:${port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': key,
    'Sec-WebSocket-Version': '13',
    Origin: `http://${host}:${port}`,
  };
  if (protocols !== undefined) {
    defaults['Sec-WebSocket-Protocol'] = Array.isArray(protocols) ? protocols.join(', ') : protocols;
  }
  const all = {...defaults, ...headers};
  let request = raw;
  if (request === undefined) {
    request = `${method} ${path} HTTP/1.1\r\n`;
    for (const [k, v] of Object.entries(all)) if (v !== null && v !== undefined) request += `${k}: ${v}\r\n`;
    request += '\r\n';
  }

  return new Promise((resolve, reject) => {
    const socket = net.connect({port, host, allowHalfOpen});
    let buf = Buffer.alloc(0);
    let head = null;
    let settled = false;
    const timer = setTimeout(() => finish(new Error(`no HTTP response within ${timeoutMs} ms`)), timeoutMs);
    function finish(err, value) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('data', onData);
      if (err) {
        socket.destroy();
        reject(err);
      } else {
        resolve(value);
      }
    }
    function bodyComplete() {
      const len = head.headers['content-length'];
      if (len !== undefined) return buf.length >= Number(len);
      return false;
    }
    function onData(chunk) {
      buf = Buffer.concat([buf, chunk]);
      if (!head) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        head = parseHttpHead(buf.subarray(0, end).toString('latin1'));
        buf = buf.subarray(end + 4);
        if (head.status === 101) {
          const ws = new RawWebSocket(socket, buf);
          finish(null, {...head, body: '', ws, key});
          return;
        }
      }
      if (bodyComplete()) {
        socket.end();
        finish(null, {...head, body: buf.toString('utf8'), ws: null, key});
      }
    }
    socket.on('data', onData);
    socket.on('error', (err) => finish(err));
    socket.on('close', () => {
      if (head) finish(null, {...head, body: buf.toString('utf8'), ws: null, key});
      else finish(new Error(`connection closed without an HTTP response (got ${JSON.stringify(buf.toString())})`));
    });
    socket.write(request);
  });
}

/** Connects and upgrades; throws unless the server answers 101. */
export async function rawConnect(port, {path = '/cable', headers = {}, protocols, allowHalfOpen} = {}) {
  const res = await rawUpgrade({port, path, headers, protocols, allowHalfOpen});
  if (res.status !== 101) throw new Error(`upgrade refused: ${res.statusLine} ${res.body}`);
  res.ws.handshake = res;
  return res.ws;
}

/** An upgraded connection; frames from the server are queued and read with nextFrame(). */
export class RawWebSocket {
  constructor(socket, initial) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.frames = [];     // parsed, not yet consumed
    this.all = [];        // every frame ever received, for diagnostics
    this.waiters = [];
    this.ended = false;
    this.endWaiters = [];
    socket.on('data', (chunk) => this.#onData(chunk));
    socket.on('close', () => this.#onEnd());
    socket.on('error', () => this.#onEnd());
    if (initial.length) this.#onData(initial);
  }

  #onData(chunk) {
    this.buf = Buffer.concat([this.buf, chunk]);
    const {frames, rest} = parseFrames(this.buf);
    this.buf = Buffer.from(rest);
    for (const f of frames) {
      this.all.push(f);
      this.frames.push(f);
    }
    this.#wake();
  }

  #onEnd() {
    if (this.ended) return;
    this.ended = true;
    this.#wake();
    for (const w of this.endWaiters.splice(0)) w();
  }

  #wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  /** Writes raw bytes. */
  sendRaw(bytes) {
    this.socket.write(bytes);
  }

  sendFrame(opts) {
    this.sendRaw(encodeFrame(opts));
  }

  sendText(text, opts = {}) {
    this.sendFrame({opcode: OP.TEXT, payload: Buffer.from(text, 'utf8'), ...opts});
  }

  sendJson(obj) {
    this.sendText(JSON.stringify(obj));
  }

  sendClose(code = 1000, reason = '') {
    this.sendFrame({opcode: OP.CLOSE, payload: closePayload(code, reason)});
  }

  /**
   * Resolves with the next server frame matching `predicate` (default: any frame); frames that do
   * not match are consumed and dropped. Rejects on timeout or when the socket ended first.
   */
  async nextFrame(predicate = () => true, timeoutMs = 3000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      while (this.frames.length) {
        const f = this.frames.shift();
        if (predicate(f)) return f;
      }
      if (this.ended) throw new Error(`socket ended while waiting for a frame; received: ${this.describe()}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; received: ${this.describe()}`);
      await new Promise((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Next text frame whose JSON is not an Action Cable ping and matches `predicate`. */
  async nextJson(predicate = () => true, timeoutMs = 3000) {
    const f = await this.nextFrame((fr) => {
      if (fr.opcode === OP.CLOSE) return true;  // surface closes instead of timing out
      if (fr.opcode !== OP.TEXT) return false;
      const msg = safeParse(fr.text);
      return msg?.type !== 'ping' && predicate(msg, fr);
    }, timeoutMs);
    if (f.opcode === OP.CLOSE) throw new Error(`server closed (${f.code} ${f.reason}) while waiting for JSON; received: ${this.describe()}`);
    return JSON.parse(f.text);
  }

  /** Next close frame (other frames are skipped). */
  nextClose(timeoutMs = 3000) {
    return this.nextFrame((f) => f.opcode === OP.CLOSE, timeoutMs);
  }

  /** Collects non-ping text frames arriving within `ms` (consuming them). */
  async collectJson(ms) {
    await new Promise((r) => setTimeout(r, ms));
    const out = [];
    while (this.frames.length) {
      const f = this.frames.shift();
      if (f.opcode !== OP.TEXT) continue;
      const msg = safeParse(f.text);
      if (msg?.type !== 'ping') out.push(f.text);
    }
    return out;
  }

  /** Resolves true when the TCP connection ended within `timeoutMs`, false otherwise. */
  waitEnded(timeoutMs = 3000) {
    if (this.ended) return Promise.resolve(true);
    return new Promise((resolve) => {
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.endWaiters.push(() => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  describe() {
    return JSON.stringify(this.all.map((f) => f.text ?? (f.opcode === OP.CLOSE ? `close(${f.code},${f.reason})` : `op${f.opcode}`)));
  }

  destroy() {
    this.socket.destroy();
  }
}

function safeParse(text) {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
