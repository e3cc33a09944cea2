/**
 * FrameReceiver (sans-I/O): frame validation with the close code each failure maps to,
 * limits, fail-fast UTF-8, and independence from how the bytes are chunked.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, FrameReceiver, type ReceiverLimits } from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { ReceiverRecorder } from '../helpers/session-recorder.js';
import { clientFrame, closePayload, OP, serverFrame } from '../helpers/wire-frames.js';
import { seededRandom } from '../helpers/seeded-random.js';

guardProcess();

const DEFAULT_LIMITS: ReceiverLimits = { maxPayload: DEFAULT_MAX_PAYLOAD, maxFragments: DEFAULT_MAX_FRAGMENTS };

/** A receiver in the server role (expects masked frames) unless `client` is set. */
function makeReceiver(options: { client?: boolean; limits?: Partial<ReceiverLimits>; observeFrames?: boolean } = {}) {
  const recorder = new ReceiverRecorder();
  const receiver = new FrameReceiver(recorder, !options.client, { ...DEFAULT_LIMITS, ...options.limits });
  if (options.observeFrames) receiver.observeFrames = true;
  return { recorder, receiver };
}

/** Feed bytes (copied: the receiver unmasks in place) and return the recorder. */
function feed(bytes: Uint8Array, options: Parameters<typeof makeReceiver>[0] = {}) {
  const { recorder, receiver } = makeReceiver(options);
  receiver.receive(Buffer.from(bytes));
  return { recorder, receiver };
}

function assertFails(bytes: Uint8Array, closeCode: number, errorCode: string, options: Parameters<typeof makeReceiver>[0] = {}) {
  const { recorder, receiver } = feed(bytes, options);
  assert.deepEqual(recorder.errors, [{ type: 'error', code: errorCode, closeCode }]);
  assert.equal(receiver.stopped, true, 'the receiver stops after a failure');
  return recorder;
}

