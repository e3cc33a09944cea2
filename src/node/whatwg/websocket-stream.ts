/**
 * WebSocketStream (the WebSockets Standard's streams API, as Chromium and undici implement it):
 * a connection as a ReadableStream of messages and a WritableStream to send them, with
 * backpressure both ways. A reader that falls behind stops the socket reads (ws.pause()) once
 * about 1 MiB of messages wait unread, and the peer's TCP window then slows the sender; writes
 * wait while `bufferedAmount` is at the connection's high-water mark ('drain').
 */
import { ReadableStream, type ReadableStreamDefaultController, WritableStream, type WritableStreamDefaultController } from 'node:stream/web';
import { isToken } from '../../protocol/http1/token.js';
import { checkOptions } from '../../protocol/options/check-options.js';
import { connect } from '../client/connect.js';
import type { ConnectOptions } from '../client/options.js';
import { parseWebSocketUrl } from '../client/url.js';
import { DEFAULT_HIGH_WATER_MARK } from '../connection/options.js';
import type { WebSocket as Connection } from '../connection/websocket.js';
import { webSocketStreamOptionTable } from '../options/client-option-table.js';
import { WebSocketError } from './websocket-error.js';

/** Unread messages, in bytes (UTF-16 units for text), at which the socket stops being read. */
const READ_HIGH_WATER_MARK = 1024 * 1024;

export interface WebSocketStreamOptions extends Omit<ConnectOptions, 'protocols' | 'signal'> {
  /** Subprotocols to offer, in order of preference. */
  protocols?: string[];
  /** Abort the opening handshake: `opened` and `closed` reject with the signal's reason. */
  signal?: AbortSignal | null;
}

/** What `opened` resolves with. */
export interface WebSocketOpenInfo {
  /** Messages: strings for text, Uint8Arrays for binary. */
  readonly readable: ReadableStream<string | Uint8Array>;
  /** Write a string to send text, an ArrayBuffer or a view to send binary. */
  readonly writable: WritableStream<string | ArrayBuffer | ArrayBufferView>;
  readonly protocol: string;
  readonly extensions: string;
}

export interface WebSocketCloseInfo {
  closeCode?: number;
  reason?: string;
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
  reject(error: unknown): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A rejection nobody awaits must not crash the process (browsers only log it).
  promise.catch(() => {});
  return { promise, resolve, reject };
}

export class WebSocketStream {
  readonly url: string;
  private readonly openedPromise = deferred<WebSocketOpenInfo>();
  private readonly closedPromise = deferred<Required<WebSocketCloseInfo>>();
  private connection: Connection | null = null;
  private readController: ReadableStreamDefaultController<string | Uint8Array> | null = null;
  private writeController: WritableStreamDefaultController | null = null;
  /** close() was called before the connection opened. */
  private closeWhileConnecting = false;
  private handshakeAborted = false;
  private readableDone = false;
  private readonly highWaterMark: number;

  constructor(url: string | URL, options: WebSocketStreamOptions = {}) {
    let parsed: URL;
    try {
      parsed = parseWebSocketUrl(url);
    } catch (error) {
      throw new DOMException((error as Error).message, 'SyntaxError');
    }
    this.url = parsed.href;
    checkOptions(options, webSocketStreamOptionTable, 'new WebSocketStream()');
    const { protocols = [], signal, ...connectOptions } = options;
    for (const protocol of protocols) {
      if (!isToken(protocol)) throw new DOMException(`invalid subprotocol "${protocol}"`, 'SyntaxError');
    }
    if (new Set(protocols.map((p) => p.toLowerCase())).size !== protocols.length) throw new DOMException('a subprotocol is listed twice', 'SyntaxError');
    this.highWaterMark = options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK;
    if (signal !== undefined && signal !== null) {
      if (signal.aborted) {
        this.handshakeAborted = true;
        this.openedPromise.reject(signal.reason);
        this.closedPromise.reject(signal.reason);
        return;
      }
      signal.addEventListener(
        'abort',
        () => {
          // Only the opening handshake can be aborted; an open connection is closed with close().
          if (this.connection !== null || this.handshakeAborted) return;
          this.handshakeAborted = true;
          this.openedPromise.reject(signal.reason);
          this.closedPromise.reject(signal.reason);
        },
        { once: true },
      );
    }
    const attempt = signal === undefined || signal === null ? { ...connectOptions, protocols } : { ...connectOptions, protocols, signal };
    connect(parsed, attempt).then(
      (connection) => this.connectionOpened(connection, protocols.length > 0),
      (error: Error) => this.failed(error),
    );
  }

  /** Resolves once the connection is open: the streams, the subprotocol and the extensions. */
  get opened(): Promise<WebSocketOpenInfo> {
    return this.openedPromise.promise;
  }

  /** Resolves with the close code and reason after a clean close; rejects with a WebSocketError otherwise. */
  get closed(): Promise<Required<WebSocketCloseInfo>> {
    return this.closedPromise.promise;
  }

