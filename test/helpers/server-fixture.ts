/** Start wsforge servers on loopback for a test, and always take them down. */
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type ServerOptions, type WebSocket, WebSocketServer } from '../../src/index.js';
import type { TestContext } from 'node:test';
import { openRaw, type RawPeer } from './raw-peer.js';
import { nextEvent, withTimeout } from './timing.js';

export type ServerMode = 'listen' | 'attach' | 'handleUpgrade';
export const SERVER_MODES: readonly ServerMode[] = ['listen', 'attach', 'handleUpgrade'];

export interface RunningServer {
  wss: WebSocketServer;
  port: number;
  mode: ServerMode;
  /** The http server in attach / handleUpgrade mode. */
  http: HttpServer | null;
  /** What handleUpgrade resolved with, in handleUpgrade mode. */
  upgrades: Array<WebSocket | null>;
  stop(): Promise<void>;
}

/**
 * A WebSocketServer on 127.0.0.1, port 0, in one of the three modes: `listen()` (raw TCP),
 * `attach(http.Server)`, or `handleUpgrade()` from a plain http server's 'upgrade' event.
 * Plain HTTP requests to the http server get 200 "plain http".
 */
export async function startServer(options: ServerOptions = {}, mode: ServerMode = 'listen'): Promise<RunningServer> {
  const wss = new WebSocketServer({ closeTimeout: 100, ...options });
  const upgrades: Array<WebSocket | null> = [];
  let http: HttpServer | null = null;
  let port: number;
  if (mode === 'listen') {
    port = (await wss.listen({ port: 0, host: '127.0.0.1' })).port;
  } else {
    http = createHttpServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '10' });
      response.end('plain http');
    });
    if (mode === 'attach') {
      wss.attach(http);
    } else {
      http.on('upgrade', (request, socket, head) => {
        wss.handleUpgrade(request, socket, head).then(
          (ws) => upgrades.push(ws),
          () => upgrades.push(null),
        );
      });
    }
    await new Promise<void>((resolve) => http!.listen(0, '127.0.0.1', resolve));
    port = (http.address() as AddressInfo).port;
  }
  const server = http;
  return {
    wss,
    port,
    mode,
    http,
    upgrades,
    async stop() {
      try {
        await withTimeout(wss.close(), 3000, 'wss.close()');
      } finally {
        for (const ws of wss.clients) ws.terminate();
        if (server !== null) {
          server.closeAllConnections();
          await new Promise<void>((resolve) => server.close(() => resolve()));
        }
      }
    },
  };
}

/** An echo handler: every message goes back with the same type. */
export function echo(wss: WebSocketServer): void {
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      if (ws.readyState === 1) ws.send(data, { binary: isBinary });
    });
  });
}

/** A wsforge server and one raw client connected to it, both cleaned up after the test. */
export interface ConnectedPair {
  server: RunningServer;
  peer: RawPeer;
  /** The server side of the connection. */
  ws: WebSocket;
  /** The server connection's 'close' event (code, reason). */
  closed: Promise<[number, string]>;
}

export async function connectedPair(
  t: TestContext,
  options: ServerOptions = {},
  closeWithinMs = 10_000,
): Promise<ConnectedPair> {
  const server = await startServer(options);
  t.after(() => server.stop());
  const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 2000);
  const { peer } = await openRaw(server.port);
  t.after(() => peer.destroy());
  const [ws] = await connection;
  const closed = nextEvent<[number, string]>(ws, 'close', closeWithinMs);
  closed.catch(() => {});
  return { server, peer, ws, closed };
}
