import * as crypto from 'node:crypto';
import { ErrorCode, WebSocketError } from './errors.js';
import { type ExtensionParams, isToken, parseExtensionHeader } from './extensions.js';

/** RFC 6455 §1.3: the GUID appended to the key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

/** Default limit on the size of a handshake's HTTP head (request line + headers). */
export const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;

/** Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2). */
export function computeAcceptKey(key: string): string {
  return sha1Base64(key + WEBSOCKET_GUID);
}

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per handshake.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;
const sha1Base64: (data: string) => string =
  oneShotHash === undefined
    ? (data) => crypto.createHash('sha1').update(data).digest('base64')
    : (data) => oneShotHash('sha1', data, 'base64');

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 §4.1). */
export function generateKey(): string {
  return crypto.randomBytes(16).toString('base64');
}

/** Header names lowercased; repeated fields joined with ", " (RFC 9110 §5.3). */
export type HeaderMap = Record<string, string>;

export interface HttpRequestHead {
  readonly method: string;
  /** The request-target, e.g. "/chat?room=1". */
  readonly target: string;
  /** "1.1" for HTTP/1.1. */
  readonly httpVersion: string;
  readonly headers: HeaderMap;
  /** How many times each (lowercased) header name appeared. */
  readonly headerCounts: Record<string, number>;
}

export interface HttpResponseHead {
  readonly httpVersion: string;
  readonly status: number;
  readonly statusText: string;
  readonly headers: HeaderMap;
  readonly headerCounts: Record<string, number>;
}

/** Why a handshake request was refused: the HTTP status, a short reason, extra headers. */
export class HandshakeRejection extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(reason);
    this.name = 'HandshakeRejection';
  }
}

const CRLFCRLF = Buffer.from('\r\n\r\n');
const TOKEN_CHAR = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/**
 * Find the end of an HTTP head in `data`. Returns the index just after the blank line,
 * -1 if more bytes are needed. Throws a 431 rejection when the head passes `maxSize`.
 */
export function findHeadEnd(data: Buffer, maxSize: number, statusForTooLarge = 431): number {
  const end = data.indexOf(CRLFCRLF);
  if (end !== -1 && end + 4 <= maxSize) return end + 4;
  if (end !== -1 || data.length > maxSize) {
    throw new HandshakeRejection(statusForTooLarge, `request head larger than ${maxSize} bytes`);
  }
  return -1;
}

/** RFC 9110 §5.6.2 "tchar", by character code. */
const IS_TCHAR = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") IS_TCHAR[c.charCodeAt(0)] = 1;

/**
 * Parse the header lines of a head (latin1 text) starting at `from`, in one pass: lines end with
 * CRLF (RFC 9112 §2.2: a bare CR or LF is refused), no obs-fold (§5.2), names are tokens with
 * the colon right after them (§5.1), values lose their surrounding whitespace and may not hold
 * control characters (RFC 9110 §5.5). Stops at the empty line.
 */
function parseHeaderLines(text: string, from: number): { headers: HeaderMap; headerCounts: Record<string, number> } {
  const headers: HeaderMap = Object.create(null) as HeaderMap;
  const headerCounts: Record<string, number> = Object.create(null) as Record<string, number>;
  let position = from;
  for (;;) {
    const end = text.indexOf('\r\n', position);
    if (end === -1) {
      if (position === text.length) break;
      throw new HandshakeRejection(400, 'header line without CRLF');
    }
    if (end === position) break;
    const first = text.charCodeAt(position);
    if (first === 0x20 || first === 0x09) throw new HandshakeRejection(400, 'folded header line');
    let colon = position;
    for (; colon < end; colon++) {
      const code = text.charCodeAt(colon);
      if (code === 0x3a) break;
      if (code > 0x7f || IS_TCHAR[code] === 0) {
        throw new HandshakeRejection(400, code === 0x0d || code === 0x0a ? 'bare CR or LF in the head' : 'invalid header name');
      }
    }
    if (colon === position || colon === end) throw new HandshakeRejection(400, 'malformed header line');
    let valueStart = colon + 1;
    let valueEnd = end;
    while (valueStart < valueEnd && (text.charCodeAt(valueStart) === 0x20 || text.charCodeAt(valueStart) === 0x09)) valueStart++;
    while (valueEnd > valueStart && (text.charCodeAt(valueEnd - 1) === 0x20 || text.charCodeAt(valueEnd - 1) === 0x09)) valueEnd--;
    for (let k = valueStart; k < valueEnd; k++) {
      const code = text.charCodeAt(k);
      if ((code < 0x20 && code !== 0x09) || code === 0x7f) {
        throw new HandshakeRejection(400, code === 0x0d || code === 0x0a ? 'bare CR or LF in the head' : 'invalid character in a header value');
      }
    }
    const key = text.slice(position, colon).toLowerCase();
    const value = text.slice(valueStart, valueEnd);
    const previous = headers[key];
    if (previous === undefined) {
      headers[key] = value;
      headerCounts[key] = 1;
    } else {
      headers[key] = `${previous}, ${value}`;
      headerCounts[key]! += 1;
    }
    position = end + 2;
  }
  return { headers, headerCounts };
}

