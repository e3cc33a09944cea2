/**
 * ws's `WebSocket`, server side, over a wsforge connection: the events, methods and properties
 * of ws 8 (its doc/ws.md), with wsforge doing the protocol work underneath. The object is a
 * small wrapper: the server's handlers (one set for all connections) hand each event to it.
 */
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { ReadyState, type WebSocket as Connection, type WebSocketError } from '../index.js';
import { isValidCloseCode, MAX_CLOSE_REASON_BYTES } from '../protocol/index.js';
import { ClientAttempt } from './client-connect.js';
import type { ClientOptions } from './client-options.js';
import type { ClientUpgradeRequest } from './client-request.js';
import { toWsError } from './errors.js';
import {
  addEventListener,
  type EventListener,
  getEventAttribute,
  removeEventListener,
  setEventAttribute,
  type EventType,
  type WebSocketEventTypes,
} from './events.js';
import { BINARY_TYPES, binaryMessage, type BinaryType, byteLengthOf, isBlob, type RawData, toSendData, type WsSendData } from './message-data.js';
import { OrderedSends, type SendCallback } from './ordered-sends.js';
import { PreEncodedFrameSender } from './pre-encoded-frames.js';
import type { createWebSocketStream } from './stream.js';
import type { WebSocketServer } from './server.js';

export type { SendCallback };

export interface SendOptions {
  /** Send as binary (default: true unless `data` is a string). */
  binary?: boolean;
  /** Compress when permessage-deflate is negotiated (default true; small messages never are). */
  compress?: boolean;
  /** false: this is a fragment, the following sends continue the message until one has `fin` true. */
  fin?: boolean;
  /** Ignored: a server never masks its frames, a client always does (RFC 6455 §5.1, §5.3). */
  mask?: boolean;
}

export interface WebSocketEventMap {
  open: [];
  message: [data: RawData, isBinary: boolean];
  close: [code: number, reason: Buffer];
  error: [error: Error];
  ping: [data: Buffer];
  pong: [data: Buffer];
  /** Client side: the server's 101 answer, before 'open'. */
  upgrade: [response: IncomingMessage];
  /** Client side, with a listener: a non-101 answer, for the listener to handle (see ClientUpgradeRequest). */
  'unexpected-response': [request: ClientUpgradeRequest, response: IncomingMessage];
  /** Client side, with `followRedirects`: about to follow a redirect to `url`. */
  redirect: [url: string, request: ClientUpgradeRequest];
}

const READY_STATE_NAMES = ['CONNECTING', 'OPEN', 'CLOSING', 'CLOSED'] as const;
const EMPTY = Buffer.alloc(0);

// `state` bits: the binaryType's index in BINARY_TYPES (two bits), then flags.
const BINARY_TYPE_MASK = 3;
const TERMINATED = 4;
// A client's connection is attached before its 'open' is emitted: CONNECTING until then, as in ws.
const OPENING = 8;

/** What few connections need (Blobs, fragments, sends after close), allocated on first use. */
class RareState {
  ordered: OrderedSends | null = null;
  /** Client side: the connection attempt (its URL and state before the connection exists). */
  client: ClientAttempt | null = null;
  bytesAfterClose = 0;
  frameSender: PreEncodedFrameSender | null = null;
}

export class WebSocket extends EventEmitter<WebSocketEventMap> {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;
  // Set by the entry module (index.ts), as `require('ws')` has them.
  declare static WebSocket: typeof WebSocket;
  declare static WebSocketServer: typeof WebSocketServer;
  declare static Server: typeof WebSocketServer;
  declare static createWebSocketStream: typeof createWebSocketStream;

  declare readonly CONNECTING: 0;
  declare readonly OPEN: 1;
  declare readonly CLOSING: 2;
  declare readonly CLOSED: 3;

  declare onopen: EventListener<WebSocketEventTypes['open']> | null;
  declare onmessage: EventListener<WebSocketEventTypes['message']> | null;
  declare onclose: EventListener<WebSocketEventTypes['close']> | null;
  declare onerror: EventListener<WebSocketEventTypes['error']> | null;

  private connection: Connection | null = null;
  private state = 0;
  private rare: RareState | null = null;

