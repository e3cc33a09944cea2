/**
 * The tests' own frame codec, checked against the bytes RFC 6455 §5.7 prints: every test that
 * writes or reads frames by hand trusts it, so it is checked against the RFC, never the library.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { hexBytes } from './hex-bytes.js';
import { clientFrame, closePayload, EXAMPLE_MASK, OP, parseWireFrames, readClose, serverFrame, WireFrameReader, type WireFrame } from './wire-frames.js';

describe('test frame codec: RFC 6455 §5.7 examples', () => {
  const examples: Array<[string, Buffer, string]> = [
    ['unmasked "Hello"', serverFrame({ opcode: OP.TEXT, payload: 'Hello' }), '81 05 48656c6c6f'],
    ['masked "Hello" with key 37 fa 21 3d', clientFrame({ opcode: OP.TEXT, payload: 'Hello', mask: EXAMPLE_MASK }), '81 85 37fa213d 7f9f4d5158'],
    ['fragment "Hel"', serverFrame({ opcode: OP.TEXT, fin: false, payload: 'Hel' }), '01 03 48656c'],
    ['fragment "lo"', serverFrame({ opcode: OP.CONTINUATION, payload: 'lo' }), '80 02 6c6f'],
    ['unmasked ping "Hello"', serverFrame({ opcode: OP.PING, payload: 'Hello' }), '89 05 48656c6c6f'],
    ['masked pong "Hello"', clientFrame({ opcode: OP.PONG, payload: 'Hello' }), '8a 85 37fa213d 7f9f4d5158'],
  ];
  for (const [name, encoded, bytes] of examples) {
    test(`RFC 6455 §5.7: ${name} is ${bytes}, and reads back`, () => {
      assert.deepEqual(encoded, hexBytes(bytes));
      const [frame, ...rest] = parseWireFrames(hexBytes(bytes));
      assert.equal(rest.length, 0);
      assert.deepEqual(frame!.raw, hexBytes(bytes));
      assert.equal(frame!.payload.toString('latin1'), name.match(/"(.*)"/)![1]);
      assert.equal(frame!.minimalLength, true);
    });
  }

  test('RFC 6455 §5.7: 256 bytes use 7E 01 00, 64 KiB use 7F 00 00 00 00 00 01 00 00; forced longer forms are read as non-minimal', () => {
    assert.deepEqual(serverFrame({ opcode: OP.BINARY, payload: Buffer.alloc(256) }).subarray(0, 4), hexBytes('82 7e 0100'));
    assert.deepEqual(serverFrame({ opcode: OP.BINARY, payload: Buffer.alloc(65536) }).subarray(0, 10), hexBytes('82 7f 0000000000010000'));
    const forced = serverFrame({ opcode: OP.BINARY, payload: 'ab', lengthBits: 64 });
    assert.deepEqual(forced, hexBytes('82 7f 0000000000000002 6162'));
    const [frame] = parseWireFrames(forced);
    assert.equal(frame!.lengthBits, 64);
    assert.equal(frame!.minimalLength, false);
  });
});

describe('test frame codec: what a correct endpoint never sends', () => {
  test('reserved bits, a reserved opcode and a declared length with no payload are written as asked', () => {
    assert.deepEqual(serverFrame({ opcode: 0x3, rsv1: true, rsv2: true, rsv3: true, payload: 'x' }), hexBytes('f3 01 78'));
    assert.deepEqual(serverFrame({ opcode: OP.BINARY, declaredLength: 2 ** 40 }), hexBytes('82 7f 0000010000000000'));
    assert.deepEqual(serverFrame({ opcode: OP.BINARY, lengthBits: 64, declaredLength: 0x8000000000000001n }), hexBytes('82 7f 8000000000000001'));
  });

  test('a length that does not fit the forced form, or a mask that is not 4 bytes, is refused', () => {
    assert.throws(() => serverFrame({ opcode: OP.BINARY, payload: Buffer.alloc(126), lengthBits: 7 }), RangeError);
    assert.throws(() => serverFrame({ opcode: OP.BINARY, payload: Buffer.alloc(65536), lengthBits: 16 }), RangeError);
    assert.throws(() => clientFrame({ opcode: OP.TEXT, mask: Uint8Array.from([1, 2, 3]) }), RangeError);
  });

  test('RFC 6455 §5.2: a 64-bit length with the most significant bit set, or over the limit, stops the reader with a reason', () => {
    const msb = new WireFrameReader();
    assert.deepEqual(msb.push(hexBytes('82 7f 8000000000000001')), []);
    assert.match(msb.error ?? '', /most significant bit/);
    const limited = new WireFrameReader(10);
    assert.deepEqual(limited.push(serverFrame({ opcode: OP.BINARY, payload: Buffer.alloc(11) })), []);
    assert.match(limited.error ?? '', /11 bytes exceeds the reader's limit of 10/);
  });

  test('frames split at every byte and coalesced read the same, with close code and reason', () => {
    const bytes = Buffer.concat([
      clientFrame({ opcode: OP.TEXT, fin: false, payload: 'Hel' }),
      clientFrame({ opcode: OP.PING, payload: 'p' }),
      clientFrame({ opcode: OP.CONTINUATION, payload: 'lo' }),
      clientFrame({ opcode: OP.CLOSE, payload: closePayload(4000, 'bye') }),
    ]);
    const reader = new WireFrameReader();
    const frames: WireFrame[] = [];
    for (let i = 0; i < bytes.length; i++) frames.push(...reader.push(bytes.subarray(i, i + 1)));
    assert.equal(reader.pendingBytes, 0);
    assert.deepEqual(frames.map((f) => [f.opcode, f.fin, f.masked, f.payload.toString('latin1')]), [
      [OP.TEXT, false, true, 'Hel'],
      [OP.PING, true, true, 'p'],
      [OP.CONTINUATION, true, true, 'lo'],
      [OP.CLOSE, true, true, '\x0f\xa0bye'],
    ]);
    assert.deepEqual(Buffer.concat(frames.map((f) => f.raw)), bytes);
    assert.deepEqual(readClose(frames[3]!), { code: 4000, reason: 'bye' });
    assert.deepEqual(readClose(parseWireFrames(clientFrame({ opcode: OP.CLOSE }))[0]!), { code: 1005, reason: '' });
  });
});
