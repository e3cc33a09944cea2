/**
 * Frames written and read byte by byte, independently of src/protocol/frame.ts, so a bug in
 * the library's codec cannot hide in the tests (RFC 6455 §5.2).
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

export interface WireFrameSpec {
  opcode: number;
  payload?: Uint8Array | string;
  /** Default true. */
  fin?: boolean;
  rsv1?: boolean;
  rsv2?: boolean;
  rsv3?: boolean;
  /** A 4-byte masking key, or null for an unmasked frame. */
  mask: Uint8Array | null;
  /** Force the length encoding (7, 16 or 64 bits); default: the minimal one. */
  lengthBits?: 7 | 16 | 64;
  /** Announce this length instead of the payload's (to send a header alone, or lie). */
  declaredLength?: number | bigint;
}

function toBytes(payload: Uint8Array | string | undefined): Buffer {
  if (payload === undefined) return Buffer.alloc(0);
  return typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
}

/** Encode one frame by hand. */
export function encodeWireFrame(spec: WireFrameSpec): Buffer {
  const payload = toBytes(spec.payload);
  const declared = BigInt(spec.declaredLength ?? payload.length);
  const bits = spec.lengthBits ?? (declared < 126n ? 7 : declared < 65536n ? 16 : 64);
  const bytes: number[] = [];
  bytes.push(
    ((spec.fin ?? true) ? 0x80 : 0) |
      (spec.rsv1 ? 0x40 : 0) |
      (spec.rsv2 ? 0x20 : 0) |
      (spec.rsv3 ? 0x10 : 0) |
      (spec.opcode & 0x0f),
  );
  const maskBit = spec.mask === null ? 0 : 0x80;
  if (bits === 7) {
    bytes.push(maskBit | Number(declared));
  } else if (bits === 16) {
    bytes.push(maskBit | 126, Number(declared >> 8n) & 0xff, Number(declared) & 0xff);
  } else {
    bytes.push(maskBit | 127);
    for (let shift = 56n; shift >= 0n; shift -= 8n) bytes.push(Number((declared >> shift) & 0xffn));
  }
  if (spec.mask !== null) bytes.push(...spec.mask);
  const body = Buffer.from(payload);
  if (spec.mask !== null) for (let i = 0; i < body.length; i++) body[i] = body[i]! ^ spec.mask[i % 4]!;
  return Buffer.concat([Buffer.from(bytes), body]);
}

/** A frame as a client sends it: masked (with RFC 6455 §5.7's example key unless given). */
export function clientFrame(spec: Omit<WireFrameSpec, 'mask'> & { mask?: Uint8Array | null }): Buffer {
  return encodeWireFrame({ ...spec, mask: spec.mask === undefined ? EXAMPLE_MASK : spec.mask });
}

/** A frame as a server sends it: unmasked unless a mask is given. */
export function serverFrame(spec: Omit<WireFrameSpec, 'mask'> & { mask?: Uint8Array | null }): Buffer {
  return encodeWireFrame({ ...spec, mask: spec.mask === undefined ? null : spec.mask });
}

/** A close frame payload: 2-byte code and a reason (raw bytes allowed). */
export function closePayload(code: number, reason: string | Uint8Array = ''): Buffer {
  const head = Buffer.alloc(2);
  head.writeUInt16BE(code, 0);
  return Buffer.concat([head, typeof reason === 'string' ? Buffer.from(reason, 'utf8') : Buffer.from(reason)]);
}

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
  /** The payload, unmasked. */
  payload: Buffer;
  /** The frame's bytes exactly as they were on the wire. */
  raw: Buffer;
}

/** Parse frames from a byte stream, by hand. Chunks are joined only once a whole frame is there. */
export class WireFrameReader {
  private chunks: Buffer[] = [];
  private total = 0;

  push(chunk: Uint8Array): WireFrame[] {
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk));
      this.total += chunk.length;
    }
    const frames: WireFrame[] = [];
    for (;;) {
      const frame = this.next();
      if (frame === null) return frames;
      frames.push(frame);
    }
  }

  /** Bytes not yet parsed into a frame. */
  get pending(): number {
    return this.total;
  }

  /** The first `n` bytes (n <= total), contiguous. */
  private peek(n: number): Buffer {
    if (this.chunks[0]!.length >= n) return this.chunks[0]!;
    const joined = Buffer.concat(this.chunks, this.total);
    this.chunks = [joined];
    return joined;
  }

  private next(): WireFrame | null {
    if (this.total < 2) return null;
    let b = this.peek(2);
    const masked = (b[1]! & 0x80) !== 0;
    const len7 = b[1]! & 0x7f;
    let offset = 2;
    let length: number;
    let lengthBits: 7 | 16 | 64 = 7;
    if (len7 === 126) {
      if (this.total < 4) return null;
      b = this.peek(4);
      length = b.readUInt16BE(2);
      offset = 4;
      lengthBits = 16;
    } else if (len7 === 127) {
      if (this.total < 10) return null;
      b = this.peek(10);
      length = Number(b.readBigUInt64BE(2));
      offset = 10;
      lengthBits = 64;
    } else {
      length = len7;
    }
    const maskAt = offset;
    if (masked) offset += 4;
    if (this.total < offset + length) return null;
    b = this.peek(offset + length);
    const mask = masked ? Buffer.from(b.subarray(maskAt, maskAt + 4)) : null;
    const payload = Buffer.from(b.subarray(offset, offset + length));
    if (mask !== null) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
    const raw = Buffer.from(b.subarray(0, offset + length));
    const rest = b.subarray(offset + length);
    this.chunks[0] = rest;
    if (rest.length === 0) this.chunks.shift();
    this.total -= offset + length;
    return {
      fin: (b[0]! & 0x80) !== 0,
      rsv1: (b[0]! & 0x40) !== 0,
      rsv2: (b[0]! & 0x20) !== 0,
      rsv3: (b[0]! & 0x10) !== 0,
      opcode: b[0]! & 0x0f,
      masked,
      mask,
      lengthBits,
      payload,
      raw,
    };
  }
}

/** Parse a whole byte string into frames; fails if bytes are left over. */
export function parseWireFrames(bytes: Uint8Array): WireFrame[] {
  const reader = new WireFrameReader();
  const frames = reader.push(bytes);
  if (reader.pending !== 0) throw new Error(`${reader.pending} bytes left after the last complete frame`);
  return frames;
}

/** Code and reason of a close frame's payload (1005 for an empty one). */
export function readClose(frame: WireFrame): { code: number; reason: string } {
  if (frame.opcode !== OP.CLOSE) throw new Error(`expected a close frame, got opcode ${frame.opcode}`);
  if (frame.payload.length === 0) return { code: 1005, reason: '' };
  return { code: frame.payload.readUInt16BE(0), reason: frame.payload.subarray(2).toString('utf8') };
}

/** A deterministic pseudo-random generator (mulberry32) for reproducible chunkings. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
