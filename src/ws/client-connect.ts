/**
 * The client side of wsforge/ws: `new WebSocket(address, protocols, options)` opens a
 * connection with wsforge's `connect()` (which writes the opening handshake and checks the
 * answer, RFC 6455 §4.1) and attaches it to the WebSocket as the server attaches its own. This
 * file is the part ws does around the handshake: its argument checks (SyntaxError, RangeError,
 * with ws's messages), its events ('upgrade', 'redirect', 'unexpected-response'), redirects,
 * aborting while CONNECTING, and its failure sequence: 'error', then 'close' with 1006.
 */
import { type WebSocket as Connection, type ConnectOptions, connect, ErrorCode, parseWebSocketUrl, ReadyState, WebSocketError } from '../index.js';
import { createClientHandshake } from '../protocol/index.js';
import { ClientUpgradeRequest } from './client-request.js';
import { checkClientOptions, type ClientOptions, connectOptionsFor, DEFAULT_MAX_REDIRECTS, requestHeaders } from './client-options.js';
import { incomingMessageFor } from './client-response.js';
import { toWsHandshakeError } from './errors.js';
import { headersForRedirect, type RedirectOrigin, redirectOriginOf, redirectTarget } from './redirects.js';
import type { WebSocket } from './websocket.js';

/** RFC 6455 §4.1: each subprotocol is an HTTP token (RFC 9110 §5.6.2). */
const TOKEN = /^[!#$%&'*+\-.0-9A-Z^_`|a-z~]+$/;

/** The subprotocols, checked as ws checks them. */
export function checkProtocols(protocols: unknown): string[] {
  const list = protocols === undefined || protocols === null ? [] : Array.isArray(protocols) ? (protocols as unknown[]) : [protocols];
  const seen = new Set<string>();
  for (const protocol of list) {
    if (typeof protocol !== 'string' || !TOKEN.test(protocol) || seen.has(protocol)) {
      throw new SyntaxError('An invalid or duplicated subprotocol was specified');
    }
    seen.add(protocol);
  }
  return [...seen];
}

/**
 * The URL to connect to, as ws reads it (http: and https: become ws: and wss:), or a
 * SyntaxError with ws's message. wsforge's own URL rules (a host, a socket path) follow.
 */
export function checkAddress(address: string | URL): URL {
  let url: URL;
  if (address instanceof URL) {
    url = new URL(address.href);
  } else {
    try {
      url = new URL(address);
    } catch {
      throw new SyntaxError(`Invalid URL: ${String(address)}`);
    }
  }
  if (url.protocol === 'http:') url.protocol = 'ws:';
  else if (url.protocol === 'https:') url.protocol = 'wss:';
  const unix = url.protocol === 'ws+unix:' || url.protocol === 'wss+unix:';
  if (url.protocol !== 'ws:' && url.protocol !== 'wss:' && !unix) {
    throw new SyntaxError('The URL\'s protocol must be one of "ws:", "wss:", "http:", "https:", or "ws+unix:"');
  }
  if (unix && url.pathname === '') throw new SyntaxError("The URL's pathname is empty");
  // RFC 6455 §3: fragment identifiers are meaningless in WebSocket URIs.
  if (url.hash !== '') throw new SyntaxError('The URL contains a fragment identifier');
  try {
    parseWebSocketUrl(url);
  } catch (error) {
    throw new SyntaxError((error as Error).message, { cause: error });
  }
  return url;
}

/** What the WebSocket offers the attempt: how it reports the outcome. @internal */
export interface ClientAttemptOwner {
  attachClientConnection(connection: Connection): void;
  receiveHandshakeFailure(error: Error): void;
}

/** One WebSocket's way to its connection: the handshakes (one per redirect) until open or failed. @internal */
export class ClientAttempt {
  /** CONNECTING until the connection is attached or the attempt failed (CLOSING, then CLOSED). */
  state: ReadyState = ReadyState.CONNECTING;
  /** The URL of the current handshake (after redirects, the last one). */
  url: string;
  private current: URL;
  private readonly protocols: string[];
  private readonly options: ClientOptions;
  private readonly base: ConnectOptions;
  private headers: Record<string, string | string[]>;
  private readonly origin: RedirectOrigin;
  private redirects = 0;
  private controller: AbortController | null = null;

  constructor(
    private readonly ws: WebSocket & ClientAttemptOwner,
    address: string | URL,
    protocols: unknown,
    options: unknown,
  ) {
    this.options = checkClientOptions(options);
    const url = checkAddress(address);
    this.protocols = checkProtocols(protocols);
    this.base = connectOptionsFor(this.options);
    const userinfo = url.username === '' ? '' : `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`;
    this.headers = requestHeaders(this.options, userinfo);
    // Header names and values are checked now, so a bad one throws here (as http.request's does in ws).
    createClientHandshake({ headers: this.headers, ...(this.options.origin === undefined ? {} : { origin: this.options.origin }) });
    this.origin = redirectOriginOf(url);
    this.current = url;
    this.url = url.href;
    this.start(url);
  }

  private start(url: URL): void {
    const controller = (this.controller = new AbortController());
    const options: ConnectOptions = { ...this.base, headers: this.headers, signal: controller.signal };
    if (this.protocols.length > 0) options.protocols = this.protocols;
    // The credentials are in the Authorization header (requestHeaders); the request line has none.
    const target = new URL(url.href);
    target.username = '';
    target.password = '';
    connect(target, options).then(
      (connection) => this.connected(connection, controller),
      (error: unknown) => this.refused(error as WebSocketError, controller),
    );
  }

  /** close() or terminate() while CONNECTING, or the request's abort(): ws's error, then close 1006. */
  abort(): void {
    if (this.state !== ReadyState.CONNECTING) return;
    this.state = ReadyState.CLOSING;
    this.controller?.abort();
    this.controller = null;
    process.nextTick(() => this.fail(new Error('WebSocket was closed before the connection was established')));
  }

  private connected(connection: Connection, controller: AbortController): void {
    if (controller !== this.controller) {
      // Aborted while the answer was on its way.
      connection.terminate();
      return;
    }
    this.controller = null;
    // ws refuses an answer without a subprotocol when some were offered (RFC 6455 §4.1 leaves it
    // to the client: "the client MUST Fail" only for one that was not offered).
    if (this.protocols.length > 0 && connection.protocol === '') {
      connection.terminate();
      this.fail(new Error('Server sent no subprotocol'));
      return;
    }
    const response = connection.handshake?.response;
    if (response !== undefined && this.ws.listenerCount('upgrade') > 0) {
      this.ws.emit('upgrade', incomingMessageFor(response, ''));
      // A listener may have closed the WebSocket: abort() reports it.
      if (this.state !== ReadyState.CONNECTING) {
        connection.terminate();
        return;
      }
    }
    this.state = ReadyState.OPEN;
    this.ws.attachClientConnection(connection);
  }

  private refused(error: WebSocketError, controller: AbortController): void {
    if (controller !== this.controller) return;
    this.controller = null;
    const response = error.response;
    if (error.code !== ErrorCode.HANDSHAKE_STATUS || response === undefined) {
      this.fail(toWsHandshakeError(error, this.protocols));
      return;
    }
    const location = response.headers['location'];
    if (this.options.followRedirects === true && location !== undefined && response.status >= 300 && response.status < 400) {
      if (++this.redirects > (this.options.maxRedirects ?? DEFAULT_MAX_REDIRECTS)) {
        this.fail(new Error('Maximum redirects exceeded', { cause: error }));
        return;
      }
      const next = redirectTarget(location, this.current);
      if (next === null) {
        this.fail(new SyntaxError(`Invalid URL: ${location}`));
        return;
      }
      let url: URL;
      try {
        url = checkAddress(next);
      } catch (invalid) {
        this.fail(invalid as Error);
        return;
      }
      this.redirect(url);
      return;
    }
    if (this.ws.listenerCount('unexpected-response') > 0) {
      // The listener handles the answer; the WebSocket stays CONNECTING until it calls close(),
      // terminate() or the request's abort(), as in ws.
      const request = new ClientUpgradeRequest(this.current, this.headers, () => this.abort());
      this.ws.emit('unexpected-response', request, incomingMessageFor(response, response.body));
      return;
    }
    this.fail(new Error(`Unexpected server response: ${response.status}`, { cause: error }));
  }

  private redirect(url: URL): void {
    const listened = this.ws.listenerCount('redirect') > 0;
    this.headers = listened ? { ...this.headers } : headersForRedirect(this.headers, this.origin, url);
    this.current = url;
    this.url = url.href;
    if (listened) {
      // The listener may change the headers on the request (they are this.headers) or abort.
      this.ws.emit('redirect', url.href, new ClientUpgradeRequest(url, this.headers, () => this.abort()));
      if (this.state !== ReadyState.CONNECTING) return;
    }
    this.start(url);
  }

  /** ws's failure sequence: CLOSING while 'error' is emitted, CLOSED for 'close' (1006). */
  private fail(error: Error): void {
    if (this.state === ReadyState.CLOSED) return;
    this.state = ReadyState.CLOSING;
    this.controller?.abort();
    this.controller = null;
    this.ws.receiveHandshakeFailure(error);
  }

  /** @internal Called by the WebSocket between its 'error' and 'close'. */
  closed(): void {
    this.state = ReadyState.CLOSED;
  }
}
