/**
 * The server side of the HTTP/1.1 opening handshake (RFC 6455 §4.2): checking the client's
 * upgrade request and building the 101 response. Policy (paths, origins, authentication, the
 * choice of subprotocol and extensions) is the decision's job (decision.ts), not this file's.
 */
import type { HttpRequestHead } from '../http1/head-parser.js';
import { HandshakeRejection } from '../http1/rejection.js';
import { formatHeaderFields, type HeaderFields } from '../http1/response.js';
import { headerHasToken } from '../http1/token.js';
import { computeAcceptKey } from './accept-key.js';
import { type HandshakeOffers, readHandshakeOffers } from './offers.js';

/** An HTTP/1.1 upgrade request that passed RFC 6455 §4.2.1's checks. */
export interface UpgradeRequest extends HandshakeOffers {
  readonly key: string;
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
  const [major = 0, minor = 0] = request.httpVersion.split('.').map(Number);
  if (major < 1 || (major === 1 && minor < 1)) throw new HandshakeRejection(400, 'HTTP/1.1 or later is required');
  // RFC 9112 §3.2: exactly one Host header.
  if (headers['host'] === undefined || headers['host'] === '') throw new HandshakeRejection(400, 'missing Host header');
  if ((headerCounts['host'] ?? 0) > 1) throw new HandshakeRejection(400, 'more than one Host header');
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
  if ((headerCounts['sec-websocket-key'] ?? 0) > 1) throw new HandshakeRejection(400, 'more than one Sec-WebSocket-Key header');
  // §4.1: the key is a base64-encoded 16-byte value.
  if (!BASE64_16_BYTES.test(key)) throw new HandshakeRejection(400, 'Sec-WebSocket-Key must be 16 bytes in base64');
  return { key, ...readHandshakeOffers(headers) };
}

/** The 101 response that completes a server handshake (RFC 6455 §4.2.2). */
export function buildUpgradeResponse(key: string, protocol?: string, extensions?: string, extraHeaders?: HeaderFields): string {
  let response =
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ' +
    computeAcceptKey(key) +
    '\r\n';
  if (protocol !== undefined) response += `Sec-WebSocket-Protocol: ${protocol}\r\n`;
  if (extensions !== undefined && extensions !== '') response += `Sec-WebSocket-Extensions: ${extensions}\r\n`;
  if (extraHeaders !== undefined) response += formatHeaderFields(extraHeaders);
  return response + '\r\n';
}
