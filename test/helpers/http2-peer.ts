/**
 * An independent HTTP/2 WebSocket peer: node:http2's own client sends the extended CONNECT
 * (RFC 8441 §4-5) with header lists written here, and frames are written and read by hand
 * (wire-frames.ts), so neither the library's handshake nor its codec is on this side.
 */
import { readFileSync } from 'node:fs';
import { connect as http2Connect, constants, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { fileURLToPath } from 'node:url';
import { withTimeout } from './timing.js';
import { clientFrame, closePayload, OP, readClose, WireFrameReader, type WireFrame } from './wire-frames.js';

const fixture = (name: string): Buffer => readFileSync(fileURLToPath(new URL(`../../../test/fixtures/${name}`, import.meta.url)));
/** The test-only self-signed certificate for localhost / 127.0.0.1, and its key. */
export const TEST_CERT = fixture('test-only-localhost.cert.pem');
export const TEST_KEY = fixture('test-only-localhost.key.pem');

export const NGHTTP2_CANCEL = constants.NGHTTP2_CANCEL;

/** An HTTP/2 session to 127.0.0.1:port that trusts the test certificate, once the server's SETTINGS arrived. */
export async function openHttp2Session(port: number, host = '127.0.0.1'): Promise<ClientHttp2Session> {
  const session = http2Connect(`https://${host}:${port}`, { ca: TEST_CERT });
  session.on('error', () => {
    // A failing session fails its streams; the tests look at those.
  });
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      session.once('remoteSettings', () => resolve());
      session.once('error', reject);
    }),
    5000,
    "the server's HTTP/2 SETTINGS",
  );
  return session;
}

/** The headers of an extended CONNECT for a WebSocket (RFC 8441 §5), with `extra` fields added or overriding. */
export function extendedConnect(path = '/', extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
  return { ':method': 'CONNECT', ':protocol': 'websocket', ':path': path, 'sec-websocket-version': '13', ...extra };
}

/** A stream opened with an extended CONNECT (or any request), and what came back on it. */
export class Http2RawPeer {
  readonly frames = new WireFrameReader();
  private readonly parsed: WireFrame[] = [];
  private waiters: Array<() => void> = [];
  response: IncomingHttpHeaders | null = null;
  /** Body bytes of a refusal (before any frame parsing). */
  body = Buffer.alloc(0);
  /** END_STREAM received. */
  ended = false;
  closed = false;
  error: Error | null = null;
  bytesReceived = 0;

  /** Whether the request was a CONNECT: a 2xx answer then carries WebSocket frames, else a body. */
  private readonly tunnel: boolean;

  constructor(
    readonly stream: ClientHttp2Stream,
    method = 'CONNECT',
  ) {
    this.tunnel = method === 'CONNECT';
    stream.on('response', (headers) => {
      this.response = headers;
      this.wake();
    });
    stream.on('data', (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      if (this.accepted) this.parsed.push(...this.frames.push(chunk));
      else this.body = Buffer.concat([this.body, chunk]);
      this.wake();
    });
    stream.on('end', () => {
      this.ended = true;
      this.wake();
    });
    stream.on('close', () => {
      this.closed = true;
      this.wake();
    });
    stream.on('error', (error) => {
      this.error = error;
      this.wake();
    });
  }

  static open(session: ClientHttp2Session, headers: OutgoingHttpHeaders): Http2RawPeer {
    return new Http2RawPeer(session.request(headers, { endStream: false }), String(headers[':method']));
  }

  private get accepted(): boolean {
    if (!this.tunnel) return false;
    const status = Number(this.response?.[':status']);
    return status >= 200 && status < 300;
  }

  /** The RST_STREAM code the stream was closed with (0 when it ended normally), once closed. */
  get rstCode(): number | undefined {
    return this.stream.rstCode;
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  private waitFor<T>(take: () => T | undefined, ms: number, what: string): Promise<T> {
    return withTimeout(
      new Promise<T>((resolve, reject) => {
        const check = (): void => {
          try {
            const value = take();
            if (value !== undefined) resolve(value);
            else this.waiters.push(check);
          } catch (error) {
            reject(error as Error);
          }
        };
        check();
      }),
      ms,
      what,
    );
  }

  /** The response's header block. */
  responseHeaders(ms = 3000): Promise<IncomingHttpHeaders> {
    return this.waitFor(
      () => {
        if (this.response !== null) return this.response;
        if (this.closed) throw new Error(`the stream closed before a response (RST_STREAM code ${this.stream.rstCode}, error ${this.error?.message})`);
        return undefined;
      },
      ms,
      'the response headers',
    );
  }

  /** A refusal's whole body (the stream ends after it). */
  async refusalBody(ms = 3000): Promise<string> {
    await this.waitEnd(ms);
    return this.body.toString('utf8');
  }

  nextFrame(ms = 3000): Promise<WireFrame> {
    return this.waitFor(
      () => {
        const frame = this.parsed.shift();
        if (frame !== undefined) return frame;
        if (this.ended || this.closed) throw new Error('the stream ended while waiting for a frame');
        return undefined;
      },
      ms,
      'a frame',
    );
  }

  async nextClose(ms = 3000): Promise<{ code: number; reason: string }> {
    return readClose(await this.nextFrame(ms));
  }

  waitEnd(ms = 3000): Promise<void> {
    return this.waitFor(() => (this.ended || this.closed ? true : undefined), ms, 'END_STREAM from the server').then(() => undefined);
  }

  waitClosed(ms = 3000): Promise<void> {
    return this.waitFor(() => (this.closed ? true : undefined), ms, 'the stream to close').then(() => undefined);
  }

  sendClientFrame(spec: Parameters<typeof clientFrame>[0]): void {
    this.stream.write(clientFrame(spec));
  }

  sendText(text: string): void {
    this.sendClientFrame({ opcode: OP.TEXT, payload: text });
  }

  sendClose(code?: number, reason = ''): void {
    this.sendClientFrame(code === undefined ? { opcode: OP.CLOSE } : { opcode: OP.CLOSE, payload: closePayload(code, reason) });
  }
}