  /**
   * A client: connect to `address` (ws:, wss:, http:, https: or ws+unix: URL), offering
   * `protocols`; see ClientOptions and docs/MIGRATING.md ("The client"). A bad URL or
   * subprotocol list throws a SyntaxError, an unsupported `protocolVersion` a RangeError, an
   * option wsforge/ws does not take an InvalidOptionError. The server side calls it with `null`
   * and attaches the connection itself.
   */
  constructor(address: string | URL, protocols?: string | readonly string[], options?: ClientOptions);
  constructor(address: string | URL, options?: ClientOptions);
  /** The server's form: ws's server constructs its connections with `null`, then attaches them. */
  constructor(address: null, protocols?: undefined, options?: object);
  constructor(address: string | URL | null, protocols?: string | readonly string[] | ClientOptions, options?: ClientOptions | object) {
    super();
    if (address === null) return;
    // ws's (address, options) form: an object that is not an array is the options.
    if (typeof protocols === 'object' && protocols !== null && !Array.isArray(protocols)) {
      options = protocols as ClientOptions;
      protocols = undefined;
    }
    this.more().client = new ClientAttempt(this, address, protocols, options);
  }

  /** @internal The client's connection, once its handshake is done: its events come here. */
  attachClientConnection(connection: Connection): void {
    this.connection = connection;
    connection.data = this;
    this.state |= OPENING;
    connection.on('open', () => {
      this.state &= ~OPENING;
      this.emit('open');
    });
    connection.on('message', (data, isBinary) => this.receiveMessage(data, isBinary));
    connection.on('ping', (payload) => this.receivePing(payload));
    connection.on('pong', (payload) => this.receivePong(payload));
    connection.on('close', (code, reason) => this.receiveClose(code, reason));
    connection.on('error', (error) => this.receiveError(error));
  }

  /** @internal The client's handshake failed: 'error' (to listeners), then 'close' with 1006, as ws. */
  receiveHandshakeFailure(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.rare?.client?.closed();
    this.emit('close', 1006, EMPTY);
  }

  /** @internal The server hands over the connection once the handshake is done. */
  attachConnection(connection: Connection): void {
    this.connection = connection;
    connection.data = this;
    // ws emits 'open' before the server's callback runs: only a subclass (the `WebSocket` server option) can see it.
    if (this.listenerCount('open') > 0) this.emit('open');
  }

  get readyState(): ReadyState {
    const connection = this.connection;
    if (connection === null) return this.rare?.client?.state ?? ReadyState.CONNECTING;
    const state = connection.readyState;
    // terminate() is CLOSING at once in ws, until the 'close' event.
    if (state !== ReadyState.OPEN || (this.state & (TERMINATED | OPENING)) === 0) return state;
    return this.state & TERMINATED ? ReadyState.CLOSING : ReadyState.CONNECTING;
  }

  get binaryType(): BinaryType {
    return BINARY_TYPES[this.state & BINARY_TYPE_MASK]!;
  }

  /** 'nodebuffer' (default), 'arraybuffer', 'fragments' or 'blob'; other values are ignored, as in ws. */
  set binaryType(type: BinaryType) {
    const index = BINARY_TYPES.indexOf(type);
    if (index !== -1) this.state = (this.state & ~BINARY_TYPE_MASK) | index;
  }

  /** Bytes accepted by `send()` and not yet written, framing included; data sent after close counts too. */
  get bufferedAmount(): number {
    const rare = this.rare;
    const extra = rare === null ? 0 : rare.bytesAfterClose + (rare.ordered?.pendingBytes ?? 0);
    return (this.connection?.bufferedAmount ?? 0) + extra;
  }

  /** The names of the negotiated extensions ('permessage-deflate' or ''), as ws gives them. */
  get extensions(): string {
    const agreed = this.connection?.extensions ?? '';
    const end = agreed.indexOf(';');
    return end === -1 ? agreed : agreed.slice(0, end);
  }

  get protocol(): string {
    return this.connection?.protocol ?? '';
  }

  /** A client's URL (after redirects, the last one); server-side connections have none (undefined, as in ws). */
  get url(): string | undefined {
    return this.rare?.client?.url;
  }

