/**
 * The server's decision on an opening handshake, whatever the transport: one function takes a
 * transport-neutral request (an HTTP/1.1 upgrade or an HTTP/2 extended CONNECT, RFC 8441) and
 * returns an acceptance or a rejection. The admission policy (paths, origins, connection limit,
 * the application's hook), the subprotocol and the extensions are all settled here; node/'s
 * responders only write the outcome out (101 with Sec-WebSocket-Accept, or `:status 200`).
 *
 * Synchronous unless the application's hook returns a promise: a connection costs no promise
 * when nothing has to be awaited.
 */
import type { IncomingMessage } from 'node:http';
import type { ExtensionParams } from '../extensions/extension-header.js';
import { formatExtension } from '../extensions/extension-header.js';
import type { MessageExtension, ServerExtensionFactory } from '../extensions/extension.js';
import type { HeaderMap } from '../http1/head-parser.js';
import { HandshakeRejection } from '../http1/rejection.js';
import { checkHeaderFields, type HeaderFields } from '../http1/response.js';

/** What the handshake hook and the subprotocol chooser see of a request. */
export interface HandshakeRequest {
  /** How the request came: an HTTP/1.1 upgrade, or an HTTP/2 extended CONNECT (RFC 8441). */
  readonly transport: 'http/1.1' | 'h2';
  /** "GET" over HTTP/1.1, "CONNECT" over HTTP/2. */
  readonly method: string;
  /** The request-target as sent ("/chat?room=1"). */
  readonly url: string;
  /** The path without the query ("/chat"). */
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lowercased names; repeated headers joined with ", ". */
  readonly headers: Readonly<HeaderMap>;
  readonly origin: string | undefined;
  readonly remoteAddress: string | undefined;
  /** Subprotocols offered, in the client's order. */
  readonly protocols: readonly string[];
  /** Extensions offered, in the client's order. */
  readonly extensions: readonly ExtensionParams[];
  /**
   * The node:http request, when the upgrade came through `attach()` or `handleUpgrade()`
   * (whatever a framework put on it, a parsed session for example); undefined in `listen()`
   * mode and over HTTP/2.
   */
  readonly httpRequest?: IncomingMessage | undefined;
}

/** Accept, optionally adding response headers, attaching data to the connection, or choosing the subprotocol. */
export interface HandshakeAccept {
  headers?: Record<string, string | string[]>;
  data?: unknown;
  protocol?: string;
}

/** Refuse with an HTTP status (e.g. 401 with `WWW-Authenticate`, 403), a short body and headers. */
export interface HandshakeReject {
  status: number;
  body?: string;
  headers?: Record<string, string | string[]>;
}

/** `undefined`/`true` accept; `false` refuses with 403; an object accepts or refuses as typed. */
export type HandshakeDecision = void | boolean | HandshakeAccept | HandshakeReject;

/** The server's admission policy and negotiation choices (from its options). */
export interface HandshakePolicy {
  /** Paths served (exact match, query ignored); null for every path. */
  readonly paths: ReadonlySet<string> | null;
  /** Allowed `Origin` values, lowercased; null for any. Requests without Origin pass. */
  readonly origins: ReadonlySet<string> | null;
  readonly maxConnections: number;
  readonly onHandshake: ((request: HandshakeRequest) => HandshakeDecision | Promise<HandshakeDecision>) | undefined;
  readonly protocols: readonly string[] | undefined;
  readonly handleProtocols: ((offered: readonly string[], request: HandshakeRequest) => string | undefined) | undefined;
  /** Per-message extensions, tried in order; the first that accepts an offer wins. */
  readonly extensions: readonly ServerExtensionFactory[];
}

/** The server's state that the decision depends on. */
export interface ServerLoad {
  /** Connections open or handshaking, this one included. */
  readonly connections: number;
  /** The server is shutting down. */
  readonly closing: boolean;
}

/** An accepted handshake: what the responder writes and the connection starts with. */
export interface HandshakeAcceptance {
  readonly accepted: true;
  readonly protocol: string | undefined;
  /** The negotiated extension (its zlib contexts are allocated on first use). */
  readonly extension: MessageExtension | null;
  /** `Sec-WebSocket-Extensions` of the response, or undefined. */
  readonly extensionHeader: string | undefined;
  /** Extra response header fields, already checked. */
  readonly headers: HeaderFields | undefined;
  /** Application data from the hook, for `ws.data`. */
  readonly data: unknown;
}

export type HandshakeOutcome = HandshakeAcceptance | HandshakeRejection;

