import { constants, createDeflateRaw, createInflateRaw, type DeflateRaw, type InflateRaw } from 'node:zlib';
import { ErrorCode, WebSocketError } from './errors.js';
import type { ClientExtensionFactory, ExtensionParams, MessageExtension, ServerExtensionFactory } from './extensions.js';

/**
 * permessage-deflate (RFC 7692), with memory that stays bounded.
 *
 * Memory is what makes compression dangerous on servers: a zlib deflate context costs
 * (1 << (windowBits + 2)) + (1 << (memLevel + 9)) bytes, 256 KiB at zlib's defaults, and an
 * inflate context (1 << windowBits) + ~7 KiB. Kept per connection, 10,000 connections hold
 * gigabytes (ws#1202). So by default wsforge negotiates no context takeover in both
 * directions (RFC 7692 §7.1.1: a server may add both parameters on its own): each message
 * is compressed on its own, contexts come from a small shared pool, and an idle connection
 * holds no zlib memory at all. Context takeover, which compresses small repetitive messages
 * better, is an opt-in with its per-connection cost documented in the README.
 *
 * Every zlib job goes through one process-wide limiter, so at most `concurrency` jobs use
 * the thread pool (and hold a pooled context) at once.
 */

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

export interface PerMessageDeflateOptions {
  /**
   * Server: compress each outgoing message on its own (no per-connection deflate context).
   * Client: ask the server to do so. Default: true on the server, false on the client.
   */
  serverNoContextTakeover?: boolean;
  /**
   * Server: require the client to compress each message on its own (no per-connection
   * inflate context on the server). Client: promise to do so. Default: true on the server,
   * false on the client.
   */
  clientNoContextTakeover?: boolean;
  /** Largest LZ77 window (8-15) for what the server sends. Default 15. */
  serverMaxWindowBits?: number;
  /** Largest LZ77 window (8-15) for what the client sends (only when the client offered the parameter). Default 15. */
  clientMaxWindowBits?: number;
  /** zlib compression level 0-9. Default 6 (zlib's default). */
  level?: number;
  /** zlib memLevel 1-9 for compression contexts. Default 8 (zlib's default). */
  memLevel?: number;
  /** Messages smaller than this many bytes are sent uncompressed. Default 1024. */
  threshold?: number;
  /** Most zlib jobs running at once, process-wide (first value set wins). Default 10. */
  concurrency?: number;
  /**
   * Server only: look at each valid offer (in the client's order) and return false to decline
   * it, e.g. to accept only clients that allow a smaller window.
   */
  acceptOffer?: (offer: DeflateOffer) => boolean;
}

/** A parsed and validated permessage-deflate offer (RFC 7692 §7.1). */
export interface DeflateOffer {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  /** undefined when absent. */
  serverMaxWindowBits: number | undefined;
  /** undefined when absent, true when present without a value. */
  clientMaxWindowBits: number | true | undefined;
}

export const DEFAULT_DEFLATE_THRESHOLD = 1024;
export const DEFAULT_ZLIB_CONCURRENCY = 10;

/** The 4 bytes a sync flush ends with, removed when sending and put back when receiving (RFC 7692 §7.2.1-7.2.2). */
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** An empty message, compressed (RFC 7692 §7.2.3.6): the header byte of an empty stored block. */
const EMPTY_BLOCK = Buffer.from([0x00]);
const WINDOW_BITS = /^(8|9|1[0-5])$/;

/**
 * Parse the parameters of one permessage-deflate element. Returns a string saying why for an
 * element that must be declined or refused (RFC 7692 §7.1: unknown parameter, invalid value,
 * repeated parameter).
 */