describe('frame header validation (RFC 6455 §5.2)', () => {
  for (const [name, flags] of [
    ['RSV1', { rsv1: true }],
    ['RSV2', { rsv2: true }],
    ['RSV3', { rsv3: true }],
  ] as const) {
    test(`RFC 6455 §5.2: ${name} set without a negotiated extension closes 1002`, () => {
      assertFails(clientFrame({ opcode: OP.TEXT, payload: 'hi', ...flags }), 1002, 'WSF_ERR_RESERVED_BITS');
    });
  }

  test('RFC 6455 §5.2: RSV1 on a ping (control frame) closes 1002', () => {
    assertFails(clientFrame({ opcode: OP.PING, rsv1: true }), 1002, 'WSF_ERR_RESERVED_BITS');
  });

  for (const opcode of [3, 4, 5, 6, 7, 11, 12, 13, 14, 15]) {
    test(`RFC 6455 §5.2: reserved opcode ${opcode} closes 1002`, () => {
      assertFails(clientFrame({ opcode, payload: 'x' }), 1002, 'WSF_ERR_INVALID_OPCODE');
    });
  }

  test('RFC 6455 §5.5: a ping of 126 bytes closes 1002, from the header alone', () => {
    // Only the header: the failure must not wait for the payload.
    const header = clientFrame({ opcode: OP.PING, declaredLength: 126 });
    assertFails(header, 1002, 'WSF_ERR_CONTROL_FRAME_TOO_LONG');
  });

  test('RFC 6455 §5.5: a close frame of 126 bytes closes 1002', () => {
    assertFails(clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000, 'x'.repeat(124)) }), 1002, 'WSF_ERR_CONTROL_FRAME_TOO_LONG');
  });

  test('RFC 6455 §5.5: a control frame of exactly 125 bytes is accepted', () => {
    const { recorder } = feed(clientFrame({ opcode: OP.PING, payload: Buffer.alloc(125, 1) }));
    assert.deepEqual(recorder.events, [{ type: 'ping', payload: Buffer.alloc(125, 1) }]);
  });

  for (const opcode of [OP.PING, OP.PONG, OP.CLOSE]) {
    test(`RFC 6455 §5.5: fragmented control frame (opcode ${opcode}, FIN=0) closes 1002`, () => {
      assertFails(clientFrame({ opcode, fin: false, payload: 'p' }), 1002, 'WSF_ERR_CONTROL_FRAME_FRAGMENTED');
    });
  }

  test('RFC 6455 §5.4: continuation frame without a started message closes 1002', () => {
    assertFails(clientFrame({ opcode: OP.CONTINUATION, payload: 'x' }), 1002, 'WSF_ERR_UNEXPECTED_CONTINUATION');
  });

  test('RFC 6455 §5.4: continuation after a complete message closes 1002', () => {
    const bytes = Buffer.concat([clientFrame({ opcode: OP.TEXT, payload: 'done' }), clientFrame({ opcode: OP.CONTINUATION, payload: 'x' })]);
    const recorder = assertFails(bytes, 1002, 'WSF_ERR_UNEXPECTED_CONTINUATION');
    assert.equal(recorder.messages.length, 1);
  });

  for (const opcode of [OP.TEXT, OP.BINARY]) {
    test(`RFC 6455 §5.4: a new ${opcode === OP.TEXT ? 'text' : 'binary'} frame inside a fragmented message closes 1002`, () => {
      const bytes = Buffer.concat([clientFrame({ opcode: OP.TEXT, fin: false, payload: 'a' }), clientFrame({ opcode, payload: 'b' })]);
      const recorder = assertFails(bytes, 1002, 'WSF_ERR_EXPECTED_CONTINUATION');
      assert.equal(recorder.messages.length, 0);
    });
  }

  test('RFC 6455 §5.1: an unmasked frame to a server closes 1002', () => {
    assertFails(serverFrame({ opcode: OP.TEXT, payload: 'hi' }), 1002, 'WSF_ERR_MASK_REQUIRED');
  });

  test('RFC 6455 §5.1: a masked frame to a client closes 1002', () => {
    assertFails(clientFrame({ opcode: OP.TEXT, payload: 'hi' }), 1002, 'WSF_ERR_UNEXPECTED_MASK', { client: true });
  });

  test('RFC 6455 §5.1: a client accepts unmasked frames', () => {
    const { recorder } = feed(serverFrame({ opcode: OP.TEXT, payload: 'hi' }), { client: true });
    assert.deepEqual(recorder.events, [{ type: 'message', data: Buffer.from('hi'), isBinary: false }]);
  });

  test('RFC 6455 §5.2: a 64-bit length with the most significant bit set closes 1002', () => {
    assertFails(clientFrame({ opcode: OP.BINARY, lengthBits: 64, declaredLength: 0x8000000000000000n }), 1002, 'WSF_ERR_INVALID_LENGTH');
    assertFails(clientFrame({ opcode: OP.BINARY, lengthBits: 64, declaredLength: 0xffffffffffffffffn }), 1002, 'WSF_ERR_INVALID_LENGTH');
  });

  test('RFC 6455 §5.2 (strict): a length below 126 in the 16-bit form closes 1002', () => {
    assertFails(clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(125), lengthBits: 16 }), 1002, 'WSF_ERR_INVALID_LENGTH');
    assertFails(clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(0), lengthBits: 16 }), 1002, 'WSF_ERR_INVALID_LENGTH');
  });

  test('RFC 6455 §5.2 (strict): a length below 65536 in the 64-bit form closes 1002', () => {
    assertFails(clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(65535), lengthBits: 64 }), 1002, 'WSF_ERR_INVALID_LENGTH');
    assertFails(clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(5), lengthBits: 64 }), 1002, 'WSF_ERR_INVALID_LENGTH');
  });

  test('RFC 6455 §5.2: the minimal forms at their boundaries (126 in 16 bits, 65536 in 64 bits) are accepted', () => {
    for (const length of [126, 65535, 65536]) {
      const payload = Buffer.alloc(length, 0x61);
      const { recorder } = feed(clientFrame({ opcode: OP.BINARY, payload }));
      assert.deepEqual(recorder.events, [{ type: 'message', data: payload, isBinary: true }], `length ${length}`);
    }
  });

  test('RFC 6455 §5.1: nothing is reported after a failure, even valid frames in the same chunk', () => {
    const bytes = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, payload: 'before' }),
      clientFrame({ opcode: 3 }),
      clientFrame({ opcode: OP.TEXT, payload: 'after' }),
      clientFrame({ opcode: OP.PING, payload: 'p' }),
    ]);
    const { recorder } = feed(bytes);
    assert.deepEqual(recorder.events, [
      { type: 'message', data: Buffer.from('before'), isBinary: false },
      { type: 'error', code: 'WSF_ERR_INVALID_OPCODE', closeCode: 1002 },
    ]);
  });
});

