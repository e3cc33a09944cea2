import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TlsOptions } from 'node:tls';
import { CloseCode, ErrorCode, WebSocketError } from '../protocol/errors.js';
import { type ExtensionParams, formatExtension, type MessageExtension, type ServerExtensionFactory } from '../protocol/extensions.js';
import { type PerMessageDeflateOptions, serverPerMessageDeflate } from '../protocol/deflate.js';
import { encodeFrameHeader, frameHeaderSize, Opcode } from '../protocol/frame.js';
import {
  buildErrorResponse,
  buildUpgradeResponse,
  DEFAULT_MAX_HEADER_SIZE,
  findHeadEnd,
  HandshakeRejection,
  type HeaderMap,
  type HttpRequestHead,
  parseRequestHead,
  type UpgradeRequest,
  validateUpgradeRequest,
} from '../protocol/handshake.js';
import { setSocketOwner, type SocketOwner } from './socket-owner.js';
import { type ConnectionHandlers, type ConnectionOptions, resolveSettings, type SendData, toBuffer, WebSocket } from './websocket.js';

/** What the handshake hook and the subprotocol chooser see of a request. */
export interface HandshakeRequest {
  readonly method: string;
  /** The request-target as sent ("/chat?room=1"). */
  readonly url: string;
  /** The path without the query ("/chat"). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lowercased names; repeated headers joined with ", ". */
  readonly headers: Readonly<HeaderMap>;
  readonly origin: string | undefined;
  readonly remoteAddress: string | undefined;
  /** Subprotocols offered, in the client's order. */
  readonly protocols: readonly string[];
  /** Extensions offered, in the client's order. */
  readonly extensions: readonly ExtensionParams[];
  /** The node:http request, when the upgrade came through `attach()` or `handleUpgrade()` (not `listen()`). */
  readonly httpRequest?: IncomingMessage;
}

/** Accept, optionally adding response headers, attaching data to the connection, or choosing the subprotocol. */
export interface HandshakeAccept {
  headers?: Record<string, string | string[]>;
  data?: unknown;
  protocol?: string;
}

/** Refuse with an HTTP status (e.g. 401 with `WWW-Authenticate`, 403), a short body and headers. */
export interface HandshakeReject {
  status: number;
  body?: string;
  headers?: Record<string, string | string[]>;
}

/** `undefined`/`true` accept; `false` refuses with 403; an object accepts or refuses as typed. */
export type HandshakeDecision = void | boolean | HandshakeAccept | HandshakeReject;

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
  backlog?: number;
  /** Serve `wss://`: options for `tls.createServer` (at least `cert` and `key`). */
  tls?: TlsOptions;
}

export interface WebSocketServerEvents {
  connection: [ws: WebSocket, request: HandshakeRequest];
  /** A handshake hook threw, or the listening server failed. Emitted only when a listener is attached. */
  error: [error: Error];
  /** A handshake was refused: the HTTP status and the reason. */
  rejected: [status: number, reason: string, request: HandshakeRequest | undefined];
  listening: [address: AddressInfo];
  close: [];
}

export const DEFAULT_HANDSHAKE_TIMEOUT = 10_000;

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;

/**
 * A WebSocket server: standalone on raw TCP (`listen`), attached to an http/https server
 * (`attach`), or fed upgrades by any framework (`handleUpgrade`).
 */
export class WebSocketServer extends EventEmitter<WebSocketServerEvents> {
  /** Open connections. */
  readonly clients = new Set<WebSocket>();
  private readonly options: ServerOptions;
  private readonly settings: ReturnType<typeof resolveSettings>;
  private readonly paths: ReadonlySet<string> | null;
  private readonly origins: ReadonlySet<string> | null;
  private readonly maxHeaderSize: number;
  private readonly handshakeTimeout: number;
  private readonly maxConnections: number;
  private readonly extensionFactories: readonly ServerExtensionFactory[];
  private server: NetServer | null = null;
  private readonly attached: Array<{ server: HttpServer | HttpsServer; listener: UpgradeListener }> = [];
  private readonly pending = new Set<Duplex>();
  private readonly rawHandshakes = new Set<RawHandshake>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private closing: Promise<void> | null = null;

