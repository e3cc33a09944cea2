/**
 * What a Redis message carries: who published it (so a server skips its own publishes when
 * Redis hands them back) and whether it is binary (Redis messages are bytes; a WebSocket
 * message is text or binary, and must arrive as it left). The header is 10 bytes:
 *
 *   0xF5 | flags (bit 0: binary) | 8-byte origin id | payload
 *
 * 0xF5 never starts valid UTF-8, so a message that another program published as text to a
 * topic's channel (without this header) is told apart: it is delivered as text when it is valid
 * UTF-8, as binary otherwise.
 */
import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';

const MARK = 0xf5;
const FLAG_BINARY = 1;
export const ENVELOPE_HEADER = 10;
const ORIGIN_BYTES = 8;

/** A random id per adapter: 2^64 values, so two servers never share one. */
export function newOrigin(): Buffer {
  return randomBytes(ORIGIN_BYTES);
}

export function sealEnvelope(origin: Buffer, payload: Buffer, isBinary: boolean): Buffer {
  const message = Buffer.allocUnsafe(ENVELOPE_HEADER + payload.length);
  message[0] = MARK;
  message[1] = isBinary ? FLAG_BINARY : 0;
  origin.copy(message, 2);
  payload.copy(message, ENVELOPE_HEADER);
  return message;
}

export interface OpenedEnvelope {
  /** null for a message without the header (published by another program). */
  origin: Buffer | null;
  payload: Buffer;
  isBinary: boolean;
}

export function openEnvelope(message: Buffer): OpenedEnvelope {
  if (message.length >= ENVELOPE_HEADER && message[0] === MARK) {
    return {
      origin: message.subarray(2, ENVELOPE_HEADER),
      payload: message.subarray(ENVELOPE_HEADER),
      isBinary: (message[1]! & FLAG_BINARY) !== 0,
    };
  }
  return { origin: null, payload: message, isBinary: !isUtf8(message) };
}