describe('messages and fragmentation (RFC 6455 §5.4, §5.6)', () => {
  test('RFC 6455 §5.4: fragments are reassembled into one message', () => {
    const bytes = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: 'Hel' }),
      clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: '' }),
      clientFrame({ opcode: OP.CONTINUATION, payload: 'lo' }),
    ]);
    const { recorder } = feed(bytes);
    assert.deepEqual(recorder.events, [{ type: 'message', data: Buffer.from('Hello'), isBinary: false }]);
  });

  test('RFC 6455 §5.4: control frames between fragments are delivered in order, the message still assembles', () => {
    const bytes = Buffer.concat([
      clientFrame({ opcode: OP.BINARY, fin: false, payload: Buffer.from([1, 2]) }),
      clientFrame({ opcode: OP.PING, payload: 'ping-1' }),
      clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: Buffer.from([3]) }),
      clientFrame({ opcode: OP.PONG, payload: 'pong-1' }),
      clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.from([4]) }),
    ]);
    const { recorder } = feed(bytes);
    assert.deepEqual(recorder.events, [
      { type: 'ping', payload: Buffer.from('ping-1') },
      { type: 'pong', payload: Buffer.from('pong-1') },
      { type: 'message', data: Buffer.from([1, 2, 3, 4]), isBinary: true },
    ]);
  });

  test('RFC 6455 §5.6: empty text and binary messages are delivered', () => {
    const bytes = Buffer.concat([clientFrame({ opcode: OP.TEXT }), clientFrame({ opcode: OP.BINARY })]);
    const { recorder } = feed(bytes);
    assert.deepEqual(recorder.events, [
      { type: 'message', data: Buffer.alloc(0), isBinary: false },
      { type: 'message', data: Buffer.alloc(0), isBinary: true },
    ]);
  });

  test('RFC 6455 §5.5.1: the close frame payload goes to the owner as is', () => {
    const { recorder } = feed(clientFrame({ opcode: OP.CLOSE, payload: closePayload(4000, 'bye') }));
    assert.deepEqual(recorder.events, [{ type: 'close-frame', payload: closePayload(4000, 'bye') }]);
  });

  test('frame-level API: observeFrames reports every frame (unmasked), then the message', () => {
    const bytes = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: 'ab' }),
      clientFrame({ opcode: OP.PING, payload: 'p' }),
      clientFrame({ opcode: OP.CONTINUATION, payload: 'cd' }),
    ]);
    const { recorder } = feed(bytes, { observeFrames: true });
    assert.deepEqual(recorder.events, [
      { type: 'frame', opcode: OP.TEXT, fin: false, rsv1: false, payload: Buffer.from('ab') },
      { type: 'frame', opcode: OP.PING, fin: true, rsv1: false, payload: Buffer.from('p') },
      { type: 'ping', payload: Buffer.from('p') },
      { type: 'frame', opcode: OP.CONTINUATION, fin: true, rsv1: false, payload: Buffer.from('cd') },
      { type: 'message', data: Buffer.from('abcd'), isBinary: false },
    ]);
  });
});

