/**
 * wsforge/whatwg: the browser's WebSocket API (WHATWG WebSockets Standard) on top of
 * wsforge's client, so browser code runs on Node unchanged.
 */
import { isValidCloseCode } from '../../protocol/close.js';
import { isToken } from '../../protocol/http1/token.js';
import { checkOptions, describeValue } from '../../protocol/options/check-options.js';
import { InvalidOptionError } from '../../protocol/options/invalid-option-error.js';
import { ReadyState } from '../../protocol/session/ready-state.js';
import { connect } from '../client/connect.js';
import type { ConnectOptions } from '../client/options.js';
import { parseWebSocketUrl } from '../client/url.js';
import type { WebSocket as Connection } from '../connection/websocket.js';
import { whatwgWebSocketOptionTable } from '../options/client-option-table.js';
import { CloseEvent, WebSocketMessageEvent } from './events.js';

export type BinaryType = 'blob' | 'arraybuffer' | 'nodebuffer';

type Handler<E extends Event> = ((this: WebSocket, event: E) => unknown) | null;

type BlobLike = Blob;
type WhatwgData = string | ArrayBuffer | ArrayBufferView | BlobLike;

/**
 * The browser WebSocket API. `new WebSocket(url, protocols)` connects at once; events are
 * `open`, `message`, `error` and `close`, with `on*` attributes or addEventListener.
 * Node-specific extras go in an optional third argument (headers, TLS options, limits).
 */
