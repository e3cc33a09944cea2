/**
 * A client that stays connected: it reconnects, with exponential backoff and jitter
 * (backoff.ts), after a connection drops or an attempt fails, until `close()` is called or the
 * retries run out. Events report each attempt; `for await (const ws of client)` gives each new
 * connection (python websockets' `async for websocket in connect(...)`).
 *
 * Sends while disconnected are queued (up to `queueLimit` bytes) and sent, in order, on the
 * next connection, right after its 'open' listeners ran (so what they send, a login or a
 * resubscription, goes first). The queue is dropped when the client ends.
 */
import { EventEmitter } from 'node:events';
import { ErrorCode, WebSocketError } from '../../protocol/errors.js';
import { checkOptions } from '../../protocol/options/check-options.js';
import { Socks5Failure } from '../../protocol/proxy/socks5.js';
import { DEFAULT_HIGH_WATER_MARK } from '../connection/options.js';
import { bytesOf, type SendData } from '../connection/send-data.js';
import type { SendOptions, WebSocket } from '../connection/websocket.js';
import { reconnectingClientOptionTable } from '../options/client-option-table.js';
import { backoffDelay, type ReconnectOptions } from './backoff.js';
import { connect } from './connect.js';
import type { ConnectOptions } from './options.js';
import { parseWebSocketUrl } from './url.js';

export interface ReconnectingClientOptions extends ConnectOptions {
  /** The backoff and the retry limit. */
  reconnect?: ReconnectOptions & {
    /** Bytes of messages kept while disconnected; default 1 MiB. Over it, send() throws. */
    queueLimit?: number;
    /**
     * Whether a failed attempt is worth retrying. Default: network failures, timeouts, 5xx
     * (and 408, 429) answers from the server or the proxy, SOCKS replies that the target is
     * unreachable; not 4xx refusals, bad handshake responses, or rejected proxy credentials.
     */
    shouldRetry?: (error: WebSocketError) => boolean;
    /** The random source of the jitter (tests), [0, 1). Default Math.random. */
    random?: () => number;
  };
}

export type ReconnectingClientState = 'connecting' | 'open' | 'waiting' | 'closed';

export interface ReconnectingClientEvents {
  /** An attempt starts; `attempt` counts from 1 since the client started or last was open. */
  connecting: [attempt: number];
  /** A connection is open (the same object `for await` yields). */
  open: [ws: WebSocket];
  /** A message on the current connection. */
  message: [data: string | Buffer, isBinary: boolean];
  /** The current connection closed (`code` as the WebSocket's 'close' event gives it). */
  close: [code: number, reason: string];
  /** A retry is scheduled in `delay` ms, after a failed attempt (`error`) or a dropped connection (null). */
  reconnecting: [info: { attempt: number; delay: number; error: WebSocketError | null }];
  /** An attempt failed. Emitted only when a listener is attached. */
  error: [error: WebSocketError];
  /** The client will not connect again: close() was called (null), or it gave up (the last error). */
  end: [error: WebSocketError | null];
}

const DEFAULT_QUEUE_LIMIT = 1024 * 1024;

interface QueuedMessage {
  readonly data: Buffer | string;
  readonly options: SendOptions | undefined;
  readonly bytes: number;
}

export class ReconnectingClient extends EventEmitter<ReconnectingClientEvents> {
  readonly url: string;
  private readonly options: ReconnectingClientOptions;
  private readonly aborter = new AbortController();
  private current: WebSocket | null = null;
  private phase: ReconnectingClientState = 'connecting';
  /** Failed attempts since the last open connection. */
  private failures = 0;
  /** Retries scheduled since the last open connection: the backoff's step. */
  private retries = 0;
  /** Attempts since the client started or was last open. */
  private attemptNumber = 0;
  private timer: NodeJS.Timeout | null = null;
  private ending: { code: number | undefined; reason: string | undefined } | null = null;
  private queue: QueuedMessage[] = [];
  private queuedBytes = 0;
  private readonly iteration: ConnectionIteration;

