/**
 * RFC 6455 §4.1 (the client's checks of the server's answer, 1-6) read straight from the bytes of
 * a response head, independently of src/protocol's parser: what a response the client accepted
 * must be.
 */
import { createHash } from 'node:crypto';
import { type HeadFields, listHas, readHead, single } from './http-head-model.js';

const STATUS_LINE = /^HTTP\/(\d)\.(\d) (\d{3})(?: [\t\x20-\x7e\x80-\xff]*)?$/;

/** Why an accepted response breaks §4.1, or null; `fields` are its header fields when read. */
export function acceptedResponseProblem(bytes: Buffer, key: string): { problem: string | null; fields: HeadFields | null } {
  const head = readHead(bytes);
  if (typeof head === 'string') return { problem: head, fields: null };
  const match = STATUS_LINE.exec(head.startLine);
  if (match === null) return { problem: `status line ${JSON.stringify(head.startLine)}`, fields: head.fields };
  const fields = head.fields;
  // (1) 101; (2) Upgrade: websocket; (3) Connection: Upgrade; (4) the accept key, once.
  if (match[3] !== '101') return { problem: `status ${match[3]}`, fields };
  if (!listHas(fields.get('upgrade'), 'websocket')) return { problem: 'Upgrade lacks websocket', fields };
  if (!listHas(fields.get('connection'), 'upgrade')) return { problem: 'Connection lacks Upgrade', fields };
  const expected = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
  if (single(fields, 'sec-websocket-accept') !== expected) return { problem: 'Sec-WebSocket-Accept is not exactly one right value', fields };
  return { problem: null, fields };
}