  constructor(options: ServerOptions = {}) {
    super();
    this.options = options;
    // A server's own copy: it carries the hook that keeps `clients` current.
    this.settings = {
      ...resolveSettings(options),
      ...(options.handlers === undefined ? {} : { handlers: options.handlers }),
      onConnectionClosed: (ws) => this.clients.delete(ws),
    };
    this.paths = options.path === undefined ? null : new Set(typeof options.path === 'string' ? [options.path] : options.path);
    this.origins = options.origins === undefined ? null : new Set(options.origins.map((o) => o.toLowerCase()));
    this.maxHeaderSize = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    this.handshakeTimeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    this.maxConnections = options.maxConnections ?? Infinity;
    const deflate = options.perMessageDeflate;
    this.extensionFactories = [
      ...(deflate ? [serverPerMessageDeflate(deflate === true ? {} : deflate)] : []),
      ...(options.extensions ?? []),
    ];
  }

  /** Listen on raw TCP (or TLS): handshakes are parsed here, without node:http. */
  listen(options: ListenOptions = {}): Promise<AddressInfo> {
    if (this.server !== null) return Promise.reject(new Error('already listening'));
    const onSocket = (socket: Socket) => this.acceptRawSocket(socket);
    // noDelay at the server disables Nagle on each accepted handle (no per-socket setNoDelay call).
    const server = options.tls ? createTlsServer({ noDelay: true, ...options.tls }, onSocket) : createNetServer({ noDelay: true }, onSocket);
    this.server = server;
    if (options.tls) {
      // A failed TLS handshake: nothing to answer; just drop it.
      server.on('tlsClientError', (_error: Error, socket: Duplex) => socket.destroy());
    }
    return new Promise((resolve, reject) => {
      const onError = (error: Error) => {
        this.server = null;
        reject(error);
      };
      server.once('error', onError);
      server.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1', backlog: options.backlog ?? 511 }, () => {
        server.off('error', onError);
        server.on('error', (error) => this.reportError(error));
        const address = server.address() as AddressInfo;
        this.emit('listening', address);
        resolve(address);
      });
    });
  }

  /** The bound address in standalone mode. */
  address(): AddressInfo | null {
    return (this.server?.address() as AddressInfo | null) ?? null;
  }

  /** Serve WebSocket upgrades of an existing http or https server. */
  attach(server: HttpServer | HttpsServer): this {
    const listener = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      void this.handleUpgrade(request, socket, head);
    };
    server.on('upgrade', listener);
    this.attached.push({ server, listener });
    return this;
  }

  /**
   * Complete (or refuse) a handshake that an HTTP server parsed. Resolves with the open
   * connection, or null when refused (the HTTP error is then written and the socket closed).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer = Buffer.alloc(0)): Promise<WebSocket | null> {
    // Servers like node:http arm their own timeouts on the socket; the connection is ours now.
    (socket as Partial<Socket>).setTimeout?.(0);
    const headers: HeaderMap = Object.create(null) as HeaderMap;
    const headerCounts: Record<string, number> = Object.create(null) as Record<string, number>;
    const raw = request.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      const previous = headers[name];
      headers[name] = previous === undefined ? raw[i + 1]! : `${previous}, ${raw[i + 1]!}`;
      headerCounts[name] = (headerCounts[name] ?? 0) + 1;
    }
    const requestHead: HttpRequestHead = {
      method: request.method ?? '',
      target: request.url ?? '/',
      httpVersion: request.httpVersion,
      headers,
      headerCounts,
    };
    this.pending.add(socket);
    socket.on('error', swallowError);
    return Promise.resolve(this.processHandshake(socket, requestHead, head, request));
  }

  /**
   * Send one message to many connections, framed once: the same bytes go to every socket
   * (uncompressed). Default recipients: every open client. Returns how many got it.
   */
  broadcast(data: SendData, options?: { binary?: boolean; except?: WebSocket; to?: Iterable<WebSocket> }): number {
    const isText = typeof data === 'string' ? options?.binary !== true : options?.binary === false;
    const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
    const headerSize = frameHeaderSize(payload.length, false);
    const frame = Buffer.allocUnsafe(headerSize + payload.length);
    encodeFrameHeader(frame, 0, isText ? Opcode.TEXT : Opcode.BINARY, true, false, payload.length, null);
    payload.copy(frame, headerSize);
    let count = 0;
    const except = options?.except;
    for (const ws of options?.to ?? this.clients) {
      if (ws === except || !ws.session.canSendMessage) continue;
      ws.session.sendPreparedFrame(frame);
      count++;
    }
    return count;
  }

  /**
   * Stop accepting connections, send close 1001 to every client, and resolve when all are
   * gone (each within the close timeout).
   */
  close(): Promise<void> {
    if (this.closing !== null) return this.closing;
    this.closing = (async () => {
      for (const { server, listener } of this.attached) server.off('upgrade', listener);
      const server = this.server;
      const serverClosed =
        server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of this.pending) socket.destroy();
      this.pending.clear();
      for (const handshake of this.rawHandshakes) handshake.abort();
      this.rawHandshakes.clear();
      if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
      this.sweepTimer = null;
      const gone: Promise<void>[] = [];
      for (const ws of this.clients) {
        gone.push(new Promise((resolve) => ws.once('close', () => resolve())));
        try {
          ws.close(CloseCode.GOING_AWAY, 'server shutting down');
        } catch {
          ws.terminate();
        }
      }
      await Promise.all(gone);
      await serverClosed;
      this.emit('close');
    })();
    return this.closing;
  }

  // ---- Raw TCP handshake ----------------------------------------------------------------

  private acceptRawSocket(socket: Socket): void {
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    const handshake = new RawHandshake(this, socket, this.maxHeaderSize, Date.now() + this.handshakeTimeout);
    this.rawHandshakes.add(handshake);
    this.sweepTimer ??= setInterval(sweepHandshakes, Math.max(10, Math.min(1000, this.handshakeTimeout / 4)), this);
  }

  /** @internal A raw handshake finished (or failed): stop watching its deadline. */
  handshakeDone(handshake: RawHandshake): void {
    this.rawHandshakes.delete(handshake);
    if (this.rawHandshakes.size === 0 && this.sweepTimer !== null) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }

  /**
   * @internal One timer for all handshakes in progress, instead of one per connection: those
   * past their deadline get 408 (so a handshake times out within a quarter of the timeout late).
   */
  sweepHandshakes(): void {
    const now = Date.now();
    for (const handshake of this.rawHandshakes) {
      if (handshake.deadline <= now) handshake.timedOut();
    }
  }

  /** @internal Called by RawHandshake with a complete request head. */
  rawHeadReceived(socket: Duplex, headBytes: Buffer, rest: Buffer): void {
    let head: HttpRequestHead;
    try {
      head = parseRequestHead(headBytes);
    } catch (error) {
      this.refuse(socket, error as HandshakeRejection, undefined);
      return;
    }
    const result = this.processHandshake(socket, head, rest, undefined);
    if (isPromise(result)) {
      // Waiting for an async hook: still counted (maxConnections) and dropped by close().
      this.pending.add(socket);
      // Rejections are handled inside; this only keeps a failing then() from going unnoticed.
      result.catch((error: unknown) => this.reportError(error as Error));
    }
  }

  /** @internal A socket that went away during its handshake. */
  forget(socket: Duplex): void {
    this.pending.delete(socket);
    socket.destroy();
  }

  /** @internal */
  refuse(socket: Duplex, rejection: HandshakeRejection, request: HandshakeRequest | undefined): null {
    this.pending.delete(socket);
    if (this.listenerCount('rejected') > 0) this.emit('rejected', rejection.status, rejection.reason, request);
    if (!socket.destroyed && socket.writable) {
      socket.end(buildErrorResponse(rejection.status, rejection.reason, rejection.headers));
      // Do not wait forever for a peer that never reads its error.
      setTimeout(destroySocket, 1000, socket).unref();
    } else {
      socket.destroy();
    }
    return null;
  }

  /**
   * Validate a request and run the hook. Synchronous unless the hook returns a promise: a
   * connection costs no promise or async frame when nothing has to be awaited.
   */
  private processHandshake(
    socket: Duplex,
    head: HttpRequestHead,
    rest: Buffer,
    httpRequest: IncomingMessage | undefined,
  ): WebSocket | null | Promise<WebSocket | null> {
    let upgrade: UpgradeRequest;
    try {
      upgrade = validateUpgradeRequest(head);
    } catch (error) {
      return this.refuse(socket, error as HandshakeRejection, undefined);
    }
    const queryStart = head.target.indexOf('?');
    const path = queryStart === -1 ? head.target : head.target.slice(0, queryStart);
    const request = new IncomingHandshake(head, path, queryStart, socket, upgrade.protocols, upgrade.extensions, httpRequest);
    if (this.closing !== null) return this.refuse(socket, new HandshakeRejection(503, 'server shutting down'), request);
    if (this.paths !== null && !this.paths.has(path)) {
      return this.refuse(socket, new HandshakeRejection(404, `no WebSocket endpoint at ${path.slice(0, 100)}`), request);
    }
    if (this.origins !== null && request.origin !== undefined && !this.origins.has(request.origin.toLowerCase())) {
      return this.refuse(socket, new HandshakeRejection(403, 'origin not allowed'), request);
    }
    // Count this connection too: a raw one is in neither set while it is being decided.
    const self = this.pending.has(socket) ? 0 : 1;
    if (this.clients.size + this.pending.size + this.rawHandshakes.size + self > this.maxConnections) {
      return this.refuse(socket, new HandshakeRejection(503, 'too many connections', { 'Retry-After': '1' }), request);
    }
    const hook = this.options.onHandshake;
    if (hook === undefined) return this.completeHandshake(socket, upgrade, request, rest, undefined);
    let result: HandshakeDecision | Promise<HandshakeDecision>;
    try {
      result = hook(request);
    } catch (error) {
      this.reportError(error as Error);
      return this.refuse(socket, new HandshakeRejection(500, 'internal error'), request);
    }
    if (!isPromise(result)) return this.completeHandshake(socket, upgrade, request, rest, result);
    return result.then(
      (decision) => {
        // The client may have gone while we waited.
        if (socket.destroyed || !socket.writable) {
          this.pending.delete(socket);
          return null;
        }
        return this.completeHandshake(socket, upgrade, request, rest, decision);
      },
      (error: unknown) => {
        this.reportError(error as Error);
        return this.refuse(socket, new HandshakeRejection(500, 'internal error'), request);
      },
    );
  }

  /** Apply the hook's decision, choose subprotocol and extension, answer 101 and open the connection. */
  private completeHandshake(
    socket: Duplex,
    upgrade: UpgradeRequest,
    request: HandshakeRequest,
    rest: Buffer,
    decision: HandshakeDecision,
  ): WebSocket | null {
    let accept: HandshakeAccept = {};
    if (decision === false) return this.refuse(socket, new HandshakeRejection(403, 'forbidden'), request);
    if (typeof decision === 'object' && decision !== null) {
      if ('status' in decision) {
        const status = decision.status;
        if (!Number.isInteger(status) || status < 400 || status > 599) {
          this.reportError(new Error(`onHandshake returned status ${status}; use 400-599 to refuse`));
          return this.refuse(socket, new HandshakeRejection(500, 'internal error'), request);
        }
        return this.refuse(socket, new HandshakeRejection(status, decision.body ?? '', flattenHeaders(decision.headers)), request);
      }
      accept = decision;
    }

    // Subprotocol: the hook's choice, else the chooser, else the first of ours the client offered.
    let protocol: string | undefined = accept.protocol;
    if (protocol === undefined && upgrade.protocols.length > 0) {
      if (this.options.handleProtocols !== undefined) {
        protocol = this.options.handleProtocols(upgrade.protocols, request);
      } else if (this.options.protocols !== undefined) {
        protocol = this.options.protocols.find((p) => upgrade.protocols.includes(p));
      }
    }
    if (protocol !== undefined && !upgrade.protocols.includes(protocol)) {
      // RFC 6455 §4.2.2: the server can only select a subprotocol the client offered.
      this.reportError(new Error(`selected subprotocol "${protocol}" was not offered by the client`));
      return this.refuse(socket, new HandshakeRejection(500, 'internal error'), request);
    }

    // Extensions: the first factory that accepts an offer wins (one RSV1 extension at most).
    let extension: MessageExtension | null = null;
    if (this.extensionFactories.length > 0 && upgrade.extensions.length > 0) {
      try {
        for (const factory of this.extensionFactories) {
          const offers = upgrade.extensions.filter((e) => e.name === factory.name);
          if (offers.length === 0) continue;
          extension = factory.accept(offers);
          if (extension !== null) break;
        }
      } catch (error) {
        return this.refuse(socket, new HandshakeRejection(400, (error as Error).message), request);
      }
    }

    let response: string;
    try {
      response = buildUpgradeResponse(
        upgrade.key,
        protocol,
        extension === null ? undefined : formatExtension(extension.agreed),
        accept.headers,
      );
    } catch (error) {
      extension?.dispose();
      this.reportError(error as Error);
      return this.refuse(socket, new HandshakeRejection(500, 'internal error'), request);
    }
    this.pending.delete(socket);
    if (socket.destroyed) {
      extension?.dispose();
      return null;
    }
    socket.write(response);
    const ws = new WebSocket(socket, {
      role: 'server',
      options: this.options,
      settings: this.settings,
      ...(protocol === undefined ? {} : { protocol }),
      extension,
    });
    if (accept.data !== undefined) ws.data = accept.data;
    this.clients.add(ws);
    this.options.handlers?.open?.(ws, request);
    this.emit('connection', ws, request);
    // Frames that arrived with the handshake are processed once the application has its handlers.
    if (rest.length > 0) ws.handleSocketData(rest);
    return ws;
  }

  private reportError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/**
 * The HandshakeRequest handed to hooks and 'connection' listeners. The query and the remote
 * address are computed on first use: reading `socket.remoteAddress` makes Node cache the peer
 * name on the socket, which every idle connection would then carry.
 */
