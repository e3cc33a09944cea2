/**
 * Sends that wait their turn, in call order (RFC 6455 §5.4: the frames of one message are not
 * interleaved with another's): behind an asynchronous compression, a message sent in fragments,
 * or a prepared message being compressed. Counts its bytes, so `bufferedAmount` stays O(1).
 */
import type { WebSocketError } from '../errors.js';
import type { PreparedMessage } from '../frame/prepared.js';

export type QueuedSend =
  | { readonly kind: 'text'; readonly text: string; readonly compress: boolean }
  | { readonly kind: 'bytes'; readonly data: Buffer; readonly isBinary: boolean; readonly compress: boolean }
  | { readonly kind: 'prepared'; readonly message: PreparedMessage }
  | { readonly kind: 'close'; readonly payload: Buffer; readonly code: number | undefined }
  /** A stream's turn: called with null when it may start, or with why it never will. */
  | { readonly kind: 'stream'; readonly onTurn: (error: WebSocketError | null) => void };

function sizeOf(item: QueuedSend): number {
  switch (item.kind) {
    case 'text':
      return item.text.length;
    case 'bytes':
      return item.data.length;
    case 'prepared':
      return item.message.payload.length;
    default:
      return 0;
  }
}

export class SendQueue {
  private readonly items: QueuedSend[] = [];
  /** Payload bytes waiting (text counted in UTF-16 units, as `bufferedAmount` has always done). */
  bytes = 0;

  get length(): number {
    return this.items.length;
  }

  push(item: QueuedSend): void {
    this.items.push(item);
    this.bytes += sizeOf(item);
  }

  shift(): QueuedSend | undefined {
    const item = this.items.shift();
    if (item !== undefined) this.bytes -= sizeOf(item);
    return item;
  }

  /** Remove every waiting stream (the connection is closing) and return them. */
  takeStreams(): Array<Extract<QueuedSend, { kind: 'stream' }>> {
    const streams: Array<Extract<QueuedSend, { kind: 'stream' }>> = [];
    for (let i = this.items.length - 1; i >= 0; i--) {
      const item = this.items[i]!;
      if (item.kind === 'stream') {
        streams.unshift(item);
        this.items.splice(i, 1);
      }
    }
    return streams;
  }

  /** Empty the queue; returns what was in it. */
  clear(): QueuedSend[] {
    const items = this.items.splice(0);
    this.bytes = 0;
    return items;
  }
}
