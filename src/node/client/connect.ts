/**
 * connect(): open a transport, write the opening handshake, read and check the response
 * (RFC 6455 §4.1), and start the connection. The handshake itself is the protocol's pure
 * functions (createClientHandshake, checkHandshakeResponse); this file only moves bytes and
 * keeps one deadline and one abort path for the whole attempt.
 */
import type { Duplex } from 'node:stream';
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';
import type { ClientExtensionFactory } from '../../protocol/extensions/extension.js';
import { clientPerMessageDeflate } from '../../protocol/extensions/permessage-deflate/negotiation.js';
import { type ClientHandshake, createClientHandshake, formatUpgradeRequest } from '../../protocol/handshake/client-request.js';
import { checkHandshakeResponse, type ClientHandshakeResult } from '../../protocol/handshake/client-response.js';
import { responseBodyComplete, responseBodyPrefix } from '../../protocol/http1/body.js';
import { DEFAULT_MAX_HEADER_SIZE, findHeadEnd, type HttpResponseHead, parseResponseHead } from '../../protocol/http1/head-parser.js';
import { checkOptions } from '../../protocol/options/check-options.js';
import { connectionStart, type InternalInit, WebSocket } from '../connection/websocket.js';
import { connectOptionTable } from '../options/client-option-table.js';
import { connectOverHttp2 } from './extended-connect.js';
import { type ConnectOptions, DEFAULT_CLIENT_HANDSHAKE_TIMEOUT } from './options.js';
import { httpProxyTunnel } from './http-proxy-tunnel.js';
import { proxyFromEnvironment } from './proxy-from-env.js';
import { parseProxyUrl } from './proxy-server.js';
import { socks5Tunnel } from './socks5-tunnel.js';
import { openDirectTransport, type TransportOpener } from './transport.js';
import { unixSocketTransport } from './unix-socket-transport.js';
import { parseWebSocketUrl, targetOf, type WebSocketTarget } from './url.js';

/** How much of a refusal's body is shown in the error, and how long to wait for it. */
const REFUSAL_BODY_BYTES = 512;
const REFUSAL_BODY_WAIT = 200;

/**
 * Open a WebSocket connection: resolves with an open connection, or rejects with a
 * WebSocketError whose code and message say what failed.
 */
export function connect(address: string | URL, options: ConnectOptions = {}): Promise<WebSocket> {
  let url: URL;
  let handshake: ClientHandshake;
  let opener: TransportOpener;
  try {
    checkOptions(options, connectOptionTable, 'connect()');
    url = parseWebSocketUrl(address);
    opener = chooseTransport(targetOf(url), options);
    if (options.signal?.aborted) throw abortError();
    const deflate = options.perMessageDeflate;
    const extensions: ClientExtensionFactory[] = [
      ...(deflate ? [clientPerMessageDeflate(deflate === true ? {} : deflate)] : []),
      ...(options.extensions ?? []),
    ];
    const protocols = options.protocols === undefined ? [] : typeof options.protocols === 'string' ? [options.protocols] : [...options.protocols];
    handshake = createClientHandshake({
      protocols,
      extensions,
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    });
  } catch (error) {
    return Promise.reject(error);
  }
  if (options.http2 === true) {
    // An HTTP/2 session is opened straight to the origin; proxies and Unix sockets carry HTTP/1.1 only.
    if (opener !== openDirectTransport) {
      return Promise.reject(
        new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'http2: true goes straight to the server: it does not go through a proxy or a Unix socket (set proxy: false, or use HTTP/1.1)'),
      );
    }
    return connectOverHttp2(url, handshake, options);
  }
  return new ConnectAttempt(url, handshake, options, opener).promise;
}

/**
 * How to reach the target: its Unix socket (ws+unix: or `socketPath`), the proxy of the
 * `proxy` option or of the environment (README "Proxies"), or straight over TCP.
 */
function chooseTransport(target: WebSocketTarget, options: ConnectOptions): TransportOpener {
  const socketPath = options.socketPath ?? target.socketPath;
  if (socketPath !== undefined) return unixSocketTransport(socketPath);
  const proxy = options.proxy === undefined ? proxyFromEnvironment(target, process.env) : options.proxy;
  if (proxy === false || proxy === null) return openDirectTransport;
  const server = parseProxyUrl(proxy);
  return server.protocol === 'http' ? httpProxyTunnel(server) : socks5Tunnel(server);
}

function abortError(): WebSocketError {
  return new WebSocketError(ErrorCode.HANDSHAKE_CONNECTION, 'the connection attempt was aborted');
}

/** One connection attempt: transport, request, response, with one timer and one way to fail. */
class ConnectAttempt {
  readonly promise: Promise<WebSocket>;
  private resolve!: (ws: WebSocket) => void;
  private reject!: (error: WebSocketError) => void;
  private readonly target: WebSocketTarget;
  /** The stream the handshake runs over; inside a proxy tunnel with TLS, not the one opened first. */
  private stream: Duplex;
  /** The stream the opener started with, when the handshake moved to another one (TLS in a tunnel). */
  private outer: Duplex | null = null;
  private readonly timer: NodeJS.Timeout;
  private readonly request: string;
  private received: Buffer | null = null;
  private response: HttpResponseHead | null = null;
  private bodyStart = 0;
  private settled = false;
  private readonly onData = (chunk: Buffer) => this.data(chunk);
  private readonly onClose = () => this.closed();
  private readonly onError = () => {
    // Before the transport is ready, `ready` reports; after it, 'close' follows and says it.
  };
  private readonly onAbort = () => this.fail(abortError());