export function parseDeflateParams(element: ExtensionParams, side: 'offer' | 'response'): DeflateOffer | string {
  const seen = new Set<string>();
  const result: DeflateOffer = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  for (const [name, value] of element.params) {
    if (seen.has(name)) return `parameter ${name} appears twice`;
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== true) return `${name} takes no value`;
        if (name === 'server_no_context_takeover') result.serverNoContextTakeover = true;
        else result.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        if (value === true || !WINDOW_BITS.test(value)) return `invalid server_max_window_bits ${String(value)}`;
        result.serverMaxWindowBits = Number(value);
        break;
      case 'client_max_window_bits':
        if (value === true) {
          // §7.1.2.2: a value is optional in an offer, required in a response.
          if (side === 'response') return 'client_max_window_bits needs a value in a response';
          result.clientMaxWindowBits = true;
        } else {
          if (!WINDOW_BITS.test(value)) return `invalid client_max_window_bits ${value}`;
          result.clientMaxWindowBits = Number(value);
        }
        break;
      default:
        return `unknown parameter ${name}`;
    }
  }
  return result;
}

// ---- The zlib limiter and context pools -------------------------------------------------------

type Job = () => void;
let concurrency = 0;
let running = 0;
const waiting: Job[] = [];

function runLimited(job: Job): void {
  if (running < (concurrency || DEFAULT_ZLIB_CONCURRENCY)) {
    running++;
    job();
  } else {
    waiting.push(job);
  }
}

function jobDone(): void {
  const next = waiting.shift();
  if (next !== undefined) next();
  else running--;
}

const deflatePool = new Map<string, DeflateRaw[]>();
const inflatePool: InflateRaw[] = [];

interface DeflateSettings {
  windowBits: number;
  memLevel: number;
  level: number;
}

function poolKey(settings: DeflateSettings): string {
  return `${settings.windowBits}:${settings.memLevel}:${settings.level}`;
}

function newDeflate(settings: DeflateSettings): DeflateRaw {
  return createDeflateRaw({ windowBits: settings.windowBits, memLevel: settings.memLevel, level: settings.level });
}

function newInflate(windowBits: number, dictionary?: Buffer): InflateRaw {
  return createInflateRaw(dictionary === undefined ? { windowBits } : { windowBits, dictionary });
}

/** The last `size` bytes of a list of buffers. */
function lastBytes(chunks: Buffer[], size: number): Buffer {
  const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  return Buffer.from(all.subarray(Math.max(0, all.length - size)));
}

function poolLimit(): number {
  return concurrency || DEFAULT_ZLIB_CONCURRENCY;
}

/** Idle zlib contexts held by the shared pools (for tests and the memory figures). */
export function pooledContextCount(): { deflate: number; inflate: number } {
  let deflate = 0;
  for (const list of deflatePool.values()) deflate += list.length;
  return { deflate, inflate: inflatePool.length };
}

// ---- The extension ----------------------------------------------------------------------------

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
}

