/** What `send()` and friends accept, and its conversion to a Buffer without copying. */
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';

/** Data `send()` accepts. */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView;

/** A Buffer over the same memory (no copy), or WSF_ERR_INVALID_ARGUMENT for anything else. */
export function toBuffer(data: Buffer | ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof SharedArrayBuffer !== 'undefined' && (data as unknown) instanceof SharedArrayBuffer) {
    return Buffer.from(data as unknown as ArrayBuffer);
  }
  throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'data must be a string, Buffer, ArrayBuffer or ArrayBufferView');
}

/** Strings as UTF-8, binary data as is. */
export function bytesOf(data: SendData): Buffer {
  return typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data);
}
