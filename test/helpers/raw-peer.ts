/**
 * A raw TCP peer for tests: writes bytes we choose, reads HTTP heads and frames by hand.
 * Wraps a real loopback socket (a client we dial, or a connection a fake server accepted).
 */
import { createHash, randomBytes } from 'node:crypto';
import { connect as netConnect, type Socket } from 'node:net';
import { type WireFrame, WireFrameReader, clientFrame, closePayload, OP, readClose } from './wire-frames.js';

export const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Sec-WebSocket-Accept computed here, not by the library (RFC 6455 §4.2.2). */
export function acceptFor(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

export function randomKey(): string {
  return randomBytes(16).toString('base64');
}

export interface HttpHead {
  /** "HTTP/1.1 101 Switching Protocols" or "GET /path HTTP/1.1". */
  startLine: string;
  status: number;
  /** Lowercased names; every value of a repeated header, in order. */
  headers: Map<string, string[]>;
  raw: string;
}

export function headerValue(head: HttpHead, name: string): string | undefined {
  const values = head.headers.get(name.toLowerCase());
  return values === undefined ? undefined : values.join(', ');
}

/** Whether a comma-separated header (all its lines) contains `token`, case-insensitively. */
export function headerHasToken(head: HttpHead, name: string, token: string): boolean {
  const value = headerValue(head, name);
  if (value === undefined) return false;
  return value.split(',').some((t) => t.trim().toLowerCase() === token.toLowerCase());
}

export function parseHttpHead(raw: string): HttpHead {
  const lines = raw.split('\r\n');
  const startLine = lines[0]!;
  const headers = new Map<string, string[]>();
  for (const line of lines.slice(1)) {
    if (line === '') continue;
    const colon = line.indexOf(':');
    const name = line.slice(0, colon).toLowerCase();
    const value = line.slice(colon + 1).trim();
    const list = headers.get(name);
    if (list === undefined) headers.set(name, [value]);
    else list.push(value);
  }
  const match = /^HTTP\/\d\.\d (\d{3})/.exec(startLine);
  return { startLine, status: match === null ? 0 : Number(match[1]), headers, raw };
}

export class RawPeer {
  readonly socket: Socket;
  private buffer: Buffer = Buffer.alloc(0);
  private readonly frames = new WireFrameReader();
  private readonly parsed: WireFrame[] = [];
  private frameMode = false;
  private waiters: Array<() => void> = [];
  /** The peer sent FIN. */
  ended = false;
  /** The socket is fully closed. */
  closed = false;
  /** A socket error (ECONNRESET...), if any. */
  error: Error | null = null;
  /** Every byte received (in frame or head mode), for assertions on the exact bytes; not kept after `discard()`. */
  readonly allReceived: Buffer[] = [];
  /** Count of bytes received. */
  bytesReceived = 0;
  private discarding = false;
  /** When the FIN or the close was seen (ms, performance.now()). */
  endedAt = 0;

  constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      if (this.discarding) {
        this.wake();
        return;
      }
      this.allReceived.push(chunk);
      if (this.frameMode) this.parsed.push(...this.frames.push(chunk));
      else this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.endedAt ||= performance.now();
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.endedAt ||= performance.now();
      this.wake();
    });
    socket.on('error', (error) => {
      this.error = error;
      this.wake();
    });
  }

  static connect(port: number, host = '127.0.0.1', ms = 2000): Promise<RawPeer> {
    return new Promise((resolve, reject) => {
      const socket = netConnect({ port, host });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to ${host}:${port} within ${ms} ms`));
      }, ms);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.off('error', reject);
        resolve(new RawPeer(socket));
      });
      socket.once('error', (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }

  /** Wait until `check` returns a value (not undefined), re-checking on every socket event. */
  waitFor<T>(check: () => T | undefined, ms: number, what: string): Promise<T> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== attempt);
        reject(new Error(`timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const attempt = (): void => {
        let value: T | undefined;
        try {
          value = check();
        } catch (error) {
          clearTimeout(timer);
          reject(error as Error);
          return;
        }
        if (value !== undefined) {
          clearTimeout(timer);
          resolve(value);
        } else {
          this.waiters.push(attempt);
        }
      };
      attempt();
    });
  }

  write(bytes: Uint8Array | string): void {
    this.socket.write(bytes);
  }

  /** Read an HTTP head (up to the blank line); what follows stays buffered (and is parsed as frames after `startFrames`). */
  readHead(ms = 2000): Promise<HttpHead> {
    return this.waitFor(
      () => {
        const end = this.buffer.indexOf('\r\n\r\n');
        if (end === -1) {
          if (this.ended || this.closed) throw new Error(`connection closed before a complete HTTP head: ${JSON.stringify(this.buffer.toString('latin1').slice(0, 200))}`);
          return undefined;
        }
        const raw = this.buffer.subarray(0, end + 4).toString('latin1');
        this.buffer = this.buffer.subarray(end + 4);
        return parseHttpHead(raw);
      },
      ms,
      'an HTTP head',
    );
  }

  /** Everything received (and not consumed as a head) until the peer ends the connection. */
  readUntilEnd(ms = 2000): Promise<Buffer> {
    return this.waitFor(() => (this.ended || this.closed ? this.buffer : undefined), ms, 'the peer to end the connection');
  }

  /** From now on, parse incoming bytes as WebSocket frames. */
  startFrames(): void {
    this.frameMode = true;
    const rest = this.buffer;
    this.buffer = Buffer.alloc(0);
    if (rest.length > 0) this.parsed.push(...this.frames.push(rest));
  }

  /** From now on only count incoming bytes (for floods and slow-consumer tests). */
  discard(): void {
    this.discarding = true;
    this.allReceived.length = 0;
  }

  /** Stop reading from the socket (the kernel buffers fill, then the sender backs up). */
  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  /** The next frame, or an error if the connection ends first. */
  nextFrame(ms = 2000): Promise<WireFrame> {
    return this.waitFor(
      () => {
        const frame = this.parsed.shift();
        if (frame !== undefined) return frame;
        if (this.frames.error !== null) throw new Error(`unreadable frame from the peer: ${this.frames.error}`);
        if (this.ended || this.closed) throw new Error('connection ended while waiting for a frame');
        return undefined;
      },
      ms,
      'a frame',
    );
  }

  /** Frames received so far and not yet taken. */
  takeFrames(): WireFrame[] {
    return this.parsed.splice(0);
  }

  /** The next frame, which must be a close frame: its code and reason. */
  async nextClose(ms = 2000): Promise<{ code: number; reason: string }> {
    const frame = await this.nextFrame(ms);
    return readClose(frame);
  }

  /** Skip frames until a close frame arrives; returns it. */
  async closeFrame(ms = 2000): Promise<{ code: number; reason: string; skipped: WireFrame[] }> {
    const skipped: WireFrame[] = [];
    const deadline = Date.now() + ms;
    for (;;) {
      const frame = await this.nextFrame(Math.max(1, deadline - Date.now()));
      if (frame.opcode === OP.CLOSE) return { ...readClose(frame), skipped };
      skipped.push(frame);
    }
  }

  /** Wait for the peer's FIN (or a full close). */
  waitEnd(ms = 2000): Promise<void> {
    return this.waitFor(() => (this.ended || this.closed ? true : undefined), ms, 'the peer to close the TCP connection').then(() => undefined);
  }

  waitClosed(ms = 2000): Promise<void> {
    return this.waitFor(() => (this.closed ? true : undefined), ms, 'the socket to close').then(() => undefined);
  }

  /** Send a masked frame (as a client). */
  sendClientFrame(spec: Parameters<typeof clientFrame>[0]): void {
    this.write(clientFrame(spec));
  }

  /** Send a masked close frame with a code, and reason. */
  sendClose(code?: number, reason = ''): void {
    this.write(clientFrame({ opcode: OP.CLOSE, payload: code === undefined ? Buffer.alloc(0) : closePayload(code, reason) }));
  }

  /** Close our side and free the socket. */
  destroy(): void {
    this.socket.destroy();
  }
}

