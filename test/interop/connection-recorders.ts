// Record what each side of a connection sees, as it happens, so a test can send first and
// check afterwards without racing the events. One recorder for wsforge connections, one for
// the `ws` package's.
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createSecureServer, type Http2SecureServer, type ServerHttp2Session } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type WS from 'ws';
import type { WebSocketServer as WsWebSocketServer } from 'ws';
import { ReadyState, WebSocketServer, type HandshakeRequest, type ServerOptions, type WebSocket } from '../../src/index.js';
import { withTimeout } from '../helpers/timing.js';
import { Deferred, EventQueue } from './bounded-wait.js';
import { loadWs } from './npm-peers.js';

export interface ReceivedMessage {
  data: Buffer;
  isBinary: boolean;
}

export interface FrameSeen {
  opcode: number;
  fin: boolean;
  rsv1: boolean;
  length: number;
}

export interface CloseSeen {
  code: number;
  reason: string;
}

/** What one connection saw, whichever library made it: messages, pings, pongs, errors, the close. */
abstract class ConnectionRecorder {
  readonly messages = new EventQueue<ReceivedMessage>('message');
  readonly pings = new EventQueue<Buffer>('ping');
  readonly pongs = new EventQueue<Buffer>('pong');
  readonly errors: Error[] = [];
  protected readonly closed = new Deferred<CloseSeen>();

  /** `side` names the library in timeout messages ("wsforge", "ws"). */
  constructor(private readonly side: string) {}

  nextMessage(ms = 5000, what?: string): Promise<ReceivedMessage> {
    return this.messages.next(ms, what ?? `a message on the ${this.side} side`);
  }

  waitForClose(ms = 5000): Promise<CloseSeen> {
    return this.closed.wait(ms, `the ${this.side} connection's 'close' event`);
  }

  get isClosed(): boolean {
    return this.closed.settled;
  }
}

/** What a wsforge connection saw. Messages are kept as bytes (text as its UTF-8). */
export class WsforgeRecorder extends ConnectionRecorder {
  readonly texts: string[] = [];
  /** Frames received, when the connection was made with `observeFrames: true`. */
  readonly frames: FrameSeen[] = [];

  constructor(readonly ws: WebSocket) {
    super('wsforge');
    ws.on('frame', (frame) => this.frames.push({ opcode: frame.opcode, fin: frame.fin, rsv1: frame.rsv1, length: frame.payload.length }));
    ws.on('message', (data, isBinary) => {
      if (typeof data === 'string') this.texts.push(data);
      this.messages.push({ data: typeof data === 'string' ? Buffer.from(data, 'utf8') : data, isBinary });
    });
    ws.on('ping', (payload) => this.pings.push(Buffer.from(payload)));
    ws.on('pong', (payload) => this.pongs.push(Buffer.from(payload)));
    ws.on('error', (error) => this.errors.push(error));
    ws.on('close', (code, reason) => this.closed.resolve({ code, reason }));
  }
}

/** What a `ws` package connection saw. */
export class WsRecorder extends ConnectionRecorder {
  /** Client side: the TCP socket, from the 'upgrade' event (to count bytes on the wire). */
  socket: Socket | null = null;

  constructor(readonly ws: WS) {
    super('ws');
    ws.on('upgrade', (response) => {
      this.socket = response.socket;
    });
    ws.on('message', (data, isBinary) => {
      this.messages.push({ data: toBuffer(data), isBinary });
    });
    ws.on('ping', (payload) => this.pings.push(Buffer.from(payload)));
    ws.on('pong', (payload) => this.pongs.push(Buffer.from(payload)));
    // Without a listener an 'error' event would throw; ws closes the connection by itself.
    ws.on('error', (error) => this.errors.push(error));
    ws.on('close', (code, reason) => this.closed.resolve({ code, reason: reason.toString('utf8') }));
  }
}