class IncomingHandshake implements HandshakeRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: Readonly<HeaderMap>;
  readonly origin: string | undefined;
  private parsedQuery: URLSearchParams | null = null;

  constructor(
    head: HttpRequestHead,
    readonly path: string,
    private readonly queryStart: number,
    private readonly socket: Duplex,
    readonly protocols: readonly string[],
    readonly extensions: readonly ExtensionParams[],
    readonly httpRequest: IncomingMessage | undefined,
  ) {
    this.method = head.method;
    this.url = head.target;
    this.headers = head.headers;
    this.origin = head.headers['origin'];
  }

  get query(): URLSearchParams {
    return (this.parsedQuery ??= new URLSearchParams(this.queryStart === -1 ? '' : this.url.slice(this.queryStart + 1)));
  }

  get remoteAddress(): string | undefined {
    return (this.socket as Partial<Socket>).remoteAddress;
  }
}

/** Collects a raw TCP handshake's head, with a size limit and a deadline. */
class RawHandshake implements SocketOwner {
  private chunks: Buffer | null = null;
  private done = false;

  constructor(
    private readonly server: WebSocketServer,
    private readonly socket: Socket,
    private readonly maxHeaderSize: number,
    /** Date.now() after which the handshake is refused with 408. */
    readonly deadline: number,
  ) {
    setSocketOwner(socket, this);
  }

