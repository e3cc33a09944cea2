/**
 * ws's `WebSocketServer` on wsforge's server: ws's options, events and methods (its
 * doc/ws.md), with node:http parsing the request (so 'connection' gets an IncomingMessage, as
 * in ws) and wsforge validating it, answering 101 and running the connections. One set of
 * server-wide handlers serves every connection: nothing is created per connection but the
 * ws-shaped wrapper.
 */
import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server as HttpServer, STATUS_CODES } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import {
  type WebSocket as Connection,
  type HandshakeAccept,
  type HandshakeDecision,
  type HandshakeReject,
  type HandshakeRequest,
  type ServerHandlers,
  WebSocketServer as CoreServer,
  type WebSocketError,
} from '../index.js';
import { computeAcceptKey } from '../protocol/index.js';
import { connectionOptions, type ServerOptions, type WebSocketClass, type VerifyClientCallbackAsync, type VerifyClientCallbackSync, type VerifyClientInfo } from './options.js';
import { upgradeProblem } from './upgrade-check.js';
import { WebSocket } from './websocket.js';

export interface WebSocketServerEventMap {
  connection: [ws: WebSocket, request: IncomingMessage];
  error: [error: Error];
  headers: [headers: string[], request: IncomingMessage];
  listening: [];
  close: [];
  wsClientError: [error: Error, socket: Duplex, request: IncomingMessage];
}

export type UpgradeCallback = (ws: WebSocket, request: IncomingMessage) => void;

/** Carried by an upgrade request from `handleUpgrade()` to the connection it opens. */
interface PendingUpgrade {
  readonly callback: UpgradeCallback;
  readonly request: IncomingMessage;
}

const kPendingUpgrade = Symbol('wsforge.ws.pendingUpgrade');
type UpgradeRequest = IncomingMessage & { [kPendingUpgrade]?: PendingUpgrade | undefined };

const RUNNING = 0;
const CLOSING = 1;
const CLOSED = 2;

const SHUTTING_DOWN: HandshakeReject = { status: 503 };

// The handlers that need no server: the connection's wrapper is its `data`.
function onMessage(connection: Connection, data: string | Buffer, isBinary: boolean): void {
  (connection.data as WebSocket).receiveMessage(data, isBinary);
}
function onPing(connection: Connection, payload: Buffer): void {
  (connection.data as WebSocket).receivePing(payload);
}
function onPong(connection: Connection, payload: Buffer): void {
  (connection.data as WebSocket).receivePong(payload);
}
function onError(connection: Connection, error: WebSocketError): void {
  (connection.data as WebSocket).receiveError(error);
}

function emitClose(server: WebSocketServer): void {
  server.markClosed();
  server.emit('close');
}

export class WebSocketServer extends EventEmitter<WebSocketServerEventMap> {
  /** The options as given. */
  readonly options: ServerOptions;
  /** The open connections; only with `clientTracking` (the default). */
  declare clients: Set<WebSocket>;
  private readonly core: CoreServer;
  private readonly connectionClass: WebSocketClass;
  private server: HttpServer | HttpsServer | null = null;
  private removeServerListeners: (() => void) | null = null;
  private state = RUNNING;
  private emitCloseWhenEmpty = false;

