// Assertions on payloads that stay readable when the payload is 16 MiB: on a mismatch they
// report lengths, the first differing offset and a short hex window, never the whole buffer.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';

export function sha256(data: Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

export function assertSameBytes(actual: Buffer, expected: Buffer, what: string): void {
  if (actual.equals(expected)) return;
  let offset = 0;
  const n = Math.min(actual.length, expected.length);
  while (offset < n && actual[offset] === expected[offset]) offset++;
  const window = (b: Buffer) => b.subarray(offset, offset + 16).toString('hex');
  assert.fail(
    `${what}: ${actual.length} bytes received, ${expected.length} expected; first difference at offset ${offset} ` +
      `(received ${window(actual)}, expected ${window(expected)})`,
  );
}

/** Compressible text that looks like a stream of JSON records (what permessage-deflate is for). */
export function jsonLikeText(size: number, seed = 0): string {
  const parts: string[] = [];
  let length = 0;
  for (let i = seed; length < size; i++) {
    const record = `{"id":${i},"user":"user-${i % 97}","event":"${['click', 'view', 'scroll', 'buy'][i % 4]}","ok":${i % 3 !== 0}},`;
    parts.push(record);
    length += record.length;
  }
  return parts.join('').slice(0, size);
}

export function randomBinary(size: number): Buffer {
  return randomBytes(size);
}
