/**
 * A connection's options and defaults, and the settings shared by every connection of a server
 * (so a connection carries one reference, not its own copies).
 */
import type { WebSocketError } from '../../protocol/errors.js';
import type { WebSocket } from './websocket.js';

export interface ConnectionOptions {
  /** Largest message in bytes (after decompression); default 16 MiB. Over it: close 1009. */
  maxPayload?: number;
  /** Most frames per message; default 262,144. Over it: close 1009. */
  maxFragments?: number;
  /** Time to wait for the peer's part of the closing handshake, ms; default 5000. */
  closeTimeout?: number;
  /** `send()` returns false once `bufferedAmount` reaches this; default 1 MiB. */
  highWaterMark?: number;
  /** Drop a peer that leaves more than this many bytes unread (a slow consumer); default 64 MiB. */
  maxBufferedAmount?: number;
  /** Answer pings automatically (default true). */
  autoPong?: boolean;
  /** Emit a 'frame' event for every received frame (default false). */
  observeFrames?: boolean;
}

export const DEFAULT_CLOSE_TIMEOUT = 5000;
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_AMOUNT = 64 * 1024 * 1024;

/**
 * One set of functions for every connection of a server (`handlers` in ServerOptions), in
 * the style of uWebSockets and Bun: the connection comes as the first argument, so nothing is
 * created per connection (a listener added in 'connection' is a closure and a listener table
 * on every connection: 0.1-0.3 KiB each, see README "Memory per connection"). Each is called
 * before the connection's own listeners of the same event, if any.
 */
export interface ConnectionHandlers {
  /** A complete message: text as a string, binary as a Buffer. */
  message?(ws: WebSocket, data: string | Buffer, isBinary: boolean): void;
  ping?(ws: WebSocket, payload: Buffer): void;
  pong?(ws: WebSocket, payload: Buffer): void;
  /** The TCP connection is gone (the same code and reason as the 'close' event). */
  close?(ws: WebSocket, code: number, reason: string): void;
  /** What the 'error' event reports; with this handler present, errors are reported here. */
  error?(ws: WebSocket, error: WebSocketError): void;
  /** `bufferedAmount` fell back below the high-water mark after `send()` returned false. */
  drain?(ws: WebSocket): void;
}

const NO_HANDLERS: ConnectionHandlers = Object.freeze({});

/** Per-connection settings that rarely differ; shared so a connection does not carry them. */
export interface SharedSettings {
  readonly closeTimeout: number;
  readonly highWaterMark: number;
  readonly maxBufferedAmount: number;
  readonly handlers: ConnectionHandlers;
  /** Told when a connection closes (the server's `clients` bookkeeping), without a closure per connection. */
  readonly onConnectionClosed: ((ws: WebSocket) => void) | undefined;
}

const defaultSettings: SharedSettings = Object.freeze({
  closeTimeout: DEFAULT_CLOSE_TIMEOUT,
  highWaterMark: DEFAULT_HIGH_WATER_MARK,
  maxBufferedAmount: DEFAULT_MAX_BUFFERED_AMOUNT,
  handlers: NO_HANDLERS,
  onConnectionClosed: undefined,
});

/** The shared settings for these options: the defaults object when nothing differs. */
export function resolveSettings(
  options: ConnectionOptions,
  handlers?: ConnectionHandlers,
  onConnectionClosed?: (ws: WebSocket) => void,
): SharedSettings {
  if (
    options.closeTimeout === undefined &&
    options.highWaterMark === undefined &&
    options.maxBufferedAmount === undefined &&
    handlers === undefined &&
    onConnectionClosed === undefined
  ) {
    return defaultSettings;
  }
  return {
    closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
    highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    maxBufferedAmount: options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT,
    handlers: handlers ?? NO_HANDLERS,
    onConnectionClosed,
  };
}
