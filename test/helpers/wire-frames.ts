/**
 * The tests' own frame codec (RFC 6455 §5.2), written byte by byte and independent of the
 * library's, so that a bug in the library's codec cannot hide in the tests. Every test that
 * writes or reads frames by hand (unit tests, raw peers, the conformance driver) uses it. It
 * writes frames a correct endpoint never would (reserved bits and opcodes, oversized control
 * frames, wrong masking, non-minimal or lying lengths) and reads a peer's bytes strictly.
 */

export const OP = {
  CONTINUATION: 0x0,
  TEXT: 0x1,
  BINARY: 0x2,
  CLOSE: 0x8,
  PING: 0x9,
  PONG: 0xa,
} as const;

/** The masking key of RFC 6455 §5.7's examples. */
export const EXAMPLE_MASK = Uint8Array.from([0x37, 0xfa, 0x21, 0x3d]);

/** One frame as data: every header bit is settable, so that invalid and extension frames are data too. */
export interface WireFrameSpec {
  opcode: number;
  /** Payload bytes; a string is encoded as UTF-8. */
  payload?: Uint8Array | string;
  /** FIN bit; default true. */
  fin?: boolean;
  /** RSV1 (0x40): "compressed" under permessage-deflate (RFC 7692 §6). */
  rsv1?: boolean;
  /** RSV2 (0x20). */
  rsv2?: boolean;
  /** RSV3 (0x10). */
  rsv3?: boolean;
  /** A 4-byte masking key, or null for an unmasked frame. */
  mask: Uint8Array | null;
  /** Force the length encoding (7, 16 or 64 bits); default: the minimal one, which RFC 6455 §5.2 requires. */
  lengthBits?: 7 | 16 | 64;
  /** Announce this length instead of the payload's (to send a header alone, or lie). */
  declaredLength?: number | bigint;
}

/** The payload of a spec as bytes (a string as UTF-8). */
export function payloadBytes(payload: Uint8Array | string | undefined): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
}

/** The minimal length encoding for a payload length (RFC 6455 §5.2). */
export function minimalLengthBits(length: number | bigint): 7 | 16 | 64 {
  return length < 126 ? 7 : length < 65536 ? 16 : 64;
}

/** XOR `data` with the 4-byte key (RFC 6455 §5.3), octet i with key[i mod 4], writing into `out` (may be `data`). */
function maskInto(data: Uint8Array, key: Uint8Array, out: Uint8Array): void {
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
}

/** Encode one frame by hand. */
export function encodeWireFrame(spec: WireFrameSpec): Buffer {
  const payload = payloadBytes(spec.payload);
  const declared = BigInt(spec.declaredLength ?? payload.length);
  const bits = spec.lengthBits ?? minimalLengthBits(declared);
  const largest = bits === 7 ? 125n : bits === 16 ? 0xffffn : 0xffffffffffffffffn;
  if (declared < 0n || declared > largest) throw new RangeError(`a length of ${declared} cannot be written in the ${bits}-bit form`);
  if (spec.mask !== null && spec.mask.length !== 4) throw new RangeError(`a masking key has 4 bytes, not ${spec.mask.length}`);
  const lengthBytes = bits === 7 ? 0 : bits === 16 ? 2 : 8;
  const headerLength = 2 + lengthBytes + (spec.mask === null ? 0 : 4);
  const out = Buffer.allocUnsafe(headerLength + payload.length);
  out[0] =
    ((spec.fin ?? true) ? 0x80 : 0) |
    (spec.rsv1 ? 0x40 : 0) |
    (spec.rsv2 ? 0x20 : 0) |
    (spec.rsv3 ? 0x10 : 0) |
    (spec.opcode & 0x0f);
  const maskBit = spec.mask === null ? 0 : 0x80;
  if (bits === 7) {
    out[1] = maskBit | Number(declared);
  } else if (bits === 16) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(Number(declared), 2);
  } else {
    out[1] = maskBit | 127;
    out.writeBigUInt64BE(declared, 2);
  }
  if (spec.mask === null) {
    payload.copy(out, headerLength);
  } else {
    out.set(spec.mask, 2 + lengthBytes);
    maskInto(payload, spec.mask, out.subarray(headerLength));
  }
  return out;
}

/** A frame as a client sends it: masked (with RFC 6455 §5.7's example key unless given). */
export function clientFrame(spec: Omit<WireFrameSpec, 'mask'> & { mask?: Uint8Array | null }): Buffer {
  return encodeWireFrame({ ...spec, mask: spec.mask === undefined ? EXAMPLE_MASK : spec.mask });
}

/** A frame as a server sends it: unmasked unless a mask is given. */
export function serverFrame(spec: Omit<WireFrameSpec, 'mask'> & { mask?: Uint8Array | null }): Buffer {
  return encodeWireFrame({ ...spec, mask: spec.mask === undefined ? null : spec.mask });
}