describe('UTF-8 in text messages (RFC 6455 §8.1), failing fast', () => {
  test('RFC 6455 §8.1: invalid UTF-8 in a single text frame closes 1007', () => {
    assertFails(clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0x68, 0xc0, 0x80]) }), 1007, 'WSF_ERR_INVALID_UTF8');
  });

  test('RFC 6455 §8.1: UTF-16 surrogates encoded in UTF-8 (ED A0 80) close 1007', () => {
    assertFails(clientFrame({ opcode: OP.TEXT, payload: Buffer.from([0xed, 0xa0, 0x80]) }), 1007, 'WSF_ERR_INVALID_UTF8');
  });

  test('RFC 6455 §8.1: a text message ending inside a code point closes 1007', () => {
    const bytes = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: Buffer.from([0x61]) }),
      clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.from([0xe2, 0x82]) }),
    ]);
    assertFails(bytes, 1007, 'WSF_ERR_INVALID_UTF8');
  });

  test('RFC 6455 §8.1: a code point split across fragments is valid', () => {
    const euro = Buffer.from('€', 'utf8'); // e2 82 ac
    const bytes = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: euro.subarray(0, 1) }),
      clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: euro.subarray(1, 2) }),
      clientFrame({ opcode: OP.CONTINUATION, payload: euro.subarray(2) }),
    ]);
    const { recorder } = feed(bytes);
    assert.deepEqual(recorder.events, [{ type: 'message', data: euro, isBinary: false }]);
  });

  test('Autobahn 6.4 (fail fast): invalid UTF-8 in the first fragment closes 1007 before the message ends', () => {
    // First fragment only, FIN=0: the rest of the message never arrives.
    const first = clientFrame({ opcode: OP.TEXT, fin: false, payload: Buffer.concat([Buffer.from('κόσμε'), Buffer.from([0xf4, 0x90, 0x80, 0x80])]) });
    assertFails(first, 1007, 'WSF_ERR_INVALID_UTF8');
  });

  test('Autobahn 6.4 (fail fast): invalid UTF-8 in the first chunk of a long single frame closes 1007 before the frame ends', () => {
    // A 1 MiB text frame: only its header and the first 16 bytes (with an invalid byte) arrive.
    const payload = Buffer.alloc(1024 * 1024, 0x61);
    payload[10] = 0xff;
    const frame = clientFrame({ opcode: OP.TEXT, payload });
    const { recorder, receiver } = makeReceiver();
    receiver.receive(Buffer.from(frame.subarray(0, 2 + 8 + 4 + 16)));
    assert.deepEqual(recorder.errors, [{ type: 'error', code: 'WSF_ERR_INVALID_UTF8', closeCode: 1007 }]);
  });

  test('Autobahn 6.4 (fail fast): with observeFrames, invalid UTF-8 in a partial frame still fails at once', () => {
    const payload = Buffer.alloc(100_000, 0x61);
    payload[3] = 0xc0;
    const frame = clientFrame({ opcode: OP.TEXT, payload });
    const { recorder, receiver } = makeReceiver({ observeFrames: true });
    receiver.receive(Buffer.from(frame.subarray(0, 100)));
    assert.deepEqual(recorder.errors, [{ type: 'error', code: 'WSF_ERR_INVALID_UTF8', closeCode: 1007 }]);
  });

  test('fuzz finding (frames): with observeFrames, a text frame with invalid UTF-8 is never reported as a frame, whole or split', () => {
    // Found by `npm run fuzz` (input 03 01 03 01 0b b8: client role, observeFrames, a text
    // fragment 01 0b b8). Arriving in one read, the frame went to onFrame before the 1007;
    // arriving in pieces it failed first: events depended on the chunking.
    const frame = serverFrame({ opcode: OP.TEXT, fin: false, payload: Buffer.from([0x01, 0x0b, 0xb8]) });
    for (let split = 0; split < frame.length; split++) {
      const { recorder, receiver } = makeReceiver({ client: true, observeFrames: true });
      if (split > 0) receiver.receive(Buffer.from(frame.subarray(0, split)));
      receiver.receive(Buffer.from(frame.subarray(split)));
      assert.deepEqual(recorder.events, [{ type: 'error', code: 'WSF_ERR_INVALID_UTF8', closeCode: 1007 }], `split at ${split}`);
    }
  });

  test('RFC 6455 §8.1: a valid multi-byte text frame split at every byte position is accepted', () => {
    const text = 'aé€𝄞z';
    const frame = clientFrame({ opcode: OP.TEXT, payload: text });
    for (let split = 1; split < frame.length; split++) {
      const { recorder, receiver } = makeReceiver();
      receiver.receive(Buffer.from(frame.subarray(0, split)));
      receiver.receive(Buffer.from(frame.subarray(split)));
      assert.deepEqual(recorder.events, [{ type: 'message', data: Buffer.from(text), isBinary: false }], `split at ${split}`);
    }
  });

  test('RFC 6455 §5.4/§8.1: a code point split across fragments with a ping in between is valid', () => {
    const bytes = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: Buffer.from([0x61, 0xe2, 0x82]) }),
      clientFrame({ opcode: OP.PING, payload: 'mid' }),
      clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.from([0xac]) }),
    ]);
    const { recorder } = feed(bytes);
    assert.deepEqual(recorder.events, [
      { type: 'ping', payload: Buffer.from('mid') },
      { type: 'message', data: Buffer.from('a€'), isBinary: false },
    ]);
  });

  test('RFC 6455 §8.1: the UTF-8 state does not leak from a failed-free message into the next one', () => {
    // A message that ends exactly on a boundary, then one that starts with a continuation byte: invalid.
    const bytes = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: Buffer.from([0xe2, 0x82]) }),
      clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.from([0xac]) }),
      clientFrame({ opcode: OP.TEXT, fin: false, payload: Buffer.from([0x61]) }),
      clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.from([0xac]) }),
    ]);
    const { recorder } = feed(bytes);
    assert.deepEqual(recorder.events, [
      { type: 'message', data: Buffer.from('€'), isBinary: false },
      { type: 'error', code: 'WSF_ERR_INVALID_UTF8', closeCode: 1007 },
    ]);
  });

  test('RFC 6455 §5.6: binary messages are not checked for UTF-8', () => {
    const payload = Buffer.from([0xff, 0xfe, 0xc0, 0x80]);
    const { recorder } = feed(clientFrame({ opcode: OP.BINARY, payload }));
    assert.deepEqual(recorder.events, [{ type: 'message', data: payload, isBinary: true }]);
  });
});

