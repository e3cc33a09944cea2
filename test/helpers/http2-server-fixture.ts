/**
 * A wsforge server taking WebSockets over HTTP/2 (RFC 8441) on 127.0.0.1, port 0, with the
 * test-only certificate, in one of its modes, always taken down:
 * - `listen`: `wss.listen({ tls, http2: true })`, HTTP/2 and HTTP/1.1 by ALPN, no node:http;
 * - `attach`: `wss.attach(http2.createSecureServer({ allowHTTP1: true, settings:
 *   { enableConnectProtocol: true } }, onRequest))`, which answers other requests with a page;
 * - `attach-streams`: the same server without a request listener (only 'stream' events);
 * - `handleStream`: the application's own 'stream' listener hands WebSocket streams over.
 */
import { createSecureServer, type Http2SecureServer, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type ServerOptions, type WebSocket } from '../../src/index.js';
import { TEST_CERT, TEST_KEY } from './http2-peer.js';
import { withTimeout } from './timing.js';

export type Http2ServerMode = 'listen' | 'attach' | 'attach-streams' | 'handleStream';
export const HTTP2_SERVER_MODES: readonly Http2ServerMode[] = ['listen', 'attach', 'attach-streams', 'handleStream'];

export interface RunningHttp2Server {
  wss: WebSocketServer;
  port: number;
  mode: Http2ServerMode;
  /** The node:http2 server (attach and handleStream modes). */
  http2: Http2SecureServer | null;
  /** HTTP/2 sessions the node:http2 server saw (attach and handleStream modes). */
  sessions: ServerHttp2Session[];
  /** What handleStream resolved with (handleStream mode). */
  handled: Array<WebSocket | null>;
  stop(): Promise<void>;
}

export const PAGE = '<!doctype html><meta charset="utf-8"><title>wsforge h2</title><p>page</p>';

export async function startHttp2Server(options: ServerOptions = {}, mode: Http2ServerMode = 'listen'): Promise<RunningHttp2Server> {
  const wss = new WebSocketServer({ closeTimeout: 200, ...options });
  wss.on('error', () => {});
  const sessions: ServerHttp2Session[] = [];
  const handled: Array<WebSocket | null> = [];
  let http2: Http2SecureServer | null = null;
  let port: number;
  if (mode === 'listen') {
    port = (await wss.listen({ port: 0, host: '127.0.0.1', tls: { cert: TEST_CERT, key: TEST_KEY }, http2: true })).port;
  } else {
    const serverOptions = { cert: TEST_CERT, key: TEST_KEY, allowHTTP1: true, settings: { enableConnectProtocol: true } };
    const server =
      mode === 'attach'
        ? createSecureServer(serverOptions, (_request, response) => {
            response.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
            response.end(PAGE);
          })
        : createSecureServer(serverOptions);
    http2 = server;
    server.on('session', (session) => sessions.push(session));
    if (mode === 'handleStream') {
      server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => {
        if (headers[':method'] !== 'CONNECT') {
          stream.respond({ ':status': 200 });
          stream.end(PAGE);
          return;
        }
        wss.handleStream(stream, headers, rawHeaders).then(
          (ws) => handled.push(ws),
          () => handled.push(null),
        );
      });
    } else {
      wss.attach(server);
    }
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  }
  return {
    wss,
    port,
    mode,
    http2,
    sessions,
    handled,
    async stop() {
      await withTimeout(wss.close(), 5000, 'the wsforge server to close').catch(() => {
        for (const ws of wss.clients) ws.terminate();
      });
      if (http2 !== null) {
        const server = http2;
        // server.close() waits for every session, browsers' and tests' idle ones included.
        for (const session of sessions) session.destroy();
        await withTimeout(new Promise<void>((resolve) => server.close(() => resolve())), 5000, 'the http2 server to close').catch(() => {});
      }
    },
  };
}
