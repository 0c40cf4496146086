// Side-by-side conformance: every scenario runs against the Ruby Action Cable reference
// (reference/ruby, Rails 6.1 under puma) and against Cablecast, both probed live in the same run;
// the observed transcripts (HTTP status + relevant headers, every frame byte for byte except
// Action Cable pings: text, pongs, close codes, whether the TCP connection ends) must be
// identical, except for the explicit, commented DEVIATIONS below, where each side is checked
// against its documented behaviour. Covered: the handshake, the protocol's commands, the frame
// level (ping/pong, fragmentation, close codes of every protocol error) and JSON escaping.
// A wait that runs out (an expected frame, pong or close that never came) fails the scenario on
// either side: two silent servers never compare equal. Findings about Rails are written up in
// FINDINGS.md next to this file. Ruby/puma missing means the test fails
// (scripts/install-deps.sh installs them).
import assert from 'node:assert/strict';
import {after, before, describe, test} from 'node:test';
import {OP, acceptFor, closePayload, rawUpgrade} from '../support/raw_ws.mjs';
import {startCablecast, startRubyReference, targetIsRuby} from '../support/servers.mjs';

// CABLECAST_TEST_TARGET=ruby compares the reference with a second reference instance instead of
// Cablecast: a self-check that every scenario is deterministic enough to compare.
const selfCheck = targetIsRuby;

// "Nothing is sent" is fenced by a WebSocket ping: Cablecast handles a connection's frames in
// order and queues the pong after everything already queued, so frames sent before the pong
// arrive first. Rails runs commands concurrently on its worker pool (no frame orders them), so
// on the reference side the fence is preceded by this wait.
const RUBY_SETTLE_MS = 300;
const EXPECT_MS = 4000;   // how long an expected frame may take (running out fails the test)
let fences = 0;

const bench = (id) => JSON.stringify({channel: 'BenchmarkChannel', id});
const cmd = (command, identifier, data) =>
  JSON.stringify(data === undefined ? {command, identifier} : {command, identifier, data});
const perform = (identifier, data) => cmd('message', identifier, JSON.stringify(data));

/**
 * A recording session against one server. Every step appends human-readable lines to `log`;
 * scenarios compare logs, so a wrong/missing/extra frame shows up as a readable diff.
 */
class Session {
  constructor(port, kind) {
    this.port = port;
    this.kind = kind;
    this.log = [];
    this.sockets = [];
    this.timeouts = [];  // waits that ran out: each one fails the scenario
  }

  /** Upgrades and records the status line facts; returns the RawWebSocket (or null). */
  async open(name, {path = '/cable', protocols, headers = {}, method} = {}) {
    const res = await rawUpgrade({port: this.port, path, protocols, headers, method});
    const facts = [`${name}: HTTP ${res.status}`];
    if (res.status === 101) {
      facts.push(`accept ${res.headers['sec-websocket-accept'] === acceptFor(res.key) ? 'valid' : 'INVALID'}`);
      // Header names and these token values are case-insensitive in HTTP.
      facts.push(`upgrade=${res.headers.upgrade?.toLowerCase()}`);
      facts.push(`connection=${res.headers.connection?.toLowerCase()}`);
      facts.push(`protocol=${res.headers['sec-websocket-protocol'] ?? '(none)'}`);
      facts.push(`extensions=${res.headers['sec-websocket-extensions'] ?? '(none)'}`);
    } else {
      facts.push(`type=${(res.headers['content-type'] ?? '(none)').split(';')[0]}`);
      facts.push(`body=${JSON.stringify(res.body)}`);
    }
    this.log.push(facts.join(' '));
    if (res.ws) {
      res.ws.name = name;
      this.sockets.push(res.ws);
    }
    return res.ws;
  }

  send(ws, text) {
    ws.sendText(text);
  }

  /** Sends one raw frame (encodeFrame's options: opcode, payload, fin, rsv, mask). */
  sendFrame(ws, frame) {
    ws.sendFrame(frame);
  }

