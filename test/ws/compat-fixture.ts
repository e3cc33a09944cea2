/**
 * wsforge/ws servers on loopback for the tests, and `ws` (npm) clients talking to them; all
 * of them taken down after each test.
 */
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TestContext } from 'node:test';
import type { ClientOptions, RawData as WsRawData, WebSocket as WsClient } from 'ws';
import { type ServerOptions, type WebSocket, WebSocketServer } from '../../src/ws/index.js';
import { EventQueue } from '../interop/bounded-wait.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';
import { loadWs } from '../interop/npm-peers.js';

export interface CompatServer {
  wss: WebSocketServer;
  port: number;
  url: string;
  /** Every connection the server emitted, with its request. */
  connections: EventQueue<[WebSocket, IncomingMessage]>;
}

/** A wsforge/ws server in `port` mode on 127.0.0.1 (any free port), closed after the test. */
export async function startCompat(t: TestContext, options: Omit<ServerOptions, 'port'> = {}): Promise<CompatServer> {
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1', closeTimeout: 500, ...options });
  const connections = new EventQueue<[WebSocket, IncomingMessage]>('connection');
  wss.on('connection', (ws, request) => connections.push([ws, request]));
  t.after(() => stopCompat(wss));
  await nextEvent(wss, 'listening', 3000);
  const { port } = wss.address() as AddressInfo;
  return { wss, port, url: `ws://127.0.0.1:${port}`, connections };
}

/** Close a server and drop its connections (ws's close() leaves them open). */
export async function stopCompat(wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients ?? []) ws.terminate();
  const closed = new Promise<void>((resolve) => wss.close(() => resolve()));
  await withTimeout(closed, 3000, 'wss.close()');
}

export interface ClientMessage {
  data: Buffer;
  isBinary: boolean;
}

export interface Client {
  ws: WsClient;
  messages: EventQueue<ClientMessage>;
  closed: Promise<{ code: number; reason: string }>;
}

/** A ws (npm) client, open, terminated after the test. */
export async function openClient(t: TestContext, url: string, protocols?: string | string[], options?: ClientOptions): Promise<Client> {
  const { WebSocket: WsClientClass } = await loadWs();
  const ws = protocols === undefined ? new WsClientClass(url, options) : new WsClientClass(url, protocols, options);
  t.after(() => ws.terminate());
  const messages = new EventQueue<ClientMessage>('client message');
  ws.on('message', (data: WsRawData, isBinary: boolean) => messages.push({ data: data as Buffer, isBinary }));
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  closed.catch(() => {});
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    }),
    3000,
    `the ws client to open ${url}`,
  );
  return { ws, messages, closed };
}

/** The server side of the next connection. */
export async function nextConnection(server: CompatServer): Promise<[WebSocket, IncomingMessage]> {
  return server.connections.next(3000, 'a connection on the wsforge/ws server');
}
