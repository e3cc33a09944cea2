/**
 * What a ProtocolSession tells its owner, without I/O: its role, the peer's close code and
 * reason, the bytes it holds and the sends waiting in it, output held by a transport that cannot
 * write (and the pong budget that counts it, RFC 6455 §5.5.3), the limits it is given, text as bytes,
 * and observed frames (the frame-level API).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ErrorCode, ProtocolSession, ReadyState } from '../../src/protocol/index.js';
import { MAX_PENDING_PONG_BYTES } from '../../src/protocol/session/session.js';
import { guardProcess } from '../helpers/process-guard.js';
import { SessionHarness } from '../helpers/session-recorder.js';
import { SteppedExtension } from '../helpers/stepped-extension.js';
import { clientFrame, closePayload, OP, parseWireFrames, readClose } from '../helpers/wire-frames.js';

guardProcess();

describe('state the owner reads', () => {
  test('API: role is what the session was made as; the close code is 1006 and the reason empty until a close frame arrives', () => {
    const server = new SessionHarness('server');
    const client = new SessionHarness('client');
    assert.deepEqual([server.session.role, client.session.role], ['server', 'client']);
    assert.deepEqual([server.session.closeCode, server.session.closeReason], [1006, '']);
    assert.deepEqual([server.session.closeSent, server.session.closeReceived, server.session.canSendMessage], [false, false, true]);
    server.feed(clientFrame({ opcode: OP.CLOSE, payload: closePayload(4001, 'custom') }));
    assert.deepEqual([server.session.closeCode, server.session.closeReason], [4001, 'custom']);
    assert.deepEqual([server.session.closeSent, server.session.closeReceived, server.session.canSendMessage], [true, true, false]);
    assert.equal(server.session.transportClosed(), true, 'both close frames were exchanged: a clean close');
  });

  test('API: outputLength and pendingBytes count what is not yet taken; takeOutput empties them', () => {
    const h = new SessionHarness('server');
    assert.deepEqual([h.session.outputLength, h.session.pendingBytes], [0, 0]);
    h.session.sendText('hello');
    assert.deepEqual([h.session.outputLength, h.session.pendingBytes], [7, 7], 'a 2-byte header and 5 bytes');
    h.session.sendBytes(Buffer.alloc(20_000), true);
    assert.equal(h.session.outputLength, 7 + 4 + 20_000);
    h.collect();
    assert.deepEqual([h.session.outputLength, h.session.pendingBytes], [0, 0]);
  });

  test('RFC 6455 §5.5.3: output held by a transport that cannot write still counts against the pong budget until outputWritten()', () => {
    const h = new SessionHarness('server');
    const ping = clientFrame({ opcode: OP.PING, payload: Buffer.alloc(125, 0x70) });
    const pongSize = 2 + 125;
    const answered = Math.floor(MAX_PENDING_PONG_BYTES / pongSize);
    const pings = (n: number) => h.session.receive(Buffer.concat(Array.from({ length: n }, () => Buffer.from(ping))));
    pings(answered + 10);
    const held = h.session.holdOutput();
    assert.ok(held !== null);
    const heldBytes = Buffer.concat(Array.isArray(held) ? held : [held]);
    assert.equal(parseWireFrames(heldBytes).length, answered, 'pings beyond the budget are not answered');
    pings(5);
    assert.equal(h.session.outputLength, 0, 'the held pongs are not written yet: still no room');
    h.session.outputWritten();
    pings(3);
    assert.deepEqual(
      h.sent().map((f) => f.opcode),
      [OP.PONG, OP.PONG, OP.PONG],
      'once written, pings are answered again',
    );
    assert.equal(h.events.filter((e) => e.type === 'ping').length, answered + 18, 'every ping is reported');
  });

  test('RFC 6455 §5.5.3: takeOutput() (the output is written at once) restores the pong budget too', () => {
    const h = new SessionHarness('server');
    const ping = clientFrame({ opcode: OP.PING, payload: Buffer.alloc(125) });
    const answered = Math.floor(MAX_PENDING_PONG_BYTES / 127);
    h.session.receive(Buffer.concat(Array.from({ length: answered + 1 }, () => Buffer.from(ping))));
    assert.equal(h.sent().length, answered);
    h.feed(ping);
    assert.equal(h.sent().length, 1);
  });
});

describe('after our close (RFC 6455 §7.1.2)', () => {
  test('RFC 6455 §7.1.2: after we sent a close, pings and pongs from the peer are neither answered nor reported', () => {
    const h = new SessionHarness('server');
    h.session.close(1000);
    h.feed(Buffer.concat([clientFrame({ opcode: OP.PING, payload: 'ping' }), clientFrame({ opcode: OP.PONG, payload: 'pong' })]));
    assert.deepEqual(h.events.map((e) => e.type), ['close-sent']);
    assert.deepEqual(h.sent().map((f) => f.opcode), [OP.CLOSE]);
  });
});

describe('text as bytes (SessionOptions.textAsBuffer)', () => {
  /** Messages as the handler got them: [is a string, the text]. */
  function received(options: { textAsBuffer?: boolean }, ...frames: Buffer[]): Array<[boolean, string]> {
    const got: Array<[boolean, string]> = [];
    const session = new ProtocolSession('server', {
      onMessage: (data) => got.push([typeof data === 'string', data.toString()]),
      onPing: () => {},
      onPong: () => {},
      onFrame: () => {},
      onPeerClose: () => {},
      onCloseSent: () => {},
      onCloseHandshakeComplete: () => {},
      onProtocolError: (error) => got.push([false, `error ${error.closeCode}`]),
      onOutput: () => {},
      onReceiverResumed: () => {},
    }, options);
    for (const frame of frames) session.receive(frame);
    return got;
  }
  const whole = () => clientFrame({ opcode: OP.TEXT, payload: 'héllo' });
  const pieces = () => [clientFrame({ opcode: OP.TEXT, fin: false, payload: 'in ' }), clientFrame({ opcode: OP.CONTINUATION, payload: 'pieces' })];

  test('API: with textAsBuffer, text arrives as its UTF-8 bytes, whole or assembled from fragments; by default as strings', () => {
    assert.deepEqual(received({ textAsBuffer: true }, whole(), ...pieces()), [
      [false, 'héllo'],
      [false, 'in pieces'],
    ]);
    assert.deepEqual(received({}, whole(), ...pieces()), [
      [true, 'héllo'],
      [true, 'in pieces'],
    ]);
  });

  test('RFC 6455 §8.1: with textAsBuffer, text is still validated: invalid UTF-8 → 1007', () => {
    assert.deepEqual(received({ textAsBuffer: true }, clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0x61, 0xff]) })), [[false, 'error 1007']]);
  });
});