  constructor(url: string | URL, options: ReconnectingClientOptions = {}) {
    super();
    // Fail at once on what no retry can fix: a bad URL, bad options.
    this.url = parseWebSocketUrl(url).href;
    checkOptions(options, reconnectingClientOptionTable, 'new ReconnectingClient()');
    this.options = options;
    this.iteration = new ConnectionIteration(this);
    const signal = options.signal;
    if (signal !== undefined) {
      if (signal.aborted) {
        this.phase = 'closed';
        process.nextTick(() => this.finish(null));
        return;
      }
      signal.addEventListener('abort', () => this.close(), { once: true });
    }
    // On the next tick, so listeners attached right after construction see the first 'connecting'.
    this.timer = setTimeout(() => this.attempt(), 0);
  }

  /** What the client is doing: connecting, open, waiting to retry, or closed for good. */
  get state(): ReconnectingClientState {
    return this.phase;
  }

  /** The open connection, or null between connections. */
  get ws(): WebSocket | null {
    return this.current;
  }

  /** Bytes queued while disconnected plus the open connection's bufferedAmount. */
  get bufferedAmount(): number {
    return this.queuedBytes + (this.current?.bufferedAmount ?? 0);
  }

  /**
   * Send on the open connection, or queue for the next one. Returns false once the connection's
   * bufferedAmount reaches its high-water mark (wait for the connection's 'drain'). Throws
   * WSF_ERR_NOT_OPEN once the client has ended, or when the queue would exceed `queueLimit`.
   */
  send(data: SendData, options?: SendOptions): boolean {
    const ws = this.current;
    if (ws !== null && ws.canSend) {
      ws.send(data, options);
      return ws.bufferedAmount < (this.options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK);
    }
    if (this.phase === 'closed' || this.ending !== null) throw new WebSocketError(ErrorCode.NOT_OPEN, 'the reconnecting client is closed');
    // Keep a copy: the caller may reuse its buffer before the next connection opens.
    const copy = typeof data === 'string' ? data : Buffer.from(bytesOf(data));
    const bytes = typeof copy === 'string' ? Buffer.byteLength(copy) : copy.length;
    const limit = this.options.reconnect?.queueLimit ?? DEFAULT_QUEUE_LIMIT;
    if (this.queuedBytes + bytes > limit) {
      throw new WebSocketError(ErrorCode.NOT_OPEN, `not connected, and the send queue is full (${this.queuedBytes} of ${limit} bytes)`);
    }
    this.queue.push({ data: copy, options, bytes });
    this.queuedBytes += bytes;
    return true;
  }

  /**
   * Stop for good: close the open connection (with `code`, default 1000), or abort the attempt
   * in flight or the wait. 'end' follows once the connection is closed.
   */
  close(code?: number, reason?: string): void {
    if (this.phase === 'closed' || this.ending !== null) return;
    this.ending = { code, reason };
    this.dropQueue();
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const ws = this.current;
    if (ws !== null) {
      // 'end' comes from the connection's 'close'.
      ws.close(code ?? 1000, reason);
      return;
    }
    this.aborter.abort();
    this.phase = 'closed';
    process.nextTick(() => this.finish(null));
  }

  /** Each connection as it opens; leaving the loop closes the client. */
  [Symbol.asyncIterator](): AsyncIterableIterator<WebSocket> {
    return this.iteration.iterator();
  }

  private attempt(): void {
    this.timer = null;
    this.phase = 'connecting';
    this.attemptNumber++;
    this.emit('connecting', this.attemptNumber);
    const { reconnect: _reconnect, signal: _signal, ...connectOptions } = this.options;
    connect(this.url, { ...connectOptions, signal: this.aborter.signal }).then(
      (ws) => this.opened(ws),
      (error: WebSocketError) => this.failed(error),
    );
  }

  private opened(ws: WebSocket): void {
    if (this.ending !== null) {
      ws.terminate();
      this.phase = 'closed';
      this.finish(null);
      return;
    }
    this.current = ws;
    this.phase = 'open';
    this.failures = 0;
    this.retries = 0;
    this.attemptNumber = 0;
    ws.on('message', (data, isBinary) => this.emit('message', data, isBinary));
    ws.on('close', (code, reason) => this.dropped(ws, code, reason));
    this.emit('open', ws);
    this.iteration.opened(ws);
    this.flushQueue(ws);
  }

