/**
 * Prepared messages: a message framed once and written to many connections (broadcast, topics),
 * the same bytes to every socket (uWebSockets' "prepared messages"; ws#617). With
 * permessage-deflate negotiated without context takeover, every connection that agreed on the
 * same settings gets the same compressed frame, so it is compressed once per setting, on first
 * need; connections with context takeover compress on their own (their stream differs).
 *
 * Server frames only: a client must mask every frame with a fresh key (RFC 6455 §5.3), so a
 * client connection sends the payload framed on its own.
 */
import type { WebSocketError } from '../errors.js';
import type { SharedEncoding } from '../extensions/extension.js';
import { Opcode } from './opcode.js';
import { encodeFrame } from './writer.js';

/** Told when the compressed frame it waited for is ready (or could not be made). */
export interface CompressedFrameWaiter {
  compressedFrameReady(frame: Buffer | null, error: WebSocketError | null): void;
}

/** Compressed frames of one message for one setting: ready, or being made with who waits for it. */
interface CompressedVariant {
  frame: Buffer | null;
  error: WebSocketError | null;
  waiters: CompressedFrameWaiter[] | null;
}

/**
 * Frames shared by many connections. Memory budgets count such a frame once however many
 * connections hold it (node/connection/backpressure-budget.ts).
 */
const sharedFrames = new WeakSet<Buffer>();

/** Whether `frame` is a prepared message's frame (held by reference by many connections). */
export function isSharedFrame(frame: Buffer): boolean {
  return sharedFrames.has(frame);
}

export class PreparedMessage {
  /** The unmasked, uncompressed frame. */
  readonly frame: Buffer;
  private variants: Map<string, CompressedVariant> | null = null;

  constructor(
    /** The message's bytes (UTF-8 for text). */
    readonly payload: Buffer,
    readonly isBinary: boolean,
    /** Whether connections with a negotiated compression may compress it. */
    readonly compress: boolean,
  ) {
    this.frame = encodeFrame(isBinary ? Opcode.BINARY : Opcode.TEXT, true, false, payload, false);
    sharedFrames.add(this.frame);
  }

  /** @internal The compressed frame for a setting, if it has been made. */
  compressedFrameFor(key: string): Buffer | null {
    return this.variants?.get(key)?.frame ?? null;
  }

  /**
   * @internal Have the compressed frame for `encoding`'s setting made (once, whoever asks first) and
   * handed to `waiter`; a failure is handed on too.
   */
  requestCompressedFrame(encoding: SharedEncoding, waiter: CompressedFrameWaiter): void {
    const variants = (this.variants ??= new Map());
    const variant = variants.get(encoding.key);
    if (variant !== undefined) {
      if (variant.waiters !== null) variant.waiters.push(waiter);
      else waiter.compressedFrameReady(variant.frame, variant.error);
      return;
    }
    const started: CompressedVariant = { frame: null, error: null, waiters: [waiter] };
    variants.set(encoding.key, started);
    encoding.encode(this.payload, (error, output) => {
      // RFC 7692 §6.1: RSV1 on the (only) frame of a compressed message.
      if (output !== null) {
        started.frame = encodeFrame(this.isBinary ? Opcode.BINARY : Opcode.TEXT, true, true, output, false);
        sharedFrames.add(started.frame);
      }
      started.error = error;
      const waiters = started.waiters!;
      started.waiters = null;
      for (const each of waiters) each.compressedFrameReady(started.frame, error);
    });
  }
}