  timedOut(what) {
    this.timeouts.push(what);
    this.log.push(`(timeout: ${what})`);
  }

  /** Records the next `n` non-ping frames (sorted when `unordered`: Rails leaves that order open). */
  async expect(ws, n, {unordered = false} = {}) {
    const got = [];
    try {
      for (let i = 0; i < n; i++) got.push(describeFrame(await ws.nextFrame(notPing, EXPECT_MS)));
    } catch {
      this.timedOut(`${ws.name}: ${got.length} of ${n} frames`);
    }
    if (unordered) got.sort();
    for (const line of got) this.log.push(`${ws.name} <- ${line}`);
  }

  /** Records what arrives before the pong of a fresh ping (normally: nothing). */
  async settle(ws) {
    if (this.kind === 'ruby') await new Promise((r) => setTimeout(r, RUBY_SETTLE_MS));
    const tag = `fence-${++fences}`;
    ws.sendFrame({opcode: OP.PING, payload: tag});
    const got = [];
    try {
      for (;;) {
        const f = await ws.nextFrame(notPing, EXPECT_MS);
        if (f.opcode === OP.PONG && f.payload.toString() === tag) break;
        got.push(describeFrame(f));
      }
    } catch {
      this.timedOut(`${ws.name}: no pong to the fence`);
    }
    this.log.push(`${ws.name} quiet: ${got.length === 0 ? 'yes' : JSON.stringify(got)}`);
  }

  /**
   * A protocol error: records the server's close code (the reason text is each library's own
   * wording), answers the close as a client should, and records whether the server then ends TCP.
   */
  async expectClose(ws) {
    let close;
    try {
      close = await ws.nextFrame(notPing, EXPECT_MS);
    } catch {
      return this.timedOut(`${ws.name}: no close frame`);
    }
    if (close.opcode !== OP.CLOSE) {
      this.log.push(`${ws.name} <- ${describeFrame(close)} (not a close frame)`);
      return;
    }
    this.log.push(`${ws.name} <- close ${close.code ?? '(no code)'}`);
    ws.sendFrame({opcode: OP.CLOSE, payload: closePayload(close.code ?? 1000)});
    if (!(await ws.waitEnded(EXPECT_MS))) return this.timedOut(`${ws.name}: TCP still open after the close`);
    this.log.push(`${ws.name} ended`);
  }

  close() {
    for (const ws of this.sockets) ws.destroy();
  }
}

function notPing(f) {
  return !(f.opcode === OP.TEXT && /^\{"type":"ping","message":\d+\}$/.test(f.text));
}

function describeFrame(f) {
  if (f.opcode === OP.TEXT) return f.text;
  if (f.opcode === OP.CLOSE) return `close ${f.code} ${JSON.stringify(f.reason)}`;
  return `opcode ${f.opcode} ${f.payload.toString('hex')}`;
}

/** Subscribes and records the reply. */
async function subscribe(s, ws, identifier) {
  s.send(ws, cmd('subscribe', identifier));
  await s.expect(ws, 1);
}

/** Sends a frame the server must ignore, then proves the connection still works with an echo. */
async function ignoredThenEcho(s, ws, text, identifier) {
  s.send(ws, text);
  await s.settle(ws);
  s.send(ws, perform(identifier, {action: 'echo', still: 'usable'}));
  await s.expect(ws, 1);
}