function termsCache(): (agreed: ExtensionParams, agreement: Agreement, options: PerMessageDeflateOptions) => Terms {
  const cache = new Map<string, Terms>();
  return (agreed, agreement, options) => {
    const key = `${formatParams(agreed)}|${agreement.sendTakeover}|${agreement.receiveTakeover}|${agreement.sendWindowBits}|${agreement.receiveWindowBits}`;
    let terms = cache.get(key);
    if (terms === undefined) {
      terms = {
        agreed,
        agreement,
        sendSettings: {
          windowBits: agreement.sendWindowBits,
          memLevel: options.memLevel ?? 8,
          level: options.level ?? constants.Z_DEFAULT_COMPRESSION,
        },
        threshold: options.threshold ?? DEFAULT_DEFLATE_THRESHOLD,
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
  private pendingFrames: Buffer[] | null = null;
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
        deflate = this.messageDeflate = deflatePool.get(poolKey(this.sendSettings))?.pop() ?? newDeflate(this.sendSettings);
      } else {
        deflate = this.messageDeflate;
      }
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
        if (error !== null || this.disposed) {
          deflate.close();
          if (takeover) this.deflate = null;
          else this.messageDeflate = null;
        } else if (!takeover && fin) {
          this.messageDeflate = null;
          this.release(deflate);
        }
        jobDone();
        if (error !== null) {
          callback(new WebSocketError(ErrorCode.INTERNAL, `deflate failed: ${error.message}`), null);
          return;
        }
        let output = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
        // §7.2.1: remove the 0x00 0x00 0xff 0xff the message's last sync flush ends with.
        if (fin && output.length >= 4 && output.subarray(output.length - 4).equals(TRAILER)) {
          output = output.subarray(0, output.length - 4);
        }
        // zlib emits nothing for a flush without new input; the message must still carry the
        // empty stored block's first byte (§7.2.3.6), or the peer's inflate sees a broken block.
        if (fin && output.length === 0) output = EMPTY_BLOCK;
        callback(null, output);
      };
      deflate.on('data', onData);
      deflate.on('error', finish);
      if (data.length > 0) deflate.write(data);
      deflate.flush(constants.Z_SYNC_FLUSH, () => finish(null));
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
      (this.pendingFrames ??= []).push(payload);
      callback(null, null);
      return;
    }
    let input = payload;
    if (this.pendingFrames !== null) {
      this.pendingFrames.push(payload);
      input = Buffer.concat(this.pendingFrames);
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
        inflate = inflatePool.pop() ?? newInflate(15);
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
          inflate.reset();
          if (inflatePool.length < poolLimit()) inflatePool.push(inflate);
          else inflate.close();
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

  private release(deflate: DeflateRaw): void {
    // Reset so the next message starts from an empty window (no context takeover).
    deflate.reset();
    const key = poolKey(this.sendSettings);
    let list = deflatePool.get(key);
    if (list === undefined) deflatePool.set(key, (list = []));
    if (list.length >= poolLimit()) {
      deflate.close();
      return;
    }
    // The bound is on all idle contexts, whatever their settings: when the pool is full, a
    // context of another setting makes room, so the settings in use now stay pooled.
    if (pooledContextCount().deflate >= poolLimit()) {
      for (const [otherKey, other] of deflatePool) {
        if (otherKey !== key && other.length > 0) {
          other.pop()!.close();
          break;
        }
      }
    }
    list.push(deflate);
  }
}

function configure(options: PerMessageDeflateOptions): void {
  if (options.concurrency !== undefined && concurrency === 0) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'perMessageDeflate.concurrency must be a positive integer');
    }
    concurrency = options.concurrency;
  }
  for (const name of ['serverMaxWindowBits', 'clientMaxWindowBits'] as const) {
    const bits = options[name];
    if (bits !== undefined && (!Number.isInteger(bits) || bits < 8 || bits > 15)) {
      throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `perMessageDeflate.${name} must be 8-15`);
    }
  }
}

