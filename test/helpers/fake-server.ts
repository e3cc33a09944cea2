/**
 * A raw TCP server that plays a WebSocket server by hand, for client tests: each accepted
 * connection is a RawPeer; the test reads the request and writes whatever response it wants.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { acceptFor, type HttpHead, headerValue, RawPeer } from './raw-peer.js';

export interface FakeServer {
  port: number;
  /** Connections accepted so far. */
  peers: RawPeer[];
  /** The next accepted connection (waits for it). */
  nextPeer(ms?: number): Promise<RawPeer>;
  close(): Promise<void>;
}

export async function startFakeServer(onPeer?: (peer: RawPeer) => void | Promise<void>): Promise<FakeServer> {
  const peers: RawPeer[] = [];
  const sockets = new Set<Socket>();
  let taken = 0;
  let notify: (() => void) | null = null;
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    const peer = new RawPeer(socket);
    peers.push(peer);
    notify?.();
    if (onPeer !== undefined) {
      Promise.resolve(onPeer(peer)).catch(() => socket.destroy());
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    peers,
    nextPeer(ms = 2000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          notify = null;
          reject(new Error(`no connection to the fake server within ${ms} ms`));
        }, ms);
        const check = () => {
          if (peers.length > taken) {
            clearTimeout(timer);
            notify = null;
            resolve(peers[taken++]!);
          }
        };
        notify = check;
        check();
      });
    },
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** The 101 response to a request head, with a correct accept value unless overridden. */
export function switchingProtocols(request: HttpHead, overrides: { accept?: string; lines?: string[]; upgrade?: string | null; connection?: string | null } = {}): string {
  const key = headerValue(request, 'sec-websocket-key') ?? '';
  const lines = ['HTTP/1.1 101 Switching Protocols'];
  if (overrides.upgrade !== null) lines.push(`Upgrade: ${overrides.upgrade ?? 'websocket'}`);
  if (overrides.connection !== null) lines.push(`Connection: ${overrides.connection ?? 'Upgrade'}`);
  lines.push(`Sec-WebSocket-Accept: ${overrides.accept ?? acceptFor(key)}`);
  lines.push(...(overrides.lines ?? []));
  return lines.join('\r\n') + '\r\n\r\n';
}
