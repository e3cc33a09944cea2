// The fuzzing server: a raw-TCP listener that a client under test connects to. Each case waits for the
// connection on its own request path (/case/<id>), so that many cases run at once on one listener.
import { createServer, type Server, type Socket } from 'node:net';
import { parseRequestLine, readHead, type HttpHead } from './handshake.js';

export interface IncomingUpgrade {
  socket: Socket;
  head: HttpHead;
  rest: Buffer;
}

interface Pending {
  resolve: (c: IncomingUpgrade) => void;
  timer: NodeJS.Timeout;
}

export class FuzzingServer {
  private server: Server | null = null;
  private readonly pending = new Map<string, Pending>();
  private readonly sockets = new Set<Socket>();
  port = 0;
  readonly host = '127.0.0.1';
  /** Connections that matched no waiting case (path, reason), for diagnostics. */
  readonly strays: string[] = [];

  async start(): Promise<void> {
    const server = createServer({ allowHalfOpen: true }, (socket) => this.onConnection(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr === null || typeof addr === 'string') throw new Error('fuzzing server has no port');
    this.port = addr.port;
  }

  urlFor(path: string): string {
    return `ws://${this.host}:${this.port}${path}`;
  }

  /** Waits for the client under test to open `path`; resolves null after `timeoutMs`. */
  accept(path: string, timeoutMs: number): Promise<IncomingUpgrade | null> {
    if (this.pending.has(path)) throw new Error(`a case already waits on ${path}`);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(path);
        resolve(null);
      }, timeoutMs);
      this.pending.set(path, {
        timer,
        resolve: (c) => {
          clearTimeout(timer);
          this.pending.delete(path);
          resolve(c);
        },
      });
    });
  }

  /** Gives up waiting on `path` (the client under test failed before connecting). */
  cancel(path: string): void {
    const p = this.pending.get(path);
    if (p !== undefined) {
      clearTimeout(p.timer);
      this.pending.delete(path);
    }
  }

  private onConnection(socket: Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => {
      /* recorded by the case's Wire once it owns the socket */
    });
    readHead(socket, 5000).then(
      ({ head, rest }) => {
        const { path } = parseRequestLine(head);
        const p = this.pending.get(path);
        if (p === undefined) {
          if (this.strays.length < 50) this.strays.push(`${path}: no case waiting`);
          socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
          setTimeout(() => socket.destroy(), 1000).unref();
          return;
        }
        p.resolve({ socket, head, rest });
      },
      (err: Error) => {
        if (this.strays.length < 50) this.strays.push(`connection without a valid request: ${err.message}`);
        socket.destroy();
      },
    );
  }

  async stop(): Promise<void> {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