const SCENARIOS = {
  'handshake without sub-protocol': async (s) => {
    await s.open('c', {});
  },
  'handshake offering the Action Cable protocols': async (s) => {
    await s.open('c', {protocols: 'actioncable-v1-json, actioncable-unsupported'});
  },
  'handshake offering foo then actioncable-v1-json': async (s) => {
    await s.open('c', {protocols: 'foo, actioncable-v1-json'});
  },
  'handshake offering only an unknown sub-protocol': async (s) => {
    const ws = await s.open('c', {protocols: 'foo'});
    await s.expect(ws, 1);
  },
  'handshake offering only actioncable-unsupported': async (s) => {
    await s.open('c', {protocols: 'actioncable-unsupported'});
  },
  'plain GET /cable without upgrade': async (s) => {
    await s.open('c', {headers: {Upgrade: null, Connection: 'close'}});
  },
  'POST /cable': async (s) => {
    await s.open('c', {method: 'POST', headers: {'Content-Length': '0'}});
  },
  'handshake without Sec-WebSocket-Key': async (s) => {
    await s.open('c', {headers: {'Sec-WebSocket-Key': null}});
  },
  'handshake with Sec-WebSocket-Version 8': async (s) => {
    const ws = await s.open('c', {headers: {'Sec-WebSocket-Version': '8'}});
    ws?.destroy();
  },
  'welcome': async (s) => {
    const ws = await s.open('c', {path: '/cable?user=alice'});
    await s.expect(ws, 1);
    await s.settle(ws);
  },
  'subscribe and confirm': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('conf'));
    await subscribe(s, ws, JSON.stringify({channel: 'ChatChannel', room: 'conf'}));
  },
  'subscription rejected by the channel': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, '{"channel":"ChatChannel"}');
    await subscribe(s, ws, '{"channel":"ChatChannel","room":""}');
    await subscribe(s, ws, '{"channel":"ChatChannel","room":5}');
    // A rejected identifier is not subscribed: messages to it are ignored.
    s.send(ws, perform('{"channel":"ChatChannel"}', {action: 'speak', text: 'x'}));
    await s.settle(ws);
  },
  'duplicate subscribe': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('dup'));
    s.send(ws, cmd('subscribe', bench('dup')));
    await s.settle(ws);
  },
  'unsubscribe from an unknown identifier': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('u'));
    await ignoredThenEcho(s, ws, cmd('unsubscribe', bench('unknown')), bench('u'));
  },
  'unsubscribe stops deliveries': async (s) => {
    const a = await s.open('a');
    const b = await s.open('b');
    await s.expect(a, 1);
    await s.expect(b, 1);
    await subscribe(s, a, bench('unsub'));
    await subscribe(s, b, bench('unsub'));
    s.send(a, cmd('unsubscribe', bench('unsub')));
    await s.settle(a);
    s.send(b, perform(bench('unsub'), {action: 'broadcast', n: 1}));
    await s.expect(b, 2, {unordered: true});
    await s.settle(a);
  },
  'unknown command': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('cmd'));
    await ignoredThenEcho(s, ws, cmd('foo', bench('cmd')), bench('cmd'));
  },
  'malformed JSON': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('mal'));
    await ignoredThenEcho(s, ws, '{"command":"subscribe",', bench('mal'));
    await ignoredThenEcho(s, ws, '"abc"', bench('mal'));
    await ignoredThenEcho(s, ws, '[1,2]', bench('mal'));
  },
  'message to an identifier that is not subscribed': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('ns'));
    await ignoredThenEcho(s, ws, perform(bench('other'), {action: 'echo'}), bench('ns'));
  },
  'message without action': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('na'));
    await ignoredThenEcho(s, ws, perform(bench('na'), {x: 1}), bench('na'));
  },
  'message with an unknown action': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('ua'));
    await ignoredThenEcho(s, ws, perform(bench('ua'), {action: 'nope'}), bench('ua'));
    // Lifecycle callbacks and Object methods are not actions either.
    await ignoredThenEcho(s, ws, perform(bench('ua'), {action: 'subscribed'}), bench('ua'));
    await ignoredThenEcho(s, ws, perform(bench('ua'), {action: 'to_s'}), bench('ua'));
  },
  'message whose data is not a string': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('ds'));
    await ignoredThenEcho(s, ws, JSON.stringify({command: 'message', identifier: bench('ds'), data: {action: 'echo'}}),
                          bench('ds'));
  },
  'echo': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('echo'));
    s.send(ws, perform(bench('echo'), {action: 'echo', s: 'text', n: -12, f: false, z: null, a: [1, {b: 'c'}], u: 'é✓'}));
    await s.expect(ws, 1);
    s.send(ws, perform(bench('echo'), {text: 'action last', action: 'echo'}));
    await s.expect(ws, 1);
  },
  'broadcast': async (s) => {
    const a = await s.open('a');
    const b = await s.open('b');
    await s.expect(a, 1);
    await s.expect(b, 1);
    await subscribe(s, a, bench('bc'));
    await subscribe(s, b, bench('bc'));
    s.send(a, perform(bench('bc'), {text: 'hi', action: 'broadcast', k: 1}));
    // Rails does not define whether the transmit or the stream delivery comes first.
    await s.expect(a, 2, {unordered: true});
    await s.expect(b, 1);
    await s.settle(a);
    await s.settle(b);
  },
  'chat speak': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, '{"channel":"ChatChannel","room":"lobby"}');
    s.send(ws, perform('{"channel":"ChatChannel","room":"lobby"}', {action: 'speak', user: 'al', text: 'hi', x: 1}));
    await s.expect(ws, 1);
    s.send(ws, perform('{"channel":"ChatChannel","room":"lobby"}', {action: 'speak', text: 'no user'}));
    await s.expect(ws, 1);
  },
  'identifier key order and spacing': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    const ids = ['{"channel":"BenchmarkChannel","id":"ko"}', '{"id":"ko","channel":"BenchmarkChannel"}',
                 '{"channel": "BenchmarkChannel", "id": "ko"}'];
    for (const id of ids) await subscribe(s, ws, id);
    s.send(ws, perform(ids[1], {action: 'broadcast', k: 'v'}));
    await s.expect(ws, 4, {unordered: true});
    await s.settle(ws);
  },
  'unauthorized connection': async (s) => {
    const ws = await s.open('c', {path: '/cable?reject=1'});
    await s.expect(ws, 2);
  },
  'subscribe to an unknown channel': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    s.send(ws, cmd('subscribe', '{"channel":"NoSuchChannel"}'));
    await s.settle(ws);
  },
};

