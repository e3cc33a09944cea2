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
  validateUpgradeRequest,
} from '../protocol/handshake.js';
import { type ConnectionOptions, resolveSettings, type SendData, toBuffer, WebSocket } from './websocket.js';

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
  private closing: Promise<void> | null = null;

  constructor(options: ServerOptions = {}) {
    super();
    this.options = options;
    this.settings = resolveSettings(options);
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
    const server = options.tls ? createTlsServer(options.tls, onSocket) : createNetServer(onSocket);
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
    const head$: HttpRequestHead = {
      method: request.method ?? '',
      target: request.url ?? '/',
      httpVersion: request.httpVersion,
      headers,
      headerCounts,
    };
    this.pending.add(socket);
    socket.on('error', swallowError);
    return this.processHandshake(socket, head$, head);
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
    socket.setNoDelay(true);
    this.pending.add(socket);
    new RawHandshake(this, socket, this.maxHeaderSize, this.handshakeTimeout);
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
    void this.processHandshake(socket, head, rest);
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

  private async processHandshake(
    socket: Duplex,
    head: HttpRequestHead,
    rest: Buffer,
  ): Promise<WebSocket | null> {
    let upgrade;
    try {
      upgrade = validateUpgradeRequest(head);
    } catch (error) {
      return this.refuse(socket, error as HandshakeRejection, undefined);
    }
    const queryStart = head.target.indexOf('?');
    const path = queryStart === -1 ? head.target : head.target.slice(0, queryStart);
    const request: HandshakeRequest = {
      method: head.method,
      url: head.target,
      path,
      query: new URLSearchParams(queryStart === -1 ? '' : head.target.slice(queryStart + 1)),
      headers: head.headers,
      origin: head.headers['origin'],
      remoteAddress: (socket as Partial<Socket>).remoteAddress,
      protocols: upgrade.protocols,
      extensions: upgrade.extensions,
    };
    if (this.closing !== null) return this.refuse(socket, new HandshakeRejection(503, 'server shutting down'), request);
    if (this.paths !== null && !this.paths.has(path)) {
      return this.refuse(socket, new HandshakeRejection(404, `no WebSocket endpoint at ${path.slice(0, 100)}`), request);
    }
    if (this.origins !== null && request.origin !== undefined && !this.origins.has(request.origin.toLowerCase())) {
      return this.refuse(socket, new HandshakeRejection(403, 'origin not allowed'), request);
    }
    if (this.clients.size + this.pending.size > this.maxConnections) {
      return this.refuse(socket, new HandshakeRejection(503, 'too many connections', { 'Retry-After': '1' }), request);
    }

    let accept: HandshakeAccept = {};
    if (this.options.onHandshake !== undefined) {
      let decision: HandshakeDecision;
      try {
        const result = this.options.onHandshake(request);
        decision = isPromise(result) ? await result : result;
      } catch (error) {
        this.reportError(error as Error);
        return this.refuse(socket, new HandshakeRejection(500, 'internal error'), request);
      }
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
      // The client may have gone while we waited.
      if (socket.destroyed || !socket.writable) {
        this.pending.delete(socket);
        return null;
      }
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
    socket.removeListener('error', swallowError);
    const ws = new WebSocket(socket, {
      role: 'server',
      options: this.options,
      settings: this.settings,
      ...(protocol === undefined ? {} : { protocol }),
      extension,
    });
    if (accept.data !== undefined) ws.data = accept.data;
    this.clients.add(ws);
    ws.once('close', () => this.clients.delete(ws));
    this.emit('connection', ws, request);
    // Frames that arrived with the handshake are processed once the application has its handlers.
    if (rest.length > 0) ws.handleSocketData(rest);
    return ws;
  }

  private reportError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/** Collects a raw TCP handshake's head, with a size limit and a deadline. */
class RawHandshake {
  private chunks: Buffer | null = null;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly server: WebSocketServer,
    private readonly socket: Socket,
    private readonly maxHeaderSize: number,
    timeout: number,
  ) {
    this.timer = setTimeout(() => this.timedOut(), timeout);
    socket.on('data', this.onData);
    socket.on('error', swallowError);
    socket.on('close', this.onClose);
  }

  private readonly onData = (chunk: Buffer): void => {
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
  };

  private readonly onClose = (): void => {
    this.finish();
    this.server.forget(this.socket);
  };

  private timedOut(): void {
    this.finish();
    this.server.refuse(this.socket, new HandshakeRejection(408, 'handshake timed out'), undefined);
  }

  private finish(): void {
    clearTimeout(this.timer);
    this.socket.off('data', this.onData);
    this.socket.off('close', this.onClose);
    this.chunks = null;
  }
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
