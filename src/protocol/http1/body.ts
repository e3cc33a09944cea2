/**
 * The start of an HTTP/1.1 response body, as a client shows it when a server refuses the
 * handshake: `Content-Length` bodies as they are, chunked bodies decoded (RFC 9112 §7.1).
 */
import type { HeaderMap } from './head-parser.js';
import { headerHasToken } from './token.js';

/**
 * Decode the first `limit` bytes of a body from the bytes received after the head. Chunked
 * bodies lose their chunk framing (sizes, extensions, CRLFs); a body cut short is returned as
 * far as it goes.
 */
export function responseBodyPrefix(headers: HeaderMap, received: Buffer, limit: number): Buffer {
  if (!headerHasToken(headers['transfer-encoding'], 'chunked')) return received.subarray(0, limit);
  const pieces: Buffer[] = [];
  let size = 0;
  let offset = 0;
  while (offset < received.length && size < limit) {
    const lineEnd = received.indexOf('\r\n', offset, 'latin1');
    if (lineEnd === -1) break;
    // chunk-size [ chunk-ext ] CRLF (§7.1): the size is hex, an extension follows ';'.
    const sizeText = received.toString('latin1', offset, lineEnd).split(';', 1)[0]!.trim();
    if (!/^[0-9a-fA-F]{1,8}$/.test(sizeText)) break;
    const chunkSize = parseInt(sizeText, 16);
    if (chunkSize === 0) break;
    const start = lineEnd + 2;
    const end = Math.min(start + chunkSize, received.length);
    const piece = received.subarray(start, Math.min(end, start + (limit - size)));
    pieces.push(piece);
    size += piece.length;
    offset = end + 2;
  }
  return Buffer.concat(pieces, size);
}

/** Whether the body can be complete in `received` (its length is known and has arrived). */
export function responseBodyComplete(headers: HeaderMap, received: Buffer): boolean {
  if (headerHasToken(headers['transfer-encoding'], 'chunked')) return received.includes('\r\n0\r\n', 0, 'latin1') || received.subarray(0, 3).toString('latin1') === '0\r\n';
  const length = Number(headers['content-length'] ?? NaN);
  return Number.isInteger(length) && received.length >= length;
}
