/**
 * The HTTP/2 responder (RFC 8441): writes a handshake decision out on the extended CONNECT's
 * stream: `:status 200` with the subprotocol and extensions for an acceptance, the refusal's
 * status and plain-text body (the same as over HTTP/1.1) otherwise. The decision itself is the
 * protocol's (protocol/handshake/decision.ts), shared with the HTTP/1.1 responder
 * (http1-upgrade.ts). A refused stream ends; the HTTP/2 connection and its other streams go on.
 */
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import type { HandshakeAcceptance } from '../../protocol/handshake/decision.js';
import { buildExtendedConnectRefusal, buildExtendedConnectResponse } from '../../protocol/handshake/extended-connect.js';
import { HandshakeRejection } from '../../protocol/http1/rejection.js';
import { loadHttp2 } from '../http2-module.js';
import type { HandshakeInProgress } from './handshake-deadlines.js';

/** How long a refused client may keep its half of the stream open before the stream is reset. */
const REFUSAL_LINGER = 1000;

/** Whether a stream's headers ask for a WebSocket: an extended CONNECT with `:protocol websocket` (RFC 8441 §4). */
export function isWebSocketConnect(headers: IncomingHttpHeaders): boolean {
  const protocol = headers[':protocol'];
  return headers[':method'] === 'CONNECT' && typeof protocol === 'string' && protocol.toLowerCase() === 'websocket';
}

/**
 * The header list as received, flat ([name, value, ...]): node:http2 passes it with the 'stream'
 * event; rebuilt from the headers object for a caller that has only that (array values are
 * repeated fields).
 */
export function rawHeadersOf(headers: IncomingHttpHeaders): string[] {
  const raw: string[] = [];
  for (const name of Object.keys(headers)) {
    const value = headers[name];
    if (typeof value === 'string') raw.push(name, value);
    else if (Array.isArray(value)) for (const item of value) raw.push(name, item);
    else if (typeof value === 'number') raw.push(name, String(value));
  }
  return raw;
}

/** The size of a received header list (names and values, as `maxHeaderSize` counts an HTTP/1.1 head). */
export function headerListSize(raw: readonly string[]): number {
  let size = 0;
  for (let i = 0; i + 1 < raw.length; i += 2) size += raw[i]!.length + raw[i + 1]!.length + 4;
  return size;
}

/** Answer `:status 200` (RFC 8441 §5): from now on the stream's DATA frames carry WebSocket frames. */
export function writeStreamAcceptance(stream: ServerHttp2Stream, acceptance: HandshakeAcceptance): void {
  stream.respond(buildExtendedConnectResponse(acceptance.protocol, acceptance.extensionHeader, acceptance.headers));
}

/**
 * Answer a refused request and end the stream. Nothing the client sends on it is read (HTTP/2
 * flow control stops it, as TCP's does over HTTP/1.1). A client that keeps its half open after the
 * whole response is told to stop with RST_STREAM NO_ERROR (RFC 9113 §8.1) once it had time to
 * read the answer.
 */
export function writeStreamRejection(stream: ServerHttp2Stream, rejection: HandshakeRejection): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    stream.close(loadHttp2().constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  const { headers, body } = buildExtendedConnectRefusal(rejection.status, rejection.reason, rejection.headers);
  stream.respond(headers, { endStream: body === '' });
  if (body !== '') stream.end(body);
  setTimeout(resetRefusedStream, REFUSAL_LINGER, stream).unref();
}

function resetRefusedStream(stream: ServerHttp2Stream): void {
  if (!stream.closed && !stream.destroyed) stream.close(loadHttp2().constants.NGHTTP2_NO_ERROR);
}

/** An async handshake decision on a stream in progress: bounded by the handshake timeout too. */
export class PendingStreamDecision implements HandshakeInProgress {
  expired = false;
  constructor(
    readonly stream: ServerHttp2Stream,
    readonly deadline: number,
  ) {}

  timedOut(): void {
    // Our own hook is late: the client did nothing wrong, so 503 rather than 408 (as over HTTP/1.1).
    this.expired = true;
    writeStreamRejection(this.stream, new HandshakeRejection(503, 'handshake timed out', { 'Retry-After': '1' }));
  }
}
