/**
 * An RSV1 extension that answers when the test says so: the MessageExtension interface as a
 * third-party extension implements it, with encodes and decodes held until `finishEncode()` /
 * `finishDecode()`. The sans-I/O tests use it to put the session and the parser in every state an
 * asynchronous codec creates (sends waiting behind a compression, parsing paused with a backlog,
 * a close in the middle), in a chosen order and without timers.
 *
 * Its "compression" reverses the bytes, so the wire shows that what was framed is the encoder's
 * output; decoding reverses them back.
 */
import {
  type ExtensionParams,
  type MessageExtension,
  type SharedEncoding,
  WebSocketError,
} from '../../src/protocol/index.js';

type EncodeCallback = (error: WebSocketError | null, output: Buffer | null) => void;
type DecodeCallback = (error: WebSocketError | null, output: Buffer[] | null) => void;

export interface HeldEncode {
  readonly data: Buffer;
  /** undefined for a whole message, else the fragment's position. */
  readonly fragment: { readonly first: boolean; readonly fin: boolean } | undefined;
  readonly callback: EncodeCallback;
}

export interface HeldDecode {
  readonly payload: Buffer;
  readonly fin: boolean;
  readonly limit: number;
  readonly callback: DecodeCallback;
}

/** The extension's transformation: the bytes in reverse order. */
export function reversed(data: Buffer | string): Buffer {
  return Buffer.from(typeof data === 'string' ? Buffer.from(data) : data).reverse();
}

/** Encodes of whole messages for one setting, held until the test answers them. */
export class SteppedSharedEncoding implements SharedEncoding {
  readonly held: Array<{ readonly data: Buffer; readonly callback: EncodeCallback }> = [];
  constructor(readonly key: string) {}
  encode(data: Buffer, callback: EncodeCallback): void {
    this.held.push({ data, callback });
  }
  /** Answer the oldest held encode with its reversed bytes, or with `error`, or with no output at all. */
  finish(outcome: WebSocketError | 'no output' | null = null): void {
    const job = this.held.shift();
    if (job === undefined) throw new Error('no encode is held');
    if (outcome === null) job.callback(null, reversed(job.data));
    else if (outcome === 'no output') job.callback(null, null);
    else job.callback(outcome, null);
  }
}

export class SteppedExtension implements MessageExtension {
  readonly name = 'x-stepped';
  readonly agreed: ExtensionParams = { name: 'x-stepped', params: [] };
  readonly encodes: HeldEncode[] = [];
  readonly decodes: HeldDecode[] = [];
  disposed = 0;
  /** decode() calls so far, answered or not. */
  decodeCalls = 0;
  /** Messages from this many bytes on are encoded. */
  threshold = 0;
  /** Answer decodes at once, inside decode() (as a synchronous codec would), instead of holding them. */
  decodeAtOnce = false;

  constructor(readonly sharedEncoding: SharedEncoding | null = null) {}

  shouldEncode(byteLength: number): boolean {
    return byteLength >= this.threshold;
  }

  encode(data: Buffer, callback: EncodeCallback): void {
    this.encodes.push({ data, fragment: undefined, callback });
  }

  encodeFragment(data: Buffer, first: boolean, fin: boolean, callback: EncodeCallback): void {
    this.encodes.push({ data, fragment: { first, fin }, callback });
  }

  decode(payload: Buffer, fin: boolean, limit: number, callback: DecodeCallback): void {
    this.decodeCalls++;
    this.decodes.push({ payload: Buffer.from(payload), fin, limit, callback });
    if (this.decodeAtOnce) this.finishDecode();
  }

  dispose(): void {
    this.disposed++;
  }

  /** Answer the oldest held encode: its reversed bytes; or `error`; or no output at all (`'no output'`). */
  finishEncode(outcome: WebSocketError | 'no output' | null = null): void {
    const job = this.encodes.shift();
    if (job === undefined) throw new Error('no encode is held');
    if (outcome === null) job.callback(null, reversed(job.data));
    else if (outcome === 'no output') job.callback(null, null);
    else job.callback(outcome, null);
  }

  /** Answer the oldest held decode: its payload reversed back (or `output` as given), or `error`. */
  finishDecode(outcome: WebSocketError | Buffer[] | null = null): void {
    const job = this.decodes.shift();
    if (job === undefined) throw new Error('no decode is held');
    if (outcome instanceof WebSocketError) job.callback(outcome, null);
    else job.callback(null, outcome ?? [reversed(job.payload)]);
  }
}

/** The same extension without encodeFragment (an extension may leave it out: fragments then go uncompressed). */
export function withoutFragmentEncoding(extension: SteppedExtension): MessageExtension {
  return {
    name: extension.name,
    agreed: extension.agreed,
    shouldEncode: (byteLength) => extension.shouldEncode(byteLength),
    encode: (data, callback) => extension.encode(data, callback),
    decode: (payload, fin, limit, callback) => extension.decode(payload, fin, limit, callback),
    dispose: () => extension.dispose(),
  };
}
