/**
 * Assembling bytes that arrive in pieces (a message in fragments, a frame split across reads,
 * the compressed frames of a message) with memory proportional to their size, whatever the
 * number of pieces: small pieces are copied
 * into a growing buffer, never kept one object each, so a message in 262,143 one-byte fragments
 * costs about its payload, not a Buffer per fragment (ws's CVE-2026-48779: 131,000 one-byte
 * fragments pinned 13.5 MB). Large pieces are kept by reference only when that pins little more
 * than themselves. Measured in test/node/fragment-memory.test.ts.
 */

/** Pieces at least this long may be kept by reference instead of copied. */
const REFERENCE_MIN = 16 * 1024;
/** First buffer for small pieces, and the largest one grown at a time. */
const FIRST_BUFFER = 1024;
const MAX_GROWTH = 1024 * 1024;

export class ByteAssembly {
  /** Sealed pieces, in order, when the message is not one contiguous buffer. */
  private parts: Buffer[] | null = null;
  /** The buffer small pieces are copied into. */
  private tail: Buffer | null = null;
  private tailUsed = 0;
  /** Bytes held so far. */
  length = 0;

  /**
   * Keep `chunk[start, end)`. `expected` is how many more bytes the current frame announced
   * (room is made for them when near), `limit` how many the message may still grow by.
   */
  append(chunk: Buffer, start: number, end: number, expected: number, limit: number): void {
    const size = end - start;
    if (size === 0) return;
    this.length += size;
    const tail = this.tail;
    if (tail !== null && tail.length - this.tailUsed >= size) {
      if (size < 32) {
        for (let i = 0, at = this.tailUsed; i < size; i++) tail[at + i] = chunk[start + i]!;
      } else {
        chunk.copy(tail, this.tailUsed, start, end);
      }
      this.tailUsed += size;
      return;
    }
    // A large piece that is most of its backing store: keep it, pinning at most twice its size.
    if (size >= REFERENCE_MIN && size * 2 >= chunk.buffer.byteLength) {
      this.seal();
      (this.parts ??= []).push(chunk.subarray(start, end));
      return;
    }
    this.seal();
    // Grow geometrically (amortized copies stay linear), never past what the message may
    // still hold; and when a frame's rest is near, make room for all of it so a frame split
    // across reads is delivered without a second copy.
    const wanted = size + expected;
    const growth = Math.min(Math.max(this.length, FIRST_BUFFER), MAX_GROWTH);
    // A frame announcing far more than has arrived gets room for what geometric growth allows,
    // not for what it announces (a peer may announce 16 MiB and send one byte).
    let capacity = wanted <= 2 * growth ? Math.max(wanted, growth) : Math.max(size, growth);
    capacity = Math.max(size, Math.min(capacity, limit + size));
    const grown = Buffer.allocUnsafe(capacity);
    chunk.copy(grown, 0, start, end);
    this.tail = grown;
    this.tailUsed = size;
  }

  /** The whole message (one buffer; a copy only when it is in several pieces); resets. */
  take(): Buffer {
    this.seal();
    const parts = this.parts;
    const length = this.length;
    this.parts = null;
    this.length = 0;
    if (parts === null) return EMPTY_MESSAGE;
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
  }

  private seal(): void {
    if (this.tail !== null && this.tailUsed > 0) (this.parts ??= []).push(this.tail.subarray(0, this.tailUsed));
    this.tail = null;
    this.tailUsed = 0;
  }
}

const EMPTY_MESSAGE = Buffer.alloc(0);
