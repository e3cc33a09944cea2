// HTTP/2 as a second transport for the driver (RFC 8441): the server cases share one node:http2 session to the
// server under test (as a browser's tabs share one connection; a new one is opened if it fails), each case sends an
// extended CONNECT (its own header list: :protocol websocket, version 13, the
// case's extension offer) and runs the case's frames over that stream, with the same Wire and the same
// judging as over TCP; for a client under test, the fuzzing server is a node:http2 server answering each
// case's extended CONNECT. An orderly close is END_STREAM, a reset RST_STREAM (RFC 8441 §5).
import { readFileSync } from 'node:fs';
import {
  connect as http2Connect,
  createSecureServer,
  type ClientHttp2Session,
  type ClientHttp2Stream,
  type Http2SecureServer,
  type IncomingHttpHeaders,
  type OutgoingHttpHeaders,
  type ServerHttp2Session,
  type ServerHttp2Stream,
} from 'node:http2';
import { checkServerResponse } from './deflate.js';
import { normaliseExtensions } from './handshake.js';
import type { OpenedCase } from './targets.js';
import type { Case } from './types.js';
import { Wire, negotiatedExtensions } from './wire.js';

/** The test-only certificate the server under test is started with (test/fixtures). */
export function fixturePath(root: string, name: 'cert' | 'key'): string {
  return `${root}test/fixtures/test-only-localhost.${name}.pem`;
}

function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A session whose SETTINGS allow extended CONNECT (RFC 8441 §3), or an error saying why not. */
async function openSession(host: string, port: number, ca: Buffer, timeoutMs: number): Promise<ClientHttp2Session> {
  // Cases of up to 16 MiB are sent at once; node:http2 would refuse other cases' responses while more than
  // maxSessionMemory (10 MB by default) is queued.
  const session = http2Connect(`https://${host}:${port}`, { ca, servername: 'localhost', maxSessionMemory: 1024 });
  session.on('error', () => {});
  try {
    await bounded(
      new Promise<void>((resolve, reject) => {
        session.once('remoteSettings', (settings) =>
          settings.enableConnectProtocol === true ? resolve() : reject(new Error('the server did not send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (RFC 8441 §3)')),
        );
        session.once('error', (err) => reject(new Error(`HTTP/2 session: ${err.message}`)));
        session.once('close', () => reject(new Error('HTTP/2 session closed before SETTINGS')));
      }),
      timeoutMs,
      'HTTP/2 SETTINGS',
    );
  } catch (err) {
    session.destroy();
    throw err;
  }
  return session;
}

/** The server under test's origin: one shared session, opened again when it fails or closes. */
export class Http2Origin {
  private current: Promise<ClientHttp2Session> | null = null;

  constructor(
    private readonly host: string,
    private readonly port: number,
    private readonly ca: Buffer,
  ) {}

  session(timeoutMs: number): Promise<ClientHttp2Session> {
    if (this.current === null) {
      const opening = openSession(this.host, this.port, this.ca, timeoutMs);
      this.current = opening;
      opening.then(
        (session) => session.once('close', () => {
          if (this.current === opening) this.current = null;
        }),
        () => {
          if (this.current === opening) this.current = null;
        },
      );
    }
    return this.current;
  }

  async close(): Promise<void> {
    const current = this.current;
    this.current = null;
    if (current !== null) (await current.catch(() => null))?.destroy();
  }
}

