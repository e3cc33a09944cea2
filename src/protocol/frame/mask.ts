/** Masking (RFC 6455 §5.3): XOR with a 4-byte key, and fresh unpredictable keys for client frames. */
import { randomFillSync } from 'node:crypto';

/**
 * XOR `data[start, end)` in place with `mask`, starting at byte `maskOffset` of the mask
 * (RFC 6455 §5.3: octet i is XORed with mask[i mod 4]). Masking and unmasking are the same
 * operation.
 */
export function applyMask(data: Uint8Array, mask: Uint8Array, start = 0, end = data.length, maskOffset = 0): void {
  const key = ((mask[0]! << 24) | (mask[1]! << 16) | (mask[2]! << 8) | mask[3]!) >>> 0;
  applyMaskKey(data, key, start, end, maskOffset);
}

/**
 * The same with the mask as a big-endian 32-bit number (how the receiver keeps it, so a
 * connection needs no mask buffer). Works on aligned 32-bit words for the bulk of the data.
 */
export function applyMaskKey(data: Uint8Array, key: number, start: number, end: number, maskOffset: number): void {
  // Rotate so that m0 is the mask byte for data[start].
  const shift = (maskOffset & 3) << 3;
  const rotated = shift === 0 ? key : ((key << shift) | (key >>> (32 - shift))) >>> 0;
  const m0 = rotated >>> 24;
  const m1 = (rotated >>> 16) & 0xff;
  const m2 = (rotated >>> 8) & 0xff;
  const m3 = rotated & 0xff;
  let i = start;
  if (end - start < 512) {
    // Small payloads: 4 bytes per step, no typed-array view to allocate.
    const last = end - 3;
    for (; i < last; i += 4) {
      data[i] = data[i]! ^ m0;
      data[i + 1] = data[i + 1]! ^ m1;
      data[i + 2] = data[i + 2]! ^ m2;
      data[i + 3] = data[i + 3]! ^ m3;
    }
    if (i < end) data[i] = data[i]! ^ m0;
    if (i + 1 < end) data[i + 1] = data[i + 1]! ^ m1;
    if (i + 2 < end) data[i + 2] = data[i + 2]! ^ m2;
    return;
  }
  // Bytes until `i` is 4-byte aligned in the underlying ArrayBuffer.
  let phase = 0;
  let lead = (4 - ((data.byteOffset + i) & 3)) & 3;
  while (lead > 0) {
    data[i] = data[i]! ^ (phase === 0 ? m0 : phase === 1 ? m1 : phase === 2 ? m2 : m3);
    i++;
    phase++;
    lead--;
  }
  // The mask as a native-endian word whose first byte lines up with data[i].
  const r = phase === 0 ? rotated : ((rotated << (phase << 3)) | (rotated >>> (32 - (phase << 3)))) >>> 0;
  const word = LITTLE_ENDIAN
    ? ((r >>> 24) | ((r >>> 8) & 0xff00) | ((r << 8) & 0xff0000) | (r << 24)) >>> 0
    : r;
  const wordCount = (end - i) >>> 2;
  const words = new Uint32Array(data.buffer, data.byteOffset + i, wordCount);
  // Unrolled by 8: about 1.6x the plain loop in V8 (bench: 16 KiB at ~10 GB/s vs ~6).
  let w = 0;
  for (; w + 7 < wordCount; w += 8) {
    words[w] = words[w]! ^ word;
    words[w + 1] = words[w + 1]! ^ word;
    words[w + 2] = words[w + 2]! ^ word;
    words[w + 3] = words[w + 3]! ^ word;
    words[w + 4] = words[w + 4]! ^ word;
    words[w + 5] = words[w + 5]! ^ word;
    words[w + 6] = words[w + 6]! ^ word;
    words[w + 7] = words[w + 7]! ^ word;
  }
  for (; w < wordCount; w++) words[w] = words[w]! ^ word;
  i += wordCount << 2;
  for (let p = phase; i < end; i++, p = (p + 1) & 3) {
    data[i] = data[i]! ^ (p === 0 ? m0 : p === 1 ? m1 : p === 2 ? m2 : m3);
  }
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/**
 * Masking keys for client frames. RFC 6455 §5.3 requires a fresh, unpredictable key per
 * frame; we take them 4 bytes at a time from a pool filled by the CSPRNG.
 */
const MASK_POOL_SIZE = 8192;
const maskPool = Buffer.allocUnsafe(MASK_POOL_SIZE);
let maskPoolOffset = MASK_POOL_SIZE;

export function randomMask(): Buffer {
  if (maskPoolOffset === MASK_POOL_SIZE) {
    randomFillSync(maskPool);
    maskPoolOffset = 0;
  }
  const mask = maskPool.subarray(maskPoolOffset, maskPoolOffset + 4);
  maskPoolOffset += 4;
  return mask;
}

/**
 * Copy the 4 next random mask bytes into `target` at `offset` (no allocation).
 */
export function writeRandomMask(target: Uint8Array, offset: number): void {
  if (maskPoolOffset === MASK_POOL_SIZE) {
    randomFillSync(maskPool);
    maskPoolOffset = 0;
  }
  target[offset] = maskPool[maskPoolOffset]!;
  target[offset + 1] = maskPool[maskPoolOffset + 1]!;
  target[offset + 2] = maskPool[maskPoolOffset + 2]!;
  target[offset + 3] = maskPool[maskPoolOffset + 3]!;
  maskPoolOffset += 4;
}
