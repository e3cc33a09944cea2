// Small constructors for the case tables, so that each table reads like the Autobahn case list.
import { OP, closePayload } from '../../helpers/wire-frames.js';
import type { FrameSpec } from '../frame-spec.js';
import type { ExpectedItem, SendStep, Step } from '../types.js';

type FrameOpts = Omit<FrameSpec, 'opcode' | 'payload'>;

export const textFrame = (payload: Buffer | string, o: FrameOpts = {}): FrameSpec => ({ opcode: OP.TEXT, payload, ...o });
export const binaryFrame = (payload: Buffer | string, o: FrameOpts = {}): FrameSpec => ({ opcode: OP.BINARY, payload, ...o });
export const contFrame = (payload: Buffer | string, o: FrameOpts = {}): FrameSpec => ({ opcode: OP.CONTINUATION, payload, ...o });
export const pingFrame = (payload: Buffer | string = '', o: FrameOpts = {}): FrameSpec => ({ opcode: OP.PING, payload, ...o });
export const pongFrame = (payload: Buffer | string = '', o: FrameOpts = {}): FrameSpec => ({ opcode: OP.PONG, payload, ...o });
export const closeFrame = (code: number | null = 1000, reason: Buffer | string = '', o: FrameOpts = {}): FrameSpec => ({
  opcode: OP.CLOSE,
  payload: closePayload(code, reason),
  ...o,
});
export const rawCloseFrame = (payload: Buffer, o: FrameOpts = {}): FrameSpec => ({ opcode: OP.CLOSE, payload, ...o });

/** One step sending one frame (or several coalesced into one write). */
export function send(frames: FrameSpec | FrameSpec[], o: Omit<SendStep, 'send'> = {}): SendStep {
  return { send: frames, ...o };
}

/** One step per frame. */
export function sendEach(frames: FrameSpec[], o: Omit<SendStep, 'send'> = {}): Step[] {
  return frames.map((f) => send(f, o));
}

export const pause = (ms: number): Step => ({ pause: ms });

/**
 * Splits a message into fragments: the first with `opcode`, the others continuations, FIN on the last.
 * `sizes` are the fragment lengths; the last fragment takes what remains.
 */
export function fragment(opcode: number, payload: Buffer, sizes: number[], o: FrameOpts = {}): FrameSpec[] {
  const frames: FrameSpec[] = [];
  let off = 0;
  for (let i = 0; i < sizes.length; i++) {
    const end = i === sizes.length - 1 ? payload.length : Math.min(payload.length, off + sizes[i]!);
    frames.push({ opcode: i === 0 ? opcode : OP.CONTINUATION, payload: payload.subarray(off, end), fin: false, ...o });
    off = end;
  }
  frames[frames.length - 1]!.fin = true;
  return frames;
}

/** Splits into fragments of `size` bytes (at least one fragment). */
export function fragmentBy(opcode: number, payload: Buffer, size: number, o: FrameOpts = {}): FrameSpec[] {
  const n = Math.max(1, Math.ceil(payload.length / size));
  return fragment(opcode, payload, new Array<number>(n).fill(size), o);
}

export const text = (data: Buffer | string, optional = false): ExpectedItem => ({
  type: 'text',
  data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
  ...(optional ? { optional } : {}),
});
export const binary = (data: Buffer | string, optional = false): ExpectedItem => ({
  type: 'binary',
  data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
  ...(optional ? { optional } : {}),
});
export const pong = (data: Buffer | string = ''): ExpectedItem => ({
  type: 'pong',
  data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data,
});

/** Deterministic payload of `n` bytes: ASCII for text (valid UTF-8 at any split), all byte values for binary. */
const payloadCache = new Map<string, Buffer>();
export function payload(kind: 'text' | 'binary', n: number): Buffer {
  const key = `${kind}:${n}`;
  let b = payloadCache.get(key);
  if (b === undefined) {
    b = Buffer.allocUnsafe(n);
    if (kind === 'text') {
      const pattern = Buffer.from('*wsforge-conformance-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOPQRSTUVWXYZ!');
      for (let i = 0; i < n; i += pattern.length) pattern.copy(b, i, 0, Math.min(pattern.length, n - i));
    } else {
      for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 8)) & 0xff;
    }
    payloadCache.set(key, b);
  }
  return b;
}