/** A close frame payload (RFC 6455 §5.5.1): 2-byte code then the reason (raw bytes allowed); empty for a null code. */
export function closePayload(code: number | null, reason: string | Uint8Array = ''): Buffer {
  if (code === null) return Buffer.alloc(0);
  const text = payloadBytes(reason);
  const out = Buffer.allocUnsafe(2 + text.length);
  out.writeUInt16BE(code, 0);
  text.copy(out, 2);
  return out;
}

/** A frame as read from the wire. */
export interface WireFrame {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  mask: Buffer | null;
  /** 7, 16 or 64: how the length was encoded. */
  lengthBits: 7 | 16 | 64;
  /** false when a longer length encoding than needed was used (RFC 6455 §5.2 forbids it). */
  minimalLength: boolean;
  /** Bytes of the header (2 to 14). */
  headerLength: number;
  /** The payload, unmasked. */
  payload: Buffer;
  /** The frame's bytes exactly as they were on the wire (header and payload, still masked). */
  raw: Buffer;
}

/**
 * Incremental frame reader: push bytes, get frames. Chunks are kept in a list (not copied: do not
 * modify a pushed chunk) and joined once per frame, so that a 16 MiB frame arriving in 64 KiB reads
 * costs one copy; every frame it returns owns its bytes.
 */
export class WireFrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Set when the stream can no longer be parsed; no frame is returned after it. */
  error: string | null = null;

  /** `maxPayloadBytes`: a longer frame sets `error` instead of being buffered. */
  constructor(private readonly maxPayloadBytes = Number.MAX_SAFE_INTEGER) {}

  /** Bytes not yet parsed into a frame. */
  get pendingBytes(): number {
    return this.buffered;
  }

  push(chunk: Uint8Array): WireFrame[] {
    if (this.error !== null) return [];
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
      this.buffered += chunk.length;
    }
    const frames: WireFrame[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === null) return frames;
      frames.push(frame);
    }
  }

  /** At least the first `n` bytes (n <= buffered) contiguous: the first chunk, or a join of at most 14 bytes. */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    return Buffer.concat(this.chunks, Math.min(this.buffered, Math.max(n, 14)));
  }

  /** The first `n` bytes, removed, as a copy. */
  private take(n: number): Buffer {
    const out = Buffer.allocUnsafe(n);
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
    this.buffered -= n;
    return out;
  }

  private next(): WireFrame | null {
    if (this.buffered < 2) return null;
    let h = this.peek(2);
    const b0 = h[0]!;
    const b1 = h[1]!;
    const masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    const lengthBits: 7 | 16 | 64 = len7 === 126 ? 16 : len7 === 127 ? 64 : 7;
    const headerLength = 2 + (lengthBits === 16 ? 2 : lengthBits === 64 ? 8 : 0) + (masked ? 4 : 0);
    if (this.buffered < headerLength) return null;
    h = this.peek(headerLength);
    let length: number;
    if (lengthBits === 16) {
      length = h.readUInt16BE(2);
    } else if (lengthBits === 64) {
      const high = h.readUInt32BE(2);
      if ((high & 0x80000000) !== 0) {
        this.error = 'payload length with the most significant bit set (RFC 6455 §5.2)';
        return null;
      }
      length = high * 2 ** 32 + h.readUInt32BE(6);
    } else {
      length = len7;
    }
    if (length > this.maxPayloadBytes) {
      this.error = `frame of ${length} bytes exceeds the reader's limit of ${this.maxPayloadBytes}`;
      return null;
    }
    if (this.buffered < headerLength + length) return null;
    const raw = this.take(headerLength + length);
    const mask = masked ? Buffer.from(raw.subarray(headerLength - 4, headerLength)) : null;
    let payload = raw.subarray(headerLength);
    if (mask !== null) {
      const unmasked = Buffer.allocUnsafe(length);
      maskInto(payload, mask, unmasked);
      payload = unmasked;
    }
    return {
      fin: (b0 & 0x80) !== 0,
      rsv1: (b0 & 0x40) !== 0,
      rsv2: (b0 & 0x20) !== 0,
      rsv3: (b0 & 0x10) !== 0,
      opcode: b0 & 0x0f,
      masked,
      mask,
      lengthBits,
      minimalLength: lengthBits === minimalLengthBits(length),
      headerLength,
      payload,
      raw,
    };
  }
}

/** Parse a whole byte string into frames; fails if bytes are left over. */
export function parseWireFrames(bytes: Uint8Array): WireFrame[] {
  const reader = new WireFrameReader();
  const frames = reader.push(bytes);
  if (reader.error !== null) throw new Error(reader.error);
  if (reader.pendingBytes !== 0) throw new Error(`${reader.pendingBytes} bytes left after the last complete frame`);
  return frames;
}

/** Code and reason of a close frame's payload (1005 for an empty one). */
export function readClose(frame: WireFrame): { code: number; reason: string } {
  if (frame.opcode !== OP.CLOSE) throw new Error(`expected a close frame, got opcode ${frame.opcode}`);
  if (frame.payload.length === 0) return { code: 1005, reason: '' };
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
}
