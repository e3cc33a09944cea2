/** The frame header (RFC 6455 §5.2): its size and its encoding, with minimal lengths. */

/** Header size for a payload of `length` bytes, with the minimal length encoding (RFC 6455 §5.2). */
export function frameHeaderSize(length: number, masked: boolean): number {
  const base = length < 126 ? 2 : length < 0x10000 ? 4 : 10;
  return masked ? base + 4 : base;
}

/**
 * Write a frame header at `offset` in `target` and return its size. The length uses the
 * minimal encoding, as RFC 6455 §5.2 requires ("the minimal number of bytes MUST be used").
 * `mask` (4 bytes) is written when given; the payload itself is not touched.
 */
export function encodeFrameHeader(
  target: Uint8Array,
  offset: number,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  length: number,
  mask: Uint8Array | null,
): number {
  target[offset] = (fin ? 0x80 : 0) | (rsv1 ? 0x40 : 0) | opcode;
  const maskBit = mask === null ? 0 : 0x80;
  let position = offset + 2;
  if (length < 126) {
    target[offset + 1] = maskBit | length;
  } else if (length < 0x10000) {
    target[offset + 1] = maskBit | 126;
    target[offset + 2] = length >>> 8;
    target[offset + 3] = length & 0xff;
    position = offset + 4;
  } else {
    target[offset + 1] = maskBit | 127;
    // JS numbers are exact up to 2^53; the top bit of the 64-bit length stays 0 (§5.2).
    const high = Math.floor(length / 0x100000000);
    const low = length >>> 0;
    target[offset + 2] = high >>> 24;
    target[offset + 3] = (high >>> 16) & 0xff;
    target[offset + 4] = (high >>> 8) & 0xff;
    target[offset + 5] = high & 0xff;
    target[offset + 6] = low >>> 24;
    target[offset + 7] = (low >>> 16) & 0xff;
    target[offset + 8] = (low >>> 8) & 0xff;
    target[offset + 9] = low & 0xff;
    position = offset + 10;
  }
  if (mask !== null) {
    target[position] = mask[0]!;
    target[position + 1] = mask[1]!;
    target[position + 2] = mask[2]!;
    target[position + 3] = mask[3]!;
    position += 4;
  }
  return position - offset;
}