/** Opens a welcomed connection, sends `frames` (encodeFrame options), records the close. */
const failsWith = (...frames) => async (s) => {
  const ws = await s.open('c');
  await s.expect(ws, 1);
  for (const frame of frames) s.sendFrame(ws, frame);
  await s.expectClose(ws);
};
const text = (payload, extra = {}) => ({opcode: OP.TEXT, payload, ...extra});
const utf8 = (...parts) => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

// RFC 6455 as both servers implement it: what the official client never sends, but a proxy, a
// library or an attacker may.
const FRAME_SCENARIOS = {
  'ping is answered with a pong carrying its payload': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    s.sendFrame(ws, {opcode: OP.PING, payload: Buffer.from('abc\x00\xff', 'latin1')});
    await s.expect(ws, 1);
    s.sendFrame(ws, {opcode: OP.PING});
    await s.expect(ws, 1);
  },
  'an unsolicited pong is ignored': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('pong'));
    s.sendFrame(ws, {opcode: OP.PONG, payload: 'unasked'});
    await s.settle(ws);
    s.send(ws, perform(bench('pong'), {action: 'echo', still: 'usable'}));
    await s.expect(ws, 1);
  },
  'a fragmented command with a ping between its fragments': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    const subscribeText = cmd('subscribe', bench('frag'));
    s.sendFrame(ws, text(subscribeText.slice(0, 10), {fin: false}));
    s.sendFrame(ws, {opcode: OP.PING, payload: 'mid'});
    s.sendFrame(ws, {opcode: OP.CONT, fin: false, payload: subscribeText.slice(10, 20)});
    s.sendFrame(ws, {opcode: OP.CONT, payload: subscribeText.slice(20)});
    await s.expect(ws, 2);  // the pong first: the message is complete only after it
  },
  'a multi-byte character split across fragments': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('split'));
    const bytes = Buffer.from(perform(bench('split'), {action: 'echo', t: 'é✓😀'}));
    const at = bytes.indexOf(Buffer.from('✓')) + 1;  // inside the 3-byte character
    s.sendFrame(ws, text(bytes.subarray(0, at), {fin: false}));
    s.sendFrame(ws, {opcode: OP.CONT, payload: bytes.subarray(at)});
    await s.expect(ws, 1);
  },
  'a binary frame': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('bin'));
    s.sendFrame(ws, {opcode: OP.BINARY, payload: Buffer.from(cmd('subscribe', bench('bin2')))});
    await s.settle(ws);
  },
  'client close 1000 is echoed and TCP ends': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    s.sendFrame(ws, {opcode: OP.CLOSE, payload: closePayload(1000)});
    await s.expectClose(ws);
  },
  'client close 4001 with a reason': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    s.sendFrame(ws, {opcode: OP.CLOSE, payload: closePayload(4001, 'bye')});
    await s.expectClose(ws);
  },
  'a close with no payload': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    s.sendFrame(ws, {opcode: OP.CLOSE});
    await s.expectClose(ws);
  },
  'close code 999 (invalid)': failsWith({opcode: OP.CLOSE, payload: closePayload(999)}),
  'close with a 1-byte payload': failsWith({opcode: OP.CLOSE, payload: Buffer.from([0x03])}),
  'an unmasked client frame': failsWith(text('{}', {mask: false})),
  'a reserved bit without an extension': failsWith(text('{}', {rsv: 4})),
  'unknown opcode 0x3': failsWith({opcode: 0x3}),
  'unknown control opcode 0xb': failsWith({opcode: 0xb}),
  'a fragmented ping': failsWith({opcode: OP.PING, fin: false, payload: 'x'}),
  'a ping of 126 bytes': failsWith({opcode: OP.PING, payload: Buffer.alloc(126)}),
  'a continuation with nothing to continue': failsWith({opcode: OP.CONT, payload: 'x'}),
  'a text frame inside a fragmented message': failsWith(text('{', {fin: false}), text('}')),
  'invalid UTF-8 (an overlong encoding)': failsWith(text(utf8('{"a":"', [0xc0, 0xaf], '"}'))),
  'invalid UTF-8 (a surrogate)': failsWith(text(utf8('{"a":"', [0xed, 0xa0, 0x80], '"}'))),
};