export class WebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;

  readonly url: string;
  private state: number = ReadyState.CONNECTING;
  private connection: Connection | null = null;
  private binary: BinaryType = 'blob';
  private pendingClose: { code?: number; reason?: string } | null = null;
  private sendChain: Promise<void> | null = null;
  private bytesAfterClose = 0;
  private handlers: Partial<Record<'open' | 'message' | 'error' | 'close', Handler<Event>>> = {};

  constructor(url: string | URL, protocols?: string | string[], options: Omit<ConnectOptions, 'protocols'> = {}) {
    super();
    let parsed: URL;
    try {
      parsed = parseWebSocketUrl(url);
    } catch (error) {
      throw new DOMException((error as Error).message, 'SyntaxError');
    }
    this.url = parsed.href;
    // Node's built-in WebSocket (undici) also takes `{ protocols, headers }` second; here options come third.
    if (protocols !== undefined && typeof protocols !== 'string' && !Array.isArray(protocols)) {
      throw new InvalidOptionError(
        'protocols',
        `new WebSocket() (wsforge/whatwg): the second argument, \`protocols\`, is the subprotocols (a string or an array), got ${describeValue(protocols)}: options go third, \`new WebSocket(url, protocols, options)\``,
      );
    }
    checkOptions(options, whatwgWebSocketOptionTable, 'new WebSocket() (wsforge/whatwg)');
    const list = protocols === undefined ? [] : typeof protocols === 'string' ? [protocols] : [...protocols];
    for (const protocol of list) {
      if (!isToken(protocol)) throw new DOMException(`invalid subprotocol "${protocol}"`, 'SyntaxError');
    }
    if (new Set(list).size !== list.length) throw new DOMException('a subprotocol is listed twice', 'SyntaxError');
    connect(parsed, { ...options, protocols: list }).then(
      (connection) => this.opened(connection, list.length > 0),
      () => this.failed(),
    );
  }

  get readyState(): number {
    return this.state;
  }

  get bufferedAmount(): number {
    return (this.connection?.bufferedAmount ?? 0) + this.bytesAfterClose;
  }

  get protocol(): string {
    return this.connection?.protocol ?? '';
  }

  get extensions(): string {
    return this.connection?.extensions ?? '';
  }

  get binaryType(): BinaryType {
    return this.binary;
  }

  set binaryType(value: BinaryType) {
    if (value === 'blob' || value === 'arraybuffer' || value === 'nodebuffer') this.binary = value;
  }

  get onopen(): Handler<Event> {
    return this.handlers.open ?? null;
  }
  set onopen(handler: Handler<Event>) {
    this.setHandler('open', handler);
  }
  get onmessage(): Handler<WebSocketMessageEvent> {
    return (this.handlers.message as Handler<WebSocketMessageEvent>) ?? null;
  }
  set onmessage(handler: Handler<WebSocketMessageEvent>) {
    this.setHandler('message', handler as Handler<Event>);
  }
  get onerror(): Handler<Event> {
    return this.handlers.error ?? null;
  }
  set onerror(handler: Handler<Event>) {
    this.setHandler('error', handler);
  }
  get onclose(): Handler<CloseEvent> {
    return (this.handlers.close as Handler<CloseEvent>) ?? null;
  }
  set onclose(handler: Handler<CloseEvent>) {
    this.setHandler('close', handler as Handler<Event>);
  }

  send(data: WhatwgData): void {
    if (this.state === ReadyState.CONNECTING) throw new DOMException('the connection is not open yet', 'InvalidStateError');
    const connection = this.connection;
    if (this.state !== ReadyState.OPEN || connection === null) {
      // WHATWG: after close, data is discarded but counted in bufferedAmount.
      this.bytesAfterClose += byteLength(data);
      return;
    }
    if (isBlob(data)) {
      // Blobs are read asynchronously; later sends wait for them, to keep the order.
      const previous = this.sendChain ?? Promise.resolve();
      const next = previous.then(async () => {
        const bytes = Buffer.from(await data.arrayBuffer());
        if (connection.readyState === ReadyState.OPEN) connection.send(bytes);
      });
      this.sendChain = next.catch(() => undefined);
      return;
    }
    if (this.sendChain !== null) {
      const copy = typeof data === 'string' ? data : Buffer.from(toBytes(data));
      this.sendChain = this.sendChain.then(() => {
        if (connection.readyState === ReadyState.OPEN) connection.send(copy);
      });
      return;
    }
    connection.send(typeof data === 'string' ? data : toBytes(data));
  }

  close(code?: number, reason?: string): void {
    if (code !== undefined && code !== 1000 && (code < 3000 || code > 4999 || !Number.isInteger(code))) {
      throw new DOMException(`close code must be 1000 or 3000-4999, got ${code}`, 'InvalidAccessError');
    }
    if (reason !== undefined && Buffer.byteLength(reason) > 123) {
      throw new DOMException('close reason is longer than 123 bytes', 'SyntaxError');
    }
    if (this.state === ReadyState.CLOSING || this.state === ReadyState.CLOSED) return;
    if (this.state === ReadyState.CONNECTING) {
      // WHATWG: closing while connecting fails the connection.
      this.state = ReadyState.CLOSING;
      this.pendingClose = {};
      return;
    }
    this.state = ReadyState.CLOSING;
    if (code !== undefined && !isValidCloseCode(code)) return;
    this.connection?.close(code, reason);
  }

  private setHandler(type: 'open' | 'message' | 'error' | 'close', handler: Handler<Event>): void {
    const previous = this.handlers[type];
    if (previous) this.removeEventListener(type, previous as (event: Event) => void);
    if (typeof handler === 'function') {
      this.handlers[type] = handler;
      this.addEventListener(type, handler as (event: Event) => void);
    } else {
      delete this.handlers[type];
    }
  }

  private opened(connection: Connection, protocolsRequested: boolean): void {
    this.connection = connection;
    connection.on('message', (data, isBinary) => {
      let value: unknown = data;
      if (isBinary) {
        const bytes = data as Buffer;
        if (this.binary === 'arraybuffer') value = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length);
        else if (this.binary === 'blob') value = new Blob([bytes]);
      }
      this.dispatchEvent(new WebSocketMessageEvent('message', { data: value, origin: new URL(this.url).origin }));
    });
    connection.on('close', (code, reason) => {
      const wasClean = connection.wasClean;
      this.state = ReadyState.CLOSED;
      if (!wasClean) this.dispatchEvent(new Event('error'));
      this.dispatchEvent(new CloseEvent('close', { code, reason, wasClean }));
    });
    // WHATWG (establish a WebSocket connection): subprotocols were requested and the server
    // selected none: fail the connection, as browsers and Node's own client do.
    if (this.pendingClose !== null || (protocolsRequested && connection.protocol === '')) {
      connection.terminate();
      return;
    }
    this.state = ReadyState.OPEN;
    this.dispatchEvent(new Event('open'));
  }

  private failed(): void {
    this.state = ReadyState.CLOSED;
    this.dispatchEvent(new Event('error'));
    this.dispatchEvent(new CloseEvent('close', { code: 1006, reason: '', wasClean: false }));
  }
}

function toBytes(data: ArrayBuffer | ArrayBufferView): Buffer {
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function isBlob(data: WhatwgData): data is Blob {
  return typeof Blob !== 'undefined' && data instanceof Blob;
}

function byteLength(data: WhatwgData): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (isBlob(data)) return data.size;
  return (data as ArrayBuffer | ArrayBufferView).byteLength;
}
