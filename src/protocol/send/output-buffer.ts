/**
 * Pending output of one connection, gathered so the transport can write everything a
 * connection produced in one event-loop turn with a single write.
 *
 * Small frames are encoded into a slab shared by all connections (like Node's own Buffer
 * pool): a connection that produces several frames in a row gets one contiguous slice, so
 * an echo of 16 pipelined messages becomes one write of one buffer, and an idle connection
 * holds no output buffer at all. Large payloads are kept by reference.
 */

/** Size of the shared slab. */
const SLAB_SIZE = 64 * 1024;
/** Frames at least this large get their own buffer instead of a slab slice. */
export const SLAB_MAX_FRAME = 8 * 1024;

let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabUsed = 0;

/**
 * A slice that will sit in a socket's queue: copy it out if it lives in a shared slab, so a
 * slow peer pins only its own bytes and not a whole slab.
 */
export function detachFromSlab(piece: Buffer): Buffer {
  return piece.buffer.byteLength === SLAB_SIZE && piece.length < SLAB_SIZE ? Buffer.from(piece) : piece;
}

export class OutputBuffer {
  /** The slab holding the open contiguous piece, or null. */
  private slab: Buffer | null = null;
  private start = 0;
  private end = 0;
  /** Earlier pieces, in order, when output is not one contiguous slice. */
  private pieces: Buffer[] | null = null;
  /** Bytes pending in this buffer. */
  length = 0;

  /**
   * Reserve `size` bytes at the end of this output and return where they start in `target`.
   * `size` must be below SLAB_MAX_FRAME.
   */
  reserve(size: number): number {
    if (SLAB_SIZE - slabUsed < size) {
      slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
      slabUsed = 0;
    }
    if (this.slab !== slab || this.end !== slabUsed) {
      this.seal();
      this.slab = slab;
      this.start = slabUsed;
    }
    const at = slabUsed;
    slabUsed += size;
    this.end = slabUsed;
    this.length += size;
    return at;
  }

  /** The buffer that holds the latest reservation (valid right after `reserve`). */
  get target(): Buffer {
    return this.slab!;
  }

  /** Give back the last `unused` bytes of the latest reservation. */
  unreserve(unused: number): void {
    slabUsed -= unused;
    this.end -= unused;
    this.length -= unused;
  }

  /** Append a buffer by reference; it must not change until written. */
  appendReference(data: Buffer): void {
    if (data.length === 0) return;
    this.seal();
    (this.pieces ??= []).push(data);
    this.length += data.length;
  }

  /**
   * Take everything pending: one Buffer when contiguous, an array of Buffers otherwise,
   * or null when empty.
   */
  take(): Buffer | Buffer[] | null {
    if (this.length === 0) return null;
    this.length = 0;
    if (this.pieces === null) {
      const piece = this.slab!.subarray(this.start, this.end);
      this.slab = null;
      return piece;
    }
    this.seal();
    const pieces = this.pieces;
    this.pieces = null;
    return pieces.length === 1 ? pieces[0]! : pieces;
  }

  /** Drop everything pending (the connection is gone). */
  clear(): void {
    this.slab = null;
    this.pieces = null;
    this.length = 0;
  }

  private seal(): void {
    if (this.slab !== null) {
      if (this.end > this.start) (this.pieces ??= []).push(this.slab.subarray(this.start, this.end));
      this.slab = null;
    }
  }
}
