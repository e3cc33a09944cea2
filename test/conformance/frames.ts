// The conformance driver's own frame codec (RFC 6455 §5.2). It is deliberately independent of wsforge's
// codec: it must be able to write frames a correct endpoint never would (reserved bits, reserved opcodes,
// oversized control frames, wrong masking, non-minimal lengths) and to read a peer's bytes strictly.
import { randomBytes } from 'node:crypto';

export const OP = {
  continuation: 0x0,
  text: 0x1,
  binary: 0x2,
  close: 0x8,
  ping: 0x9,
  pong: 0xa,
} as const;

/** Which end of the connection the conformance driver plays. */
export type DriverRole = 'client' | 'server';

/**
 * How the driver masks a frame.
 * - `role`: as RFC 6455 §5.3 requires for the driver's role (client frames masked, server frames not);
 * - `wrong`: the opposite (a client frame without mask, a server frame with one), to provoke the peer;
 * - `always` / `never`: regardless of role.
 */
export type MaskMode = 'role' | 'wrong' | 'always' | 'never';

/** One frame as data: every header bit is settable, so that invalid and extension frames are data too. */
export interface FrameSpec {
  opcode: number;
  /** Payload bytes; a string is encoded as UTF-8. */
  payload?: Buffer | string;
  /** FIN bit; default true. */
  fin?: boolean;
  /** RSV1 (0x40): "compressed" under permessage-deflate (RFC 7692 §6). */
  rsv1?: boolean;
  /** RSV2 (0x20). */
  rsv2?: boolean;
  /** RSV3 (0x10). */
  rsv3?: boolean;
  /** Default `role`. */
  mask?: MaskMode;
  /** Payload length encoding; default `minimal` (RFC 6455 §5.2 requires the minimal one). */
  lengthEncoding?: 'minimal' | 16 | 64;
}

export function payloadOf(spec: FrameSpec): Buffer {
  const p = spec.payload;
  if (p === undefined) return Buffer.alloc(0);
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

export function shouldMask(mode: MaskMode | undefined, role: DriverRole): boolean {
  switch (mode ?? 'role') {
    case 'role':
      return role === 'client';
    case 'wrong':
      return role === 'server';
    case 'always':
      return true;
    case 'never':
      return false;
  }
}

/** XOR `data` with the 4-byte key (RFC 6455 §5.3), writing into `out` (may be `data` itself). */
export function applyMask(data: Buffer, key: Buffer, out: Buffer = data): Buffer {
  const n = data.length;
  const k0 = key[0]!;
  const k1 = key[1]!;
  const k2 = key[2]!;
  const k3 = key[3]!;
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    out[i] = data[i]! ^ k0;
    out[i + 1] = data[i + 1]! ^ k1;
    out[i + 2] = data[i + 2]! ^ k2;
    out[i + 3] = data[i + 3]! ^ k3;
  }
  for (; i < n; i++) out[i] = data[i]! ^ key[i & 3]!;
  return out;
}

/** Encodes one frame for the given driver role. A fresh random masking key is used for each masked frame. */
export function encodeFrame(spec: FrameSpec, role: DriverRole): Buffer {
  const payload = payloadOf(spec);
  const masked = shouldMask(spec.mask, role);
  const len = payload.length;
  let enc = spec.lengthEncoding ?? 'minimal';
  if (enc === 'minimal') enc = len < 126 ? 'minimal' : len < 65536 ? 16 : 64;
  const lenBytes = enc === 'minimal' ? 0 : enc === 16 ? 2 : 8;
  if (enc === 16 && len > 0xffff) throw new RangeError(`payload of ${len} bytes cannot use a 16-bit length`);
  const headerLen = 2 + lenBytes + (masked ? 4 : 0);
  const out = Buffer.allocUnsafe(headerLen + len);
  out[0] =
    ((spec.fin ?? true) ? 0x80 : 0) |
    (spec.rsv1 ? 0x40 : 0) |
    (spec.rsv2 ? 0x20 : 0) |
    (spec.rsv3 ? 0x10 : 0) |
    (spec.opcode & 0x0f);
  const maskBit = masked ? 0x80 : 0;
  if (enc === 'minimal') {
    out[1] = maskBit | len;
  } else if (enc === 16) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeUInt32BE(Math.floor(len / 2 ** 32), 2);
    out.writeUInt32BE(len >>> 0, 6);
  }
  if (masked) {
    const key = randomBytes(4);
    key.copy(out, 2 + lenBytes);
    applyMask(payload, key, out.subarray(headerLen));
  } else {
    payload.copy(out, headerLen);
  }
  return out;
}

