/**
 * The sends of a wsforge/ws connection that cannot go straight to the wsforge connection:
 * Blobs (their bytes are read asynchronously, and what is sent after them waits, as in ws)
 * and fragments (`send(data, { fin: false })` starts a message that the following sends
 * continue until one has `fin` true, RFC 6455 §5.4). Most connections never have one.
 */
import type { SendData, WebSocket as Connection } from '../index.js';
import { isBlob, toSendData, type WsSendData } from './message-data.js';

export type SendCallback = (error?: Error | null) => void;

export interface FragmentOptions {
  binary?: boolean;
  compress?: boolean;
  fin?: boolean;
}

interface PendingSend {
  kind: 'message' | 'ping' | 'pong';
  data: WsSendData;
  options: FragmentOptions | undefined;
  callback: SendCallback | undefined;
  /** Bytes it will add to `bufferedAmount` once sent (Blobs: their size). */
  size: number;
}

/** The fragments of one message, handed to `sendStream()` as they come. */
class FragmentSource implements AsyncIterable<SendData> {
  private readonly chunks: Array<{ data: SendData; taken: SendCallback | undefined }> = [];
  private ended = false;
  private wake: (() => void) | null = null;
  /** The callback of the last fragment: told when the whole message is sent. */
  lastCallback: SendCallback | undefined = undefined;

  push(data: SendData, taken: SendCallback | undefined): void {
    this.chunks.push({ data, taken });
    this.notify();
  }

  end(): void {
    this.ended = true;
    this.notify();
  }

  /** The stream failed: fragments it never took will not be sent. */
  abandon(error: Error): void {
    for (const chunk of this.chunks.splice(0)) chunk.taken?.(error);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SendData> {
    for (;;) {
      const chunk = this.chunks.shift();
      if (chunk !== undefined) {
        yield chunk.data;
        // The stream asked for the next fragment: this one is in the connection now.
        chunk.taken?.();
        continue;
      }
      if (this.ended) return;
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }
}

export class OrderedSends {
  private readonly waiting: PendingSend[] = [];
  private readingBlob = false;
  private fragments: FragmentSource | null = null;

  constructor(private readonly connection: Connection) {}

  /** Whether a later send must wait here to keep its place (a Blob read or a fragmented message). */
  get busy(): boolean {
    return this.readingBlob || this.waiting.length > 0 || this.fragments !== null;
  }

  /** Whether a Blob is being read: control frames wait behind it too, as in ws. */
  get blocked(): boolean {
    return this.readingBlob || this.waiting.length > 0;
  }

  /** Bytes accepted but not yet handed to the connection. */
  get pendingBytes(): number {
    let total = 0;
    for (const item of this.waiting) total += item.size;
    return total;
  }

  add(kind: PendingSend['kind'], data: WsSendData, options: FragmentOptions | undefined, callback: SendCallback | undefined): void {
    const size = isBlob(data) ? data.size : 0;
    this.waiting.push({ kind, data, options, callback, size });
    if (!this.readingBlob) this.run();
  }

  /** Send what waits, in order, stopping at each Blob until its bytes are read. */
  private run(): void {
    while (this.waiting.length > 0) {
      const item = this.waiting[0]!;
      if (isBlob(item.data)) {
        this.readingBlob = true;
        const blob = item.data;
        blob.arrayBuffer().then(
          (bytes) => {
            item.data = Buffer.from(bytes);
            item.size = 0;
            this.readingBlob = false;
            this.run();
          },
          (error: unknown) => {
            this.waiting.shift();
            this.readingBlob = false;
            item.callback?.(error instanceof Error ? error : new Error(String(error)));
            this.run();
          },
        );
        return;
      }
      this.waiting.shift();
      this.sendNow(item);
    }
  }

  private sendNow(item: PendingSend): void {
    try {
      const data = toSendData(item.data as Exclude<WsSendData, Blob>);
      if (item.kind === 'ping') this.connection.ping(data, item.callback);
      else if (item.kind === 'pong') this.connection.pong(data, item.callback);
      else this.sendFragmentOrMessage(data, item.options, item.callback);
    } catch (error) {
      // The connection closed while this waited: tell the caller as ws does, without throwing.
      if (item.callback !== undefined) process.nextTick(item.callback, error as Error);
    }
  }

  private sendFragmentOrMessage(data: SendData, options: FragmentOptions | undefined, callback: SendCallback | undefined): void {
    const fin = options?.fin ?? true;
    let source = this.fragments;
    if (source === null) {
      if (fin) {
        this.connection.send(data, options, callback);
        return;
      }
      source = new FragmentSource();
      this.fragments = source;
      const stream = source;
      const binary = options?.binary ?? typeof data !== 'string';
      this.connection.sendStream(source, { binary, ...(options?.compress === undefined ? {} : { compress: options.compress }) }).then(
        () => this.streamDone(stream, null),
        (error: unknown) => this.streamDone(stream, error as Error),
      );
    }
    if (fin) {
      source.push(data, undefined);
      source.lastCallback = callback;
      source.end();
      this.fragments = null;
    } else {
      source.push(data, callback);
    }
  }

  private streamDone(stream: FragmentSource, error: Error | null): void {
    if (this.fragments === stream) this.fragments = null;
    if (error !== null) stream.abandon(error);
    stream.lastCallback?.(error);
  }
}