describe('limits (decision: maxPayload 16 MiB, maxFragments 262,144, close 1009)', () => {
  test('decision: a frame announcing maxPayload + 1 bytes closes 1009 from the header, before any payload', () => {
    const header = clientFrame({ opcode: OP.BINARY, declaredLength: DEFAULT_MAX_PAYLOAD + 1 });
    assertFails(header, 1009, 'WSF_ERR_MESSAGE_TOO_BIG');
  });

  test('decision: a 64-bit length of 2^63 - 1 (top bit clear) is too big: 1009, not 1002', () => {
    assertFails(clientFrame({ opcode: OP.BINARY, lengthBits: 64, declaredLength: 0x7fffffffffffffffn }), 1009, 'WSF_ERR_MESSAGE_TOO_BIG');
  });

  test('decision: a fragment that takes a message over maxPayload closes 1009 from its header', () => {
    const { recorder, receiver } = makeReceiver({ limits: { maxPayload: 1000 } });
    receiver.receive(clientFrame({ opcode: OP.BINARY, fin: false, payload: Buffer.alloc(600) }));
    assert.deepEqual(recorder.errors, []);
    receiver.receive(clientFrame({ opcode: OP.CONTINUATION, declaredLength: 401 }));
    assert.deepEqual(recorder.errors, [{ type: 'error', code: 'WSF_ERR_MESSAGE_TOO_BIG', closeCode: 1009 }]);
  });

  test('decision: a message of exactly maxPayload bytes passes (custom limit)', () => {
    const { recorder } = feed(
      Buffer.concat([
        clientFrame({ opcode: OP.BINARY, fin: false, payload: Buffer.alloc(600, 1) }),
        clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.alloc(400, 2) }),
      ]),
      { limits: { maxPayload: 1000 } },
    );
    assert.equal(recorder.errors.length, 0);
    assert.equal(recorder.messages[0]!.data.length, 1000);
  });

  test('decision: a 16 MiB message (exactly the default maxPayload) passes; 16 MiB + 1 closes 1009', () => {
    const payload = Buffer.alloc(DEFAULT_MAX_PAYLOAD, 0x42);
    const { recorder } = feed(clientFrame({ opcode: OP.BINARY, payload }));
    assert.equal(recorder.errors.length, 0);
    assert.equal(recorder.messages.length, 1);
    assert.ok(recorder.messages[0]!.data.equals(payload));
    assertFails(clientFrame({ opcode: OP.BINARY, declaredLength: DEFAULT_MAX_PAYLOAD + 1 }), 1009, 'WSF_ERR_MESSAGE_TOO_BIG');
  });

  test('decision: maxPayload and maxFragments count per message: consecutive messages at the limits all pass', () => {
    const message = [
      clientFrame({ opcode: OP.BINARY, fin: false, payload: Buffer.alloc(600, 1) }),
      clientFrame({ opcode: OP.PING, payload: 'control frames are not fragments' }),
      clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.alloc(400, 2) }),
    ];
    const { recorder } = feed(Buffer.concat([...message, ...message, ...message]), { limits: { maxPayload: 1000, maxFragments: 2 } });
    assert.equal(recorder.errors.length, 0);
    assert.equal(recorder.messages.length, 3);
  });

  test('decision: more than maxFragments fragments closes 1009 (custom limit of 4)', () => {
    const frames = [clientFrame({ opcode: OP.TEXT, fin: false, payload: 'a' })];
    for (let i = 0; i < 3; i++) frames.push(clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: 'b' }));
    const { recorder, receiver } = makeReceiver({ limits: { maxFragments: 4 } });
    receiver.receive(Buffer.concat(frames));
    assert.deepEqual(recorder.errors, []);
    receiver.receive(clientFrame({ opcode: OP.CONTINUATION, payload: 'c' }));
    assert.deepEqual(recorder.errors, [{ type: 'error', code: 'WSF_ERR_TOO_MANY_FRAGMENTS', closeCode: 1009 }]);
  });

  test('decision: exactly maxFragments fragments pass (custom limit of 4)', () => {
    const frames = [clientFrame({ opcode: OP.TEXT, fin: false, payload: 'a' })];
    for (let i = 0; i < 2; i++) frames.push(clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: 'b' }));
    frames.push(clientFrame({ opcode: OP.CONTINUATION, payload: 'c' }));
    const { recorder } = feed(Buffer.concat(frames), { limits: { maxFragments: 4 } });
    assert.deepEqual(recorder.events, [{ type: 'message', data: Buffer.from('abbc'), isBinary: false }]);
  });

  test('decision: the default maxFragments is 262,144: that many pass, one more closes 1009', () => {
    const first = clientFrame({ opcode: OP.BINARY, fin: false, payload: Buffer.from([1]) });
    const middle = clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: Buffer.from([1]) });
    const last = clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.from([1]) });
    const build = (count: number) => {
      const stream = Buffer.allocUnsafe(first.length * count);
      first.copy(stream, 0);
      for (let i = 1; i < count - 1; i++) middle.copy(stream, i * middle.length);
      last.copy(stream, (count - 1) * last.length);
      return stream;
    };
    const ok = feed(build(262_144)).recorder;
    assert.equal(ok.errors.length, 0);
    assert.equal(ok.messages[0]!.data.length, 262_144);
    const tooMany = feed(build(262_145)).recorder;
    assert.deepEqual(tooMany.events, [{ type: 'error', code: 'WSF_ERR_TOO_MANY_FRAGMENTS', closeCode: 1009 }]);
  });

  test('decision: a 4 MiB message as 65,536 fragments of 64 bytes passes with the default limits', () => {
    const pieces: Buffer[] = [];
    const expected = Buffer.alloc(4 * 1024 * 1024);
    for (let i = 0; i < 65_536; i++) {
      const chunk = Buffer.alloc(64, i & 0xff);
      chunk.copy(expected, i * 64);
      pieces.push(clientFrame({ opcode: i === 0 ? OP.BINARY : OP.CONTINUATION, fin: i === 65_535, payload: chunk }));
    }
    const { recorder } = feed(Buffer.concat(pieces));
    assert.equal(recorder.errors.length, 0);
    assert.equal(recorder.messages.length, 1);
    assert.ok(recorder.messages[0]!.data.equals(expected));
  });
});

