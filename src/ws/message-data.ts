/**
 * What ws accepts as message data and what it delivers: the conversions between ws's types
 * and wsforge's, kept in one place.
 */
import type { SendData } from '../index.js';

/** How binary messages are delivered (ws's `binaryType`); text always arrives as a Buffer. */
export type BinaryType = 'nodebuffer' | 'arraybuffer' | 'fragments' | 'blob';

export const BINARY_TYPES: readonly BinaryType[] = ['nodebuffer', 'arraybuffer', 'fragments', 'blob'];

/** A message as ws delivers it: a Buffer, or per `binaryType` an ArrayBuffer, Buffer[] or Blob. */
export type RawData = Buffer | ArrayBuffer | Buffer[] | Blob;

/**
 * Data ws's `send()`, `ping()` and `pong()` take: strings, binary data, Blobs, numbers (sent as
 * their decimal text), and arrays or objects that `Buffer.from()` accepts.
 */
export type WsSendData = SendData | Blob | number | readonly number[] | { valueOf(): unknown } | null | undefined;

const EMPTY = Buffer.alloc(0);

export function isBlob(data: unknown): data is Blob {
  return typeof Blob !== 'undefined' && data instanceof Blob;
}

/**
 * wsforge's SendData for ws's data (Blobs excepted: they are read first). Like ws, anything
 * else goes through `Buffer.from()`, which throws a TypeError for what it cannot take.
 */
export function toSendData(data: Exclude<WsSendData, Blob>): SendData {
  if (data === null || data === undefined) return EMPTY;
  if (typeof data === 'string' || Buffer.isBuffer(data) || data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data;
  if (typeof data === 'number') return String(data);
  // Arrays of bytes, and objects Buffer.from() can coerce (valueOf, Symbol.toPrimitive).
  return Buffer.from(data as unknown as readonly number[]);
}

/** The byte length ws counts in `bufferedAmount` for data sent after the connection closed. */
export function byteLengthOf(data: WsSendData): number {
  if (data === null || data === undefined) return 0;
  if (isBlob(data)) return data.size;
  const sendable = toSendData(data);
  return typeof sendable === 'string' ? Buffer.byteLength(sendable) : sendable.byteLength;
}

/** A binary message in the form `binaryType` asks for. */
export function binaryMessage(data: Buffer, binaryType: BinaryType): RawData {
  switch (binaryType) {
    case 'nodebuffer':
      return data;
    case 'arraybuffer':
      // The whole backing store when the Buffer covers it, else a copy of its bytes.
      return data.byteOffset === 0 && data.byteLength === data.buffer.byteLength
        ? (data.buffer as ArrayBuffer)
        : (data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer);
    case 'fragments':
      // wsforge assembles messages before delivering them: the fragments are one Buffer.
      return [data];
    case 'blob':
      return new Blob([data]);
  }
}