const REQUEST_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([\x21-\x7e\x80-\xff]+) HTTP\/(\d)\.(\d)$/;

/** Parse an HTTP/1.x request head (the bytes up to and including the blank line). */
export function parseRequestHead(head: Buffer): HttpRequestHead {
  const text = head.toString('latin1');
  const lineEnd = text.indexOf('\r\n');
  const match = REQUEST_LINE.exec(lineEnd === -1 ? text : text.slice(0, lineEnd));
  if (match === null) {
    const line = lineEnd === -1 ? text : text.slice(0, lineEnd);
    throw new HandshakeRejection(400, /[\r\n]/.test(line) ? 'bare CR or LF in the head' : 'malformed request line');
  }
  return {
    method: match[1]!,
    target: match[2]!,
    httpVersion: `${match[3]}.${match[4]}`,
    ...parseHeaderLines(text, lineEnd === -1 ? text.length : lineEnd + 2),
  };
}

/** Parse an HTTP/1.x response head. Throws a WebSocketError naming what was wrong. */
export function parseResponseHead(head: Buffer): HttpResponseHead {
  const text = head.toString('latin1');
  const lineEnd = text.indexOf('\r\n');
  const statusLine = lineEnd === -1 ? text : text.slice(0, lineEnd);
  if (/[\r\n]/.test(statusLine)) throw invalidResponse('the response head has bare CR or LF line endings', text);
  const match = /^HTTP\/(\d)\.(\d) (\d{3})(?: (.*))?$/.exec(statusLine);
  if (match === null) throw invalidResponse(`malformed status line "${statusLine.slice(0, 80)}"`, text);
  try {
    return {
      httpVersion: `${match[1]}.${match[2]}`,
      status: Number(match[3]),
      statusText: match[4] ?? '',
      ...parseHeaderLines(text, lineEnd === -1 ? text.length : lineEnd + 2),
    };
  } catch (error) {
    throw invalidResponse((error as Error).message, text);
  }
}

function invalidResponse(why: string, text: string): WebSocketError {
  return new WebSocketError(ErrorCode.HANDSHAKE_INVALID_RESPONSE, `invalid handshake response: ${why}`, {
    cause: text.slice(0, 200),
  });
}

/** Whether a comma-separated header value contains `token` (case-insensitive, RFC 9110 §5.6.1). */
export function headerHasToken(value: string | undefined, token: string): boolean {
  if (value === undefined) return false;
  // The usual case first: the header is just the token.
  if (value.length === token.length && value.toLowerCase() === token) return true;
  for (const element of value.split(',')) {
    if (element.trim().toLowerCase() === token) return true;
  }
  return false;
}

/** A handshake request that passed RFC 6455 §4.2.1's checks. */
export interface UpgradeRequest {
  readonly key: string;
  /** Subprotocols the client offered, in its order of preference. */
  readonly protocols: string[];
  /** Extensions the client offered, in order. */
  readonly extensions: ExtensionParams[];
}

const BASE64_16_BYTES = /^[A-Za-z0-9+/]{22}==$/;

/**
 * Check a client's opening handshake (RFC 6455 §4.2.1). Throws a HandshakeRejection:
 * 426 with `Sec-WebSocket-Version: 13` for a missing or unsupported version or a plain
 * HTTP request without Upgrade, 400 with a short reason for anything else malformed.
 */
