/**
 * Writing HTTP/1.1 responses: header fields checked before they reach the wire (no CR, LF or NUL
 * in values: header injection; names are tokens, RFC 9110 §5.1), and the error response that
 * refuses a request.
 */
import { ErrorCode, WebSocketError } from '../errors.js';
import { isToken } from './token.js';

/** Header fields given by applications: one value or several (sent as repeated fields). */
export type HeaderFields = Readonly<Record<string, string | readonly string[]>>;

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  426: 'Upgrade Required',
  429: 'Too Many Requests',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

export function statusText(status: number): string {
  return STATUS_TEXT[status] ?? 'Error';
}

/** Throw WSF_ERR_INVALID_ARGUMENT for a field that may not be sent (see the file comment). */
export function checkHeaderFields(headers: HeaderFields): void {
  for (const name of Object.keys(headers)) {
    if (!isToken(name)) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `invalid header name "${name}"`);
    const value = headers[name]!;
    for (const item of typeof value === 'string' ? [value] : value) {
      if (/[\r\n\0]/.test(item)) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `invalid value for header ${name}`);
    }
  }
}

/** Header fields as HTTP/1.1 lines ("Name: value\r\n" each), checked. */
export function formatHeaderFields(headers: HeaderFields): string {
  checkHeaderFields(headers);
  let text = '';
  for (const name of Object.keys(headers)) {
    const value = headers[name]!;
    if (typeof value === 'string') text += `${name}: ${value}\r\n`;
    else for (const item of value) text += `${name}: ${item}\r\n`;
  }
  return text;
}

/** The plain-text body of a refusal: the reason on one line (the HTTP/1.1 and HTTP/2 responders share it). */
export function errorResponseBody(reason: string): string {
  return reason === '' ? '' : reason.endsWith('\n') ? reason : reason + '\n';
}

/** An HTTP error response for a refused request; the connection is closed after it. */
export function buildErrorResponse(status: number, body: string, headers: HeaderFields = {}): string {
  const content = errorResponseBody(body);
  return (
    `HTTP/1.1 ${status} ${statusText(status)}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: text/plain; charset=utf-8\r\n' +
    `Content-Length: ${Buffer.byteLength(content)}\r\n` +
    formatHeaderFields(headers) +
    '\r\n' +
    content
  );
}