  /** One and only one of `port`, `server` and `noServer`; `callback` listens for 'listening' (`port` mode). */
  constructor(options: ServerOptions, callback?: () => void) {
    super();
    const { port, server, noServer } = options;
    const hasPort = port !== undefined && port !== null;
    if ((!hasPort && !server && !noServer) || (hasPort && (server || noServer)) || (server && noServer)) {
      throw new TypeError('One and only one of the "port", "server", or "noServer" options must be specified');
    }
    this.options = options;
    this.connectionClass = options.WebSocket ?? WebSocket;
    if (options.clientTracking !== false) this.clients = new Set();
    const handlers: ServerHandlers = {
      open: (connection) => this.opened(connection),
      message: onMessage,
      ping: onPing,
      pong: onPong,
      close: (connection, code, reason) => this.closed(connection, code, reason),
      error: onError,
    };
    this.core = new CoreServer({ ...connectionOptions(options), handlers, onHandshake: (request) => this.decide(request) });
    // A throwing hook (verifyClient, handleProtocols, a 'headers' listener) refuses with 500.
    this.core.on('error', (error) => {
      if (this.listenerCount('error') > 0) this.emit('error', error);
    });

    if (hasPort) {
      const own = createServer((_request, response) => {
        // ws's answer to plain HTTP requests on its own server.
        const body = STATUS_CODES[426]!;
        response.writeHead(426, { 'Content-Length': body.length, 'Content-Type': 'text/plain' });
        response.end(body);
      });
      this.server = own;
      own.listen(port, options.host, options.backlog, callback);
    } else if (server) {
      this.server = server;
    }
    if (this.server !== null) this.listenTo(this.server);
  }

