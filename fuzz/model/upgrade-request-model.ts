/**
 * RFC 6455 §4.2.1 read straight from the bytes of a request head, independently of src/protocol's
 * parser: what a request the server accepted must be.
 */
import { type HeadFields, listHas, readHead, single } from './http-head-model.js';

export interface ReadRequest {
  readonly target: string;
  readonly fields: HeadFields;
}

const REQUEST_LINE = /^GET ([\x21-\x7e\x80-\xff]+) HTTP\/(\d)\.(\d)$/;

/** The request target and header fields, or why they are malformed (RFC 9112 §3, §5). */
export function readRequestHead(bytes: Buffer): ReadRequest | string {
  const head = readHead(bytes);
  if (typeof head === 'string') return head;
  const match = REQUEST_LINE.exec(head.startLine);
  if (match === null) return `request line ${JSON.stringify(head.startLine)} is not "GET target HTTP/x.y"`;
  const major = Number(match[2]);
  const minor = Number(match[3]);
  // §4.2.1 (1): "An HTTP/1.1 or higher GET request".
  if (major < 1 || (major === 1 && minor < 1)) return `HTTP/${major}.${minor} is older than 1.1`;
  return { target: match[1]!, fields: head.fields };
}

/** Why a request is not a valid opening handshake (§4.2.1 (2)-(6)), or null. */
export function upgradeRequestProblem(request: ReadRequest): string | null {
  const fields = request.fields;
  // (2) a Host header field (RFC 9112 §3.2: exactly one).
  const host = single(fields, 'host');
  if (host === null || host === '') return 'not exactly one non-empty Host';
  // (3) Upgrade containing "websocket"; (4) Connection containing "Upgrade", case-insensitive.
  if (!listHas(fields.get('upgrade'), 'websocket')) return 'Upgrade lacks websocket';
  if (!listHas(fields.get('connection'), 'upgrade')) return 'Connection lacks Upgrade';
  // (5) Sec-WebSocket-Key: base64 of 16 bytes (§11.3.1: only once); RFC 4648 §4: the alphabet, padded.
  const key = single(fields, 'sec-websocket-key');
  if (key === null) return 'not exactly one Sec-WebSocket-Key';
  const wellFormed = /^[A-Za-z0-9+/]*={0,2}$/.test(key) && key.length % 4 === 0;
  if (!wellFormed || Buffer.from(key, 'base64').length !== 16) return `Sec-WebSocket-Key ${JSON.stringify(key)} is not 16 bytes in base64`;
  // (6) Sec-WebSocket-Version: 13.
  if (single(fields, 'sec-websocket-version') !== '13') return 'Sec-WebSocket-Version is not 13';
  return null;
}