// What Rails' JSON encoder escapes (ActiveSupport: <, >, & and U+2028/U+2029 as \u escapes,
// control characters, non-ASCII as is) must come out byte for byte the same, from every path
// that writes JSON: a transmit (echo), a broadcast, and the identifier echoed in each frame.
const TRICKY = {html: '<script>&amp;</script>', quote: 'say "hi" \\ /', ctl: '\u0001\u001f\t\n', sep: 'a\u2028b\u2029c',
                uni: 'é✓😀', del: '\u007f', nul: '\u0000'};
const JSON_SCENARIOS = {
  'JSON escaping in a transmit and a broadcast': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('esc'));
    s.send(ws, perform(bench('esc'), {action: 'echo', ...TRICKY}));
    await s.expect(ws, 1);
    s.send(ws, perform(bench('esc'), {action: 'broadcast', ...TRICKY}));
    await s.expect(ws, 2, {unordered: true});
  },
  'JSON escapes in the data string are decoded and re-encoded': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    await subscribe(s, ws, bench('unesc'));
    const data = '{"action":"echo","a":"\\u00e9\\u2713\\ud83d\\ude00","b":"\\/\\b\\f","c":"\\u003c\\u003e"}';
    s.send(ws, JSON.stringify({command: 'message', identifier: bench('unesc'), data}));
    await s.expect(ws, 1);
  },
  'an identifier with characters that need escaping': async (s) => {
    const ws = await s.open('c');
    await s.expect(ws, 1);
    const id = JSON.stringify({channel: 'BenchmarkChannel', id: 'x<é>&"\\\u2028'});
    await subscribe(s, ws, id);
    s.send(ws, perform(id, {action: 'echo', n: 1}));
    await s.expect(ws, 1);
  },
};

/**
 * Documented deviations: Cablecast deliberately differs from Rails 6.1 here. Both transcripts are
 * pinned, so neither side can drift unnoticed.
 */
