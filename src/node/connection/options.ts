/**
 * A connection's options and defaults, and the settings shared by every connection of a server
 * (so a connection carries one reference, not its own copies).
 */
import type { WebSocketError } from '../../protocol/errors.js';
import type { TopicIndex } from '../../pubsub/topic-index.js';
import type { BackpressureBudget } from './backpressure-budget.js';
import { KeepaliveSweep, toClockUnits } from './keepalive.js';
import type { WebSocket } from './websocket.js';

export interface ConnectionOptions {
  /** Largest message in bytes (after decompression); default 16 MiB. Over it: close 1009. */
  maxPayload?: number;
  /** Most frames per message; default 262,144. Over it: close 1009. */
  maxFragments?: number;
  /** Time to wait for the peer's part of the closing handshake, ms; default 5000. */
  closeTimeout?: number;
  /** `send()` returns SendStatus.BACKPRESSURE once `bufferedAmount` reaches this; default 1 MiB. */
  highWaterMark?: number;
  /**
   * Unsent bytes past which a send is refused (SendStatus.DROPPED) or, with
   * `closeOnBackpressureLimit`, the connection is closed as a slow consumer; default 16 MiB.
   */
  maxBackpressure?: number;
  /** Close a connection over `maxBackpressure` (1008, WSF_ERR_BUFFERED_AMOUNT_EXCEEDED) instead of dropping sends; default true. */
  closeOnBackpressureLimit?: boolean;
  /** Send a ping after this long without data from the peer, ms; default 20000; 0 turns keepalive off. */
  pingInterval?: number;
  /** Close the connection (1011) when the peer stays silent this long after a keepalive ping, ms; default 20000. */
  pingTimeout?: number;
  /** Close the connection (1001) after this long without a message either way, ms; default 0 (off). */
  idleTimeout?: number;
  /** Answer pings automatically (default true). */
  autoPong?: boolean;
  /** Emit a 'frame' event for every received frame (default false). */
  observeFrames?: boolean;
  /**
   * Deliver text messages as the Buffer of their validated UTF-8 bytes, as ws does, instead of a
   * string (default false): no decode when the application wants bytes.
   */
  textAsBuffer?: boolean;
}

export const DEFAULT_CLOSE_TIMEOUT = 5000;
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
export const DEFAULT_MAX_BACKPRESSURE = 64 * 1024 * 1024;
export const DEFAULT_PING_INTERVAL = 20_000;
export const DEFAULT_PING_TIMEOUT = 20_000;

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
  /**
   * What the 'error' event reports; with this handler present, errors are reported here, and
   * so are exceptions thrown by handlers and listeners (WSF_ERR_LISTENER_THREW, the exception
   * as `cause`), which otherwise reach process 'uncaughtException' as EventEmitter's do.
   */
  error?(ws: WebSocket, error: WebSocketError): void;
  /** `bufferedAmount` fell back below the high-water mark after `send()` returned BACKPRESSURE. */
  drain?(ws: WebSocket): void;
}

const NO_HANDLERS: ConnectionHandlers = Object.freeze({});

/** Per-connection settings that rarely differ; shared so a connection does not carry them. */
export interface SharedSettings {
  readonly closeTimeout: number;
  readonly highWaterMark: number;
  readonly maxBackpressure: number;
  readonly closeOnBackpressureLimit: boolean;
  readonly handlers: ConnectionHandlers;
  /** Keepalive, in clock units (keepalive.ts); 0 = off. */
  readonly pingAfter: number;
  readonly deadAfter: number;
  readonly idleAfter: number;
  /** The sweep this connection joins, or null when keepalive and idle timeout are off. */
  readonly keepalive: KeepaliveSweep | null;
  /** The server's side of things: its budget, its topics, its bookkeeping. */
  readonly server: ServerHooks | null;
}

/** What a server shares with its connections. */
export interface ServerHooks {
  readonly budget: BackpressureBudget;
  readonly topics: TopicIndex<WebSocket>;
  /** A connection closed: the server's `clients` bookkeeping, without a closure per connection. */
  connectionClosed(ws: WebSocket): void;
  /** A connection wants to publish (ws.publish): the server delivers, and tells other servers. */
  publishFrom(ws: WebSocket, topic: string, data: string | Buffer | ArrayBuffer | ArrayBufferView, options: { binary?: boolean; compress?: boolean } | undefined): number;
}

/** Client connections sharing a keepalive period share one sweep over them. */
const clientSweeps = new Map<number, { sweep: KeepaliveSweep; members: Set<WebSocket> }>();

/** The client sweep for a period, and the set its connections join. */
export function clientKeepalive(period: number): { sweep: KeepaliveSweep; members: Set<WebSocket> } {
  let entry = clientSweeps.get(period);
  if (entry === undefined) {
    const members = new Set<WebSocket>();
    entry = { sweep: new KeepaliveSweep(period, () => members), members };
    clientSweeps.set(period, entry);
  }
  return entry;
}

let defaultSettings: SharedSettings | null = null;

/**
 * The shared settings for these options. `members` gives the sweep its connections (a server's
 * `clients`); without it (client connections) the connections join a process-wide sweep.
 */
export function resolveSettings(
  options: ConnectionOptions,
  handlers?: ConnectionHandlers,
  server?: { hooks: ServerHooks; members: () => Set<WebSocket> },
): SharedSettings {
  const plain =
    handlers === undefined &&
    server === undefined &&
    options.closeTimeout === undefined &&
    options.highWaterMark === undefined &&
    options.maxBackpressure === undefined &&
    options.closeOnBackpressureLimit === undefined &&
    options.pingInterval === undefined &&
    options.pingTimeout === undefined &&
    options.idleTimeout === undefined;
  if (plain && defaultSettings !== null) return defaultSettings;
  const pingInterval = options.pingInterval ?? DEFAULT_PING_INTERVAL;
  const pingTimeout = options.pingTimeout ?? DEFAULT_PING_TIMEOUT;
  const idleTimeout = options.idleTimeout ?? 0;
  const period = KeepaliveSweep.periodFor(pingInterval, pingTimeout, idleTimeout);
  // Stamps may be one sweep old: allow one period more, so no timeout fires early.
  const slack = toClockUnits(period);
  let keepalive: KeepaliveSweep | null = null;
  if (period > 0) keepalive = server !== undefined ? new KeepaliveSweep(period, server.members) : clientKeepalive(period).sweep;
  const settings: SharedSettings = {
    closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
    highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    maxBackpressure: options.maxBackpressure ?? DEFAULT_MAX_BACKPRESSURE,
    closeOnBackpressureLimit: options.closeOnBackpressureLimit ?? true,
    handlers: handlers ?? NO_HANDLERS,
    pingAfter: pingInterval > 0 ? toClockUnits(pingInterval) : 0,
    deadAfter: pingInterval > 0 ? toClockUnits(pingInterval + pingTimeout) + slack : 0,
    idleAfter: idleTimeout > 0 ? toClockUnits(idleTimeout) + slack : 0,
    keepalive,
    server: server?.hooks ?? null,
  };
  if (plain) defaultSettings = settings;
  return settings;
}
