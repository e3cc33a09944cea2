/**
 * connect({ http2: true }): a WebSocket over an HTTP/2 stream (RFC 8441). The session to the
 * origin is shared (http2-sessions.ts); the opening handshake is an extended CONNECT on a new
 * stream, built and checked by the protocol's pure functions (extended-connect-client.ts), with
 * one deadline and one abort path for the whole attempt, as connect() has over HTTP/1.1.
 */
import type { ClientHttp2Stream, IncomingHttpHeaders } from 'node:http2';
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';
import type { ClientHandshake } from '../../protocol/handshake/client-request.js';
import type { ClientHandshakeResult } from '../../protocol/handshake/client-response.js';
import { buildExtendedConnectRequest, checkExtendedConnectResponse, readExtendedConnectResponse } from '../../protocol/handshake/extended-connect-client.js';
import type { Http2HeaderList } from '../../protocol/handshake/extended-connect.js';
import type { HttpResponseHead } from '../../protocol/http1/head-parser.js';
import { connectionStart, type InternalInit, WebSocket } from '../connection/websocket.js';
import { loadHttp2 } from '../http2-module.js';
import { acquireSession, type SharedSession } from './http2-sessions.js';
import { type ConnectOptions, DEFAULT_CLIENT_HANDSHAKE_TIMEOUT } from './options.js';
import { targetOf, type WebSocketTarget } from './url.js';

/** How much of a refusal's body is shown in the error, and how long to wait for it (as over HTTP/1.1). */
const REFUSAL_BODY_BYTES = 512;
const REFUSAL_BODY_WAIT = 200;

/** Open a WebSocket over HTTP/2 to a wss:// URL, for the handshake made by createClientHandshake. */
export function connectOverHttp2(url: URL, handshake: ClientHandshake, options: ConnectOptions): Promise<WebSocket> {
  if (url.protocol !== 'wss:') {
    return Promise.reject(
      new WebSocketError(ErrorCode.INVALID_ARGUMENT, `http2: true needs a wss:// URL (WebSockets over HTTP/2 run over TLS), got ${url.protocol}//`),
    );
  }
  return new ExtendedConnectAttempt(url, handshake, options).promise;
}

/** The header list as text, one "name: value" line each, for `ws.handshake.request`. */
function formatHeaderList(headers: Http2HeaderList): string {
  let text = '';
  for (const name of Object.keys(headers)) {
    const value = headers[name]!;
    for (const item of Array.isArray(value) ? value : [value]) text += `${name}: ${item}\r\n`;
  }
  return text + '\r\n';
}

class ExtendedConnectAttempt {
  readonly promise: Promise<WebSocket>;
  private resolve!: (ws: WebSocket) => void;
  private reject!: (error: WebSocketError) => void;
  private readonly target: WebSocketTarget;
  private readonly shared: SharedSession;
  private readonly timer: NodeJS.Timeout;
  private readonly requestHeaders: Http2HeaderList;
  private stream: ClientHttp2Stream | null = null;
  private response: HttpResponseHead | null = null;
  private body: Buffer[] = [];
  private bodyLength = 0;
  private settled = false;
  private released = false;
  private readonly onAbort = () => this.fail(new WebSocketError(ErrorCode.HANDSHAKE_CONNECTION, 'the connection attempt was aborted'));

  constructor(
    private readonly url: URL,
    private readonly handshake: ClientHandshake,
    private readonly options: ConnectOptions,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.target = targetOf(url);
    this.requestHeaders = buildExtendedConnectRequest(handshake, this.target.authority, this.target.path);
    const timeout = options.handshakeTimeout ?? DEFAULT_CLIENT_HANDSHAKE_TIMEOUT;
    this.timer = setTimeout(() => this.timedOut(timeout), timeout);
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    this.shared = acquireSession(this.target, options.tls);
    this.shared.ready.then(
      () => this.sendRequest(),
      (error: WebSocketError) => this.fail(error),
    );
  }

