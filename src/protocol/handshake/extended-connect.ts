/**
 * The server side of the opening handshake over HTTP/2 (RFC 8441): checking an extended CONNECT
 * request and the header lists that answer it. The HTTP/2 counterpart of upgrade-request.ts;
 * policy (paths, origins, authentication, subprotocol and extension choice) is the decision's job
 * (decision.ts), the same for both transports. Pure functions over header maps: node:http2 (or any
 * other HTTP/2 stack) delivers and sends the header blocks.
 */
import type { HeaderMap } from '../http1/head-parser.js';
import { HandshakeRejection } from '../http1/rejection.js';
import { checkHeaderFields, errorResponseBody, type HeaderFields } from '../http1/response.js';
import { type HandshakeOffers, readHandshakeOffers } from './offers.js';

/** An HTTP/2 header list as an HTTP/2 stack takes it: lowercase names, pseudo-header fields first. */
export type Http2HeaderList = Record<string, string | number | string[]>;

/** An extended CONNECT request that passed RFC 8441 §4-5's checks. */
export interface ExtendedConnectRequest extends HandshakeOffers {
  /** `https` (or `http` for cleartext HTTP/2): the scheme of the target URI (RFC 8441 §5). */
  readonly scheme: string;
  readonly authority: string;
  /** `:path`, the request-target ("/chat?room=1"). */
  readonly target: string;
  /**
   * The regular header fields (pseudo-header fields left out), with `host` set from `:authority`
   * when the request had no Host field: hooks read the same fields over both transports.
   */
  readonly headers: HeaderMap;
}

/**
 * Header fields that describe an HTTP/1.1 connection and MUST NOT appear in HTTP/2 (RFC 9113
 * §8.2.2). An application's extra response headers may name them (they serve both transports);
 * over HTTP/2 they are left out.
 */
export const CONNECTION_SPECIFIC_FIELDS: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);

/**
 * Check an extended CONNECT request (RFC 8441 §4-5); `fields` holds its header list with the
 * pseudo-header fields, lowercased names, repeated fields joined with ", ". Throws a
 * HandshakeRejection: 405 (with `Allow: CONNECT`) for another method, 501 for a CONNECT that
 * does not ask for `:protocol websocket`, 400 for a malformed request, then what
 * readHandshakeOffers throws (426 for a missing or other Sec-WebSocket-Version, 400 for
 * malformed subprotocol or extension lists), as over HTTP/1.1.
 */
export function validateExtendedConnect(fields: Readonly<HeaderMap>): ExtendedConnectRequest {
  if (fields[':method'] !== 'CONNECT') {
    throw new HandshakeRejection(405, 'this endpoint serves WebSocket connections only (extended CONNECT, RFC 8441)', { Allow: 'CONNECT' });
  }
  const protocol = fields[':protocol'];
  // RFC 9220 §3 (the rule RFC 8441 left implicit): a :protocol the server does not support gets 501.
  // A CONNECT without :protocol asks for a TCP tunnel (RFC 9113 §8.5), which is not served here either.
  if (protocol === undefined) throw new HandshakeRejection(501, 'CONNECT without :protocol (a tunnel) is not served here; WebSockets use :protocol websocket (RFC 8441 §4)');
  if (protocol.toLowerCase() !== 'websocket') throw new HandshakeRejection(501, `unsupported :protocol ${JSON.stringify(protocol.slice(0, 40))}`);
  // RFC 8441 §4: an extended CONNECT carries :scheme and :path, and (as every CONNECT) :authority.
  const scheme = fields[':scheme'];
  if (scheme !== 'https' && scheme !== 'http') throw new HandshakeRejection(400, 'the :scheme of an extended CONNECT must be https or http');
  const target = fields[':path'];
  if (target === undefined || !target.startsWith('/')) throw new HandshakeRejection(400, 'the :path of an extended CONNECT must be a path ("/...")');
  const authority = fields[':authority'];
  if (authority === undefined || authority === '') throw new HandshakeRejection(400, 'missing :authority');
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  for (const name of Object.keys(fields)) {
    if (name.charCodeAt(0) !== 0x3a /* ':' */) headers[name] = fields[name]!;
  }
  const host = headers['host'];
  // RFC 9113 §8.3.1: a Host field that names another entity than :authority makes the request malformed.
  if (host === undefined) headers['host'] = authority;
  else if (host.toLowerCase() !== authority.toLowerCase()) throw new HandshakeRejection(400, 'the Host header differs from :authority');
  // RFC 8441 §5: the :protocol pseudo-header field supersedes the key and accept of RFC 6455 §4.
  if (headers['sec-websocket-key'] !== undefined) throw new HandshakeRejection(400, 'Sec-WebSocket-Key is not used over HTTP/2 (RFC 8441 §5)');
  return { scheme, authority, target, headers, ...readHandshakeOffers(headers) };
}

/** The response that accepts an extended CONNECT (RFC 8441 §5: `:status 200`, no Sec-WebSocket-Accept). */
export function buildExtendedConnectResponse(protocol?: string, extensions?: string, extraHeaders?: HeaderFields): Http2HeaderList {
  const headers: Http2HeaderList = { ':status': 200 };
  if (protocol !== undefined) headers['sec-websocket-protocol'] = protocol;
  if (extensions !== undefined && extensions !== '') headers['sec-websocket-extensions'] = extensions;
  if (extraHeaders !== undefined) addHeaderFields(headers, extraHeaders);
  return headers;
}

/**
 * The response that refuses a request: the same status, plain-text body and extra fields as over
 * HTTP/1.1 (buildErrorResponse), without the fields HTTP/2 does not have (`Connection: close`:
 * the stream ends, the connection stays).
 */
export function buildExtendedConnectRefusal(status: number, reason: string, extraHeaders: HeaderFields = {}): { headers: Http2HeaderList; body: string } {
  const body = errorResponseBody(reason);
  const headers: Http2HeaderList = {
    ':status': status,
    'content-type': 'text/plain; charset=utf-8',
    'content-length': Buffer.byteLength(body),
  };
  addHeaderFields(headers, extraHeaders);
  return { headers, body };
}

/** Add checked fields with lowercase names (RFC 9113 §8.2.1), leaving out connection-specific ones. */
function addHeaderFields(headers: Http2HeaderList, fields: HeaderFields): void {
  checkHeaderFields(fields);
  for (const name of Object.keys(fields)) {
    const lower = name.toLowerCase();
    if (CONNECTION_SPECIFIC_FIELDS.has(lower)) continue;
    const value = fields[name]!;
    headers[lower] = typeof value === 'string' ? value : [...value];
  }
}

/**
 * An HTTP/2 header list as received (a flat [name, value, ...] array, names lowercase), in the form
 * the handshake checks take: repeated fields joined with ", ", except Cookie, whose pieces are
 * joined with "; " (RFC 9113 §8.2.3), and the count of each name.
 */
export function readHttp2HeaderList(raw: readonly string[]): { headers: HeaderMap; headerCounts: Record<string, number> } {
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  const headerCounts: Record<string, number> = Object.create(null) as Record<string, number>;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const previous = headers[name];
    headers[name] = previous === undefined ? value : `${previous}${name === 'cookie' ? '; ' : ', '}${value}`;
    headerCounts[name] = (headerCounts[name] ?? 0) + 1;
  }
  return { headers, headerCounts };
}