export function validateUpgradeRequest(request: HttpRequestHead): UpgradeRequest {
  const { headers, headerCounts } = request;
  if (request.method !== 'GET') throw new HandshakeRejection(400, 'the method must be GET');
  const [major, minor] = request.httpVersion.split('.').map(Number) as [number, number];
  if (major < 1 || (major === 1 && minor < 1)) throw new HandshakeRejection(400, 'HTTP/1.1 or later is required');
  // RFC 9112 §3.2: exactly one Host header.
  if (headers['host'] === undefined || headers['host'] === '') throw new HandshakeRejection(400, 'missing Host header');
  if (headerCounts['host']! > 1) throw new HandshakeRejection(400, 'more than one Host header');
  if (headers['upgrade'] === undefined) {
    // A plain HTTP request to a WebSocket endpoint (RFC 9110 §15.5.22).
    throw new HandshakeRejection(426, 'this endpoint serves WebSocket connections only', {
      Upgrade: 'websocket',
      Connection: 'Upgrade',
      'Sec-WebSocket-Version': '13',
    });
  }
  if (!headerHasToken(headers['upgrade'], 'websocket')) {
    throw new HandshakeRejection(400, 'the Upgrade header must contain "websocket"');
  }
  if (!headerHasToken(headers['connection'], 'upgrade')) {
    throw new HandshakeRejection(400, 'the Connection header must contain "Upgrade"');
  }
  const key = headers['sec-websocket-key'];
  // §11.3.1: Sec-WebSocket-Key MUST NOT appear more than once in a request.
  if (key === undefined) throw new HandshakeRejection(400, 'missing Sec-WebSocket-Key header');
  if (headerCounts['sec-websocket-key']! > 1) throw new HandshakeRejection(400, 'more than one Sec-WebSocket-Key header');
  // §4.1: the key is a base64-encoded 16-byte value.
  if (!BASE64_16_BYTES.test(key)) throw new HandshakeRejection(400, 'Sec-WebSocket-Key must be 16 bytes in base64');
  if (headers['sec-websocket-version'] !== '13') {
    // §4.2.2: answer an unsupported version with 426 and the versions we support.
    throw new HandshakeRejection(426, 'unsupported WebSocket version; this server speaks version 13', {
      'Sec-WebSocket-Version': '13',
    });
  }
  const protocols: string[] = [];
  const protocolHeader = headers['sec-websocket-protocol'];
  if (protocolHeader !== undefined) {
    for (const element of protocolHeader.split(',')) {
      const protocol = element.trim();
      // §4.1: subprotocol values are tokens, and each is offered once.
      if (!isToken(protocol)) throw new HandshakeRejection(400, 'invalid Sec-WebSocket-Protocol header');
      if (protocols.includes(protocol)) throw new HandshakeRejection(400, `subprotocol "${protocol}" offered twice`);
      protocols.push(protocol);
    }
  }
  let extensions: ExtensionParams[] = [];
  const extensionHeader = headers['sec-websocket-extensions'];
  if (extensionHeader !== undefined) {
    try {
      extensions = parseExtensionHeader(extensionHeader);
    } catch (error) {
      throw new HandshakeRejection(400, (error as Error).message);
    }
  }
  return { key, protocols, extensions };
}

const STATUS_TEXT: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

function formatHeaders(headers: Readonly<Record<string, string | readonly string[]>>): string {
  let text = '';
  for (const name of Object.keys(headers)) {
    const value = headers[name]!;
    if (!TOKEN_CHAR.test(name)) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `invalid header name "${name}"`);
    for (const item of typeof value === 'string' ? [value] : value) {
      if (/[\r\n\0]/.test(item)) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `invalid value for header ${name}`);
      text += `${name}: ${item}\r\n`;
    }
  }
  return text;
}

/** The 101 response that completes a server handshake (RFC 6455 §4.2.2). */
export function buildUpgradeResponse(
  key: string,
  protocol?: string,
  extensions?: string,
  extraHeaders?: Readonly<Record<string, string | readonly string[]>>,
): string {
  let response =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' +
    computeAcceptKey(key) +
    '\r\n';
  if (protocol !== undefined) response += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== undefined && extensions !== '') response += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  if (extraHeaders !== undefined) response += formatHeaders(extraHeaders);
  return response + '\r\n';
}