function toBuffer(data: WS.RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

/** Open a `ws` client and wait for 'open' (or fail with the handshake error). */
export async function openWsClient(url: string, protocols?: string | string[], options: WS.ClientOptions = {}): Promise<WsRecorder> {
  const { WebSocket: WsClient } = await loadWs();
  const ws = new WsClient(url, protocols, { maxPayload: 64 * 1024 * 1024, ...options });
  const recorder = new WsRecorder(ws);
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_request, response) => {
      reject(new Error(`ws client: handshake answered with HTTP ${response.statusCode}`));
      ws.terminate();
    });
  });
  await withTimeout(opened, 5000, `the ws client to open ${url}`);
  return recorder;
}

export interface ConnectionSeen {
  ws: WebSocket;
  request: HandshakeRequest;
  recorder: WsforgeRecorder;
}

export interface WsforgeServer {
  wss: WebSocketServer;
  port: number;
  url: string;
  /** The http:// (https:// with `http2: true`) URL of the blank page (servers started with `http` or `http2`). */
  httpUrl: string;
  /** Connections in arrival order. */
  connections: EventQueue<ConnectionSeen>;
  /** The connection whose request path is `path` (each test connects to its own path). */
  connectionAt(path: string, ms?: number): Promise<ConnectionSeen>;
  close(): Promise<void>;
}

/**
 * A wsforge server on 127.0.0.1 that echoes every message with the same type, unless
 * `onConnection` takes over. By default it listens on raw TCP (listen()); with `http: true`
 * it is attached to a node:http server that serves a blank HTML page at / (for a browser to
 * open a WebSocket from an http:// origin); with `http2: { cert, key }` to a node:http2 secure
 * server (HTTP/2 and HTTP/1.1, SETTINGS_ENABLE_CONNECT_PROTOCOL) serving the page over https://,
 * so a browser's WebSockets can be HTTP/2 streams (RFC 8441).
 */
export async function startWsforgeServer(
  options: ServerOptions = {},
  onConnection?: (ws: WebSocket, recorder: WsforgeRecorder) => void,
  transport: { http?: boolean; http2?: { cert: Buffer; key: Buffer } } = {},
): Promise<WsforgeServer> {
  const wss = new WebSocketServer(options);
  const connections = new EventQueue<ConnectionSeen>('connection');
  wss.on('error', () => {});
  wss.on('connection', (ws, request) => {
    const recorder = new WsforgeRecorder(ws);
    if (onConnection !== undefined) onConnection(ws, recorder);
    else ws.on('message', (data, isBinary) => echo(ws, data, isBinary));
    connections.push({ ws, request, recorder });
  });
  let port: number;
  let http: HttpServer | null = null;
  let http2: Http2SecureServer | null = null;
  const sessions = new Set<ServerHttp2Session>();
  if (transport.http2 !== undefined) {
    const server = createSecureServer({ ...transport.http2, allowHTTP1: true, settings: { enableConnectProtocol: true } }, (_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><meta charset="utf-8"><title>wsforge interop</title><p>interop page over HTTP/2</p>');
    });
    http2 = server;
    server.on('session', (session) => {
      sessions.add(session);
      session.on('close', () => sessions.delete(session));
    });
    wss.attach(server);
    await withTimeout(new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 5000, 'the http2 server to listen');
    port = (server.address() as AddressInfo).port;
  } else if (transport.http) {
    const server = createHttpServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      response.end('<!doctype html><meta charset="utf-8"><title>wsforge interop</title><p>interop page</p>');
    });
    http = server;
    wss.attach(server);
    await withTimeout(new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve)), 5000, 'the http server to listen');
    port = (server.address() as AddressInfo).port;
  } else {
    port = (await wss.listen({ port: 0, host: '127.0.0.1' })).port;
  }
  return {
    wss,
    port,
    url: `${http2 === null ? 'ws' : 'wss'}://127.0.0.1:${port}/`,
    httpUrl: `${http2 === null ? 'http' : 'https'}://127.0.0.1:${port}/`,
    connections,
    connectionAt: (path, ms = 5000) => connectionAt(connections, (c) => c.request.path === path, ms, `a wsforge connection at ${path}`),
    close: async () => {
      await closeWsforgeServer(wss);
      if (http !== null) {
        const server = http;
        server.closeAllConnections();
        await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'the http server to close').catch(() => {});
      }
      if (http2 !== null) {
        const server = http2;
        // server.close() waits for every HTTP/2 session (the browser keeps its own open).
        for (const session of sessions) session.destroy();
        await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'the http2 server to close').catch(() => {});
      }
    },
  };
}

