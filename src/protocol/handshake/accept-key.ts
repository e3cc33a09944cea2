/** The opening handshake's key and its proof of receipt (RFC 6455 §1.3, §4.1, §4.2.2). */
import * as crypto from 'node:crypto';

/** RFC 6455 §1.3: the GUID appended to the key before hashing. */
export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

// crypto.hash (Node >= 20.12) hashes in one call, without a Hash object per handshake.
const oneShotHash = (crypto as { hash?: (algorithm: string, data: string, encoding: 'base64') => string }).hash;
const sha1Base64: (data: string) => string =
  oneShotHash === undefined
    ? (data) => crypto.createHash('sha1').update(data).digest('base64') /* c8 ignore next: only Node before 20.12 lacks crypto.hash */
    : (data) => oneShotHash('sha1', data, 'base64');

/** Sec-WebSocket-Accept = base64(SHA-1(key + GUID)) (RFC 6455 §4.2.2). */
export function computeAcceptKey(key: string): string {
  return sha1Base64(key + WEBSOCKET_GUID);
}

/** A fresh Sec-WebSocket-Key: 16 random bytes, base64 (RFC 6455 §4.1). */
export function generateKey(): string {
  return crypto.randomBytes(16).toString('base64');
}