  constructor(
    private readonly url: URL,
    private readonly handshake: ClientHandshake,
    private readonly options: ConnectOptions,
    open: TransportOpener,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    this.target = targetOf(url);
    this.request = formatUpgradeRequest(handshake, this.target.authority, this.target.path);
    const timeout = options.handshakeTimeout ?? DEFAULT_CLIENT_HANDSHAKE_TIMEOUT;
    this.timer = setTimeout(() => this.timedOut(timeout), timeout);
    options.signal?.addEventListener('abort', this.onAbort, { once: true });
    const transport = open(this.target, options);
    this.stream = transport.stream;
    this.stream.on('error', this.onError);
    transport.ready.then(
      (inner) => {
        if (inner !== undefined && inner !== this.stream) {
          this.outer = this.stream;
          this.outer.off('error', this.onError);
          this.stream = inner;
          inner.on('error', this.onError);
        }
        if (this.settled) {
          this.stream.destroy();
          return;
        }
        this.stream.on('data', this.onData);
        this.stream.on('close', this.onClose);
        // A tunnel hands the stream over paused (bytes of the target may be waiting in it).
        this.stream.resume();
        this.stream.write(this.request);
      },
      (error: WebSocketError) => this.fail(error),
    );
  }

  private timedOut(timeout: number): void {
    if (this.response !== null) {
      this.failWithStatus();
      return;
    }
    this.fail(new WebSocketError(ErrorCode.HANDSHAKE_TIMEOUT, `no handshake response from ${this.target.authority} within ${timeout} ms`));
  }

  private data(chunk: Buffer): void {
    const received = (this.received = this.received === null ? chunk : Buffer.concat([this.received, chunk]));
    if (this.response !== null) {
      // Collecting some of an error response's body for the message.
      if (received.length - this.bodyStart >= REFUSAL_BODY_BYTES || responseBodyComplete(this.response.headers, received.subarray(this.bodyStart))) {
        this.failWithStatus();
      }
      return;
    }
    const maxHeaderSize = this.options.maxHeaderSize ?? DEFAULT_MAX_HEADER_SIZE;
    let end: number;
    try {
      end = findHeadEnd(received, maxHeaderSize);
    } catch (error) {
      this.fail(
        new WebSocketError(ErrorCode.HANDSHAKE_HEADERS_TOO_LARGE, `handshake response head larger than ${maxHeaderSize} bytes`, { cause: error }),
      );
      return;
    }
    if (end === -1) return;
    let response: HttpResponseHead;
    try {
      response = parseResponseHead(received.subarray(0, end));
    } catch (error) {
      this.fail(error as WebSocketError);
      return;
    }
    this.response = response;
    this.bodyStart = end;
    if (response.status !== 101) {
      // Wait briefly for the body (the reason is usually there), then fail.
      if (responseBodyComplete(response.headers, received.subarray(end)) || received.length - end >= REFUSAL_BODY_BYTES) this.failWithStatus();
      else setTimeout(() => this.failWithStatus(), REFUSAL_BODY_WAIT).unref();
      return;
    }
    let result: ClientHandshakeResult;
    try {
      result = checkHandshakeResponse(this.handshake, response);
    } catch (error) {
      this.fail(error as WebSocketError);
      return;
    }
    this.settle();
    const ws = new WebSocket(this.stream, {
      ...this.options,
      role: 'client',
      url: this.url.href,
      protocol: result.protocol,
      extension: result.extension,
      head: received.subarray(end),
      [connectionStart]: { deferReading: true, emitOpen: true, handshake: { request: this.request, response } },
    } as InternalInit);
    this.resolve(ws);
  }

  /** A refused handshake: the status line with the start of the decoded body. */
  private failWithStatus(): void {
    if (this.settled) return;
    const response = this.response!;
    const bytes = this.received === null ? Buffer.alloc(0) : this.received.subarray(this.bodyStart);
    const body = responseBodyPrefix(response.headers, bytes, REFUSAL_BODY_BYTES).toString('utf8');
    try {
      checkHandshakeResponse(this.handshake, response, body);
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
    if (this.response !== null) {
      this.failWithStatus();
      return;
    }
    this.fail(new WebSocketError(ErrorCode.HANDSHAKE_INVALID_RESPONSE, `${this.target.authority} closed the connection before the handshake response`));
  }

  private fail(error: WebSocketError): void {
    if (this.settled) return;
    this.settle();
    this.stream.destroy();
    this.outer?.destroy();
    this.reject(error);
  }

  private settle(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.stream.off('data', this.onData);
    this.stream.off('close', this.onClose);
    this.stream.off('error', this.onError);
    this.options.signal?.removeEventListener('abort', this.onAbort);
  }
}