function internalError(failure: Error): HandshakeRejection {
  return new HandshakeRejection(500, 'internal error', {}, failure);
}

function toError(value: unknown): Error {
  return value instanceof Error ? value : new Error(String(value));
}

/**
 * Decide on an opening handshake. A hook that throws, or that returns something invalid,
 * gives 500 with the cause in `rejection.failure` (for the server's error listeners; the peer
 * is told nothing more).
 */
export function decideHandshake(
  request: HandshakeRequest,
  policy: HandshakePolicy,
  load: ServerLoad,
): HandshakeOutcome | Promise<HandshakeOutcome> {
  if (load.closing) return new HandshakeRejection(503, 'server shutting down');
  if (policy.paths !== null && !policy.paths.has(request.path)) {
    return new HandshakeRejection(404, `no WebSocket endpoint at ${request.path.slice(0, 100)}`);
  }
  if (policy.origins !== null && request.origin !== undefined && !policy.origins.has(request.origin.toLowerCase())) {
    return new HandshakeRejection(403, 'origin not allowed');
  }
  if (load.connections > policy.maxConnections) {
    return new HandshakeRejection(503, 'too many connections', { 'Retry-After': '1' });
  }
  const hook = policy.onHandshake;
  if (hook === undefined) return negotiate(request, policy, undefined);
  let result: HandshakeDecision | Promise<HandshakeDecision>;
  try {
    result = hook(request);
  } catch (error) {
    return internalError(toError(error));
  }
  if (!isPromise(result)) return negotiate(request, policy, result);
  return result.then(
    (decision) => negotiate(request, policy, decision),
    (error: unknown) => internalError(toError(error)),
  );
}

/** Apply the hook's decision, then choose the subprotocol and the extension. */
function negotiate(request: HandshakeRequest, policy: HandshakePolicy, decision: HandshakeDecision): HandshakeOutcome {
  let accept: HandshakeAccept = {};
  if (decision === false) return new HandshakeRejection(403, 'forbidden');
  if (typeof decision === 'object' && decision !== null) {
    if ('status' in decision) {
      const status = decision.status;
      if (!Number.isInteger(status) || status < 400 || status > 599) {
        return internalError(new Error(`onHandshake returned status ${status}; use 400-599 to refuse`));
      }
      try {
        if (decision.headers !== undefined) checkHeaderFields(decision.headers);
      } catch (error) {
        return internalError(toError(error));
      }
      return new HandshakeRejection(status, decision.body ?? '', flattenHeaders(decision.headers));
    }
    accept = decision;
  }
  if (accept.headers !== undefined) {
    try {
      checkHeaderFields(accept.headers);
    } catch (error) {
      return internalError(toError(error));
    }
  }

  // Subprotocol: the hook's choice, else the chooser, else the first of ours the client offered.
  const offered = request.protocols;
  let protocol: string | undefined = accept.protocol;
  if (protocol === undefined && offered.length > 0) {
    try {
      if (policy.handleProtocols !== undefined) protocol = policy.handleProtocols(offered, request);
      else if (policy.protocols !== undefined) protocol = policy.protocols.find((p) => offered.includes(p));
    } catch (error) {
      return internalError(toError(error));
    }
  }
  if (protocol !== undefined && !offered.includes(protocol)) {
    // RFC 6455 §4.2.2: the server can only select a subprotocol the client offered.
    return internalError(new Error(`selected subprotocol "${protocol}" was not offered by the client`));
  }

  // Extensions: the first factory that accepts an offer wins (one RSV1 extension at most).
  let extension: MessageExtension | null = null;
  if (policy.extensions.length > 0 && request.extensions.length > 0) {
    try {
      for (const factory of policy.extensions) {
        const offers = request.extensions.filter((e) => e.name === factory.name);
        if (offers.length === 0) continue;
        extension = factory.accept(offers);
        if (extension !== null) break;
      }
    } catch (error) {
      return new HandshakeRejection(400, (error as Error).message);
    }
  }
  return {
    accepted: true,
    protocol,
    extension,
    extensionHeader: extension === null ? undefined : formatExtension(extension.agreed),
    headers: accept.headers,
    data: accept.data,
  };
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as Promise<T> | null)?.then === 'function';
}

function flattenHeaders(headers: Record<string, string | string[]> | undefined): Record<string, string> {
  const result: Record<string, string> = {};
  if (headers === undefined) return result;
  for (const [name, value] of Object.entries(headers)) result[name] = Array.isArray(value) ? value.join(', ') : value;
  return result;
}