/** A frame as read from the peer, payload already unmasked. */
export interface DecodedFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
  /** false when the peer used a longer length encoding than needed (RFC 6455 §5.2 forbids it). */
  minimalLength: boolean;
  /** The first bytes of the frame as received (header + up to 16 payload bytes, still masked), for reports. */
  head: Buffer;
}

/**
 * Incremental frame decoder: push bytes, get frames. Buffers chunks in a list and concatenates once per
 * frame, so that a 16 MiB frame arriving in 64 KiB reads costs one copy.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Set when the stream can no longer be parsed; no frame is returned after it. */
  error: string | null = null;

  constructor(private readonly maxFrameBytes: number) {}

  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Buffer): DecodedFrame[] {
    if (this.error !== null) return [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    const frames: DecodedFrame[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === null) break;
      frames.push(frame);
    }
    return frames;
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    return Buffer.concat(this.chunks, Math.min(this.buffered, Math.max(n, 14)));
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    let out: Buffer;
    if (first.length >= n) {
      out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let off = 0;
      while (off < n) {
        const c = this.chunks[0]!;
        const want = n - off;
        if (c.length <= want) {
          c.copy(out, off);
          off += c.length;
          this.chunks.shift();
        } else {
          c.copy(out, off, 0, want);
          this.chunks[0] = c.subarray(want);
          off += want;
        }
      }
    }
    this.buffered -= n;
    return out;
  }

  private next(): DecodedFrame | null {
    if (this.buffered < 2) return null;
    let h = this.peek(2);
    const b0 = h[0]!;
    const b1 = h[1]!;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const lenBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    const headerLen = 2 + lenBytes + (masked ? 4 : 0);
    if (this.buffered < headerLen) return null;
    h = this.peek(headerLen);
    let len: number;
    let minimalLength = true;
    if (len7 === 126) {
      len = h.readUInt16BE(2);
      minimalLength = len >= 126;
    } else if (len7 === 127) {
      const hi = h.readUInt32BE(2);
      if (hi & 0x80000000) {
        this.error = 'payload length with the most significant bit set (RFC 6455 §5.2)';
        return null;
      }
      len = hi * 2 ** 32 + h.readUInt32BE(6);
      minimalLength = len > 0xffff;
    } else {
      len = len7;
    }
    if (len > this.maxFrameBytes) {
      this.error = `frame of ${len} bytes exceeds the driver's limit of ${this.maxFrameBytes}`;
      return null;
    }
    if (this.buffered < headerLen + len) return null;
    const head = Buffer.from(this.peek(Math.min(headerLen + 16, headerLen + len)).subarray(0, Math.min(headerLen + 16, headerLen + len)));
    const header = this.take(headerLen);
    const key = masked ? Buffer.from(header.subarray(headerLen - 4, headerLen)) : null;
    let payload = len === 0 ? Buffer.alloc(0) : this.take(len);
    if (key !== null) payload = applyMask(payload, key, Buffer.allocUnsafe(len));
    return {
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: b0 & 0x0f,
      masked,
      payload,
      minimalLength,
      head,
    };
  }
}

/** Payload of a close frame (RFC 6455 §5.5.1): 2-byte code then UTF-8 reason; `code` null for an empty payload. */
export function closePayload(code: number | null, reason: Buffer | string = ''): Buffer {
  if (code === null) return Buffer.alloc(0);
  const r = typeof reason === 'string' ? Buffer.from(reason, 'utf8') : reason;
  const out = Buffer.allocUnsafe(2 + r.length);
  out.writeUInt16BE(code, 0);
  r.copy(out, 2);
  return out;
}

export function hex(buf: Buffer, max = 48): string {
  const s = buf.subarray(0, max).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  return buf.length > max ? `${s} ... (${buf.length} bytes)` : s;
}