/** An HTTP error response for a refused handshake; the connection is closed after it. */
export function buildErrorResponse(
  status: number,
  body: string,
  headers: Readonly<Record<string, string | readonly string[]>> = {},
): string {
  const content = body === '' ? '' : body.endsWith('\n') ? body : body + '\n';
  return (
    `HTTP/1.1 ${status} ${statusText(status)}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(content)}\r\n` +
    formatHeaders(headers) +
    '\r\n' +
    content
  );
}

export interface ClientRequestOptions {
  /** Host header value ("example.com:8080"). */
  host: string;
  /** Path and query ("/chat?x=1"). */
  path: string;
  key: string;
  protocols?: readonly string[];
  /** Sec-WebSocket-Extensions offer. */
  extensions?: string;
  headers?: Readonly<Record<string, string | readonly string[]>>;
}

/** The client's opening handshake (RFC 6455 §4.1). */
export function buildClientRequest(options: ClientRequestOptions): string {
  let request =
    `GET ${options.path} HTTP/1.1\r\nHost: ${options.host}\r\n` +
    `Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${options.key}\r\nSec-WebSocket-Version: 13\r\n`;
  if (options.protocols !== undefined && options.protocols.length > 0) {
    for (const protocol of options.protocols) {
      if (!isToken(protocol)) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `invalid subprotocol "${protocol}"`);
    }
    if (new Set(options.protocols).size !== options.protocols.length) {
      throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'a subprotocol is listed twice');
    }
    request += `Sec-WebSocket-Protocol: ${options.protocols.join(', ')}\r\n`;
  }
  if (options.extensions !== undefined && options.extensions !== '') {
    request += `Sec-WebSocket-Extensions: ${options.extensions}\r\n`;
  }
  if (options.headers !== undefined) request += formatHeaders(options.headers);
  return request + '\r\n';
}

export interface AcceptedResponse {
  /** The subprotocol the server selected, or undefined. */
  readonly protocol: string | undefined;
  /** The extensions the server accepted. */
  readonly extensions: ExtensionParams[];
}

/**
 * Check a server's handshake response (RFC 6455 §4.1, client requirements 1-6). Throws a
 * WebSocketError whose message names what was wrong (status line, header, body snippet).
 */
export function validateUpgradeResponse(
  response: HttpResponseHead,
  key: string,
  offeredProtocols: readonly string[],
  body = '',
): AcceptedResponse {
  const { headers, headerCounts } = response;
  if (response.status !== 101) {
    const snippet = body.trim().slice(0, 200);
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_STATUS,
      `server answered "HTTP/${response.httpVersion} ${response.status} ${response.statusText}" instead of 101` +
        (snippet === '' ? '' : `: ${JSON.stringify(snippet)}`),
    );
  }
  if (!headerHasToken(headers['upgrade'], 'websocket')) {
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_UPGRADE,
      `invalid Upgrade header in the response: ${JSON.stringify(headers['upgrade'] ?? null)}`,
    );
  }
  if (!headerHasToken(headers['connection'], 'upgrade')) {
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_UPGRADE,
      `invalid Connection header in the response: ${JSON.stringify(headers['connection'] ?? null)}`,
    );
  }
  const accept = headers['sec-websocket-accept'];
  const expected = computeAcceptKey(key);
  if (accept !== expected || headerCounts['sec-websocket-accept'] !== 1) {
    throw new WebSocketError(
      ErrorCode.HANDSHAKE_ACCEPT,
      `invalid Sec-WebSocket-Accept: got ${JSON.stringify(accept ?? null)}, expected "${expected}"`,
    );
  }
  const protocol = headers['sec-websocket-protocol'];
  if (protocol !== undefined) {
    // §4.1: the server must select one of the offered subprotocols, or none.
    if (headerCounts['sec-websocket-protocol'] !== 1 || !offeredProtocols.includes(protocol)) {
      throw new WebSocketError(
        ErrorCode.HANDSHAKE_SUBPROTOCOL,
        offeredProtocols.length === 0
          ? `server selected subprotocol "${protocol}" but none was offered`
          : `server selected subprotocol "${protocol}", not one of those offered (${offeredProtocols.join(', ')})`,
      );
    }
  }
  let extensions: ExtensionParams[] = [];
  const extensionHeader = headers['sec-websocket-extensions'];
  if (extensionHeader !== undefined) extensions = parseExtensionHeader(extensionHeader);
  return { protocol, extensions };
}
