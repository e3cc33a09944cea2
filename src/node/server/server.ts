/**
 * A WebSocket server: standalone on raw TCP or TLS (`listen`), attached to an http/https/http2
 * server (`attach`), or fed upgrades and streams by any framework (`handleUpgrade`,
 * `handleStream`). Every entry mode goes through the same steps: the request is checked (an
 * HTTP/1.1 upgrade, RFC 6455 §4.2.1, or an HTTP/2 extended CONNECT, RFC 8441 §4-5), the
 * protocol's handshake decision applies the admission policy and negotiates, the HTTP/1.1 or
 * HTTP/2 responder writes the outcome, and an accepted connection starts.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import type { Http2SecureServer, Http2Server, Http2ServerRequest, Http2ServerResponse, IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { Server as HttpsServer } from 'node:https';
import { createServer as createNetServer, type AddressInfo, type Server as NetServer, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { CloseCode } from '../../protocol/errors.js';
import type { ServerExtensionFactory } from '../../protocol/extensions/extension.js';
import { serverPerMessageDeflate } from '../../protocol/extensions/permessage-deflate/negotiation.js';
import { PreparedMessage } from '../../protocol/frame/prepared.js';
import { decideHandshake, type HandshakeAcceptance, type HandshakeOutcome, type HandshakePolicy, type HandshakeRequest } from '../../protocol/handshake/decision.js';
import { type ExtendedConnectRequest, readHttp2HeaderList, validateExtendedConnect } from '../../protocol/handshake/extended-connect.js';
import { type UpgradeRequest, validateUpgradeRequest } from '../../protocol/handshake/upgrade-request.js';
import { DEFAULT_MAX_HEADER_SIZE, type HttpRequestHead, parseRequestHead } from '../../protocol/http1/head-parser.js';
import { HandshakeRejection } from '../../protocol/http1/rejection.js';
import { checkOptions } from '../../protocol/options/check-options.js';
import { InvalidOptionError } from '../../protocol/options/invalid-option-error.js';
import { DEFAULT_MAX_PAYLOAD } from '../../protocol/receive/frame-parser.js';
import type { PubSubAdapter } from '../../pubsub/adapter.js';
import { TopicIndex } from '../../pubsub/topic-index.js';
import { BackpressureBudget, defaultTotalBackpressure } from '../connection/backpressure-budget.js';
import { listenerThrew } from '../connection/listener-errors.js';
import { resolveSettings, type ServerHooks, type SharedSettings } from '../connection/options.js';
import { bytesOf, type SendData } from '../connection/send-data.js';
import { SendStatus } from '../connection/send-status.js';
import { connectionStart, type InternalInit, WebSocket } from '../connection/websocket.js';
import { broadcastOptionTable, listenOptionTable, sendOptionTable, serverOptionTable } from '../options/server-option-table.js';
import { FirstHeadWatch } from './first-head-deadline.js';
import { HandshakeDeadlines, type HandshakeInProgress } from './handshake-deadlines.js';
import { headOfIncomingMessage, headSize, IncomingHandshake } from './handshake-request.js';
import { writeAcceptance, writeRejection } from './http1-upgrade.js';
import { headerListSize, isWebSocketConnect, PendingStreamDecision, rawHeadersOf, writeStreamAcceptance, writeStreamRejection } from './http2-connect.js';
import { Http2Sessions } from './http2-sessions.js';
import { DEFAULT_HANDSHAKE_TIMEOUT, type ListenOptions, type ServerOptions, type WebSocketServerEvents } from './options.js';
import { RawHandshake, type RawHandshakeOwner } from './raw-handshake.js';

type UpgradeListener = (request: IncomingMessage, socket: Duplex, head: Buffer) => void;
/** The servers `attach()` serves: HTTP/1.1 upgrades, and with HTTP/2 extended CONNECTs (RFC 8441). */
type AttachableServer = HttpServer | HttpsServer | Http2SecureServer | Http2Server;
type StreamListener = (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, flags: number, rawHeaders: string[]) => void;
type CompatConnectListener = (request: Http2ServerRequest, response: Http2ServerResponse) => void;

