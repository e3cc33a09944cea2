/** The frame codec (RFC 6455 §5.2, §5.3, §5.7), checked against hand-written bytes. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { applyMask, applyMaskKey, buildFrame, encodeFrameHeader, frameHeaderSize, isControlOpcode, Opcode, randomMask } from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { hexBytes } from '../helpers/hex-bytes.js';
import { EXAMPLE_MASK, parseWireFrames } from '../helpers/wire-frames.js';

guardProcess();

describe('RFC 6455 §5.7 examples', () => {
  test('RFC 6455 §5.7: unmasked "Hello" text frame is 81 05 48 65 6c 6c 6f', () => {
    assert.deepEqual(buildFrame({ opcode: Opcode.TEXT, payload: Buffer.from('Hello') }), hexBytes('81 05 48656c6c6f'));
  });

  test('RFC 6455 §5.7: masked "Hello" with key 37 fa 21 3d is 81 85 37 fa 21 3d 7f 9f 4d 51 58', () => {
    const frame = buildFrame({ opcode: Opcode.TEXT, payload: Buffer.from('Hello'), mask: EXAMPLE_MASK });
    assert.deepEqual(frame, hexBytes('81 85 37fa213d 7f9f4d5158'));
  });

  test('RFC 6455 §5.7: fragmented "Hel" + "lo" is 01 03 48 65 6c / 80 02 6c 6f', () => {
    assert.deepEqual(buildFrame({ opcode: Opcode.TEXT, fin: false, payload: Buffer.from('Hel') }), hexBytes('01 03 48656c'));
    assert.deepEqual(buildFrame({ opcode: Opcode.CONTINUATION, payload: Buffer.from('lo') }), hexBytes('80 02 6c6f'));
  });

  test('RFC 6455 §5.7: unmasked ping "Hello" is 89 05 48 65 6c 6c 6f', () => {
    assert.deepEqual(buildFrame({ opcode: Opcode.PING, payload: Buffer.from('Hello') }), hexBytes('89 05 48656c6c6f'));
  });

  test('RFC 6455 §5.7: 256-byte binary uses 7E 01 00; 64 KiB uses 7F 00 00 00 00 00 01 00 00', () => {
    assert.deepEqual(buildFrame({ opcode: Opcode.BINARY, payload: Buffer.alloc(256, 7) }).subarray(0, 4), hexBytes('82 7e 0100'));
    assert.deepEqual(buildFrame({ opcode: Opcode.BINARY, payload: Buffer.alloc(65536, 7) }).subarray(0, 10), hexBytes('82 7f 0000000000010000'));
  });
});

describe('minimal length encoding when sending (RFC 6455 §5.2)', () => {
  const cases: Array<[number, string]> = [
    [0, '82 00'],
    [125, '82 7d'],
    [126, '82 7e 007e'],
    [65535, '82 7e ffff'],
    [65536, '82 7f 0000000000010000'],
  ];
  for (const [length, header] of cases) {
    test(`RFC 6455 §5.2: a ${length}-byte payload gets header ${header}`, () => {
      const payload = Buffer.alloc(length, 0x5a);
      const frame = buildFrame({ opcode: Opcode.BINARY, payload });
      const expectedHeader = hexBytes(header);
      assert.equal(frame.length, expectedHeader.length + length);
      assert.deepEqual(frame.subarray(0, expectedHeader.length), expectedHeader);
      assert.deepEqual(frame.subarray(expectedHeader.length), payload);
      assert.equal(frameHeaderSize(length, false), expectedHeader.length);
      assert.equal(frameHeaderSize(length, true), expectedHeader.length + 4);
    });

    test(`RFC 6455 §5.2: encodeFrameHeader writes ${header} (+ mask) at an offset for ${length} bytes`, () => {
      const target = Buffer.alloc(20, 0xee);
      const size = encodeFrameHeader(target, 3, Opcode.BINARY, true, false, length, EXAMPLE_MASK);
      const expected = hexBytes(header);
      expected[1] = expected[1]! | 0x80;
      assert.equal(size, expected.length + 4);
      assert.deepEqual(target.subarray(3, 3 + size), Buffer.concat([expected, Buffer.from(EXAMPLE_MASK)]));
      assert.equal(target[2], 0xee, 'bytes before the offset are untouched');
      assert.equal(target[3 + size], 0xee, 'bytes after the header are untouched');
    });
  }

  test('RFC 6455 §5.2: FIN, RSV1 and the opcode go in the first byte', () => {
    const target = Buffer.alloc(2);
    encodeFrameHeader(target, 0, Opcode.CONTINUATION, false, true, 0, null);
    assert.deepEqual(target, hexBytes('40 00'));
    encodeFrameHeader(target, 0, Opcode.PONG, true, false, 3, null);
    assert.deepEqual(target, hexBytes('8a 03'));
  });

  test('RFC 6455 §5.2: buildFrame sets RSV2 and RSV3 when asked (for tests of peers)', () => {
    const frame = buildFrame({ opcode: Opcode.TEXT, rsv2: true, rsv3: true });
    assert.deepEqual(frame, hexBytes('b1 00'));
  });

  test('RFC 6455 §5.2: a 2^32 + 5 byte length is written as a 64-bit big-endian number with the top bit 0', () => {
    const target = Buffer.alloc(10);
    const size = encodeFrameHeader(target, 0, Opcode.BINARY, true, false, 2 ** 32 + 5, null);
    assert.equal(size, 10);
    assert.deepEqual(target, hexBytes('82 7f 0000000100000005'));
  });
});

describe('masking (RFC 6455 §5.3)', () => {
  /** Octet i XOR mask[(i + offset) mod 4], computed the slow way. */
  function maskedByHand(data: Buffer, mask: Uint8Array, maskOffset = 0): Buffer {
    const out = Buffer.from(data);
    for (let i = 0; i < out.length; i++) out[i] = out[i]! ^ mask[(i + maskOffset) % 4]!;
    return out;
  }

  test('RFC 6455 §5.3: applyMask XORs octet i with mask[i mod 4], for short and long data at every alignment', () => {
    const mask = Uint8Array.from([0x01, 0x80, 0xfe, 0x7f]);
    for (const length of [0, 1, 3, 4, 5, 31, 32, 33, 64, 100, 1031]) {
      for (const misalign of [0, 1, 2, 3]) {
        const backing = Buffer.alloc(length + 8);
        for (let i = 0; i < backing.length; i++) backing[i] = (i * 37 + 11) & 0xff;
        const data = backing.subarray(misalign, misalign + length);
        const expected = maskedByHand(data, mask);
        applyMask(data, mask);
        assert.deepEqual(data, expected, `length ${length}, misaligned by ${misalign}`);
      }
    }
  });

  test('RFC 6455 §5.3: masking twice restores the data (masking is its own inverse)', () => {
    const data = Buffer.from('The quick brown fox jumps over the lazy dog, twice over and again.');
    const copy = Buffer.from(data);
    applyMask(data, EXAMPLE_MASK);
    assert.notDeepEqual(data, copy);
    applyMask(data, EXAMPLE_MASK);
    assert.deepEqual(data, copy);
  });

  test('RFC 6455 §5.3: applyMaskKey continues the mask from maskOffset (a frame split across chunks)', () => {
    const key = 0x37fa213d;
    const whole = Buffer.alloc(200);
    for (let i = 0; i < whole.length; i++) whole[i] = i & 0xff;
    const expected = maskedByHand(whole, EXAMPLE_MASK);
    for (const split of [1, 2, 3, 5, 50, 101, 199]) {
      const data = Buffer.from(whole);
      applyMaskKey(data, key, 0, split, 0);
      applyMaskKey(data, key, split, data.length, split);
      assert.deepEqual(data, expected, `split at ${split}`);
    }
  });

  test('RFC 6455 §5.3: applyMask with start/end touches only that range', () => {
    const data = Buffer.alloc(80, 0xaa);
    applyMask(data, EXAMPLE_MASK, 10, 70);
    assert.deepEqual(data.subarray(0, 10), Buffer.alloc(10, 0xaa));
    assert.deepEqual(data.subarray(70), Buffer.alloc(10, 0xaa));
    assert.deepEqual(data.subarray(10, 70), maskedByHand(Buffer.alloc(60, 0xaa), EXAMPLE_MASK));
  });

  test('RFC 6455 §5.3: buildFrame with mask: true sets the MASK bit, and the payload unmasks to the original', () => {
    const payload = Buffer.from('masked payload');
    const frame = buildFrame({ opcode: Opcode.TEXT, payload, mask: true });
    const [parsed] = parseWireFrames(frame);
    assert.equal(parsed!.masked, true);
    assert.deepEqual(parsed!.payload, payload);
    assert.deepEqual(payload, Buffer.from('masked payload'), 'the caller\'s payload is not modified');
  });

  test('RFC 6455 §5.3: two masked frames get different masking keys', () => {
    const a = parseWireFrames(buildFrame({ opcode: Opcode.TEXT, payload: Buffer.from('x'), mask: true }))[0]!;
    const b = parseWireFrames(buildFrame({ opcode: Opcode.TEXT, payload: Buffer.from('x'), mask: true }))[0]!;
    assert.notDeepEqual(a.mask, b.mask);
  });

  test('RFC 6455 §5.3: randomMask gives 4 bytes, fresh each time, across pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 5000; i++) {
      const mask = randomMask();
      assert.equal(mask.length, 4);
      seen.add(Buffer.from(mask).toString('hex'));
    }
    // 5000 draws from 2^32 values: a collision or two is possible, hundreds are not.
    assert.ok(seen.size > 4990, `only ${seen.size} distinct masks in 5000`);
  });
});

describe('opcodes and arguments', () => {
  test('RFC 6455 §5.5: opcodes 0x8-0xF are control opcodes, 0x0-0x7 are not', () => {
    for (let opcode = 0; opcode < 16; opcode++) assert.equal(isControlOpcode(opcode), opcode >= 8, `opcode ${opcode}`);
  });

  test('frame codec: buildFrame refuses an opcode outside 0-15 with WSF_ERR_INVALID_ARGUMENT', () => {
    for (const opcode of [-1, 16, 1.5]) {
      assert.throws(() => buildFrame({ opcode }), { code: 'WSF_ERR_INVALID_ARGUMENT' });
    }
    assert.throws(() => buildFrame({ opcode: 1, mask: Uint8Array.from([1, 2, 3]) }), { code: 'WSF_ERR_INVALID_ARGUMENT' });
  });
});
