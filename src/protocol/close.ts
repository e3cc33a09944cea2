import { isUtf8 } from 'node:buffer';
import { ErrorCode, WebSocketError } from './errors.js';

/** RFC 6455 §5.5: control frame payloads are at most 125 bytes; 2 go to the code. */
export const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Whether a close code may appear in a close frame on the wire (RFC 6455 §7.4).
 * 1000-1003 and 1007-1014 are defined (1012-1014 registered with IANA); 1004 is reserved,
 * 1005, 1006 and 1015 must never be sent; 1016-2999 are reserved for future RFCs;
 * 3000-3999 are for libraries and frameworks, 4000-4999 for applications.
 */
export function isValidCloseCode(code: number): boolean {
  if (code >= 1000 && code <= 1014) return code < 1004 || code > 1006;
  return code >= 3000 && code <= 4999;
}

export interface ClosePayload {
  /** The status code, or 1005 (no status) when the frame had an empty payload. */
  readonly code: number;
  readonly reason: string;
}

/**
 * Decode and validate a received close frame's payload (RFC 6455 §5.5.1):
 * empty, or a 2-byte code and an optional UTF-8 reason.
 */
export function parseClosePayload(payload: Buffer): ClosePayload {
  if (payload.length === 0) return { code: 1005, reason: '' };
  if (payload.length === 1) {
    throw new WebSocketError(ErrorCode.INVALID_CLOSE_PAYLOAD, 'close frame payload of 1 byte');
  }
  const code = payload.readUInt16BE(0);
  if (!isValidCloseCode(code)) {
    throw new WebSocketError(ErrorCode.INVALID_CLOSE_CODE, `invalid close code ${code}`);
  }
  const reasonBytes = payload.subarray(2);
  // RFC 6455 §5.5.1: the reason is UTF-8; §8.1: invalid UTF-8 fails the connection (1007).
  if (reasonBytes.length > 0 && !isUtf8(reasonBytes)) {
    throw new WebSocketError(ErrorCode.INVALID_UTF8, 'close reason is not valid UTF-8');
  }
  return { code, reason: reasonBytes.toString('utf8') };
}

/**
 * Encode a close frame payload. `code` undefined gives an empty payload.
 * Throws WSF_ERR_INVALID_ARGUMENT for a code that may not be sent or a reason over 123 bytes.
 */
export function encodeClosePayload(code?: number, reason = ''): Buffer {
  if (code === undefined) {
    if (reason !== '') throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'a close reason needs a close code');
    return Buffer.alloc(0);
  }
  if (!Number.isInteger(code) || !isValidCloseCode(code)) {
    throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `close code ${code} may not be sent`);
  }
  const reasonLength = Buffer.byteLength(reason);
  if (reasonLength > MAX_CLOSE_REASON_BYTES) {
    throw new WebSocketError(
      ErrorCode.INVALID_ARGUMENT,
      `close reason is ${reasonLength} bytes; at most ${MAX_CLOSE_REASON_BYTES} fit in a control frame`,
    );
  }
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload.writeUInt16BE(code, 0);
  payload.write(reason, 2, 'utf8');
  return payload;
}