describe('sends waiting in the session (sendsWaiting)', () => {
  test('API: sendsWaiting is true while sends wait behind a compression, false once they are out', () => {
    const extension = new SteppedExtension();
    const h = new SessionHarness('server');
    h.session.setExtension(extension);
    assert.equal(h.session.sendsWaiting, false);
    h.session.sendText('compressed');
    assert.equal(h.session.sendsWaiting, true, 'the encode runs');
    h.session.sendText('queued', false);
    extension.finishEncode();
    assert.equal(h.session.sendsWaiting, false);
    assert.equal(h.sent().length, 2);
  });
});

describe('limits given as options (decision: maxPayload 16 MiB, maxFragments 262,144)', () => {
  test('decision: maxFragments alone keeps the default maxPayload (16 MiB)', () => {
    const h = new SessionHarness('server', { maxFragments: 2 });
    h.feed(
      Buffer.concat([
        clientFrame({ opcode: OP.TEXT, fin: false, payload: 'a' }),
        clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: 'b' }),
        clientFrame({ opcode: OP.CONTINUATION, payload: 'c' }),
      ]),
    );
    assert.deepEqual(h.errors, [{ type: 'error', code: ErrorCode.TOO_MANY_FRAGMENTS, closeCode: 1009 }]);
    const big = new SessionHarness('server', { maxFragments: 2 });
    big.feed(clientFrame({ opcode: OP.BINARY, declaredLength: 16 * 1024 * 1024 }).subarray(0, 14));
    assert.deepEqual(big.errors, [], '16 MiB is still allowed');
    const over = new SessionHarness('server', { maxFragments: 2 });
    over.feed(clientFrame({ opcode: OP.BINARY, declaredLength: 16 * 1024 * 1024 + 1 }).subarray(0, 14));
    assert.deepEqual(over.errors, [{ type: 'error', code: ErrorCode.MESSAGE_TOO_BIG, closeCode: 1009 }]);
  });

  test('decision: maxPayload alone keeps the default maxFragments; one options object serves many sessions', () => {
    const options = { maxPayload: 10 };
    const a = new SessionHarness('server', options).feed(clientFrame({ opcode: OP.TEXT, payload: '0123456789' }));
    const b = new SessionHarness('server', options).feed(clientFrame({ opcode: OP.TEXT, payload: '0123456789A' }));
    assert.deepEqual(a.messages.map((m) => m.data.toString()), ['0123456789']);
    assert.deepEqual(b.errors, [{ type: 'error', code: ErrorCode.MESSAGE_TOO_BIG, closeCode: 1009 }]);
    const fragments = Array.from({ length: 10 }, (_, i) => clientFrame({ opcode: i === 0 ? OP.TEXT : OP.CONTINUATION, fin: i === 9, payload: '' }));
    const c = new SessionHarness('server', options).feed(Buffer.concat(fragments));
    assert.deepEqual(c.messages.map((m) => m.data.length), [0], 'ten fragments are far below the default limit');
  });
});

describe('observed frames on a session (the frame-level API)', () => {
  test('API: with observeFrames on, every frame is reported before its message; turned off, only messages', () => {
    const h = new SessionHarness('server');
    assert.equal(h.session.observeFrames, false);
    h.session.observeFrames = true;
    assert.equal(h.session.observeFrames, true);
    h.feed(Buffer.concat([clientFrame({ opcode: OP.TEXT, fin: false, payload: 'ab' }), clientFrame({ opcode: OP.CONTINUATION, payload: 'c' })]));
    assert.deepEqual(
      h.events.map((e) => (e.type === 'frame' ? `frame ${e.opcode} ${e.payload.toString()}` : e.type === 'message' ? `message ${e.data.toString()}` : e.type)),
      ['frame 1 ab', 'frame 0 c', 'message abc'],
    );
    h.session.observeFrames = false;
    h.feed(clientFrame({ opcode: OP.TEXT, payload: 'plain' }));
    assert.deepEqual(h.events.slice(3).map((e) => e.type), ['message']);
  });

  test('RFC 6455 §7.1.2: after our close, observed data frames are still reported as frames, but not as messages', () => {
    const h = new SessionHarness('server');
    h.session.observeFrames = true;
    h.session.close(1000);
    h.feed(Buffer.concat([clientFrame({ opcode: OP.BINARY, fin: false, payload: 'x' }), clientFrame({ opcode: OP.CONTINUATION, payload: 'y' })]));
    h.feed(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.deepEqual(
      h.events.map((e) => e.type),
      ['close-sent', 'frame', 'frame', 'frame', 'peer-close', 'close-complete'],
    );
    assert.equal(h.session.readyState, ReadyState.CLOSED);
    assert.deepEqual(h.sent().map(readClose), [{ code: 1000, reason: '' }]);
  });
});