/** Echo a message back with its type, unless the connection is already closing. */
/**
 * A connection handler for the browser scenarios: echo every message, but answer the text
 * "stream-text" with `chunks` sent as one fragmented text message (sendStream).
 */
export function echoOrStream(chunks: readonly Buffer[]): (ws: WebSocket) => void {
  return (ws) =>
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data === 'stream-text') {
        ws.sendStream(chunks, { binary: false }).catch(() => {});
        return;
      }
      echo(ws, data, isBinary);
    });
}

export function echo(ws: WebSocket, data: string | Buffer, isBinary: boolean): void {
  if (ws.readyState !== ReadyState.OPEN) return;
  ws.send(data, { binary: isBinary });
}

/** Close a wsforge server within a bound (clients that do not answer are cut off by it). */
export async function closeWsforgeServer(wss: WebSocketServer): Promise<void> {
  try {
    await withTimeout(wss.close(), 8000, 'the wsforge server to close');
  } catch {
    for (const client of wss.clients) client.terminate();
  }
}

/** Wait (bounded) until a connection matching `match` has been recorded in `queue`. */
export async function connectionAt<C>(queue: EventQueue<C>, match: (c: C) => boolean, ms: number, what: string): Promise<C> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = queue.history.find(match);
    if (found !== undefined) return found;
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    try {
      await queue.next(left, what);
    } catch {
      // re-check the history once more, then fail
    }
  }
}

export interface WsConnectionSeen {
  ws: WS;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  recorder: WsRecorder;
  /** The TCP socket (to count bytes on the wire). */
  socket: Socket;
}

export interface WsServer {
  wss: WsWebSocketServer;
  port: number;
  url: string;
  connections: EventQueue<WsConnectionSeen>;
  connectionAt(path: string, ms?: number): Promise<WsConnectionSeen>;
  close(): Promise<void>;
}

/** A `ws` server on 127.0.0.1 that echoes every message with its type (unless `echoMessages` is false). */
export async function startWsServer(options: WS.ServerOptions = {}, echoMessages = true): Promise<WsServer> {
  const { WebSocketServer: WsServerClass, WebSocket: WsClass } = await loadWs();
  const wss = new WsServerClass({ host: '127.0.0.1', port: 0, maxPayload: 64 * 1024 * 1024, ...options });
  const connections = new EventQueue<WsConnectionSeen>('ws connection');
  wss.on('error', () => {});
  wss.on('connection', (ws, request) => {
    const recorder = new WsRecorder(ws);
    if (echoMessages) {
      ws.on('message', (data, isBinary) => {
        if (ws.readyState === WsClass.OPEN) ws.send(data, { binary: isBinary });
      });
    }
    const path = (request.url ?? '/').split('?')[0]!;
    connections.push({ ws, path, headers: request.headers, recorder, socket: request.socket as Socket });
  });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      wss.once('listening', () => resolve());
      wss.once('error', reject);
    }),
    5000,
    'the ws server to listen',
  );
  const port = (wss.address() as AddressInfo).port;
  return {
    wss,
    port,
    url: `ws://127.0.0.1:${port}/`,
    connections,
    connectionAt: (path, ms = 5000) => connectionAt(connections, (c) => c.path === path, ms, `a ws connection at ${path}`),
    close: async () => {
      for (const client of wss.clients) client.terminate();
      await withTimeout(new Promise<void>((resolve) => wss.close(() => resolve())), 5000, 'the ws server to close').catch(() => {});
    },
  };
}
