/** Close codes and payloads (RFC 6455 §5.5.1, §7.4) and the UTF-8 validator (RFC 3629, RFC 6455 §8.1). */
import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { describe, test } from 'node:test';
import { encodeClosePayload, isValidCloseCode, isValidUtf8, parseClosePayload, Utf8Validator } from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { seededRandom } from '../helpers/seeded-random.js';

guardProcess();

describe('close codes (RFC 6455 §7.4)', () => {
  test('RFC 6455 §7.4.1/§7.4.2: valid on the wire are 1000-1003, 1007-1014, 3000-4999 and nothing else', () => {
    for (let code = 0; code < 70000; code++) {
      const expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
      assert.equal(isValidCloseCode(code), expected, `code ${code}`);
    }
  });

  test('RFC 6455 §5.5.1: parseClosePayload reads code and UTF-8 reason; empty means 1005', () => {
    assert.deepEqual(parseClosePayload(Buffer.alloc(0)), { code: 1005, reason: '' });
    assert.deepEqual(parseClosePayload(Buffer.from([0x03, 0xe8, 0x6f, 0x6b])), { code: 1000, reason: 'ok' });
    assert.throws(() => parseClosePayload(Buffer.from([0x03])), { code: 'WSF_ERR_INVALID_CLOSE_PAYLOAD', closeCode: 1002 });
    assert.throws(() => parseClosePayload(Buffer.from([0x03, 0xed])), { code: 'WSF_ERR_INVALID_CLOSE_CODE', closeCode: 1002 });
    assert.throws(() => parseClosePayload(Buffer.from([0x03, 0xe8, 0xff])), { code: 'WSF_ERR_INVALID_UTF8', closeCode: 1007 });
  });

  test('RFC 6455 §5.5.1: encodeClosePayload writes the code big-endian then the reason', () => {
    assert.deepEqual(encodeClosePayload(1001, 'bye'), Buffer.from([0x03, 0xe9, 0x62, 0x79, 0x65]));
    assert.deepEqual(encodeClosePayload(), Buffer.alloc(0));
    assert.equal(encodeClosePayload(4000, 'x'.repeat(123)).length, 125);
    assert.throws(() => encodeClosePayload(4000, 'x'.repeat(124)), { code: 'WSF_ERR_INVALID_ARGUMENT' });
    assert.throws(() => encodeClosePayload(1005), { code: 'WSF_ERR_INVALID_ARGUMENT' });
    assert.throws(() => encodeClosePayload(undefined, 'reason without code'), { code: 'WSF_ERR_INVALID_ARGUMENT' });
  });
});

describe('UTF-8 validation (RFC 3629)', () => {
  const valid = [
    '', 'ascii', 'é', '€', '𝄞', 'κόσμε', '日本語テキスト', '\u0000', '\u007f', '\u0080', '\u07ff', '\u0800', '\uffff', '\u{10000}', '\u{10ffff}',
  ].map((s) => Buffer.from(s, 'utf8'));
  const invalid = [
    [0x80], [0xbf], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0x9f, 0xbf], [0xed, 0xa0, 0x80], [0xed, 0xbf, 0xbf],
    [0xf0, 0x80, 0x80, 0x80], [0xf0, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xf8], [0xfe], [0xff],
    [0x61, 0xc3, 0x61], [0xe2, 0x82, 0x61], [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64],
  ].map((b) => Buffer.from(b));
  const truncated = [[0xc3], [0xe2, 0x82], [0xf0, 0x9d, 0x84], [0x61, 0xf0]].map((b) => Buffer.from(b));

  test('RFC 3629: isValidUtf8 accepts valid and rejects invalid sequences', () => {
    for (const bytes of valid) assert.equal(isValidUtf8(bytes), true, bytes.toString('hex'));
    for (const bytes of [...invalid, ...truncated]) assert.equal(isValidUtf8(bytes), false, bytes.toString('hex'));
  });

  test('RFC 6455 §8.1: Utf8Validator fed in two pieces, split anywhere, agrees with a whole-buffer check', () => {
    for (const bytes of [...valid, ...invalid, ...truncated]) {
      for (let split = 0; split <= bytes.length; split++) {
        const v = new Utf8Validator();
        const ok = v.feed(bytes.subarray(0, split)) && v.feed(bytes.subarray(split)) && v.complete;
        assert.equal(ok, isUtf8(bytes), `${bytes.toString('hex')} split at ${split}`);
      }
    }
  });

  test('RFC 6455 §8.1: Utf8Validator fed one byte at a time fails at the first byte that cannot continue', () => {
    const bytes = Buffer.from([0x61, 0xe2, 0x82, 0xac, 0x62, 0xe0, 0x80, 0x63]);
    const v = new Utf8Validator();
    const results = [...bytes].map((b) => v.feed(Uint8Array.of(b)));
    // 0xe0 0x80 is an overlong prefix: the 0x80 (index 6) is where it fails.
    assert.deepEqual(results.slice(0, 7), [true, true, true, true, true, true, false]);
  });

  test('RFC 6455 §8.1: reset() makes a validator that failed, or stopped inside a code point, usable for the next message', () => {
    const validator = new Utf8Validator();
    assert.equal(validator.feed(Buffer.from([0xe2, 0x82])), true);
    assert.equal(validator.complete, false);
    validator.reset();
    assert.equal(validator.complete, true);
    assert.equal(validator.feed(Buffer.from([0x61])), true, 'an ASCII byte starts afresh, not as a continuation');
    assert.equal(validator.feed(Buffer.from([0xc0, 0x80])), false, 'an overlong form fails');
    validator.reset();
    assert.equal(validator.feed(Buffer.from('€', 'utf8')), true);
    assert.equal(validator.complete, true);
  });

  test('RFC 6455 §8.1: a truncated sequence is a valid prefix but not complete', () => {
    for (const bytes of truncated) {
      const v = new Utf8Validator();
      assert.equal(v.feed(bytes), true, bytes.toString('hex'));
      assert.equal(v.complete, false, bytes.toString('hex'));
    }
  });

  test('RFC 3629: random byte strings in random pieces: the validator agrees with buffer.isUtf8 (seeded)', () => {
    const random = seededRandom(2024);
    const alphabet = [0x00, 0x41, 0x7f, 0x80, 0xbf, 0xc2, 0xc3, 0xdf, 0xe0, 0xe1, 0xed, 0xee, 0xef, 0xf0, 0xf1, 0xf4, 0xf5, 0xff, 0xa0, 0x90, 0x8f, 0x9f];
    for (let round = 0; round < 3000; round++) {
      const length = Math.floor(random() * 60);
      // Mix real text with random bytes so both valid and invalid strings are common.
      const bytes = random() < 0.5
        ? Buffer.from(Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]!))
        : Buffer.from(Array.from({ length: Math.ceil(length / 4) }, () => String.fromCodePoint(Math.floor(random() * 0x10ffff) & ~0x800 || 1)).join(''), 'utf8');
      const v = new Utf8Validator();
      let ok = true;
      let at = 0;
      while (at < bytes.length && ok) {
        const size = 1 + Math.floor(random() * 8);
        ok = v.feed(bytes, at, Math.min(bytes.length, at + size));
        at += size;
      }
      assert.equal(ok && v.complete, isUtf8(bytes), bytes.toString('hex'));
    }
  });
});