  private flushQueue(ws: WebSocket): void {
    const queue = this.queue;
    this.queue = [];
    this.queuedBytes = 0;
    for (const message of queue) {
      if (!ws.canSend) break;
      ws.send(message.data, message.options);
    }
  }

  private dropQueue(): void {
    this.queue = [];
    this.queuedBytes = 0;
  }

  private failed(error: WebSocketError): void {
    if (this.ending !== null) {
      this.phase = 'closed';
      this.finish(null);
      return;
    }
    this.failures++;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    const retry = this.options.reconnect?.shouldRetry ?? isRetryable;
    const maxRetries = this.options.reconnect?.maxRetries ?? Infinity;
    if (!retry(error) || this.failures > maxRetries) {
      this.phase = 'closed';
      this.dropQueue();
      this.finish(error);
      return;
    }
    this.schedule(error);
  }

  private dropped(ws: WebSocket, code: number, reason: string): void {
    if (this.current === ws) this.current = null;
    this.emit('close', code, reason);
    if (this.ending !== null) {
      this.phase = 'closed';
      this.finish(null);
      return;
    }
    this.schedule(null);
  }

  private schedule(error: WebSocketError | null): void {
    this.phase = 'waiting';
    const delay = backoffDelay(this.retries++, this.options.reconnect, this.options.reconnect?.random);
    this.emit('reconnecting', { attempt: this.attemptNumber + 1, delay, error });
    this.timer = setTimeout(() => this.attempt(), delay);
  }

  private finish(error: WebSocketError | null): void {
    if (this.iteration.ended) return;
    this.iteration.end();
    this.emit('end', error);
  }
}

/** The default retry policy (see `shouldRetry`): what a later attempt may well get through. */
export function isRetryable(error: WebSocketError): boolean {
  switch (error.code) {
    case ErrorCode.HANDSHAKE_CONNECTION:
    case ErrorCode.HANDSHAKE_TIMEOUT:
    case ErrorCode.PROXY_CONNECTION:
    case ErrorCode.CONNECTION_LOST:
      return true;
    // A server going down may close the connection before its handshake response.
    case ErrorCode.HANDSHAKE_INVALID_RESPONSE:
      return error.response === undefined;
    case ErrorCode.HANDSHAKE_STATUS:
    case ErrorCode.PROXY_REFUSED: {
      const status = error.response?.status;
      if (status !== undefined) return status >= 500 || status === 408 || status === 429;
      // SOCKS5 (RFC 1928 §6): general failure, network or host unreachable, refused, TTL expired.
      const cause = error.cause;
      return cause instanceof Socks5Failure && cause.reply !== undefined && [1, 3, 4, 5, 6].includes(cause.reply);
    }
    default:
      return false;
  }
}

/**
 * `for await (const ws of client)`: yields each connection once, as it opens. A connection that
 * closed before the loop asked for it is skipped; leaving the loop closes the client.
 */
class ConnectionIteration {
  ended = false;
  private waiting: ((result: IteratorResult<WebSocket>) => void) | null = null;
  private ready: WebSocket | null = null;

  constructor(private readonly client: ReconnectingClient) {}

  opened(ws: WebSocket): void {
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: ws, done: false });
    } else {
      this.ready = ws;
    }
  }

  end(): void {
    this.ended = true;
    this.ready = null;
    if (this.waiting !== null) {
      const resolve = this.waiting;
      this.waiting = null;
      resolve({ value: undefined, done: true });
    }
  }

  iterator(): AsyncIterableIterator<WebSocket> {
    const iterator: AsyncIterableIterator<WebSocket> = {
      next: () => {
        const ready = this.ready;
        this.ready = null;
        if (ready !== null && ready.canSend) return Promise.resolve({ value: ready, done: false });
        if (this.ended) return Promise.resolve({ value: undefined, done: true });
        return new Promise((resolve) => {
          this.waiting = resolve;
        });
      },
      return: () => {
        this.client.close();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}
