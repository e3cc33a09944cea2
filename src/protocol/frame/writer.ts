/**
 * The frame writer: every frame wsforge sends is encoded here (RFC 6455 §5.2), into a
 * connection's output or into a Buffer of its own. Client frames are masked with a fresh key
 * each (§5.3); lengths use the minimal encoding. Small frames go into the shared output slab;
 * a server's large payloads are kept by reference (never copied); text is encoded straight from
 * the string.
 */
import { OutputBuffer, SLAB_MAX_FRAME } from '../send/output-buffer.js';
import { recentTextBytes } from '../send/text-echo.js';
import { encodeUtf8Into } from '../utf8.js';
import { encodeFrameHeader, frameHeaderSize } from './header.js';
import { applyMaskKey, writeRandomMask } from './mask.js';
import { Opcode } from './opcode.js';

/** A server's payloads from this size on are written by reference instead of copied. */
const REFERENCE_PAYLOAD_MIN = 16 * 1024;

/**
 * Encode a whole frame at `at` in `target` (which must have room): header, then the payload
 * copied, masked with a fresh key when `masked`.
 */
export function encodeFrameInto(
  target: Buffer,
  at: number,
  opcode: number,
  fin: boolean,
  rsv1: boolean,
  payload: Uint8Array,
  masked: boolean,
): void {
  const length = payload.length;
  const headerSize = frameHeaderSize(length, masked);
  encodeFrameHeader(target, at, opcode, fin, rsv1, length, null);
  const payloadAt = at + headerSize;
  target.set(payload, payloadAt);
  if (masked) maskInPlace(target, at, payloadAt, length);
}

/** Set the mask bit of the frame at `at`, write a fresh key before the payload and mask it. */
function maskInPlace(target: Buffer, at: number, payloadAt: number, length: number): void {
  target[at + 1] = target[at + 1]! | 0x80;
  writeRandomMask(target, payloadAt - 4);
  applyMaskKey(target, target.readUInt32BE(payloadAt - 4), payloadAt, payloadAt + length, 0);
}

/** One whole frame in a new Buffer (prepared messages, the frame-level API). */
export function encodeFrame(opcode: number, fin: boolean, rsv1: boolean, payload: Uint8Array, masked: boolean): Buffer {
  const frame = Buffer.allocUnsafe(frameHeaderSize(payload.length, masked) + payload.length);
  encodeFrameInto(frame, 0, opcode, fin, rsv1, payload, masked);
  return frame;
}

/** Append one frame to a connection's output. */
export function writeFrame(out: OutputBuffer, opcode: number, fin: boolean, rsv1: boolean, payload: Buffer, masked: boolean): void {
  const length = payload.length;
  const headerSize = frameHeaderSize(length, masked);
  if (!masked && length >= REFERENCE_PAYLOAD_MIN) {
    const at = out.reserve(headerSize);
    encodeFrameHeader(out.target, at, opcode, fin, rsv1, length, null);
    out.appendReference(payload);
  } else if (headerSize + length < SLAB_MAX_FRAME) {
    const at = out.reserve(headerSize + length);
    encodeFrameInto(out.target, at, opcode, fin, rsv1, payload, masked);
  } else {
    out.appendReference(encodeFrame(opcode, fin, rsv1, payload, masked));
  }
}

/** Append a text message (one frame). A string just received is framed by copying its bytes (see text-echo.ts). */
export function writeTextFrame(out: OutputBuffer, text: string, masked: boolean): void {
  const recent = recentTextBytes(text);
  if (recent !== null) {
    writeTextBytes(out, recent.source, recent.start, recent.end, masked);
    return;
  }
  const length = text.length;
  // Up to 3 bytes per UTF-16 code unit: if that fits a 7-bit length, encode in place.
  if (length * 3 < 126) {
    const maskBytes = masked ? 4 : 0;
    const reserved = 2 + maskBytes + length * 3;
    const at = out.reserve(reserved);
    const target = out.target;
    const payloadAt = at + 2 + maskBytes;
    const written = length === 0 ? 0 : encodeUtf8Into(target, text, payloadAt, length * 3);
    target[at] = 0x80 | Opcode.TEXT;
    target[at + 1] = written;
    if (masked) maskInPlace(target, at, payloadAt, written);
    out.unreserve(reserved - (2 + maskBytes + written));
    return;
  }
  writeFrame(out, Opcode.TEXT, true, false, Buffer.from(text, 'utf8'), masked);
}

/** Append a text message whose UTF-8 bytes are `source[start, end)` (copied, never referenced: the region may be reused). */
function writeTextBytes(out: OutputBuffer, source: Buffer, start: number, end: number, masked: boolean): void {
  const length = end - start;
  const headerSize = frameHeaderSize(length, masked);
  if (headerSize + length >= SLAB_MAX_FRAME) {
    writeFrame(out, Opcode.TEXT, true, false, source.subarray(start, end), masked);
    return;
  }
  const at = out.reserve(headerSize + length);
  const target = out.target;
  encodeFrameHeader(target, at, Opcode.TEXT, true, false, length, null);
  const payloadAt = at + headerSize;
  if (length < 64) {
    for (let i = 0; i < length; i++) target[payloadAt + i] = source[start + i]!;
  } else {
    source.copy(target, payloadAt, start, end);
  }
  if (masked) maskInPlace(target, at, payloadAt, length);
}
