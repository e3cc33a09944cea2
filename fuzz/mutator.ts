/**
 * Mutations of an input, stacked a few at a time (the operators AFL and libFuzzer use): bit
 * flips, interesting bytes and 16-bit values (length and close-code boundaries of RFC 6455),
 * arithmetic, insertions and deletions, copies within the input, splicing with another corpus
 * entry, and the target's dictionary.
 */
import type { Random } from './random.js';

/** Bytes at the edges of RFC 6455's fields: 7-bit lengths, FIN/RSV/opcode nibbles, CR, LF, separators. */
const INTERESTING_BYTES = [0x00, 0x01, 0x7d, 0x7e, 0x7f, 0x80, 0x81, 0x82, 0x88, 0x89, 0x8a, 0xc0, 0xc1, 0xff, 0x0d, 0x0a, 0x20, 0x09, 0x2c, 0x3b, 0x3d, 0x22];
/** 16-bit values at the edges: 16-bit lengths, close codes (RFC 6455 §7.4), window sizes. */
const INTERESTING_U16 = [0, 1, 125, 126, 127, 128, 255, 256, 1000, 1001, 1004, 1005, 1006, 1007, 1011, 1014, 1015, 1016, 2999, 3000, 4999, 5000, 0x7fff, 0x8000, 0xfffe, 0xffff];

export class Mutator {
  constructor(
    private readonly random: Random,
    private readonly maxLength: number,
    private readonly dictionary: readonly Uint8Array[],
  ) {}

  /** A new input made from `parent` by 1 to 8 stacked mutations; `other` is a corpus entry to splice with. */
  mutate(parent: Buffer, other: Buffer): Buffer {
    let bytes: Buffer = Buffer.from(parent);
    const count = this.random.skewed(8);
    for (let i = 0; i < count; i++) bytes = this.once(bytes, other);
    return bytes.length > this.maxLength ? bytes.subarray(0, this.maxLength) : bytes;
  }

  private once(bytes: Buffer, other: Buffer): Buffer {
    const r = this.random;
    const length = bytes.length;
    // With nothing to change in place, grow first.
    const choice = length === 0 ? 6 + r.below(3) : r.below(15);
    switch (choice) {
      case 0: {
        const at = r.below(length);
        bytes[at] = bytes[at]! ^ (1 << r.below(8));
        return bytes;
      }
      case 1:
        bytes[r.below(length)] = r.below(256);
        return bytes;
      case 2:
        bytes[r.below(length)] = r.pick(INTERESTING_BYTES);
        return bytes;
      case 3: {
        const at = r.below(length);
        const delta = 1 + r.below(16);
        bytes[at] = (bytes[at]! + (r.oneIn(2) ? delta : 256 - delta)) & 0xff;
        return bytes;
      }
      case 4: {
        if (length < 2) return bytes;
        const at = r.below(length - 1);
        const value = r.oneIn(4) ? (bytes.readUInt16BE(at) + r.below(9) - 4) & 0xffff : r.pick(INTERESTING_U16);
        bytes.writeUInt16BE(value, at);
        return bytes;
      }
      case 5: {
        // Delete a range.
        const at = r.below(length);
        const size = Math.min(length - at, r.skewed(Math.max(1, length >> 2)));
        return Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + size)]);
      }
      case 6: {
        // Insert random bytes, or one byte repeated.
        const size = r.skewed(32);
        const inserted = Buffer.alloc(size);
        if (r.oneIn(2)) inserted.fill(r.oneIn(2) ? r.pick(INTERESTING_BYTES) : r.below(256));
        else for (let i = 0; i < size; i++) inserted[i] = r.below(256);
        return this.insert(bytes, inserted);
      }
      case 7:
      case 8: {
        // Insert a dictionary token (or overwrite with it).
        if (this.dictionary.length === 0) return this.insert(bytes, Buffer.from([r.below(256)]));
        const token = Buffer.from(r.pick(this.dictionary));
        if (choice === 7 || length < token.length) return this.insert(bytes, token);
        token.copy(bytes, r.below(length - token.length + 1));
        return bytes;
      }
      case 9: {
        // Duplicate a range somewhere else (repeats a frame, a header line).
        const at = r.below(length);
        const size = Math.min(length - at, r.skewed(Math.max(1, Math.min(length, 256))));
        return this.insert(bytes, Buffer.from(bytes.subarray(at, at + size)));
      }
      case 10: {
        // Copy a range over another part of the input.
        const from = r.below(length);
        const size = Math.min(length - from, r.skewed(Math.max(1, length >> 1)));
        const to = r.below(length - size + 1);
        bytes.copy(bytes, to, from, from + size);
        return bytes;
      }
      case 11: {
        // Splice: this input's head with another entry's tail.
        if (other.length === 0) return bytes;
        const cut = r.below(length + 1);
        const from = r.below(other.length);
        return Buffer.concat([bytes.subarray(0, cut), other.subarray(from)]);
      }
      case 12: {
        // Insert a range of another entry.
        if (other.length === 0) return bytes;
        const from = r.below(other.length);
        const size = Math.min(other.length - from, r.skewed(Math.max(1, Math.min(other.length, 512))));
        return this.insert(bytes, Buffer.from(other.subarray(from, from + size)));
      }
      case 13:
        // Truncate.
        return bytes.subarray(0, r.below(length));
      default: {
        // Swap two bytes.
        const i = r.below(length);
        const j = r.below(length);
        const t = bytes[i]!;
        bytes[i] = bytes[j]!;
        bytes[j] = t;
        return bytes;
      }
    }
  }

  private insert(bytes: Buffer, inserted: Buffer): Buffer {
    const at = this.random.below(bytes.length + 1);
    return Buffer.concat([bytes.subarray(0, at), inserted, bytes.subarray(at)]);
  }
}
