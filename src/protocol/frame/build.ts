/** One complete frame as a new Buffer: the building block of the frame-level API and of tests. */
import { ErrorCode, WebSocketError } from '../errors.js';
import { encodeFrameHeader, frameHeaderSize } from './header.js';
import { applyMask } from './mask.js';
import { EMPTY } from './opcode.js';
import { encodeFrame } from './writer.js';

export interface BuildFrameOptions {
  opcode: number;
  payload?: Uint8Array;
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** Mask the payload: `true` for a fresh random key, or a given 4-byte key; clients must mask. */
  mask?: boolean | Uint8Array;
}

/**
 * Build one complete frame (header + payload) as a new Buffer: a pure function, the
 * building block of the frame-level API and of tests. The payload is copied, never modified.
 */
export function buildFrame(options: BuildFrameOptions): Buffer {
  const payload = options.payload ?? EMPTY;
  const opcode = options.opcode;
  if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) {
    throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `opcode must be 0-15, got ${opcode}`);
  }
  let frame: Buffer;
  if (options.mask instanceof Uint8Array) {
    // A given key (tests, examples of RFC 6455 §5.7): the same header, masked with it.
    if (options.mask.length !== 4) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'a mask is 4 bytes');
    const headerSize = frameHeaderSize(payload.length, true);
    frame = Buffer.allocUnsafe(headerSize + payload.length);
    encodeFrameHeader(frame, 0, opcode, options.fin ?? true, options.rsv1 ?? false, payload.length, options.mask);
    frame.set(payload, headerSize);
    applyMask(frame, options.mask, headerSize, frame.length, 0);
  } else {
    frame = encodeFrame(opcode, options.fin ?? true, options.rsv1 ?? false, payload, options.mask === true);
  }
  if (options.rsv2) frame[0] = frame[0]! | 0x20;
  if (options.rsv3) frame[0] = frame[0]! | 0x10;
  return frame;
}