/** An async handshake decision in progress: bounded by the handshake timeout too. */
class PendingDecision implements HandshakeInProgress {
  expired = false;
  constructor(
    readonly socket: Duplex,
    readonly deadline: number,
  ) {}

  timedOut(): void {
    // Our own hook is late: the client did nothing wrong, so 503 rather than 408.
    this.expired = true;
    writeRejection(this.socket, new HandshakeRejection(503, 'handshake timed out', { 'Retry-After': '1' }));
  }
}

export class WebSocketServer extends EventEmitter<WebSocketServerEvents> {
  /** Open connections. */
  readonly clients = new Set<WebSocket>();
  private readonly options: ServerOptions;
  private readonly settings: SharedSettings;
  private readonly policy: HandshakePolicy;
  private readonly maxHeaderSize: number;
  private readonly handshakeTimeout: number;
  private server: NetServer | null = null;
  private readonly attached: Array<{ server: AttachableServer; listener: UpgradeListener }> = [];
  private readonly attachedHttp2: Array<{ server: Http2SecureServer | Http2Server; onStream: StreamListener; onConnect: CompatConnectListener }> = [];
  /** Listen mode with `http2: true`: the HTTP/2 connections. */
  private http2Sessions: Http2Sessions | null = null;
  /** Sockets whose handshake is being decided (async hook), counted by maxConnections. */
  private readonly pending = new Set<Duplex>();
  /** Raw handshakes reading their head, and async decisions: one sweep times them out. */
  private readonly deadlines: HandshakeDeadlines;
  /** Connections of attached HTTP servers until their first request head (first-head-deadline.ts). */
  private readonly firstHeads: FirstHeadWatch;
  private readonly rawHandshakes: RawHandshakeOwner;
  private readonly hooks: ServerHooks;
  private readonly adapter: PubSubAdapter | null;
  private closing: Promise<void> | null = null;

  constructor(options: ServerOptions = {}) {
    super();
    // Once per server, before anything is read from the options (an unknown key is a mistake, not a default).
    checkOptions(options, serverOptionTable, 'new WebSocketServer()');
    this.options = options;
    this.adapter = options.pubsub ?? null;
    const adapter = this.adapter;
    this.hooks = {
      budget: new BackpressureBudget(options.maxTotalBackpressure ?? defaultTotalBackpressure()),
      // With an adapter, this server follows a topic on the other servers while it has local subscribers.
      topics: new TopicIndex<WebSocket>(
        adapter === null ? null : { topicOpened: (topic) => adapter.subscribe(topic), topicClosed: (topic) => adapter.unsubscribe(topic) },
      ),
      connectionClosed: (ws) => this.clients.delete(ws),
      publishFrom: (ws, topic, data, publishOptions) => this.publishMessage(topic, data, publishOptions, ws),
    };
    // A server's own settings: they carry the handlers, the budget, the topics and the hook that keeps `clients` current.
    this.settings = resolveSettings(options, options.handlers, { hooks: this.hooks, members: () => this.clients });
    adapter?.attach((topic, payload, isBinary) => {
      this.deliverLocally(topic, new PreparedMessage(payload, isBinary, true), undefined);
    });
    this.maxHeaderSize = options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    this.handshakeTimeout = options.handshakeTimeout ?? DEFAULT_HANDSHAKE_TIMEOUT;
    this.deadlines = new HandshakeDeadlines(this.handshakeTimeout);
    this.firstHeads = new FirstHeadWatch(this.deadlines);
    const deflate = options.perMessageDeflate;
    const extensions: ServerExtensionFactory[] = [
      ...(deflate ? [serverPerMessageDeflate(deflate === true ? {} : deflate)] : []),
      ...(options.extensions ?? []),
    ];
    this.policy = {
      paths: options.path === undefined ? null : new Set(typeof options.path === 'string' ? [options.path] : options.path),
      origins: options.origins === undefined ? null : new Set(options.origins.map((o) => o.toLowerCase())),
      maxConnections: options.maxConnections ?? Infinity,
      onHandshake: options.onHandshake,
      protocols: options.protocols,
      handleProtocols: options.handleProtocols,
      extensions,
    };
    this.rawHandshakes = {
      headReceived: (handshake, socket, head, rest) => {
        this.deadlines.delete(handshake);
        this.rawHeadReceived(socket, head, rest);
      },
      headRefused: (handshake, socket, rejection) => {
        this.deadlines.delete(handshake);
        this.respond(socket, rejection, undefined, undefined, undefined);
      },
      handshakeGone: (handshake, socket) => {
        this.deadlines.delete(handshake);
        this.forget(socket);
      },
    };
  }

