/**
 * The HTTP/1.1 message head (RFC 9112 §2-§5): find where it ends, and parse a request or a
 * response head strictly. Knows nothing of WebSocket; the handshake rules are in handshake/.
 */
import { ErrorCode, WebSocketError } from '../errors.js';
import { HandshakeRejection } from './rejection.js';
import { IS_TCHAR } from './token.js';

/** Default limit on the size of an HTTP head (start line + header fields). */
export const DEFAULT_MAX_HEADER_SIZE = 16 * 1024;

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

const CRLFCRLF = Buffer.from('\r\n\r\n');

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

/**
 * Whether `data` cannot be the start of an HTTP/1.1 request: its first bytes are not a method
 * token followed by a space (RFC 9112 §3). Lets a server refuse TLS or binary garbage at once
 * instead of waiting for a blank line that will never come.
 */
export function isNotHttpRequestStart(data: Buffer): boolean {
  const length = Math.min(data.length, 32);
  for (let i = 0; i < length; i++) {
    const code = data[i]!;
    if (code === 0x20) return i === 0;
    if (code > 0x7f || IS_TCHAR[code] === 0) return true;
  }
  // 32 token bytes without a space: no method is that long.
  return data.length >= 32;
}

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
      headerCounts[key] = (headerCounts[key] ?? 0) + 1;
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
  const line = lineEnd === -1 ? text : text.slice(0, lineEnd);
  const match = REQUEST_LINE.exec(line);
  if (match === null) {
    throw new HandshakeRejection(400, /[\r\n]/.test(line) ? 'bare CR or LF in the head' : 'malformed request line');
  }
  return {
    method: match[1]!,
    target: match[2]!,
    httpVersion: `${match[3]!}.${match[4]!}`,
    ...parseHeaderLines(text, lineEnd === -1 ? text.length : lineEnd + 2),
  };
}

/** Parse an HTTP/1.x response head. Throws a WebSocketError naming what was wrong. */
export function parseResponseHead(head: Buffer): HttpResponseHead {
  const text = head.toString('latin1');
  const lineEnd = text.indexOf('\r\n');
  const statusLine = lineEnd === -1 ? text : text.slice(0, lineEnd);
  if (/[\r\n]/.test(statusLine)) throw invalidResponse('the response head has bare CR or LF line endings', text);
  // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ): no control characters.
  const match = /^HTTP\/(\d)\.(\d) (\d{3})(?: ([\t\x20-\x7e\x80-\xff]*))?$/.exec(statusLine);
  if (match === null) throw invalidResponse(`malformed status line "${statusLine.slice(0, 80)}"`, text);
  try {
    return {
      httpVersion: `${match[1]!}.${match[2]!}`,
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