  get isPaused(): boolean {
    return this.connection?.isPaused ?? false;
  }

  /**
   * @internal What engine.io sends socket.io's once-framed broadcasts through, when present
   * (the one ws internal it uses; see pre-encoded-frames.ts).
   */
  get _sender(): PreEncodedFrameSender {
    const rare = this.more();
    return (rare.frameSender ??= new PreEncodedFrameSender(this));
  }

  /** @internal For CloseEvent.wasClean: both close frames were exchanged. */
  get closedCleanly(): boolean {
    return this.connection?.wasClean ?? false;
  }

  send(data: WsSendData, callback?: SendCallback): void;
  send(data: WsSendData, options?: SendOptions, callback?: SendCallback): void;
  send(data: WsSendData, options?: SendOptions | SendCallback, callback?: SendCallback): void {
    if (typeof options === 'function') {
      callback = options;
      options = undefined;
    }
    const connection = this.connectionToSend();
    if (connection === null) {
      this.sendAfterClose(data, callback);
      return;
    }
    const ordered = this.rare?.ordered;
    if ((ordered !== undefined && ordered !== null && ordered.busy) || options?.fin === false || isBlob(data)) {
      this.orderedSends(connection).add('message', data, options, callback);
      return;
    }
    // wsforge's defaults are ws's (strings as text, binary data as binary); it ignores fin and mask.
    connection.send(toSendData(data), options, callback);
  }

  ping(data?: WsSendData | SendCallback, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.control('ping', data, mask, callback);
  }

  pong(data?: WsSendData | SendCallback, mask?: boolean | SendCallback, callback?: SendCallback): void {
    this.control('pong', data, mask, callback);
  }

  private control(
    kind: 'ping' | 'pong',
    data: WsSendData | SendCallback,
    mask: boolean | SendCallback | undefined,
    callback: SendCallback | undefined,
  ): void {
    // ws's argument shuffling: (callback), (data, callback), (data, mask, callback).
    if (typeof data === 'function') {
      callback = data as SendCallback;
      data = undefined;
    } else if (typeof mask === 'function') {
      callback = mask;
    }
    const connection = this.connectionToSend();
    if (connection === null) {
      this.sendAfterClose(data, callback);
      return;
    }
    const ordered = this.rare?.ordered;
    if (isBlob(data) || (ordered !== undefined && ordered !== null && ordered.blocked)) {
      this.orderedSends(connection).add(kind, data, undefined, callback);
      return;
    }
    // `mask` is ignored: a server never masks (RFC 6455 §5.1). Over 125 bytes throws (§5.5).
    if (kind === 'ping') connection.ping(toSendData(data), callback);
    else connection.pong(toSendData(data), callback);
  }

  /** The connection to send on; null once it is closing (ws then reports, and does not throw). */
  private connectionToSend(): Connection | null {
    const connection = this.connection;
    const state = this.readyState;
    if (state === ReadyState.CONNECTING) throw new Error('WebSocket is not open: readyState 0 (CONNECTING)');
    return state === ReadyState.OPEN ? connection : null;
  }

  /** ws's behaviour for data sent once closing: counted in bufferedAmount, the callback gets an error. */
  private sendAfterClose(data: WsSendData, callback: SendCallback | undefined): void {
    const length = byteLengthOf(data);
    if (length > 0) this.more().bytesAfterClose += length;
    if (callback !== undefined) {
      const state = this.readyState;
      process.nextTick(callback, new Error(`WebSocket is not open: readyState ${state} (${READY_STATE_NAMES[state]})`));
    }
  }

  private more(): RareState {
    return (this.rare ??= new RareState());
  }

  private orderedSends(connection: Connection): OrderedSends {
    const rare = this.more();
    return (rare.ordered ??= new OrderedSends(connection));
  }