/** Driver as client over HTTP/2: the extended CONNECT of the case, checked, and a Wire over the stream. */
export async function openServerCaseHttp2(origin: Http2Origin, kase: Case, timeoutMs: number): Promise<OpenedCase> {
  const session = await origin.session(timeoutMs);
  let stream: ClientHttp2Stream | null = null;
  try {
    const offer = kase.handshake?.offerExtensions;
    const request: OutgoingHttpHeaders = { ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', 'sec-websocket-version': '13' };
    if (offer !== undefined) request['sec-websocket-extensions'] = offer;
    const opened = session.request(request, { endStream: false });
    stream = opened;
    opened.on('error', () => {});
    const response = await bounded(
      new Promise<IncomingHttpHeaders>((resolve, reject) => {
        opened.once('response', resolve);
        opened.once('close', () => reject(new Error(`handshake: the stream closed before a response (RST_STREAM code ${opened.rstCode})`)));
      }),
      timeoutMs,
      'handshake: the response to the extended CONNECT',
    );
    // RFC 8441 §5: the server accepts with a 2xx (it sends 200) and no Sec-WebSocket-Accept.
    if (Number(response[':status']) !== 200) throw new Error(`handshake: expected :status 200, got ${String(response[':status'])}`);
    if (response['sec-websocket-accept'] !== undefined) throw new Error('handshake: Sec-WebSocket-Accept in an HTTP/2 response (RFC 8441 §5: not used)');
    const extensionHeader = response['sec-websocket-extensions'];
    const extensions = typeof extensionHeader === 'string' ? extensionHeader : null;
    const expected = kase.handshake?.expectExtensions !== undefined ? kase.handshake.expectExtensions : offer === undefined ? null : undefined;
    if (expected instanceof RegExp) {
      if (extensions === null || !expected.test(extensions)) throw new Error(`handshake: Sec-WebSocket-Extensions ${JSON.stringify(extensions)}, expected to match ${String(expected)}`);
    } else if (expected !== undefined && (extensions === null ? null : normaliseExtensions(extensions)) !== (expected === null ? null : normaliseExtensions(expected))) {
      throw new Error(`handshake: Sec-WebSocket-Extensions ${JSON.stringify(extensions)}, expected ${JSON.stringify(expected)}`);
    }
    const invalid = checkServerResponse(offer, extensions);
    if (invalid.length > 0) throw new Error(`handshake: Sec-WebSocket-Extensions ${JSON.stringify(extensions)} answering ${JSON.stringify(offer)}: ${invalid.join('; ')}`);
    const wire = new Wire(opened, 'client', negotiatedExtensions(extensions, 'client'), Buffer.alloc(0));
    return {
      wire,
      async cleanup() {
        wire.destroy();
        return { notes: [], problems: [] };
      },
    };
  } catch (err) {
    stream?.destroy();
    throw err;
  }
}

export function readCa(root: string): Buffer {
  return readFileSync(fixturePath(root, 'cert'));
}

// ---------------------------------------------------------------------------------------------- clients

/** An extended CONNECT that a client under test opened on the HTTP/2 fuzzing server. */
export interface IncomingStream {
  stream: ServerHttp2Stream;
  headers: IncomingHttpHeaders;
}

/** Driver as server over HTTP/2: what RFC 8441 §4-5 requires of a client's extended CONNECT. */
export function checkExtendedConnect(headers: IncomingHttpHeaders): string[] {
  const problems: string[] = [];
  if (headers[':method'] !== 'CONNECT') problems.push(`:method ${String(headers[':method'])}, expected CONNECT`);
  if (headers[':protocol'] !== 'websocket') problems.push(`:protocol ${JSON.stringify(headers[':protocol'])}, expected "websocket"`);
  if (headers[':scheme'] !== 'https') problems.push(`:scheme ${JSON.stringify(headers[':scheme'])}, expected "https"`);
  if (typeof headers[':authority'] !== 'string' || headers[':authority'] === '') problems.push('no :authority');
  if (headers['sec-websocket-version'] !== '13') problems.push(`Sec-WebSocket-Version ${JSON.stringify(headers['sec-websocket-version'])}`);
  if (headers['sec-websocket-key'] !== undefined) problems.push('Sec-WebSocket-Key sent over HTTP/2 (RFC 8441 §5: not used)');
  return problems;
}

/**
 * The fuzzing server over HTTP/2: a node:http2 TLS server (the test-only certificate) advertising
 * SETTINGS_ENABLE_CONNECT_PROTOCOL; each case waits for the extended CONNECT on its own :path.
 */
export class Http2FuzzingServer {
  private server: Http2SecureServer | null = null;
  private readonly pending = new Map<string, { resolve: (s: IncomingStream) => void; timer: NodeJS.Timeout }>();
  private readonly sessions = new Set<ServerHttp2Session>();
  port = 0;
  readonly host = '127.0.0.1';
  readonly strays: string[] = [];

  constructor(
    private readonly cert: Buffer,
    private readonly key: Buffer,
  ) {}

  async start(): Promise<void> {
    // One HTTP/2 connection carries every case; node:http2 counts queued outbound data against maxSessionMemory
    // and would refuse new streams while a 16 MiB case is being sent.
    const server = createSecureServer({ cert: this.cert, key: this.key, maxSessionMemory: 1024, settings: { enableConnectProtocol: true } });
    this.server = server;
    server.on('session', (session) => {
      this.sessions.add(session);
      session.on('error', () => {});
      session.on('close', () => this.sessions.delete(session));
    });
    server.on('stream', (stream, headers) => {
      stream.on('error', () => {
        /* recorded by the case's Wire once it owns the stream */
      });
      const path = String(headers[':path']);
      const p = this.pending.get(path);
      if (p === undefined) {
        if (this.strays.length < 50) this.strays.push(`${path}: no case waiting`);
        stream.respond({ ':status': 404 }, { endStream: true });
        return;
      }
      p.resolve({ stream, headers });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as { port: number }).port;
  }

  urlFor(path: string): string {
    return `wss://localhost:${this.port}${path}`;
  }

  accept(path: string, timeoutMs: number): Promise<IncomingStream | null> {
    if (this.pending.has(path)) throw new Error(`a case already waits on ${path}`);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.pending.delete(path);
        resolve(null);
      }, timeoutMs);
      this.pending.set(path, {
        timer,
        resolve: (s) => {
          clearTimeout(timer);
          this.pending.delete(path);
          resolve(s);
        },
      });
    });
  }

  cancel(path: string): void {
    const p = this.pending.get(path);
    if (p !== undefined) {
      clearTimeout(p.timer);
      this.pending.delete(path);
    }
  }

  async stop(): Promise<void> {
    for (const p of this.pending.values()) clearTimeout(p.timer);
    this.pending.clear();
    for (const s of this.sessions) s.destroy();
    const server = this.server;
    this.server = null;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