  private listenTo(server: HttpServer | HttpsServer): void {
    const listening = (): void => {
      this.emit('listening');
    };
    const error = (cause: Error): void => {
      this.emit('error', cause);
    };
    const upgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
      this.handleUpgrade(request, socket, head, (ws, req) => this.emit('connection', ws, req));
    };
    server.on('listening', listening);
    server.on('error', error);
    server.on('upgrade', upgrade);
    this.removeServerListeners = () => {
      server.off('listening', listening);
      server.off('error', error);
      server.off('upgrade', upgrade);
    };
  }

  /** The bound address (`port` and `server` modes); throws in `noServer` mode, as ws does. */
  address(): AddressInfo | string | null {
    if (this.options.noServer) throw new Error('The server is operating in "noServer" mode');
    return this.server?.address() ?? null;
  }

  /**
   * Stop accepting connections; close the http server if this server created it. Open
   * connections stay open (as in ws: close them yourself). 'close' is emitted once the server
   * is closed and, with a server of your own and client tracking, the last connection is gone.
   */
  close(callback?: (error?: Error) => void): void {
    if (this.state === CLOSED) {
      if (callback !== undefined) this.once('close', () => callback(new Error('The server is not running')));
      process.nextTick(emitClose, this);
      return;
    }
    if (callback !== undefined) this.once('close', () => callback());
    if (this.state === CLOSING) return;
    this.state = CLOSING;
    const server = this.server;
    this.removeServerListeners?.();
    this.removeServerListeners = null;
    this.server = null;
    if (server !== null && this.options.port !== undefined && this.options.port !== null) {
      server.close(() => emitClose(this));
    } else if (this.clients !== undefined && this.clients.size > 0) {
      this.emitCloseWhenEmpty = true;
    } else {
      process.nextTick(emitClose, this);
    }
  }

  /** @internal */
  markClosed(): void {
    this.state = CLOSED;
  }

  /** Whether this server serves `request`: by default, whether its path is `path` (when set). */
  shouldHandle(request: IncomingMessage): boolean {
    const path = this.options.path;
    if (path === undefined || path === '') return true;
    const url = request.url ?? '';
    const query = url.indexOf('?');
    return (query === -1 ? url : url.slice(0, query)) === path;
  }

  /**
   * Complete the handshake of an 'upgrade' request: `callback(ws, request)` once the connection
   * is open; a refused request gets its HTTP error and the socket is closed.
   */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, callback: UpgradeCallback): void {
    if (this.listenerCount('wsClientError') > 0) {
      // With a listener, an invalid handshake is the listener's to answer.
      const problem = upgradeProblem(request);
      if (problem !== null) {
        this.emit('wsClientError', problem, socket, request);
        return;
      }
    }
    (request as UpgradeRequest)[kPendingUpgrade] = { callback, request };
    this.core.handleUpgrade(request, socket, head).catch((error: unknown) => {
      // An exception thrown by the callback: the application's, as it would be with ws.
      process.nextTick(() => {
        throw error;
      });
    });
  }

  /** The handshake decision, in ws's order: path, verifyClient, subprotocol, 'headers'. */
  private decide(request: HandshakeRequest): HandshakeDecision | Promise<HandshakeDecision> {
    const req = request.httpRequest as UpgradeRequest | undefined;
    const pending = req?.[kPendingUpgrade];
    if (req === undefined || pending === undefined) return { status: 500 };
    if (this.state !== RUNNING) return SHUTTING_DOWN;
    if (!this.shouldHandle(req)) return { status: 400 };
    const verify = this.options.verifyClient;
    if (verify === undefined) return this.accept(request, req, pending);
    const socket = req.socket as Partial<TLSSocket>;
    const info: VerifyClientInfo = { origin: req.headers.origin, secure: Boolean(socket.authorized || socket.encrypted), req };
    if (verify.length === 2) {
      return new Promise((resolve) => {
        (verify as VerifyClientCallbackAsync)(info, (result, code, message, headers) => {
          resolve(result ? this.accept(request, req, pending) : refusal(code ?? 401, message, headers));
        });
      });
    }
    return (verify as VerifyClientCallbackSync)(info) ? this.accept(request, req, pending) : { status: 401 };
  }

  private accept(request: HandshakeRequest, req: IncomingMessage, pending: PendingUpgrade): HandshakeAccept | HandshakeReject {
    if (this.state !== RUNNING) return SHUTTING_DOWN;
    let protocol: string | undefined;
    if (request.protocols.length > 0) {
      const handleProtocols = this.options.handleProtocols;
      const chosen = handleProtocols === undefined ? request.protocols[0] : handleProtocols(new Set(request.protocols), req);
      if (typeof chosen === 'string' && chosen !== '') protocol = chosen;
    }
    const accept: HandshakeAccept = { data: pending };
    if (protocol !== undefined) accept.protocol = protocol;
    if (this.listenerCount('headers') > 0) accept.headers = this.headersFromListeners(req, protocol);
    return accept;
  }

  /**
   * ws's 'headers' event: listeners see the lines of the 101 response and may push more; the
   * lines they add are sent (changes to the standard lines are not).
   */
  private headersFromListeners(req: IncomingMessage, protocol: string | undefined): Record<string, string[]> {
    const lines = [
      'HTTP/1.1 101 Switching Protocols',
      'Upgrade: websocket',
      'Connection: Upgrade',
      `Sec-WebSocket-Accept: ${computeAcceptKey(String(req.headers['sec-websocket-key']))}`,
    ];
    if (protocol !== undefined) lines.push(`Sec-WebSocket-Protocol: ${protocol}`);
    const standard = lines.length;
    this.emit('headers', lines, req);
    const added: Record<string, string[]> = {};
    for (const line of lines.slice(standard)) {
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim();
      (added[name] ??= []).push(line.slice(colon + 1).trim());
    }
    return added;
  }

  private opened(connection: Connection): void {
    const pending = connection.data as PendingUpgrade;
    (pending.request as UpgradeRequest)[kPendingUpgrade] = undefined;
    const ws = new this.connectionClass(null, undefined, this.options);
    ws.attachConnection(connection);
    this.clients?.add(ws);
    pending.callback(ws, pending.request);
  }

  private closed(connection: Connection, code: number, reason: string): void {
    const ws = connection.data as WebSocket;
    const clients = this.clients;
    if (clients !== undefined && clients.delete(ws) && this.emitCloseWhenEmpty && clients.size === 0) {
      this.emitCloseWhenEmpty = false;
      process.nextTick(emitClose, this);
    }
    ws.receiveClose(code, reason);
  }
}

/** A refusal from verifyClient's callback: ws's status (401 by default), body and headers. */
function refusal(status: number, message: string | undefined, headers: Record<string, string | number | readonly string[]> | undefined): HandshakeReject {
  const rejection: HandshakeReject = { status, body: message ?? STATUS_CODES[status] ?? '' };
  if (headers !== undefined) {
    const mapped: Record<string, string | string[]> = {};
    for (const [name, value] of Object.entries(headers)) mapped[name] = typeof value === 'number' ? String(value) : typeof value === 'string' ? value : [...value];
    rejection.headers = mapped;
  }
  return rejection;
}