  private sendRequest(): void {
    if (this.settled) return;
    let stream: ClientHttp2Stream;
    try {
      stream = this.shared.session.request(this.requestHeaders, { endStream: false });
    } catch (error) {
      // The session closed (GOAWAY) between SETTINGS and now.
      this.fail(new WebSocketError(ErrorCode.HANDSHAKE_CONNECTION, `cannot open a stream to ${this.target.authority}: ${(error as Error).message}`, { cause: error }));
      return;
    }
    this.stream = stream;
    stream.on('error', swallowError);
    stream.once('response', (_headers: IncomingHttpHeaders, _flags: number, rawHeaders: string[]) => this.responded(rawHeaders));
    stream.once('close', () => this.closed());
  }

  private responded(rawHeaders: string[]): void {
    if (this.settled) return;
    const response = (this.response = readExtendedConnectResponse(rawHeaders));
    const stream = this.stream!;
    if (response.status < 200 || response.status > 299) {
      // Wait briefly for the body (the reason is usually there), then fail.
      stream.on('data', (chunk: Buffer) => {
        this.body.push(chunk);
        this.bodyLength += chunk.length;
        if (this.bodyLength >= REFUSAL_BODY_BYTES) this.failWithStatus();
      });
      stream.once('end', () => this.failWithStatus());
      setTimeout(() => this.failWithStatus(), REFUSAL_BODY_WAIT).unref();
      return;
    }
    let result: ClientHandshakeResult;
    try {
      result = checkExtendedConnectResponse(this.handshake, response);
    } catch (error) {
      this.fail(error as WebSocketError);
      return;
    }
    this.settle();
    // The session is released when this WebSocket's stream closes.
    stream.once('close', () => this.release());
    const ws = new WebSocket(stream, {
      ...this.options,
      role: 'client',
      url: this.url.href,
      protocol: result.protocol,
      extension: result.extension,
      [connectionStart]: { deferReading: true, emitOpen: true, handshake: { request: formatHeaderList(this.requestHeaders), response } },
    } as InternalInit);
    this.resolve(ws);
  }

  /** A refused handshake: the status with the start of the body. */
  private failWithStatus(): void {
    if (this.settled) return;
    const response = this.response!;
    const body = Buffer.concat(this.body, this.bodyLength).subarray(0, REFUSAL_BODY_BYTES).toString('utf8');
    try {
      checkExtendedConnectResponse(this.handshake, response, body);
      this.fail(new WebSocketError(ErrorCode.HANDSHAKE_INVALID_RESPONSE, 'invalid handshake response'));
    } catch (error) {
      const failure = error as WebSocketError;
      this.fail(
        new WebSocketError(failure.code, failure.message, {
          response: { status: response.status, statusText: response.statusText, headers: response.headers, body },
        }),
      );
    }
  }

  private closed(): void {
    if (this.settled) return;
    if (this.response !== null) {
      this.failWithStatus();
      return;
    }
    const code = this.stream?.rstCode;
    this.fail(
      new WebSocketError(
        ErrorCode.HANDSHAKE_INVALID_RESPONSE,
        `${this.target.authority} reset the extended CONNECT stream before responding (RST_STREAM code ${code ?? 'none'})`,
      ),
    );
  }

  private timedOut(timeout: number): void {
    if (this.response !== null) {
      this.failWithStatus();
      return;
    }
    this.fail(new WebSocketError(ErrorCode.HANDSHAKE_TIMEOUT, `no handshake response from ${this.target.authority} within ${timeout} ms`));
  }

  private fail(error: WebSocketError): void {
    if (this.settled) return;
    this.settle();
    // Cancel the stream (RST_STREAM CANCEL, RFC 9113 §8.7); the session stays for other WebSockets.
    if (this.stream !== null && !this.stream.closed) this.stream.close(loadHttp2().constants.NGHTTP2_CANCEL);
    this.release();
    this.reject(error);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }

  private release(): void {
    if (this.released) return;
    this.released = true;
    this.shared.release();
  }
}

function swallowError(): void {
  // A stream error closes the stream: before the response 'close' fails the attempt; after it, the
  // WebSocket reports its close (1006).
}
