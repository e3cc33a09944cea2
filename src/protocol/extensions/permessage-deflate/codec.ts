/**
 * permessage-deflate on one connection (RFC 7692 §6-§7.2): compressing what it sends and
 * inflating what it receives, within the limits, with the zlib contexts the agreement allows.
 */
import { constants, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { ErrorCode, WebSocketError } from '../../errors.js';
import { ByteAssembly } from '../../receive/byte-assembly.js';
import type { ExtensionParams } from '../extension-header.js';
import type { MessageExtension, SharedEncoding } from '../extension.js';
import { DEFAULT_DEFLATE_THRESHOLD, PERMESSAGE_DEFLATE, type PerMessageDeflateOptions } from './params.js';
import { type DeflateSettings, jobDone, newDeflate, newInflate, releaseDeflate, releaseInflate, runLimited, takeDeflate, takeInflate } from './zlib-pool.js';

/** The 4 bytes a sync flush ends with, removed when sending and put back when receiving (RFC 7692 §7.2.1-7.2.2). */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** An empty message, compressed (RFC 7692 §7.2.3.6): the header byte of an empty stored block. */
const EMPTY_BLOCK = Buffer.from([0x00]);

interface Agreement {
  /** Whether the context of what we send survives between messages. */
  sendTakeover: boolean;
  /** Whether the peer keeps its context between messages (our inflate context must survive). */
  receiveTakeover: boolean;
  sendWindowBits: number;
  receiveWindowBits: number;
}

/**
 * What a negotiation settled, shared by every connection that settled the same way (a server
 * sees a handful of distinct outcomes): a connection carries a reference, not its own copies.
 */
interface Terms {
  agreed: ExtensionParams;
  agreement: Agreement;
  sendSettings: DeflateSettings;
  threshold: number;
  /** Without context takeover on what we send: one compressed frame serves every connection with these settings. */
  sharedEncoding: SharedEncoding | null;
}

export function termsCache(): (agreed: ExtensionParams, agreement: Agreement, options: PerMessageDeflateOptions) => Terms {
  const cache = new Map<string, Terms>();
  return (agreed, agreement, options) => {
    const key = `${formatParams(agreed)}|${agreement.sendTakeover}|${agreement.receiveTakeover}|${agreement.sendWindowBits}|${agreement.receiveWindowBits}`;
    let terms = cache.get(key);
    if (terms === undefined) {
      const sendSettings: DeflateSettings = {
        windowBits: agreement.sendWindowBits,
        memLevel: options.memLevel ?? 8,
        level: options.level ?? constants.Z_DEFAULT_COMPRESSION,
      };
      terms = {
        agreed,
        agreement,
        sendSettings,
        threshold: options.threshold ?? DEFAULT_DEFLATE_THRESHOLD,
        sharedEncoding: agreement.sendTakeover ? null : sharedEncodingFor(sendSettings),
      };
      // A bounded cache: parameters come from peers, so distinct keys are few but not trusted.
      if (cache.size < 256) cache.set(key, terms);
    }
    return terms;
  };
}

function formatParams(element: ExtensionParams): string {
  return element.params.map(([name, value]) => (value === true ? name : `${name}=${value}`)).join(';');
}

/** A negotiated permessage-deflate on one connection. */
export class PerMessageDeflate implements MessageExtension {
  readonly name = PERMESSAGE_DEFLATE;
  private deflate: DeflateRaw | null = null;
  private inflate: InflateRaw | null = null;
  /** Without context takeover: the pooled context of a message being sent in fragments. */
  private messageDeflate: DeflateRaw | null = null;
  /** With context takeover, after a BFINAL block: the window to start the next inflate context from. */
  private inflateDictionary: Buffer | undefined = undefined;
  /** Compressed frames of a message still missing its last frame. */
  private pendingFrames: ByteAssembly | null = null;
  private disposed = false;

  constructor(private readonly terms: Terms) {}

  get agreed(): ExtensionParams {
    return this.terms.agreed;
  }

  private get agreement(): Agreement {
    return this.terms.agreement;
  }

  private get sendSettings(): DeflateSettings {
    return this.terms.sendSettings;
  }

  private get threshold(): number {
    return this.terms.threshold;
  }

  get sharedEncoding(): SharedEncoding | null {
    return this.terms.sharedEncoding;
  }

  shouldEncodeText(text: string): boolean {
    const threshold = this.threshold;
    // UTF-16 units to UTF-8 bytes: between 1 and 3 bytes each; count only when in doubt.
    if (text.length >= threshold) return this.shouldEncode(threshold);
    if (text.length * 3 < threshold) return false;
    return this.shouldEncode(Buffer.byteLength(text, 'utf8'));
  }

  shouldEncode(byteLength: number): boolean {
    // zlib cannot produce a raw stream with a 256-byte window (it uses 512): when the peer
    // asked for window bits 8, we simply never compress, which RFC 7692 allows per message.
    return byteLength >= this.threshold && this.agreement.sendWindowBits > 8;
  }

  encode(data: Buffer, callback: (error: WebSocketError | null, output: Buffer | null) => void): void {
    this.encodeFragment(data, true, true, callback);
  }

  /**
   * Compress one fragment of a message sent in pieces. All fragments of a message go through
   * one context (the connection's with context takeover, else one taken from the pool for the
   * message); each ends with a sync flush, and only the last loses the 0x00 0x00 0xff 0xff
   * tail (RFC 7692 §7.2.1: the tail of the message's compressed data, not of each fragment).
   */
  encodeFragment(
    data: Buffer,
    first: boolean,
    fin: boolean,
    callback: (error: WebSocketError | null, output: Buffer | null) => void,
  ): void {
    runLimited(() => {
      if (this.disposed) return jobDone();
      const takeover = this.agreement.sendTakeover;
      let deflate: DeflateRaw;
      if (takeover) {
        deflate = this.deflate ??= newDeflate(this.sendSettings);
      } else if (first || this.messageDeflate === null) {
        deflate = this.messageDeflate = takeDeflate(this.sendSettings);
      } else {
        deflate = this.messageDeflate;
      }
      compressChunk(deflate, data, fin, (error, output) => {
        if (error !== null || this.disposed) {
          deflate.close();
          if (takeover) this.deflate = null;
          else this.messageDeflate = null;
        } else if (!takeover && fin) {
          this.messageDeflate = null;
          releaseDeflate(this.sendSettings, deflate);
        }
        jobDone();
        if (error !== null) callback(new WebSocketError(ErrorCode.INTERNAL, `deflate failed: ${error.message}`), null);
        else callback(null, output);
      });
    });
  }

  decode(
    payload: Buffer,
    fin: boolean,
    limit: number,
    callback: (error: WebSocketError | null, output: Buffer[] | null) => void,
  ): void {
    if (!fin) {
      // Hold the compressed frames until the message is complete: a pooled context is then
      // busy only while it inflates, never while a slow peer sends the rest of a message.
      // Tiny frames are copied together, so their number does not multiply the memory held.
      (this.pendingFrames ??= new ByteAssembly()).append(payload, 0, payload.length, 0, Number.MAX_SAFE_INTEGER);
      callback(null, null);
      return;
    }
    let input = payload;
    if (this.pendingFrames !== null) {
      this.pendingFrames.append(payload, 0, payload.length, 0, Number.MAX_SAFE_INTEGER);
      input = this.pendingFrames.take();
      this.pendingFrames = null;
    }
    runLimited(() => {
      if (this.disposed) return jobDone();
      const takeover = this.agreement.receiveTakeover;
      let inflate: InflateRaw;
      if (takeover) {
        inflate = this.inflate ??= newInflate(Math.max(this.agreement.receiveWindowBits, 9), this.inflateDictionary);
        this.inflateDictionary = undefined;
      } else {
        inflate = takeInflate();
      }
      const chunks: Buffer[] = [];
      let length = 0;
      let finished = false;
      const finish = (error: WebSocketError | null) => {
        if (finished) return;
        finished = true;
        inflate.off('data', onData);
        inflate.off('error', onError);
        if (error !== null || this.disposed) {
          inflate.close();
          if (takeover) this.inflate = null;
        } else if (inflate.readableEnded) {
          // The message ended its DEFLATE stream with a BFINAL block (RFC 7692 §7.2.3.4): zlib
          // will not take more input on this context. The next message gets a new one; with
          // context takeover it starts from what this message produced (its window's worth).
          inflate.close();
          if (takeover) {
            this.inflate = null;
            this.inflateDictionary = lastBytes(chunks, 1 << Math.max(this.agreement.receiveWindowBits, 9));
          }
        } else if (!takeover) {
          releaseInflate(inflate);
        }
        jobDone();
        if (error !== null) callback(error, null);
        else callback(null, chunks);
      };
      const onData = (chunk: Buffer) => {
        length += chunk.length;
        if (length > limit) {
          // Stop inflating at once: a small input must not expand without bound (close 1009).
          finish(new WebSocketError(ErrorCode.MESSAGE_TOO_BIG, `inflated message over ${limit} bytes`));
          return;
        }
        chunks.push(chunk);
      };
      const onError = (error: Error) => {
        finish(new WebSocketError(ErrorCode.INVALID_COMPRESSED_DATA, `invalid compressed data: ${error.message}`));
      };
      inflate.on('data', onData);
      inflate.on('error', onError);
      inflate.write(input);
      // §7.2.2: append 0x00 0x00 0xff 0xff before inflating.
      inflate.write(TRAILER);
      inflate.flush(() => finish(null));
    });
  }

  dispose(): void {
    this.disposed = true;
    this.pendingFrames = null;
    // Contexts busy in a job are closed when the job ends.
    if (this.deflate !== null && this.deflate.listenerCount('data') === 0) {
      this.deflate.close();
      this.deflate = null;
    }
    if (this.inflate !== null && this.inflate.listenerCount('data') === 0) {
      this.inflate.close();
      this.inflate = null;
    }
    if (this.messageDeflate !== null && this.messageDeflate.listenerCount('data') === 0) {
      this.messageDeflate.close();
      this.messageDeflate = null;
    }
  }

}

/** The last `size` bytes of a list of buffers (the window a context-takeover inflate restarts from). */
function lastBytes(chunks: Buffer[], size: number): Buffer {
  const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  return Buffer.from(all.subarray(Math.max(0, all.length - size)));
}

/**
 * Compress `data` with `deflate` up to a sync flush (RFC 7692 §7.2.1). The message's last piece
 * (`fin`) loses the 0x00 0x00 0xff 0xff the flush ends with; an empty message still carries the
 * empty stored block's first byte (§7.2.3.6), since zlib emits nothing for a flush without input.
 */
function compressChunk(deflate: DeflateRaw, data: Buffer, fin: boolean, done: (error: Error | null, output: Buffer | null) => void): void {
  const chunks: Buffer[] = [];
  let length = 0;
  let finished = false;
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    length += chunk.length;
  };
  const finish = (error: Error | null) => {
    if (finished) return;
    finished = true;
    deflate.off('data', onData);
    deflate.off('error', finish);
    if (error !== null) return done(error, null);
    let output = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
    if (fin && output.length >= 4 && output.subarray(output.length - 4).equals(TRAILER)) {
      output = output.subarray(0, output.length - 4);
    }
    if (fin && output.length === 0) output = EMPTY_BLOCK;
    done(null, output);
  };
  deflate.on('data', onData);
  deflate.on('error', finish);
  if (data.length > 0) deflate.write(data);
  deflate.flush(constants.Z_SYNC_FLUSH, () => finish(null));
}

const sharedEncodings = new Map<string, SharedEncoding>();

/** The connection-independent encoder for one setting: whole messages with a pooled context. */
function sharedEncodingFor(settings: DeflateSettings): SharedEncoding {
  const key = `permessage-deflate:${settings.windowBits}:${settings.memLevel}:${settings.level}`;
  let encoding = sharedEncodings.get(key);
  if (encoding === undefined) {
    encoding = {
      key,
      encode(data, callback) {
        runLimited(() => {
          const deflate = takeDeflate(settings);
          compressChunk(deflate, data, true, (error, output) => {
            if (error === null) releaseDeflate(settings, deflate);
            else deflate.close(); /* c8 ignore next: zlib reports no error deflating into a live context; a context that did is never pooled */
            jobDone();
            if (error !== null) callback(new WebSocketError(ErrorCode.INTERNAL, `deflate failed: ${error.message}`), null);
            else callback(null, output);
          });
        });
      },
    };
    sharedEncodings.set(key, encoding);
  }
  return encoding;
}
