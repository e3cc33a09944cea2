// The opening handshake (RFC 6455 §4) as the driver does it, on a raw socket, for both roles.
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { acceptFor } from '../helpers/raw-peer.js';

const MAX_HEAD_BYTES = 16 * 1024;

export interface HttpHead {
  startLine: string;
  /** Lower-case names; repeated headers joined with ", ". */
  headers: Map<string, string>;
}

/**
 * Reads bytes until the end of an HTTP head (CRLF CRLF), bounded in size and time. Leaves the socket paused
 * so that no byte after the head is lost before the caller attaches its own reader.
 */
export function readHead(socket: Socket, timeoutMs: number): Promise<{ head: HttpHead; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const done = (err: Error | null, value?: { head: HttpHead; rest: Buffer }): void => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      socket.off('error', onError);
      socket.pause();
      if (err) reject(err);
      else resolve(value!);
    };
    const onData = (chunk: Buffer): void => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end === -1) {
        if (buf.length > MAX_HEAD_BYTES) done(new Error(`no end of HTTP head within ${MAX_HEAD_BYTES} bytes`));
        return;
      }
      const text = buf.subarray(0, end).toString('latin1');
      const lines = text.split('\r\n');
      const headers = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) {
          done(new Error(`malformed header line ${JSON.stringify(line)}`));
          return;
        }
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers.set(name, headers.has(name) ? `${headers.get(name)!}, ${value}` : value);
      }
      done(null, { head: { startLine: lines[0] ?? '', headers }, rest: buf.subarray(end + 4) });
    };
    const onClose = (): void => done(new Error(`connection closed during the handshake (${buf.length} bytes read)`));
    const onError = (err: Error): void => done(new Error(`socket error during the handshake: ${err.message}`));
    const timer = setTimeout(() => done(new Error(`no complete HTTP head within ${timeoutMs} ms (${buf.length} bytes read)`)), timeoutMs);
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.resume();
  });
}

function hasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  return value
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .includes(token.toLowerCase());
}

export const normaliseExtensions = (v: string): string => v.replace(/\s+/g, '');

export interface ClientHandshakeOptions {
  host: string;
  port: number;
  path: string;
  extensions?: string;
  timeoutMs: number;
}

export interface HandshakeResult {
  rest: Buffer;
  /** Sec-WebSocket-Extensions agreed on, or null. */
  extensions: string | null;
  head: HttpHead;
}

/** Driver as client: sends the upgrade request and validates the server's 101 answer. */
export async function clientHandshake(socket: Socket, o: ClientHandshakeOptions): Promise<HandshakeResult> {
  const key = randomBytes(16).toString('base64');
  const lines = [
    `GET ${o.path} HTTP/1.1`,
    `Host: ${o.host}:${o.port}`,
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`,
    'Sec-WebSocket-Version: 13',
  ];
  if (o.extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${o.extensions}`);
  socket.write(lines.join('\r\n') + '\r\n\r\n');
  const { head, rest } = await readHead(socket, o.timeoutMs);
  if (!/^HTTP\/1\.1 101(\s|$)/.test(head.startLine)) throw new Error(`handshake: expected HTTP/1.1 101, got ${JSON.stringify(head.startLine)}`);
  // RFC 6455 §4.1: the client MUST fail the connection unless these hold.
  if (head.headers.get('upgrade')?.toLowerCase() !== 'websocket')
    throw new Error(`handshake: Upgrade header is ${JSON.stringify(head.headers.get('upgrade'))}`);
  if (!hasToken(head.headers.get('connection'), 'upgrade'))
    throw new Error(`handshake: Connection header is ${JSON.stringify(head.headers.get('connection'))}`);
  const accept = head.headers.get('sec-websocket-accept');
  if (accept !== acceptFor(key)) throw new Error(`handshake: Sec-WebSocket-Accept ${JSON.stringify(accept)}, expected ${acceptFor(key)}`);
  return { rest, extensions: head.headers.get('sec-websocket-extensions') ?? null, head };
}

export interface UpgradeRequest {
  method: string;
  path: string;
  head: HttpHead;
  rest: Buffer;
}

export function parseRequestLine(head: HttpHead): { method: string; path: string; version: string } {
  const [method = '', path = '', version = ''] = head.startLine.split(' ');
  return { method, path, version };
}

/** Driver as server: checks the client's upgrade request (RFC 6455 §4.1) and returns the problems found. */
export function checkUpgradeRequest(head: HttpHead): string[] {
  const problems: string[] = [];
  const { method, version } = parseRequestLine(head);
  if (method !== 'GET') problems.push(`method ${method}, expected GET`);
  if (version !== 'HTTP/1.1') problems.push(`version ${version}, expected HTTP/1.1`);
  if (!head.headers.has('host')) problems.push('no Host header');
  if (head.headers.get('upgrade')?.toLowerCase() !== 'websocket') problems.push(`Upgrade header ${JSON.stringify(head.headers.get('upgrade'))}`);
  if (!hasToken(head.headers.get('connection'), 'upgrade')) problems.push(`Connection header ${JSON.stringify(head.headers.get('connection'))}`);
  if (head.headers.get('sec-websocket-version') !== '13') problems.push(`Sec-WebSocket-Version ${JSON.stringify(head.headers.get('sec-websocket-version'))}`);
  const key = head.headers.get('sec-websocket-key');
  if (key === undefined || Buffer.from(key, 'base64').length !== 16 || !/^[A-Za-z0-9+/]{22}==$/.test(key))
    problems.push(`Sec-WebSocket-Key ${JSON.stringify(key)} is not 16 bytes in base64`);
  return problems;
}

/** Driver as server: the 101 answer. */
export function upgradeResponse(head: HttpHead, extensions?: string): Buffer {
  const key = head.headers.get('sec-websocket-key') ?? '';
  const lines = ['HTTP/1.1 101 Switching Protocols', 'Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Accept: ${acceptFor(key)}`];
  if (extensions !== undefined) lines.push(`Sec-WebSocket-Extensions: ${extensions}`);
  return Buffer.from(lines.join('\r\n') + '\r\n\r\n', 'latin1');
}