  handleSocketData(chunk: Buffer): void {
    if (this.done) return;
    const data = this.chunks === null ? chunk : Buffer.concat([this.chunks, chunk]);
    let end: number;
    try {
      end = findHeadEnd(data, this.maxHeaderSize);
    } catch (error) {
      this.finish();
      this.server.refuse(this.socket, error as HandshakeRejection, undefined);
      return;
    }
    if (end === -1) {
      this.chunks = data;
      return;
    }
    this.finish();
    // Hold further bytes in the socket until the connection has its handlers.
    this.socket.pause();
    this.server.rawHeadReceived(this.socket, data.subarray(0, end), data.subarray(end));
  }

  handleSocketClose(): void {
    this.finish();
    this.server.forget(this.socket);
  }

  handleSocketEnd(): void {
    // A client that half-closes before its handshake is done will not complete it.
    this.socket.end();
  }

  handleSocketError(): void {
    // An error ends the socket; 'close' does the bookkeeping.
  }

  handleSocketDrain(): void {}

  /** The server is closing: drop the connection. */
  abort(): void {
    this.done = true;
    this.socket.destroy();
  }

  timedOut(): void {
    if (this.done) return;
    this.finish();
    this.server.refuse(this.socket, new HandshakeRejection(408, 'handshake timed out'), undefined);
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.chunks = null;
    this.server.handshakeDone(this);
  }
}

function sweepHandshakes(server: WebSocketServer): void {
  server.sweepHandshakes();
}

function swallowError(): void {
  // Errors on a socket still in the handshake end it; 'close' does the bookkeeping.
}

function destroySocket(socket: Duplex): void {
  socket.destroy();
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function';
}

function flattenHeaders(headers: Record<string, string | string[]> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers === undefined) return result;
  for (const [name, value] of Object.entries(headers)) result[name] = Array.isArray(value) ? value.join(', ') : value;
  return result;
}

export { ErrorCode, WebSocketError };