describe('chunking independence (sans-I/O parser)', () => {
  /** A stream exercising every frame kind, header form and a fragmented message with controls inside. */
  function mixedStream(): Buffer {
    return Buffer.concat([
      clientFrame({ opcode: OP.TEXT, payload: 'hello' }),
      clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(0) }),
      clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(300, 3) }),
      clientFrame({ opcode: OP.TEXT, fin: false, payload: 'frag-€'.slice(0, 5) }),
      clientFrame({ opcode: OP.PING, payload: 'in between' }),
      clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: Buffer.from('€𝄞', 'utf8').subarray(0, 4) }),
      clientFrame({ opcode: OP.CONTINUATION, payload: Buffer.from('€𝄞', 'utf8').subarray(4) }),
      clientFrame({ opcode: OP.BINARY, payload: Buffer.alloc(70_000, 9) }),
      clientFrame({ opcode: OP.PONG, payload: '' }),
      clientFrame({ opcode: OP.TEXT, payload: 'x'.repeat(20_000) }),
      clientFrame({ opcode: OP.CLOSE, payload: closePayload(1000, 'done') }),
    ]);
  }

  function runChunked(stream: Buffer, sizes: (index: number) => number, observeFrames = false) {
    const { recorder, receiver } = makeReceiver({ observeFrames });
    const copy = Buffer.from(stream);
    let offset = 0;
    let i = 0;
    while (offset < copy.length) {
      const size = Math.max(1, sizes(i++));
      receiver.receive(copy.subarray(offset, offset + size));
      offset += size;
    }
    return recorder.events;
  }

  for (const observeFrames of [false, true]) {
    test(`sans-I/O: whole, 1 byte at a time and seeded random splits give identical events${observeFrames ? ' (observeFrames)' : ''}`, () => {
      const stream = mixedStream();
      const whole = runChunked(stream, () => stream.length, observeFrames);
      assert.equal(whole.filter((e) => e.type === 'message').length, 6);
      assert.equal(whole.filter((e) => e.type === 'error').length, 0);
      assert.deepEqual(runChunked(stream, () => 1, observeFrames), whole, 'one byte at a time');
      for (const seed of [1, 2, 3, 42, 1234]) {
        const random = seededRandom(seed);
        assert.deepEqual(runChunked(stream, () => Math.floor(random() * 200), observeFrames), whole, `random splits, seed ${seed}`);
      }
      const random = seededRandom(99);
      assert.deepEqual(runChunked(stream, () => Math.floor(random() * 40_000), observeFrames), whole, 'large random splits');
    });
  }

  test('sans-I/O: a failing stream fails at the same point whatever the chunking', () => {
    const stream = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, payload: 'ok' }),
      clientFrame({ opcode: OP.TEXT, fin: false, payload: 'still ok' }),
      clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: Buffer.from([0x61, 0xf8, 0x61]) }),
      clientFrame({ opcode: OP.CONTINUATION, payload: 'never' }),
    ]);
    const whole = runChunked(stream, () => stream.length);
    assert.deepEqual(whole, [
      { type: 'message', data: Buffer.from('ok'), isBinary: false },
      { type: 'error', code: 'WSF_ERR_INVALID_UTF8', closeCode: 1007 },
    ]);
    assert.deepEqual(runChunked(stream, () => 1), whole);
    const random = seededRandom(7);
    assert.deepEqual(runChunked(stream, () => Math.floor(random() * 10), false), whole);
  });
});

describe('frame count (the owner yields to other connections after a flood of frames)', () => {
  test('decision: frameCount counts every frame header parsed; takeFrameCount() returns it and starts again', () => {
    const { receiver } = makeReceiver();
    assert.equal(receiver.frameCount, 0);
    const fragments = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: 'a' }),
      clientFrame({ opcode: OP.CONTINUATION, fin: false, payload: 'b' }),
      clientFrame({ opcode: OP.PING, payload: '' }),
      clientFrame({ opcode: OP.CONTINUATION, payload: 'c' }),
    ]);
    receiver.receive(fragments);
    assert.equal(receiver.frameCount, 4);
    assert.equal(receiver.takeFrameCount(), 4);
    assert.equal(receiver.frameCount, 0);
    receiver.receive(clientFrame({ opcode: OP.BINARY, payload: Buffer.from([1]) }));
    assert.equal(receiver.takeFrameCount(), 1);
  });
});