export interface UpgradeRequestOptions {
  path?: string;
  host?: string | null;
  key?: string | null;
  version?: string | null;
  upgrade?: string | null;
  connection?: string | null;
  method?: string;
  httpVersion?: string;
  /** Extra header lines, written as given ("Name: value"). */
  extra?: string[];
}

/** A client handshake request, built by hand; null removes a header. */
export function upgradeRequest(options: UpgradeRequestOptions = {}): string {
  const lines = [`${options.method ?? 'GET'} ${options.path ?? '/'} HTTP/${options.httpVersion ?? '1.1'}`];
  const add = (name: string, value: string | null | undefined, fallback: string) => {
    if (value === null) return;
    lines.push(`${name}: ${value ?? fallback}`);
  };
  add('Host', options.host, '127.0.0.1');
  add('Upgrade', options.upgrade, 'websocket');
  add('Connection', options.connection, 'Upgrade');
  add('Sec-WebSocket-Key', options.key, 'dGhlIHNhbXBsZSBub25jZQ==');
  add('Sec-WebSocket-Version', options.version, '13');
  lines.push(...(options.extra ?? []));
  return lines.join('\r\n') + '\r\n\r\n';
}

export interface HttpExchange {
  head: HttpHead;
  body: string;
  /** The server closed the connection after its response. */
  closedByServer: boolean;
}

/** Send raw request bytes and read the response, then wait for the server to close. */
export async function exchange(port: number, request: string | Buffer, ms = 3000): Promise<HttpExchange> {
  const peer = await RawPeer.connect(port);
  try {
    peer.write(request);
    const head = await peer.readHead(ms);
    const body = await peer.readUntilEnd(ms);
    return { head, body: body.toString('utf8'), closedByServer: true };
  } finally {
    peer.destroy();
  }
}

/**
 * Open a WebSocket connection by hand: send a handshake, check the 101 and its accept value.
 * Returns the peer in frame mode.
 */
export async function openRaw(
  port: number,
  options: { path?: string; extra?: string[]; ms?: number } = {},
): Promise<{ peer: RawPeer; head: HttpHead }> {
  const peer = await RawPeer.connect(port);
  const key = randomKey();
  peer.write(upgradeRequest({ key, ...(options.path === undefined ? {} : { path: options.path }), extra: options.extra ?? [] }));
  let head: HttpHead;
  try {
    head = await peer.readHead(options.ms ?? 2000);
  } catch (error) {
    peer.destroy();
    throw error;
  }
  if (head.status !== 101 || headerValue(head, 'sec-websocket-accept') !== acceptFor(key)) {
    peer.destroy();
    throw new Error(`handshake failed: ${head.raw}`);
  }
  peer.startFrames();
  return { peer, head };
}
