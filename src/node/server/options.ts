/** The server's options, its events and the defaults of the handshake phase. */
import type { AddressInfo } from 'node:net';
import type { TlsOptions } from 'node:tls';
import type { ServerExtensionFactory } from '../../protocol/extensions/extension.js';
import type { PerMessageDeflateOptions } from '../../protocol/extensions/permessage-deflate/params.js';
import type { HandshakeDecision, HandshakeRequest } from '../../protocol/handshake/decision.js';
import type { PubSubAdapter } from '../../pubsub/adapter.js';
import type { ConnectionHandlers, ConnectionOptions } from '../connection/options.js';
import type { WebSocket } from '../connection/websocket.js';

export interface ServerOptions extends ConnectionOptions {
  /** Serve only these paths (exact match on the path, query ignored); others get 404. Default: all. */
  path?: string | readonly string[];
  /** Browsers' `Origin` values allowed; others get 403. Requests without Origin (non-browser clients) pass. */
  origins?: readonly string[];
  /** Subprotocols this server speaks, in its order of preference. */
  protocols?: readonly string[];
  /** Choose the subprotocol; return undefined for none. Overrides `protocols`. */
  handleProtocols?: (offered: readonly string[], request: HandshakeRequest) => string | undefined;
  /** Decide on each handshake (authentication); may be async. */
  onHandshake?: (request: HandshakeRequest) => HandshakeDecision | Promise<HandshakeDecision>;
  /**
   * Accept permessage-deflate (RFC 7692). `true` uses the memory-safe defaults (no context
   * takeover either way, shared zlib contexts); see README "Compression" for the options.
   * Default: off.
   */
  perMessageDeflate?: boolean | PerMessageDeflateOptions;
  /** Other per-message extensions, tried in order (after permessage-deflate). */
  extensions?: readonly ServerExtensionFactory[];
  /** Time allowed for a client to send its whole handshake, ms; default 10000. Over it: 408. */
  handshakeTimeout?: number;
  /** Largest request head in bytes; default 16 KiB. Over it: 431. */
  maxHeaderSize?: number;
  /** Most connections at once, open or handshaking; default unlimited. Over it: 503. */
  maxConnections?: number;
  /**
   * Unsent bytes all this server's connections may hold together (a frame shared by a broadcast
   * counted once); past it, the connections holding the most are dropped first (1008). Default:
   * a quarter of V8's heap limit.
   */
  maxTotalBackpressure?: number;
  /** Share publishes with other processes or machines (wsforge/cluster, wsforge/redis); closed with the server. */
  pubsub?: PubSubAdapter;
  /**
   * Functions called for every connection, which comes as the first argument: the way to
   * serve many connections without a closure and a listener table on each (README "Many
   * connections: server-wide handlers").
   */
  handlers?: ServerHandlers;
}

/** Server-wide handlers: ConnectionHandlers, plus `open` for each new connection. */
export interface ServerHandlers extends ConnectionHandlers {
  /** A connection is open: called before the 'connection' event, with the same arguments. */
  open?(ws: WebSocket, request: HandshakeRequest): void;
}

export interface ListenOptions {
  port?: number;
  host?: string;
  /**
   * Listen on this Unix domain socket instead of TCP (`port` and `host` are then ignored).
   * The file must not exist; it is removed when the server closes.
   */
  path?: string;
  backlog?: number;
  /**
   * Bind with SO_REUSEPORT so that several processes listen on the same port and the kernel
   * spreads connections among them (Node >= 22.12 on Linux; wsforge/cluster uses it). The
   * socket is then the process's own, not shared through a node:cluster primary.
   */
  reusePort?: boolean;
  /** Serve `wss://`: options for `tls.createServer` (at least `cert` and `key`). */
  tls?: TlsOptions;
  /**
   * Also serve WebSockets over HTTP/2 (RFC 8441; needs `tls`): ALPN offers h2 and http/1.1, and
   * HTTP/2 connections advertise SETTINGS_ENABLE_CONNECT_PROTOCOL. Off by default: a proxy between
   * browsers and this server that cannot pass extended CONNECT breaks their WebSockets once the
   * setting is advertised (README "HTTP/2").
   */
  http2?: boolean;
}

export interface WebSocketServerEvents {
  connection: [ws: WebSocket, request: HandshakeRequest];
  /** A handshake hook threw, or the listening server failed. Emitted only when a listener is attached. */
  error: [error: Error];
  /** A handshake was refused: the HTTP status and the reason. */
  rejected: [status: number, reason: string, request: HandshakeRequest | undefined];
  /** The bound address: the socket path when listening on a Unix socket. */
  listening: [address: AddressInfo | string];
  close: [];
}

export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;
