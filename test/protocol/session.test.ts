/**
 * ProtocolSession (sans-I/O): what goes on the wire in answer to what comes in; the closing
 * handshake and close codes (RFC 6455 §5.5, §7), sending (§5.2, §5.3), state after close.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ReadyState } from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { SessionHarness } from '../helpers/session-recorder.js';
import { clientFrame, closePayload, OP, parseWireFrames, readClose, serverFrame, type WireFrame } from '../helpers/wire-frames.js';
import { seededRandom } from '../helpers/seeded-random.js';

guardProcess();

function server(options = {}) {
  return new SessionHarness('server', options);
}

function onlyClose(frames: WireFrame[]): { code: number; reason: string } {
  assert.equal(frames.length, 1, `expected exactly one frame (a close), got ${frames.map((f) => f.opcode).join(',')}`);
  return readClose(frames[0]!);
}

describe('failing the connection sends the close code (RFC 6455 §7.1.7)', () => {
  const cases: Array<[string, Buffer, number]> = [
    ['RSV1 without extension', clientFrame({ opcode: OP.TEXT, rsv1: true, payload: 'x' }), 1002],
    ['reserved opcode 3', clientFrame({ opcode: 3 }), 1002],
    ['reserved opcode 11', clientFrame({ opcode: 11 }), 1002],
    ['ping of 126 bytes', clientFrame({ opcode: OP.PING, payload: Buffer.alloc(126) }), 1002],
    ['fragmented ping', clientFrame({ opcode: OP.PING, fin: false }), 1002],
    ['continuation without a message', clientFrame({ opcode: OP.CONTINUATION, payload: 'x' }), 1002],
    ['unmasked frame to a server', serverFrame({ opcode: OP.TEXT, payload: 'x' }), 1002],
    ['invalid UTF-8', clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0xff]) }), 1007],
    ['a frame over maxPayload', clientFrame({ opcode: OP.BINARY, declaredLength: 16 * 1024 * 1024 + 1 }), 1009],
  ];
  for (const [name, bytes, code] of cases) {
    test(`RFC 6455 §7.1.7: ${name} → close frame ${code}, unmasked from a server, state CLOSED`, () => {
      const h = server().feed(bytes);
      const frames = h.sent();
      const close = onlyClose(frames);
      assert.equal(close.code, code);
      assert.equal(frames[0]!.masked, false);
      assert.equal(h.session.readyState, ReadyState.CLOSED);
      assert.equal(h.errors.length, 1);
      assert.equal(h.errors[0]!.closeCode, code);
    });
  }

  test('RFC 6455 §5.1: a masked frame to a client fails with a (masked) close 1002', () => {
    const h = new SessionHarness('client').feed(clientFrame({ opcode: OP.TEXT, payload: 'x' }));
    const frames = h.sent();
    assert.equal(onlyClose(frames).code, 1002);
    assert.equal(frames[0]!.masked, true);
  });

  test('RFC 6455 §7.1.7: after failing, later frames are ignored (no echo, no pong)', () => {
    const h = server().feed(
      Buffer.concat([clientFrame({ opcode: 3 }), clientFrame({ opcode: OP.PING, payload: 'p' }), clientFrame({ opcode: OP.TEXT, payload: 't' })]),
    );
    assert.equal(onlyClose(h.sent()).code, 1002);
    assert.equal(h.messages.length, 0);
    assert.equal(h.events.filter((e) => e.type === 'ping').length, 0);
  });
});

describe('close frames (RFC 6455 §5.5.1, §7.4)', () => {
  const invalidCodes = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535];
  for (const code of invalidCodes) {
    test(`RFC 6455 §7.4.1: receiving close code ${code} closes 1002`, () => {
      const h = server().feed(clientFrame({ opcode: OP.CLOSE, payload: closePayload(code) }));
      assert.equal(onlyClose(h.sent()).code, 1002);
      assert.deepEqual(h.errors, [{ type: 'error', code: 'WSF_ERR_INVALID_CLOSE_CODE', closeCode: 1002 }]);
    });
  }

  const validCodes = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999, 4000, 4999];
  for (const code of validCodes) {
    test(`RFC 6455 §5.5.1: close code ${code} is echoed and reported`, () => {
      const h = server().feed(clientFrame({ opcode: OP.CLOSE, payload: closePayload(code, 'reason') }));
      assert.equal(onlyClose(h.sent()).code, code);
      assert.deepEqual(
        h.events.filter((e) => e.type === 'peer-close'),
        [{ type: 'peer-close', code, reason: 'reason' }],
      );
      assert.equal(h.errors.length, 0);
      assert.equal(h.session.readyState, ReadyState.CLOSED);
      assert.equal(h.events.at(-1)!.type, 'close-complete');
    });
  }

  test('RFC 6455 §5.5.1: an empty close is answered with 1000 and reported as 1005', () => {
    const h = server().feed(clientFrame({ opcode: OP.CLOSE }));
    assert.equal(onlyClose(h.sent()).code, 1000);
    assert.deepEqual(h.events.filter((e) => e.type === 'peer-close'), [{ type: 'peer-close', code: 1005, reason: '' }]);
  });

  test('RFC 6455 §5.5.1: a close payload of 1 byte closes 1002', () => {
    const h = server().feed(clientFrame({ opcode: OP.CLOSE, payload: Buffer.from([0x03]) }));
    assert.equal(onlyClose(h.sent()).code, 1002);
    assert.deepEqual(h.errors, [{ type: 'error', code: 'WSF_ERR_INVALID_CLOSE_PAYLOAD', closeCode: 1002 }]);
  });

  test('RFC 6455 §5.5.1/§8.1: invalid UTF-8 in a close reason closes 1007', () => {
    const h = server().feed(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000, Buffer.from([0xce, 0xba, 0xe1, 0xbd])) }));
    assert.equal(onlyClose(h.sent()).code, 1007);
  });

  test('RFC 6455 §5.5.1: a 123-byte UTF-8 reason is accepted', () => {
    const reason = 'é'.repeat(61) + 'x'; // 123 bytes
    const h = server().feed(clientFrame({ opcode: OP.CLOSE, payload: closePayload(4001, reason) }));
    assert.equal(onlyClose(h.sent()).code, 4001);
    assert.deepEqual(h.events.filter((e) => e.type === 'peer-close'), [{ type: 'peer-close', code: 4001, reason }]);
  });

  test('RFC 6455 §5.5.1: nothing after the close frame is processed', () => {
    const h = server().feed(
      Buffer.concat([
        clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }),
        clientFrame({ opcode: OP.TEXT, payload: 'late' }),
        clientFrame({ opcode: OP.PING, payload: 'late' }),
      ]),
    );
    assert.equal(onlyClose(h.sent()).code, 1000);
    assert.equal(h.messages.length, 0);
  });

  test('RFC 6455 §7.1.2: after we send a close, incoming data messages are dropped and pings not answered', () => {
    const h = server();
    h.session.close(1000, 'bye');
    const ours = onlyClose(h.sent());
    assert.deepEqual(ours, { code: 1000, reason: 'bye' });
    assert.equal(h.session.readyState, ReadyState.CLOSING);
    h.feed(
      Buffer.concat([
        clientFrame({ opcode: OP.TEXT, payload: 'dropped' }),
        clientFrame({ opcode: OP.BINARY, fin: false, payload: 'drop' }),
        clientFrame({ opcode: OP.PING, payload: 'unanswered' }),
        clientFrame({ opcode: OP.CONTINUATION, payload: 'ped' }),
      ]),
    );
    assert.deepEqual(h.sent(), [], 'no pong, no echo');
    assert.equal(h.messages.length, 0);
    h.feed(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
    assert.deepEqual(h.sent(), [], 'our close is not sent twice');
    assert.equal(h.session.readyState, ReadyState.CLOSED);
    assert.deepEqual(
      h.events.filter((e) => e.type !== 'close-sent'),
      [{ type: 'peer-close', code: 1000, reason: '' }, { type: 'close-complete' }],
    );
  });

  test('RFC 6455 §7.1.2: close() twice sends one close frame', () => {
    const h = server();
    h.session.close(1000);
    h.session.close(1001);
    assert.equal(onlyClose(h.sent()).code, 1000);
  });

  test('RFC 6455 §7.1.2: close() without a code sends an empty close frame', () => {
    const h = server();
    h.session.close();
    const frames = h.sent();
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, OP.CLOSE);
    assert.equal(frames[0]!.payload.length, 0);
  });

  for (const code of [0, 999, 1004, 1005, 1006, 1015, 2000, 5000, 1000.5]) {
    test(`RFC 6455 §7.4: close(${code}) throws WSF_ERR_INVALID_ARGUMENT and sends nothing`, () => {
      const h = server();
      assert.throws(() => h.session.close(code), { code: 'WSF_ERR_INVALID_ARGUMENT' });
      assert.deepEqual(h.sent(), []);
      assert.equal(h.session.readyState, ReadyState.OPEN);
    });
  }

  test('RFC 6455 §5.5: close() with a reason over 123 bytes throws WSF_ERR_INVALID_ARGUMENT', () => {
    const h = server();
    assert.throws(() => h.session.close(1000, 'é'.repeat(62)), { code: 'WSF_ERR_INVALID_ARGUMENT' });
    assert.deepEqual(h.sent(), []);
  });

  test('API: sending after close() throws WSF_ERR_NOT_OPEN', () => {
    const h = server();
    h.session.close(1000);
    assert.throws(() => h.session.sendText('x'), { code: 'WSF_ERR_NOT_OPEN' });
    assert.throws(() => h.session.sendBytes(Buffer.from('x'), true), { code: 'WSF_ERR_NOT_OPEN' });
    assert.throws(() => h.session.ping(), { code: 'WSF_ERR_NOT_OPEN' });
  });
});

describe('ping and pong (RFC 6455 §5.5.2, §5.5.3)', () => {
  test('RFC 6455 §5.5.2: a ping is answered with a pong carrying the same payload', () => {
    const payload = Buffer.from([0, 1, 2, 250, 251, 252]);
    const h = server().feed(clientFrame({ opcode: OP.PING, payload }));
    const frames = h.sent();
    assert.equal(frames.length, 1);
    assert.equal(frames[0]!.opcode, OP.PONG);
    assert.equal(frames[0]!.fin, true);
    assert.deepEqual(frames[0]!.payload, payload);
    assert.deepEqual(h.events, [{ type: 'ping', payload }]);
  });

  test('RFC 6455 §5.5.2: a 125-byte ping gets a 125-byte pong', () => {
    const payload = Buffer.alloc(125, 0x7e);
    const h = server().feed(clientFrame({ opcode: OP.PING, payload }));
    assert.deepEqual(h.sent()[0]!.payload, payload);
  });

  test('RFC 6455 §5.4: a ping between fragments is answered at once, the message completes afterwards', () => {
    const h = server();
    h.feed(clientFrame({ opcode: OP.TEXT, fin: false, payload: 'Hel' }));
    h.feed(clientFrame({ opcode: OP.PING, payload: 'mid' }));
    const pong = h.sent();
    assert.equal(pong.length, 1);
    assert.equal(pong[0]!.opcode, OP.PONG);
    assert.deepEqual(pong[0]!.payload, Buffer.from('mid'));
    h.feed(clientFrame({ opcode: OP.CONTINUATION, payload: 'lo' }));
    assert.deepEqual(h.messages, [{ type: 'message', data: Buffer.from('Hello'), isBinary: false }]);
  });

  test('RFC 6455 §5.5.3: an unsolicited pong is reported and not answered', () => {
    const h = server().feed(clientFrame({ opcode: OP.PONG, payload: 'beat' }));
    assert.deepEqual(h.sent(), []);
    assert.deepEqual(h.events, [{ type: 'pong', payload: Buffer.from('beat') }]);
  });

  test('API (autoPong: false): pings are reported but not answered', () => {
    const h = server({ autoPong: false }).feed(clientFrame({ opcode: OP.PING, payload: 'p' }));
    assert.deepEqual(h.sent(), []);
    assert.deepEqual(h.events, [{ type: 'ping', payload: Buffer.from('p') }]);
  });

  test('RFC 6455 §5.5: ping() with more than 125 bytes throws WSF_ERR_INVALID_ARGUMENT', () => {
    const h = server();
    assert.throws(() => h.session.ping(Buffer.alloc(126)), { code: 'WSF_ERR_INVALID_ARGUMENT' });
    assert.throws(() => h.session.pong(Buffer.alloc(126)), { code: 'WSF_ERR_INVALID_ARGUMENT' });
    h.session.ping(Buffer.alloc(125, 1));
    const frames = h.sent();
    assert.equal(frames[0]!.opcode, OP.PING);
    assert.equal(frames[0]!.payload.length, 125);
  });
});

describe('sending (RFC 6455 §5.2, §5.3)', () => {
  for (const length of [0, 125, 126, 65535, 65536]) {
    test(`RFC 6455 §5.2: a ${length}-byte message is sent with the minimal length encoding, unmasked by a server`, () => {
      const h = server();
      const payload = Buffer.alloc(length, 0x33);
      h.session.sendBytes(payload, true);
      h.session.sendText('t'.repeat(length));
      const frames = h.sent();
      const expectedBits = length < 126 ? 7 : length < 65536 ? 16 : 64;
      assert.equal(frames.length, 2);
      for (const frame of frames) {
        assert.equal(frame.masked, false);
        assert.equal(frame.lengthBits, expectedBits);
        assert.equal(frame.fin, true);
        assert.equal(frame.payload.length, length);
      }
      assert.equal(frames[0]!.opcode, OP.BINARY);
      assert.deepEqual(frames[0]!.payload, payload);
      assert.equal(frames[1]!.opcode, OP.TEXT);
      assert.equal(frames[1]!.payload.toString(), 't'.repeat(length));
    });

    test(`RFC 6455 §5.3: a client's ${length}-byte message is masked, with the minimal length encoding`, () => {
      const h = new SessionHarness('client');
      const payload = Buffer.alloc(length, 0x44);
      h.session.sendBytes(payload, true);
      const [frame] = h.sent();
      assert.equal(frame!.masked, true);
      assert.equal(frame!.lengthBits, length < 126 ? 7 : length < 65536 ? 16 : 64);
      assert.deepEqual(frame!.payload, payload);
    });
  }

  test('RFC 6455 §5.3: each client frame gets a fresh masking key', () => {
    const h = new SessionHarness('client');
    for (let i = 0; i < 50; i++) h.session.sendText('same');
    h.session.sendBytes(Buffer.alloc(10_000), true);
    h.session.sendBytes(Buffer.alloc(10_000), true);
    h.session.ping(Buffer.from('p'));
    const frames = h.sent();
    assert.equal(frames.length, 53);
    const masks = new Set(frames.map((f) => f.mask!.toString('hex')));
    assert.ok(masks.size >= 52, `only ${masks.size} distinct masks in 53 frames`);
    for (const frame of frames.slice(0, 50)) assert.equal(frame.payload.toString(), 'same');
  });

  test('RFC 6455 §5.6: non-ASCII text is sent as UTF-8 (short and long strings)', () => {
    for (const text of ['é', '€𝄞 mixed', '日本語'.repeat(50), '𝄞'.repeat(20_000)]) {
      for (const role of ['server', 'client'] as const) {
        const h = new SessionHarness(role);
        h.session.sendText(text);
        const [frame] = h.sent();
        assert.equal(frame!.opcode, OP.TEXT);
        assert.equal(frame!.payload.toString('utf8'), text);
        assert.equal(frame!.lengthBits, frame!.payload.length < 126 ? 7 : frame!.payload.length < 65536 ? 16 : 64, 'minimal length');
      }
    }
  });

  test('frame-level API: sendRawFrame puts exactly that frame on the wire', () => {
    const h = server();
    h.session.sendRawFrame(OP.TEXT, false, true, Buffer.from('raw'));
    h.session.sendRawFrame(0x5, true, false, Buffer.alloc(0));
    assert.deepEqual(h.wire, Buffer.from([0x41, 0x03, 0x72, 0x61, 0x77, 0x85, 0x00]));
    assert.throws(() => h.session.sendRawFrame(16, true, false, Buffer.alloc(0)), { code: 'WSF_ERR_INVALID_ARGUMENT' });
  });

  test('RFC 6455 §5.4: sendFragment sends one message as first/continuation/final frames, other sends wait', () => {
    const h = server();
    h.session.sendFragment(Buffer.from('a'), false, true, false);
    h.session.sendText('queued');
    h.session.sendFragment(Buffer.from('b'), false, false, false);
    h.session.ping(Buffer.from('control frames may be interleaved'));
    h.session.sendFragment(Buffer.from('c'), false, false, true);
    const frames = h.sent();
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.fin, f.payload.toString()]),
      [
        [OP.TEXT, false, 'a'],
        [OP.CONTINUATION, false, 'b'],
        [OP.PING, true, 'control frames may be interleaved'],
        [OP.CONTINUATION, true, 'c'],
        [OP.TEXT, true, 'queued'],
      ],
    );
  });

  test('RFC 6455 §5.3: session round trip: a client session\'s output, fed to a server session, yields the same messages', () => {
    const client = new SessionHarness('client');
    const messages: Array<[Buffer, boolean]> = [];
    for (const length of [0, 125, 126, 65535, 65536]) messages.push([Buffer.alloc(length, length & 0xff), true]);
    messages.push([Buffer.from('text ✓'), false]);
    for (const [data, isBinary] of messages) client.session.sendBytes(data, isBinary);
    const serverSide = server().feed(client.wire);
    assert.deepEqual(
      serverSide.messages,
      messages.map(([data, isBinary]) => ({ type: 'message', data, isBinary })),
    );
    assert.equal(serverSide.errors.length, 0);
  });

  test('decision (maxPayload 16 MiB): session round trip: a 16 MiB message from a client session reaches a server session intact', () => {
    const client = new SessionHarness('client');
    const payload = Buffer.alloc(16 * 1024 * 1024);
    for (let i = 0; i < payload.length; i += 4096) payload[i] = (i >> 12) & 0xff;
    client.session.sendBytes(payload, true);
    const serverSide = server().feed(client.wire);
    assert.equal(serverSide.errors.length, 0);
    assert.equal(serverSide.messages.length, 1);
    assert.ok(serverSide.messages[0]!.data.equals(payload));
  });

  test('RFC 6455 §5.1: a server session accepts a client session\'s close and answers it; readyState ends CLOSED on both', () => {
    const client = new SessionHarness('client');
    client.session.close(4321, 'done');
    assert.equal(client.session.readyState, ReadyState.CLOSING);
    const serverSide = server().feed(client.wire);
    assert.deepEqual(serverSide.events.filter((e) => e.type === 'peer-close'), [{ type: 'peer-close', code: 4321, reason: 'done' }]);
    client.feed(serverSide.wire);
    assert.equal(client.session.readyState, ReadyState.CLOSED);
    // The answer echoes the code and the reason (decision: both ends show the same close).
    assert.deepEqual(client.events.filter((e) => e.type === 'peer-close'), [{ type: 'peer-close', code: 4321, reason: 'done' }]);
    assert.equal(client.session.transportClosed(), true, 'both close frames exchanged: clean');
  });

  test('RFC 6455 §7.1.4: a connection that ends without a close exchange is not clean', () => {
    const h = server();
    h.session.close(1000);
    assert.equal(h.session.transportClosed(), false);
    assert.equal(h.session.readyState, ReadyState.CLOSED);
  });

  test('RFC 6455 §5.1: a server never masks: the whole output parses as unmasked frames', () => {
    const h = server();
    h.session.sendText('a');
    h.session.sendBytes(Buffer.alloc(20_000, 1), true);
    h.session.pong(Buffer.from('x'));
    const frames = parseWireFrames(h.wire);
    assert.deepEqual(frames.map((f) => [f.opcode, f.masked]), [[OP.TEXT, false], [OP.BINARY, false], [OP.PONG, false]]);
  });
});

describe('chunking independence of the whole session (sans-I/O)', () => {
  test('sans-I/O: whole, 1 byte at a time and seeded random splits give identical events and identical output bytes', () => {
    const stream = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, payload: 'hello' }),
      clientFrame({ opcode: OP.PING, payload: 'p1' }),
      clientFrame({ opcode: OP.BINARY, fin: false, payload: Buffer.alloc(200, 1) }),
      clientFrame({ opcode: OP.PING, payload: 'p2' }),
      clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.alloc(70_000, 2) }),
      clientFrame({ opcode: OP.PONG, payload: 'unsolicited' }),
      clientFrame({ opcode: OP.CLOSE, payload: closePayload(4000, 'end') }),
      clientFrame({ opcode: OP.TEXT, payload: 'after close: ignored' }),
    ]);
    const run = (size: (i: number) => number) => {
      const h = server();
      let offset = 0;
      for (let i = 0; offset < stream.length; i++) {
        const n = Math.max(1, size(i));
        h.feed(stream.subarray(offset, offset + n));
        offset += n;
      }
      return { events: h.events, wire: h.wire };
    };
    const whole = run(() => stream.length);
    assert.deepEqual(
      parseWireFrames(whole.wire).map((f) => [f.opcode, f.payload.length]),
      [[OP.PONG, 2], [OP.PONG, 2], [OP.CLOSE, 5]], // close 4000 'end' echoed with its reason
    );
    assert.deepEqual(run(() => 1), whole, 'one byte at a time');
    for (const seed of [5, 6, 7]) {
      const random = seededRandom(seed);
      assert.deepEqual(run(() => Math.floor(random() * 3000)), whole, `seed ${seed}`);
    }
  });
});
