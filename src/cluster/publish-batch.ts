/**
 * The wire format of publishes between cluster workers: many publishes in one IPC message.
 * Sending one IPC message per publish costs a serialization and a write each (about 23k/s
 * through the primary); one message per event-loop turn carries a whole burst (millions per
 * second). A record is
 *
 *   u8 flags (bit 0: binary) | u16 topic length | u32 payload length | topic (UTF-8) | payload
 *
 * big-endian, back to back; the order of records is the order of publishes.
 */

const RECORD_HEADER = 7;
const FLAG_BINARY = 1;
const MAX_TOPIC_BYTES = 0xffff;

/** Collects publishes into one buffer until it is taken. */
export class PublishBatchWriter {
  private buffer = Buffer.allocUnsafe(16 * 1024);
  private length = 0;

  get isEmpty(): boolean {
    return this.length === 0;
  }

  /** Append one publish; the payload is copied, so the caller may reuse its buffer. */
  append(topic: string, payload: Buffer, isBinary: boolean): void {
    const topicBytes = Buffer.byteLength(topic);
    if (topicBytes > MAX_TOPIC_BYTES) throw new RangeError(`a topic is at most ${MAX_TOPIC_BYTES} bytes of UTF-8`);
    this.reserve(RECORD_HEADER + topicBytes + payload.length);
    const b = this.buffer;
    let at = this.length;
    b[at] = isBinary ? FLAG_BINARY : 0;
    b.writeUInt16BE(topicBytes, at + 1);
    b.writeUInt32BE(payload.length, at + 3);
    at += RECORD_HEADER;
    at += b.write(topic, at, 'utf8');
    at += payload.copy(b, at);
    this.length = at;
  }

  /** The records so far (a copy), and start again. */
  take(): Buffer {
    const out = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    // Do not keep a large buffer that one burst needed.
    if (this.buffer.length > 1024 * 1024) this.buffer = Buffer.allocUnsafe(16 * 1024);
    return out;
  }

  private reserve(bytes: number): void {
    if (this.length + bytes <= this.buffer.length) return;
    let size = this.buffer.length * 2;
    while (size < this.length + bytes) size *= 2;
    const grown = Buffer.allocUnsafe(size);
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

/** One record of a batch, located in it. */
export interface PublishRecord {
  topic: string;
  /** A view into the batch. */
  payload: Buffer;
  isBinary: boolean;
  /** Where the record starts and ends in the batch (to forward it unchanged). */
  start: number;
  end: number;
}

/** Every record of a batch, in order. A malformed batch (a bug, not a peer) throws. */
export function* readPublishBatch(batch: Buffer): Generator<PublishRecord> {
  let at = 0;
  while (at < batch.length) {
    if (at + RECORD_HEADER > batch.length) throw new Error('truncated publish batch');
    const flags = batch[at]!;
    const topicBytes = batch.readUInt16BE(at + 1);
    const payloadBytes = batch.readUInt32BE(at + 3);
    const topicStart = at + RECORD_HEADER;
    const payloadStart = topicStart + topicBytes;
    const end = payloadStart + payloadBytes;
    if (end > batch.length) throw new Error('truncated publish batch');
    yield {
      topic: batch.toString('utf8', topicStart, payloadStart),
      payload: batch.subarray(payloadStart, end),
      isBinary: (flags & FLAG_BINARY) !== 0,
      start: at,
      end,
    };
    at = end;
  }
}

/** IPC delivers a Buffer as a Uint8Array (advanced serialization): view it as a Buffer again. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