/** The server side: accept the first acceptable offer (RFC 7692 §5, §7). */
export function serverPerMessageDeflate(options: PerMessageDeflateOptions = {}): ServerExtensionFactory {
  configure(options);
  const serverNoTakeover = options.serverNoContextTakeover ?? true;
  const clientNoTakeover = options.clientNoContextTakeover ?? true;
  const serverBits = options.serverMaxWindowBits ?? 15;
  const clientBits = options.clientMaxWindowBits ?? 15;
  const terms = termsCache();
  return {
    name: PERMESSAGE_DEFLATE,
    accept(offers) {
      for (const element of offers) {
        const offer = parseDeflateParams(element, 'offer');
        // §7.1: an invalid offer is declined; the next one may still be accepted.
        if (typeof offer === 'string') continue;
        if (options.acceptOffer !== undefined && !options.acceptOffer(offer)) continue;
        const params: Array<[string, string | true]> = [];
        const sendTakeover = !(offer.serverNoContextTakeover || serverNoTakeover);
        if (!sendTakeover) params.push(['server_no_context_takeover', true]);
        // §7.1.1.2: the server may forbid the client's context takeover even if not offered.
        const receiveTakeover = !(offer.clientNoContextTakeover || clientNoTakeover);
        if (!receiveTakeover) params.push(['client_no_context_takeover', true]);
        // §7.1.2.1: answer with a window no larger than the client allowed.
        let sendWindowBits = serverBits;
        if (offer.serverMaxWindowBits !== undefined) sendWindowBits = Math.min(offer.serverMaxWindowBits, serverBits);
        if (offer.serverMaxWindowBits !== undefined || sendWindowBits < 15) {
          params.push(['server_max_window_bits', String(sendWindowBits)]);
        }
        // §7.1.2.2: client_max_window_bits may only be answered when offered.
        let receiveWindowBits = 15;
        if (offer.clientMaxWindowBits !== undefined) {
          const offered = offer.clientMaxWindowBits === true ? 15 : offer.clientMaxWindowBits;
          receiveWindowBits = Math.min(offered, clientBits);
          if (receiveWindowBits < 15 || offer.clientMaxWindowBits !== true) {
            params.push(['client_max_window_bits', String(receiveWindowBits)]);
          }
        }
        return new PerMessageDeflate(
          terms({ name: PERMESSAGE_DEFLATE, params }, { sendTakeover, receiveTakeover, sendWindowBits, receiveWindowBits }, options),
        );
      }
      return null;
    },
  };
}

/** The client side: one offer; the response is checked against it (RFC 7692 §5, §7). */
export function clientPerMessageDeflate(options: PerMessageDeflateOptions = {}): ClientExtensionFactory {
  configure(options);
  const askServerNoTakeover = options.serverNoContextTakeover ?? false;
  const clientNoTakeover = options.clientNoContextTakeover ?? false;
  const fail = (why: string): never => {
    throw new WebSocketError(ErrorCode.HANDSHAKE_EXTENSION, `invalid permessage-deflate response: ${why}`);
  };
  const terms = termsCache();
  return {
    name: PERMESSAGE_DEFLATE,
    offer() {
      const params: Array<[string, string | true]> = [];
      if (askServerNoTakeover) params.push(['server_no_context_takeover', true]);
      if (clientNoTakeover) params.push(['client_no_context_takeover', true]);
      if (options.serverMaxWindowBits !== undefined) params.push(['server_max_window_bits', String(options.serverMaxWindowBits)]);
      // Offering client_max_window_bits tells the server we can use a smaller window if asked.
      params.push(['client_max_window_bits', options.clientMaxWindowBits === undefined ? true : String(options.clientMaxWindowBits)]);
      return [{ name: PERMESSAGE_DEFLATE, params }];
    },
    accept(response) {
      const agreed = parseDeflateParams(response, 'response');
      if (typeof agreed === 'string') fail(agreed);
      const accepted = agreed as DeflateOffer;
      // §7.1.1.1: what we asked for must be granted.
      if (askServerNoTakeover && !accepted.serverNoContextTakeover) fail('server_no_context_takeover was requested');
      if (options.serverMaxWindowBits !== undefined) {
        if (accepted.serverMaxWindowBits === undefined) fail('server_max_window_bits was requested');
        if (accepted.serverMaxWindowBits! > options.serverMaxWindowBits) fail('server_max_window_bits above the requested value');
      }
      const clientBits = accepted.clientMaxWindowBits as number | undefined;
      if (clientBits !== undefined && options.clientMaxWindowBits !== undefined && clientBits > options.clientMaxWindowBits) {
        fail('client_max_window_bits above the offered value');
      }
      return new PerMessageDeflate(
        terms(
          response,
          {
            sendTakeover: !(accepted.clientNoContextTakeover || clientNoTakeover),
            receiveTakeover: !accepted.serverNoContextTakeover,
            sendWindowBits: clientBits ?? options.clientMaxWindowBits ?? 15,
            receiveWindowBits: accepted.serverMaxWindowBits ?? 15,
          },
          options,
        ),
      );
    },
  };
}