  /**
   * Start the closing handshake. `code` must be one a close frame may carry (1000-1003,
   * 1007-1014, 3000-4999); `reason` at most 123 bytes (RFC 6455 §5.5). Without a code the
   * close frame is empty and the reason is not sent, as in ws.
   */
  close(code?: number, reason?: string | Buffer): void {
    const connection = this.connection;
    if (connection === null) {
      // A client still CONNECTING: the attempt is aborted (ws's error, then close 1006).
      this.rare?.client?.abort();
      return;
    }
    if (this.readyState === ReadyState.CLOSED) return;
    if (code === undefined) {
      connection.close();
      return;
    }
    if (typeof code !== 'number' || !Number.isInteger(code) || !isValidCloseCode(code)) {
      throw new TypeError('First argument must be a valid error code number');
    }
    const text = reason === undefined ? '' : typeof reason === 'string' ? reason : reason.toString('utf8');
    if (Buffer.byteLength(text) > MAX_CLOSE_REASON_BYTES) throw new RangeError('The message must not be greater than 123 bytes');
    connection.close(code, text);
  }

  /** Drop the TCP connection at once. */
  terminate(): void {
    const connection = this.connection;
    if (connection === null) {
      this.rare?.client?.abort();
      return;
    }
    if (this.readyState === ReadyState.CLOSED) return;
    this.state |= TERMINATED;
    connection.terminate();
  }

  /** Stop reading from the network (TCP flow control holds the peer back) until `resume()`. */
  pause(): void {
    const state = this.readyState;
    if (state === ReadyState.CONNECTING || state === ReadyState.CLOSED || this.connection === null) return;
    this.connection.pause();
  }

  resume(): void {
    const state = this.readyState;
    if (state === ReadyState.CONNECTING || state === ReadyState.CLOSED || this.connection === null) return;
    this.connection.resume();
  }

  addEventListener<K extends EventType>(type: K, listener: EventListener<WebSocketEventTypes[K]>, options?: { once?: boolean }): void {
    addEventListener(this, type, listener as EventListener<never>, options);
  }

  removeEventListener<K extends EventType>(type: K, listener: EventListener<WebSocketEventTypes[K]>): void {
    removeEventListener(this, type, listener as EventListener<never>);
  }

  // ---- Events from the connection (called by the server's handlers) ------------------------

  /** @internal */
  receiveMessage(data: string | Buffer, isBinary: boolean): void {
    let message: RawData;
    if (!isBinary) {
      // ws delivers text as the Buffer of its (validated) UTF-8 bytes: the server asks wsforge
      // for exactly that (textAsBuffer), a string would only come from a connection made otherwise.
      message = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    } else {
      const binaryType = this.state & BINARY_TYPE_MASK;
      message = binaryType === 0 ? (data as Buffer) : binaryMessage(data as Buffer, BINARY_TYPES[binaryType]!);
    }
    this.emit('message', message, isBinary);
  }

  /** @internal */
  receiveClose(code: number, reason: string): void {
    this.emit('close', code, reason === '' ? EMPTY : Buffer.from(reason, 'utf8'));
  }

  /** @internal */
  receivePing(payload: Buffer): void {
    if (this.listenerCount('ping') > 0) this.emit('ping', payload);
  }

  /** @internal */
  receivePong(payload: Buffer): void {
    if (this.listenerCount('pong') > 0) this.emit('pong', payload);
  }

  /** @internal Errors are emitted only to listeners: an unhandled one does not crash the process. */
  receiveError(error: WebSocketError): void {
    if (this.listenerCount('error') === 0) return;
    const wsError = toWsError(error);
    if (wsError !== null) this.emit('error', wsError);
  }
}

// ws has the ready-state constants on instances too.
for (const [name, value] of [
  ['CONNECTING', ReadyState.CONNECTING],
  ['OPEN', ReadyState.OPEN],
  ['CLOSING', ReadyState.CLOSING],
  ['CLOSED', ReadyState.CLOSED],
] as const) {
  Object.defineProperty(WebSocket.prototype, name, { enumerable: true, value });
}

// The on* attributes: one listener each, kept among the EventTarget listeners.
for (const type of ['open', 'message', 'close', 'error'] as const) {
  Object.defineProperty(WebSocket.prototype, `on${type}`, {
    enumerable: true,
    configurable: true,
    get(this: WebSocket) {
      return getEventAttribute(this, type);
    },
    set(this: WebSocket, handler: unknown) {
      setEventAttribute(this, type, handler);
    },
  });
}