const DEVIATIONS = {
  // Rails sends nothing, so the official JS client re-sends `subscribe` every 500 ms forever;
  // Cablecast answers reject_subscription, which makes the client call rejected() and stop.
  'subscribe to an unknown channel': {
    ruby: ['c: HTTP 101 accept valid upgrade=websocket connection=upgrade protocol=(none) extensions=(none)',
           'c <- {"type":"welcome"}', 'c quiet: yes'],
    cablecast: ['c: HTTP 101 accept valid upgrade=websocket connection=upgrade protocol=(none) extensions=(none)',
                'c <- {"type":"welcome"}',
                `c quiet: ${JSON.stringify([JSON.stringify({identifier: '{"channel":"NoSuchChannel"}',
                                                             type: 'reject_subscription'})])}`],
  },
  // websocket-driver 0.6.3 crashes on a missing key (puma answers 500 with a backtrace);
  // Cablecast answers 400 Bad Request.
  'handshake without Sec-WebSocket-Key': {
    ruby: (log) => assert.match(log[0], /^c: HTTP 500 /),
    cablecast: (log) => assert.match(log[0], /^c: HTTP 400 /),
  },
  // An unmasked client frame: websocket-driver 0.6.3 closes with 1003 (unacceptable data);
  // RFC 6455 §5.1 makes it a protocol error, 1002, which Cablecast sends. Both then end TCP.
  'an unmasked client frame': {
    ruby: (log) => assert.deepEqual(log.slice(-2), ['c <- close 1003', 'c ended']),
    cablecast: (log) => assert.deepEqual(log.slice(-2), ['c <- close 1002', 'c ended']),
  },
  // websocket-driver 0.6.3 does not check the version; RFC 6455 §4.4 says 426 with
  // Sec-WebSocket-Version: 13, which Cablecast does.
  'handshake with Sec-WebSocket-Version 8': {
    ruby: (log) => assert.match(log[0], /^c: HTTP 101 /),
    cablecast: (log) => assert.match(log[0], /^c: HTTP 426 /),
  },
};

describe('Cablecast vs the Rails Action Cable reference', () => {
  let ruby;
  let cablecast;
  before(async () => {
    // allSettled: if one fails to start, the other is still assigned and stopped by after().
    const [r, c] = await Promise.allSettled([startRubyReference(),
                                             selfCheck ? startRubyReference() : startCablecast()]);
    ruby = r.value;
    cablecast = c.value;
    if (r.status === 'rejected') throw r.reason;
    if (c.status === 'rejected') throw c.reason;
  });
  after(async () => {
    await Promise.all([ruby?.stop(), cablecast?.stop()]);
  });

  for (const [name, scenario] of Object.entries({...SCENARIOS, ...FRAME_SCENARIOS, ...JSON_SCENARIOS})) {
    test(name, async () => {
      const sessions = {ruby: new Session(ruby.port, 'ruby'),
                        cablecast: new Session(cablecast.port, selfCheck ? 'ruby' : 'cablecast')};
      try {
        await Promise.all(Object.values(sessions).map((s) => scenario(s)));
      } finally {
        for (const s of Object.values(sessions)) s.close();
      }
      if (process.env.CABLECAST_PRINT_TRANSCRIPTS) {
        for (const [side, s] of Object.entries(sessions)) console.log(`# ${side}:\n#   ${s.log.join('\n#   ')}`);
      }
      // A wait that ran out proves nothing, even when both sides ran out the same way.
      for (const [side, s] of Object.entries(sessions)) {
        assert.deepEqual(s.timeouts, [], `${side} timed out:\n  ${s.log.join('\n  ')}`);
      }
      const deviation = DEVIATIONS[name];
      if (!deviation) {
        assert.deepEqual(sessions.cablecast.log, sessions.ruby.log);
        return;
      }
      for (const side of ['ruby', 'cablecast']) {
        const expected = deviation[selfCheck ? 'ruby' : side];
        if (typeof expected === 'function') expected(sessions[side].log);
        else assert.deepEqual(sessions[side].log, expected, `${side} transcript`);
      }
    });
  }
});