  /**
   * Start the closing handshake with `closeCode` (1000 or 3000-4999; 1000 when only a reason is
   * given) and `reason` (at most 123 bytes). Before the connection is open, fail it instead.
   */
  close(closeInfo: WebSocketCloseInfo = {}): void {
    // The same checks as the WebSocketError constructor (InvalidAccessError, SyntaxError).
    const checked = new WebSocketError('', closeInfo);
    const connection = this.connection;
    if (connection === null) {
      this.closeWhileConnecting = true;
      return;
    }
    connection.close(checked.closeCode ?? undefined, checked.reason);
  }

  private connectionOpened(connection: Connection, protocolsRequested: boolean): void {
    if (this.handshakeAborted || this.closeWhileConnecting || (protocolsRequested && connection.protocol === '')) {
      // WebSockets Standard: subprotocols were requested and the server chose none: fail the connection.
      connection.terminate();
      if (!this.handshakeAborted) this.failed(new Error('the connection was closed before it opened'));
      return;
    }
    this.connection = connection;
    const readable = new ReadableStream<string | Uint8Array>(
      {
        start: (controller) => {
          this.readController = controller;
        },
        // The reader caught up: read from the socket again.
        pull: () => connection.resume(),
        cancel: (reason: unknown) => {
          this.readableDone = true;
          connection.resume();
          this.closeUsingReason(reason);
        },
      },
      { highWaterMark: READ_HIGH_WATER_MARK, size: (chunk) => (typeof chunk === 'string' ? chunk.length : chunk.byteLength) },
    );
    const writable = new WritableStream<string | ArrayBuffer | ArrayBufferView>({
      start: (controller) => {
        this.writeController = controller;
      },
      write: (chunk) => this.write(connection, chunk),
      // Closing the writable closes the connection without a code (the peer sees 1005).
      close: () => connection.close(),
      abort: (reason: unknown) => this.closeUsingReason(reason),
    });
    connection.on('message', (data, isBinary) => {
      const controller = this.readController;
      if (controller === null || this.readableDone) return;
      const buffer = data as Buffer;
      controller.enqueue(isBinary ? new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) : (data as string));
      if ((controller.desiredSize ?? 0) <= 0) connection.pause();
    });
    connection.on('close', (code, reason) => this.connectionClosed(connection, code, reason));
    this.openedPromise.resolve({ readable, writable, protocol: connection.protocol, extensions: connection.extensions });
  }

  private write(connection: Connection, chunk: string | ArrayBuffer | ArrayBufferView): Promise<void> | void {
    let data: string | Buffer;
    if (typeof chunk === 'string') data = chunk;
    else if (chunk instanceof ArrayBuffer) data = Buffer.from(chunk);
    else if (ArrayBuffer.isView(chunk)) data = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    else throw new TypeError('a WebSocketStream writes strings, ArrayBuffers and ArrayBuffer views');
    // After the closing handshake started, data is dropped (WebSockets Standard).
    if (!connection.canSend) return;
    // The bytes are framed (and masked) into the connection's own buffer now: the chunk may be reused.
    connection.send(data, { binary: typeof data !== 'string' });
    if (connection.bufferedAmount < this.highWaterMark) return;
    // Backpressure: the next write waits until the connection drained below its high-water mark.
    return new Promise((resolve) => {
      const done = () => {
        connection.off('drain', done);
        connection.off('close', done);
        resolve();
      };
      connection.on('drain', done);
      connection.on('close', done);
    });
  }

  /** Cancel or abort with a reason: a WebSocketError's code and reason, else a close without code. */
  private closeUsingReason(reason: unknown): void {
    const connection = this.connection;
    if (connection === null) return;
    if (reason instanceof WebSocketError && reason.closeCode !== null) {
      try {
        connection.close(reason.closeCode, reason.reason);
        return;
      } catch {
        // A code or reason that cannot be sent: close without one.
      }
    }
    connection.close();
  }

  private connectionClosed(connection: Connection, code: number, reason: string): void {
    if (connection.wasClean) {
      if (!this.readableDone) {
        this.readableDone = true;
        this.readController?.close();
      }
      this.writeController?.error(new DOMException('the WebSocket is closed', 'InvalidStateError'));
      this.closedPromise.resolve({ closeCode: code, reason });
      return;
    }
    const error = WebSocketError.ofUncleanClose('unclean close', code, reason);
    if (!this.readableDone) {
      this.readableDone = true;
      this.readController?.error(error);
    }
    this.writeController?.error(error);
    this.closedPromise.reject(error);
  }

  private failed(cause: Error): void {
    if (this.handshakeAborted) return;
    const error = WebSocketError.ofUncleanClose(`the connection could not be opened: ${cause.message}`, 1006, '');
    this.openedPromise.reject(error);
    this.closedPromise.reject(error);
  }
}