  /**
   * Listen on raw TCP (or TLS), or on a Unix socket with `path`: handshakes are parsed here,
   * without node:http. Resolves with the bound address (the path for a Unix socket). With
   * `http2: true` (TLS only), ALPN offers h2 too, and HTTP/2 connections carry WebSockets as
   * extended CONNECT streams (RFC 8441).
   */
  listen(options: ListenOptions & { path: string }): Promise<string>;
  listen(options?: ListenOptions): Promise<AddressInfo>;
  listen(options: ListenOptions = {}): Promise<AddressInfo | string> {
    try {
      checkOptions(options, listenOptionTable, 'listen()');
    } catch (error) {
      return Promise.reject(error);
    }
    if (this.server !== null) return Promise.reject(new Error('already listening'));
    if (options.http2 === true && options.tls === undefined) {
      return Promise.reject(new Error('listen({ http2: true }) needs tls: HTTP/2 is served over TLS (ALPN h2), as browsers use it'));
    }
    const sessions =
      options.http2 === true
        ? new Http2Sessions((stream, _headers, rawHeaders) => void this.admitHttp2(stream, rawHeaders), this.handshakeTimeout, this.options.maxPayload ?? DEFAULT_MAX_PAYLOAD)
        : null;
    this.http2Sessions = sessions;
    const onSocket = (socket: Socket) => {
      if (sessions !== null && (socket as TLSSocket).alpnProtocol === 'h2' && this.closing === null) sessions.accept(socket as TLSSocket);
      else this.acceptRawSocket(socket);
    };
    // noDelay at the server disables Nagle on each accepted handle (no per-socket setNoDelay call).
    const server = options.tls
      ? createTlsServer({ noDelay: true, ...options.tls, ...(sessions === null ? {} : { ALPNProtocols: ['h2', 'http/1.1'] }) }, onSocket)
      : createNetServer({ noDelay: true }, onSocket);
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
      const backlog = options.backlog ?? 511;
      // reusePort is not in the Node 20 typings; Node 22.12+ reads it (and then binds the socket itself, even in a cluster worker).
      const reuse = options.reusePort === true ? { reusePort: true, exclusive: true } : {};
      const where =
        options.path === undefined ? { port: options.port ?? 0, host: options.host ?? '127.0.0.1', backlog, ...reuse } : { path: options.path, backlog };
      server.listen(where, () => {
        server.off('error', onError);
        server.on('error', (error) => this.reportError(error));
        const address = server.address() as AddressInfo | string;
        this.emit('listening', address);
        resolve(address);
      });
    });
  }

  /** The bound address in standalone mode: the socket path when listening on a Unix socket. */
  address(): AddressInfo | string | null {
    return this.server?.address() ?? null;
  }

  /**
   * Serve WebSocket upgrades of an existing http or https server. node:http reads the request
   * head there, so its own limits apply to it; a server with a longer `headersTimeout` than this
   * server's handshakeTimeout gets the shorter one (a half-sent head is not held for 60 s).
   *
   * A node:http2 server (`http2.createSecureServer({ allowHTTP1: true, settings:
   * { enableConnectProtocol: true } })`) is served both ways: its extended CONNECT streams with
   * `:protocol websocket` (RFC 8441), and with allowHTTP1 the upgrades of its HTTP/1.1 clients.
   * Its other streams and requests stay with it.
   */
  attach(server: AttachableServer): this {
    if (isHttp2Server(server)) this.attachHttp2(server);
    const listener = (request: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.firstHeads.headReceived(socket as Socket);
      void this.handleUpgrade(request, socket, head);
    };
    (server as HttpServer).on('upgrade', listener);
    const http1 = server as { headersTimeout?: number };
    if (http1.headersTimeout !== undefined && (http1.headersTimeout === 0 || http1.headersTimeout > this.handshakeTimeout)) {
      http1.headersTimeout = this.handshakeTimeout;
    }
    // handshakeTimeout for the first request head of each connection (first-head-deadline.ts);
    // node:http2 servers keep their own session timeouts.
    if (!isHttp2Server(server)) {
      (server as HttpServer).on('connection', this.firstHeads.connected);
      (server as HttpServer).on('request', this.firstHeads.requested);
    }
    this.attached.push({ server, listener });
    return this;
  }

  private attachHttp2(server: Http2SecureServer | Http2Server): void {
    const onStream: StreamListener = (stream, headers, _flags, rawHeaders) => {
      if (isWebSocketConnect(headers)) void this.admitHttp2(stream, rawHeaders);
    };
    // With a 'request' listener, node:http2 hands CONNECT streams to 'connect' listeners and answers
    // 405 when there are none: this one keeps WebSocket streams for onStream, and answers other
    // CONNECTs as node:http2 would when no one else listens.
    const onConnect: CompatConnectListener = (request, response) => {
      if (isWebSocketConnect(request.headers) || server.listenerCount('connect') > 1) return;
      response.statusCode = 405;
      response.end();
    };
    server.on('stream', onStream);
    server.on('connect', onConnect);
    this.attachedHttp2.push({ server, onStream, onConnect });
  }

  /**
   * Complete (or refuse) a handshake that an HTTP server parsed. Resolves with the open
   * connection, or null when refused (the HTTP error is then written and the socket closed).
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer = Buffer.alloc(0)): Promise<WebSocket | null> {
    // ws's handleUpgrade(request, socket, head, callback): such a callback would never be called.
    if (arguments.length > 3) throw callbackNotCalled('wss.handleUpgrade()', "it returns a Promise<WebSocket | null> and emits 'connection' itself");
    // Servers like node:http arm their own timeouts on the socket; the connection is ours now.
    (socket as Partial<Socket>).setTimeout?.(0);
    socket.on('error', swallowError);
    if (headSize(request) > this.maxHeaderSize) {
      return Promise.resolve(this.respond(socket, new HandshakeRejection(431, `request head larger than ${this.maxHeaderSize} bytes`), undefined, undefined, undefined));
    }
    return Promise.resolve(this.admitHttp1(socket, headOfIncomingMessage(request), head, request));
  }

  /**
   * Complete (or refuse) an HTTP/2 extended CONNECT (RFC 8441) that a node:http2 server received
   * ('stream' event). Resolves with the open connection, or null when refused (the stream is then
   * answered with the refusal and ends).
   */
  handleStream(stream: ServerHttp2Stream, headers: IncomingHttpHeaders, rawHeaders?: string[]): Promise<WebSocket | null> {
    return Promise.resolve(this.admitHttp2(stream, rawHeaders ?? rawHeadersOf(headers)));
  }

  /**
   * Frame a message once for sending to many connections (`ws.sendPrepared`, `broadcast`):
   * the same bytes go to every socket; with permessage-deflate it is compressed once per
   * negotiated setting.
   */
  prepare(data: SendData, options?: { binary?: boolean; compress?: boolean }): PreparedMessage {
    checkOptions(options, sendOptionTable, 'wss.prepare()');
    return prepareMessage(data, options?.binary, options?.compress ?? true);
  }

  /**
   * Send one message to many connections, framed once: the same bytes go to every socket.
   * Default recipients: every open client. Returns how many got it (a connection over its
   * backpressure limit does not: see `maxBackpressure`).
   */
  broadcast(data: SendData | PreparedMessage, options?: { binary?: boolean; compress?: boolean; except?: WebSocket; to?: Iterable<WebSocket> }): number {
    checkOptions(options, broadcastOptionTable, 'wss.broadcast()');
    // Uncompressed unless asked: broadcast predates compressed prepared messages.
    const message = data instanceof PreparedMessage ? data : prepareMessage(data, options?.binary, options?.compress ?? false);
    let count = 0;
    const except = options?.except;
    for (const ws of options?.to ?? this.clients) {
      if (ws === except || !ws.canSend) continue;
      if (ws.sendPrepared(message) !== SendStatus.DROPPED) count++;
    }
    return count;
  }

  /**
   * Send a message to every subscriber of `topic` (`ws.subscribe(topic)`), framed once (and
   * compressed once per negotiated setting), and to the other servers of the `pubsub` adapter.
   * Returns how many local subscribers got it.
   */
  publish(topic: string, data: SendData | PreparedMessage, options?: { binary?: boolean; compress?: boolean }): number {
    return this.publishMessage(topic, data, options, undefined);
  }

  /** How many local connections are subscribed to `topic`. */
  subscriberCount(topic: string): number {
    return this.hooks.topics.count(topic);
  }

  private publishMessage(topic: string, data: SendData | PreparedMessage, options: { binary?: boolean; compress?: boolean } | undefined, except: WebSocket | undefined): number {
    if (typeof topic !== 'string') throw new TypeError('a topic is a string');
    checkOptions(options, sendOptionTable, except === undefined ? 'wss.publish()' : 'ws.publish()');
    const message = data instanceof PreparedMessage ? data : prepareMessage(data, options?.binary, options?.compress ?? true);
    const count = this.deliverLocally(topic, message, except);
    this.adapter?.publish(topic, message.payload, message.isBinary);
    return count;
  }

  private deliverLocally(topic: string, message: PreparedMessage, except: WebSocket | undefined): number {
    const subscribers = this.hooks.topics.subscribersOf(topic);
    if (subscribers === undefined) return 0;
    let count = 0;
    for (const ws of subscribers) {
      if (ws === except || !ws.canSend) continue;
      if (ws.sendPrepared(message) !== SendStatus.DROPPED) count++;
    }
    return count;
  }

  /**
   * Stop accepting connections, send close 1001 to every client, and resolve when all are
   * gone (each within the close timeout).
   */
  close(): Promise<void> {
    // ws's close(callback): such a callback would never be called.
    if (arguments.length > 0) throw callbackNotCalled('wss.close()', 'it returns a Promise: `await wss.close()`');
    if (this.closing !== null) return this.closing;
    this.closing = (async () => {
      for (const { server, listener } of this.attached) {
        (server as HttpServer).off('upgrade', listener);
        (server as HttpServer).off('connection', this.firstHeads.connected);
        (server as HttpServer).off('request', this.firstHeads.requested);
      }
      this.firstHeads.clear();
      for (const { server, onStream, onConnect } of this.attachedHttp2) {
        server.off('stream', onStream);
        server.off('connect', onConnect);
      }
      const server = this.server;
      const serverClosed = server === null ? Promise.resolve() : new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of this.pending) socket.destroy();
      this.pending.clear();
      this.deadlines.abortAll((handshake) => {
        if (handshake instanceof RawHandshake) handshake.abort();
      });
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
      // Listen mode: the HTTP/2 connections end once their WebSockets are gone (GOAWAY).
      this.http2Sessions?.closeAll();
      await serverClosed;
      await this.adapter?.close();
      this.emit('close');
    })();
    return this.closing;
  }

  // ---- The handshake ----------------------------------------------------------------------------

  private acceptRawSocket(socket: Socket): void {
    if (this.closing !== null) {
      socket.destroy();
      return;
    }
    this.deadlines.add(new RawHandshake(this.rawHandshakes, socket, this.maxHeaderSize, this.deadlines.deadlineFromNow()));
  }

  private rawHeadReceived(socket: Duplex, headBytes: Buffer, rest: Buffer): void {
    let head: HttpRequestHead;
    try {
      head = parseRequestHead(headBytes);
    } catch (error) {
      this.respond(socket, error as HandshakeRejection, undefined, undefined, undefined);
      return;
    }
    // An async decision settles itself (its rejections are answered inside): nothing to await here.
    void this.admitHttp1(socket, head, rest);
  }

  /**
   * Check an HTTP/1.1 upgrade request, decide, and respond. Synchronous unless the hook returns
   * a promise: a connection costs no promise or async frame when nothing has to be awaited.
   */
  private admitHttp1(
    socket: Duplex,
    head: HttpRequestHead,
    rest: Buffer,
    httpRequest?: IncomingMessage,
  ): WebSocket | null | Promise<WebSocket | null> {
    let upgrade: UpgradeRequest;
    try {
      upgrade = validateUpgradeRequest(head);
    } catch (error) {
      return this.respond(socket, error as HandshakeRejection, undefined, undefined, undefined);
    }
    const request = new IncomingHandshake('http/1.1', head.method, head.target, head.headers, upgrade, socket, httpRequest);
    // Count this connection too: a raw one is in no set while it is being decided.
    const self = this.pending.has(socket) ? 0 : 1;
    const outcome = decideHandshake(request, this.policy, {
      connections: this.clients.size + this.pending.size + this.deadlines.size + self,
      closing: this.closing !== null,
    });
    if (!isPromise(outcome)) return this.respond(socket, outcome, upgrade.key, request, rest);
    // Waiting for an async hook: counted (maxConnections), dropped by close(), and bounded by the timeout.
    this.pending.add(socket);
    const waiting = new PendingDecision(socket, this.deadlines.deadlineFromNow());
    this.deadlines.add(waiting);
    return outcome.then((decided) => {
      this.deadlines.delete(waiting);
      if (waiting.expired) {
        this.pending.delete(socket);
        if (decided.accepted) decided.extension?.dispose();
        return null;
      }
      // The client may have gone while we waited.
      if (socket.destroyed || !socket.writable) {
        this.pending.delete(socket);
        if (decided.accepted) decided.extension?.dispose();
        return null;
      }
      return this.respond(socket, decided, upgrade.key, request, rest);
    });
  }

  /** Write the outcome out (HTTP/1.1) and, when accepted, start the connection. */
  private respond(
    socket: Duplex,
    outcome: HandshakeOutcome,
    key: string | undefined,
    request: HandshakeRequest | undefined,
    rest: Buffer | undefined,
  ): WebSocket | null {
    this.pending.delete(socket);
    if (!outcome.accepted) {
      if (outcome.failure !== undefined) this.reportError(outcome.failure);
      if (this.listenerCount('rejected') > 0) this.emit('rejected', outcome.status, outcome.reason, request);
      writeRejection(socket, outcome);
      return null;
    }
    if (socket.destroyed) {
      outcome.extension?.dispose();
      return null;
    }
    writeAcceptance(socket, key!, outcome);
    return this.startConnection(socket, outcome, request!, rest);
  }

  /** Start an accepted connection over its transport (a socket, or an HTTP/2 stream). */
  private startConnection(transport: Duplex, outcome: HandshakeAcceptance, request: HandshakeRequest, head: Buffer | undefined): WebSocket {
    const ws = new WebSocket(transport, {
      role: 'server',
      protocol: outcome.protocol,
      extension: outcome.extension,
      head,
      [connectionStart]: { settings: this.settings, options: this.options },
    } as InternalInit);
    if (outcome.data !== undefined) ws.data = outcome.data;
    this.clients.add(ws);
    try {
      this.options.handlers?.open?.(ws, request);
      this.emit('connection', ws, request);
    } catch (error) {
      listenerThrew(this.settings.handlers, ws, error);
    }
    return ws;
  }

  /**
   * Check an HTTP/2 extended CONNECT (RFC 8441 §4-5), decide as for HTTP/1.1, and respond on the
   * stream. Synchronous unless the hook returns a promise.
   */
  private admitHttp2(stream: ServerHttp2Stream, rawHeaders: readonly string[]): WebSocket | null | Promise<WebSocket | null> {
    stream.on('error', swallowError);
    if (headerListSize(rawHeaders) > this.maxHeaderSize) {
      return this.respondOverHttp2(stream, new HandshakeRejection(431, `request header list larger than ${this.maxHeaderSize} bytes`), undefined);
    }
    let connect: ExtendedConnectRequest;
    try {
      connect = validateExtendedConnect(readHttp2HeaderList(rawHeaders).headers);
    } catch (error) {
      return this.respondOverHttp2(stream, error as HandshakeRejection, undefined);
    }
    const request = new IncomingHandshake('h2', 'CONNECT', connect.target, connect.headers, connect, stream.session?.socket ?? stream);
    // Count this stream too: it is in no set while it is being decided.
    const outcome = decideHandshake(request, this.policy, {
      connections: this.clients.size + this.pending.size + this.deadlines.size + 1,
      closing: this.closing !== null,
    });
    if (!isPromise(outcome)) return this.respondOverHttp2(stream, outcome, request);
    // Waiting for an async hook: counted (maxConnections), reset by close(), bounded by the timeout.
    this.pending.add(stream);
    const waiting = new PendingStreamDecision(stream, this.deadlines.deadlineFromNow());
    this.deadlines.add(waiting);
    return outcome.then((decided) => {
      this.deadlines.delete(waiting);
      // Timed out, or the client reset the stream while we waited.
      if (waiting.expired || stream.destroyed || stream.closed) {
        this.pending.delete(stream);
        if (decided.accepted) decided.extension?.dispose();
        return null;
      }
      return this.respondOverHttp2(stream, decided, request);
    });
  }

  /** Write the outcome out on the stream (HTTP/2) and, when accepted, start the connection. */
  private respondOverHttp2(stream: ServerHttp2Stream, outcome: HandshakeOutcome, request: HandshakeRequest | undefined): WebSocket | null {
    this.pending.delete(stream);
    if (!outcome.accepted) {
      if (outcome.failure !== undefined) this.reportError(outcome.failure);
      if (this.listenerCount('rejected') > 0) this.emit('rejected', outcome.status, outcome.reason, request);
      writeStreamRejection(stream, outcome);
      return null;
    }
    if (stream.destroyed || stream.closed) {
      outcome.extension?.dispose();
      return null;
    }
    writeStreamAcceptance(stream, outcome);
    return this.startConnection(stream, outcome, request!, undefined);
  }

  /** A socket that went away during its handshake. */
  private forget(socket: Duplex): void {
    this.pending.delete(socket);
    socket.destroy();
  }

  private reportError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

/** A message framed once for many connections: text for strings unless `binary`, binary otherwise unless `binary: false`. */
function prepareMessage(data: SendData, binary: boolean | undefined, compress: boolean): PreparedMessage {
  const isBinary = typeof data === 'string' ? binary === true : binary !== false;
  return new PreparedMessage(bytesOf(data), isBinary, compress);
}

function callbackNotCalled(where: string, instead: string): InvalidOptionError {
  return new InvalidOptionError('callback', `${where}: a \`callback\` (ws's API) would never be called: ${instead} (or import { WebSocketServer } from 'wsforge/ws' for the ws API)`);
}

/** node:http2 servers (their class is not exported): they have `updateSettings`, http servers do not. */
function isHttp2Server(server: AttachableServer): server is Http2SecureServer | Http2Server {
  return typeof (server as Partial<Http2Server>).updateSettings === 'function';
}

function swallowError(): void {
  // Errors on a socket still in the handshake end it; 'close' does the bookkeeping.
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function';
}
