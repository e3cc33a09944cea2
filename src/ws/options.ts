/**
 * ws's server options, and what each becomes on wsforge's server. Limits left unset take
 * wsforge's defaults (16 MiB messages, 5 s close timeout, permessage-deflate without context
 * takeover): where wsforge is stricter than ws it stays so (docs/MIGRATING.md lists each).
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { PerMessageDeflateOptions as CorePerMessageDeflateOptions, ServerOptions as CoreServerOptions } from '../index.js';
import type { WebSocket } from './websocket.js';

/** A class of server connections: constructed as ws's server does, `new WebSocket(null, undefined, options)`. */
export type WebSocketClass = new (address: null, protocols?: undefined, options?: object) => WebSocket;

/** ws's permessage-deflate options (RFC 7692). */
export interface PerMessageDeflateOptions {
  serverNoContextTakeover?: boolean;
  clientNoContextTakeover?: boolean;
  serverMaxWindowBits?: number;
  clientMaxWindowBits?: number | boolean;
  /** Of zlib's options, `level` and `memLevel` are used. */
  zlibDeflateOptions?: { level?: number; memLevel?: number } & Record<string, unknown>;
  /** Not used: wsforge inflates with a bounded window and stops at `maxPayload`. */
  zlibInflateOptions?: Record<string, unknown>;
  threshold?: number;
  concurrencyLimit?: number;
}

/** What `verifyClient` is given (ws's `info`). */
export interface VerifyClientInfo {
  origin: string | undefined;
  secure: boolean;
  req: IncomingMessage;
}

export type VerifyClientCallbackSync = (info: VerifyClientInfo) => boolean;
export type VerifyClientCallbackAsync = (
  info: VerifyClientInfo,
  callback: (result: boolean, code?: number, message?: string, headers?: Record<string, string | number | readonly string[]>) => void,
) => void;

export interface ServerOptions {
  /** Listen on this port with an http.Server of its own (plain requests get 426). */
  port?: number;
  host?: string;
  backlog?: number;
  /** Serve the upgrades of this http(s) server. */
  server?: HttpServer | HttpsServer;
  /** Serve only what `handleUpgrade()` is given. */
  noServer?: boolean;
  /** Accept only this path (query ignored); see `shouldHandle()`. */
  path?: string;
  verifyClient?: VerifyClientCallbackSync | VerifyClientCallbackAsync;
  /** Choose the subprotocol: return one of `protocols` or false for none. Default: the client's first. */
  handleProtocols?: (protocols: Set<string>, request: IncomingMessage) => string | false;
  /** Keep `clients` (default true). */
  clientTracking?: boolean;
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Largest message in bytes (after decompression); default wsforge's 16 MiB. */
  maxPayload?: number;
  /** Most frames in one message; default wsforge's 262,144. */
  maxFragments?: number;
  /** Answer pings (default true). */
  autoPong?: boolean;
  /** How long to wait for the peer's close frame, ms; default wsforge's 5000. */
  closeTimeout?: number;
  /** The class of server connections: `WebSocket` from wsforge/ws or a subclass (the server constructs it with `null`). */
  WebSocket?: WebSocketClass;
  /** Not supported: wsforge always validates UTF-8, failing fast. */
  skipUTF8Validation?: boolean;
  /** Ignored: events are always emitted synchronously (ws's default). */
  allowSynchronousEvents?: boolean;
  /** Ignored: message assembly is bounded by `maxFragments` and `maxPayload`. */
  maxBufferedChunks?: number;
  /** Ignored: pongs count in the connection's output, bounded per connection (slow consumers are dropped). */
  maxPendingAutoPongs?: number;
}

/** wsforge's permessage-deflate options for ws's; unset parameters keep wsforge's defaults. */
export function deflateOptions(option: boolean | PerMessageDeflateOptions | undefined): boolean | CorePerMessageDeflateOptions {
  if (option === undefined || option === false) return false;
  if (option === true) return true;
  const mapped: CorePerMessageDeflateOptions = {};
  if (option.serverNoContextTakeover !== undefined) mapped.serverNoContextTakeover = option.serverNoContextTakeover;
  if (option.clientNoContextTakeover !== undefined) mapped.clientNoContextTakeover = option.clientNoContextTakeover;
  if (option.serverMaxWindowBits !== undefined) mapped.serverMaxWindowBits = option.serverMaxWindowBits;
  if (typeof option.clientMaxWindowBits === 'number') mapped.clientMaxWindowBits = option.clientMaxWindowBits;
  const level = option.zlibDeflateOptions?.level;
  if (typeof level === 'number') mapped.level = level;
  const memLevel = option.zlibDeflateOptions?.memLevel;
  if (typeof memLevel === 'number') mapped.memLevel = memLevel;
  if (option.threshold !== undefined) mapped.threshold = option.threshold;
  if (option.concurrencyLimit !== undefined) mapped.concurrency = option.concurrencyLimit;
  return mapped;
}

type CoreConnectionOptions = Pick<CoreServerOptions, 'maxPayload' | 'maxFragments' | 'autoPong' | 'closeTimeout' | 'perMessageDeflate' | 'textAsBuffer'>;

/** The connection options of wsforge's server for ws's options. */
export function connectionOptions(options: ServerOptions): CoreConnectionOptions {
  const mapped: CoreConnectionOptions = {
    perMessageDeflate: deflateOptions(options.perMessageDeflate),
    // ws delivers text as the Buffer of its bytes: wsforge hands them over without a string in between.
    textAsBuffer: true,
  };
  // ws treats 0 as "no limit"; wsforge has no unlimited setting, so 0 keeps its default.
  if (options.maxPayload !== undefined && options.maxPayload > 0) mapped.maxPayload = options.maxPayload;
  if (options.maxFragments !== undefined && options.maxFragments > 0) mapped.maxFragments = options.maxFragments;
  if (options.autoPong !== undefined) mapped.autoPong = options.autoPong;
  if (options.closeTimeout !== undefined) mapped.closeTimeout = options.closeTimeout;
  return mapped;
}
