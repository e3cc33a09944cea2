/**
 * `for await (const message of ws)`: messages queued for the iterator, the transport paused
 * while the queue holds too much (backpressure from the reader to the peer).
 */
import type { WebSocket } from './websocket.js';

/** The queue pauses reading at this many bytes, and resumes at half. */
const PAUSE_AT = 1024 * 1024;

export class MessageIterator {
  private readonly items: Array<string | Buffer> = [];
  private bytes = 0;
  private waiting: ((result: IteratorResult<string | Buffer>) => void) | null = null;
  private done = false;

  constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.push(data));
    ws.on('close', () => this.finish());
  }

  private push(data: string | Buffer): void {
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: data, done: false });
      return;
    }
    this.items.push(data);
    this.bytes += data.length;
    if (this.bytes >= PAUSE_AT) this.ws.holdForIterator(true);
  }

  private finish(): void {
    this.done = true;
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  iterator(): AsyncIterableIterator<string | Buffer> {
    const next = (): Promise<IteratorResult<string | Buffer>> => {
      if (this.items.length > 0) {
        const value = this.items.shift()!;
        this.bytes -= value.length;
        if (this.bytes < PAUSE_AT / 2) this.ws.holdForIterator(false);
        return Promise.resolve({ value, done: false });
      }
      if (this.done) return Promise.resolve({ value: undefined, done: true });
      return new Promise((resolve) => {
        this.waiting = resolve;
      });
    };
    const iterator: AsyncIterableIterator<string | Buffer> = {
      next,
      return: () => {
        // Leaving the loop early does not close the connection; it only stops iterating.
        this.items.length = 0;
        this.bytes = 0;
        this.ws.holdForIterator(false);
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
