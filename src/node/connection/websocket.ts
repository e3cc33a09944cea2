/**
 * One WebSocket connection, server or client side, over any Duplex (a TCP or TLS socket, an
 * HTTP/2 stream, a Unix socket). Protocol work is done by the sans-I/O ProtocolSession; this
 * class moves bytes, runs the close timer and turns session events into events and handler
 * calls.
 */
import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode, WebSocketError } from '../../protocol/errors.js';
import type { MessageExtension } from '../../protocol/extensions/extension.js';
import { EMPTY, type Frame } from '../../protocol/frame/opcode.js';
import type { PreparedMessage } from '../../protocol/frame/prepared.js';
import type { HttpResponseHead } from '../../protocol/http1/head-parser.js';
import { InvalidOptionError } from '../../protocol/options/invalid-option-error.js';
import { checkOptions } from '../../protocol/options/check-options.js';
import { detachFromSlab } from '../../protocol/send/output-buffer.js';
import { ReadyState, type Role } from '../../protocol/session/ready-state.js';
import { ProtocolSession } from '../../protocol/session/session.js';
import { webSocketInitTable } from '../options/connection-option-table.js';
import type { BudgetHolder } from './backpressure-budget.js';
import { coarseNow } from './keepalive.js';
import { listenerThrew, rethrowLater } from './listener-errors.js';
import { createListenerTableOnFirstListener, listenerTable, withoutListenerTable } from './listener-table.js';
import { MessageIterator } from './message-iterator.js';
import { clientKeepalive, type ConnectionOptions, resolveSettings, type SharedSettings } from './options.js';
import { bytesOf, type SendData, toBuffer } from './send-data.js';
import { SendStatus } from './send-status.js';
import { listenForDrain, setSocketOwner } from './socket-owner.js';
import { abortTransport, remoteAddressOf, resetTransport } from './transport-control.js';
import { beginRead, endRead, joinPieces, outputPending } from './write-batching.js';

export { ReadyState };

/**
 * Told once the bytes of a `send()`, `ping()` or `pong()` have been written to the network
 * (handed to the kernel), or with an error when the connection went away before that.
 */
export type WrittenCallback = (error?: Error | null) => void;

export interface SendOptions {
  /** Send as binary (true) or text (false). Default: text for strings, binary otherwise. */
  binary?: boolean;
  /** Compress this message when permessage-deflate is negotiated (default true, above the threshold). */
  compress?: boolean;
}

export interface WebSocketEvents {
  /** The handshake completed: emitted once, on the turn after the connection is handed over. */
  open: [];
  /** A complete message: text as a string, binary as a Buffer. */
  message: [data: string | Buffer, isBinary: boolean];
  ping: [payload: Buffer];
  pong: [payload: Buffer];
  /** Every received frame, when created with `observeFrames: true` (the frame-level API). */
  frame: [frame: Frame];
  /** The TCP connection is gone. See README "Close codes" for what `code` is. */
  close: [code: number, reason: string];
  /** Emitted only when a listener is attached; otherwise errors surface through `close`. */
  error: [error: WebSocketError];
  /** `bufferedAmount` fell back below the high-water mark after `send()` returned false. */
  drain: [];
}

/** How a WebSocket starts over a transport on which the opening handshake has completed. */
export interface WebSocketInit extends ConnectionOptions {
  /** 'client' masks what it sends (RFC 6455 §5.3); 'server' requires masked frames. */
  role: Role;
  /** The subprotocol agreed in the handshake. */
  protocol?: string | undefined;
  /** The per-message extension agreed in the handshake (e.g. from checkHandshakeResponse). */
  extension?: MessageExtension | null | undefined;
  /** The URL connected to (client side). */
  url?: string | undefined;
  /** Bytes that arrived after the handshake, to be parsed first. */
  head?: Buffer | undefined;
}

/** @internal How the server and connect() start a connection: what users do not set, under a key they cannot reach. */
export const connectionStart: unique symbol = Symbol('wsforge.connectionStart');

/** @internal The init object as the server and connect() pass it. */
export type InternalInit = WebSocketInit & { [connectionStart]?: ConnectionStart };

/** @internal */
export interface ConnectionStart {
  /** Shared by every connection of a server. */
  readonly settings?: SharedSettings;
  /** The connection options, when shared by many connections (limits are cached per options object). */
  readonly options?: ConnectionOptions;
  /** Start reading on the next turn (client side, after `connect()` resolved). */
  readonly deferReading?: boolean;
  /** Emit 'open' on the next turn (connections made by connect()). */
  readonly emitOpen?: boolean;
  /** Client side: the opening handshake as it went, kept for `ws.handshake`. */
  readonly handshake?: ClientHandshakeRecord;
}

/** The opening handshake of a client connection: the request as sent, the response as received. */
export interface ClientHandshakeRecord {
  /** The HTTP/1.1 request head, as written. */
  readonly request: string;
  readonly response: HttpResponseHead;
}

const FLAG_NEED_DRAIN = 1; // send() returned BACKPRESSURE: emit 'drain' once below the high-water mark
const FLAG_END_AFTER_FLUSH = 2;
const FLAG_SOCKET_GONE = 4;
const FLAG_CLOSE_EMITTED = 8;
const FLAG_PEER_ENDED = 16;
const FLAG_CLEAN = 32;
const FLAG_DRAIN_LISTENER = 64;
const FLAG_CLOSE_DEFERRED = 128;
const FLAG_USER_PAUSED = 256;
const FLAG_WAITING_WRITE = 512; // the socket is full: hold output until its 'drain'
const FLAG_PING_SENT = 1024; // a keepalive ping is out and nothing has arrived since
const FLAG_KEEPALIVE = 2048; // this connection is in a keepalive sweep
const FLAG_ITERATOR_PAUSED = 4096; // the message iterator holds more than it may: reading waits for the reader
const FLAG_YIELDED = 8192; // this connection parsed a flood of frames: reading waits for the next turn

/**
 * Frames one connection may have parsed before it yields the event loop to the others (reading
 * resumes on the next turn). libuv hands a socket up to 32 reads of 64 KiB in a row: without this,
 * a peer sending a message as 262,143 one-byte fragments (9,400 frames per read) held every other
 * connection for a tenth of a second. A connection with ordinary traffic yields once per this
 * many messages, on one setImmediate.
 */
const YIELD_AFTER_FRAMES = 4096;

/**
 * Output held while the socket is not draining: the pieces, in order, counted in the server's
 * budget (backpressure-budget.ts). Allocated when a connection first backs up.
 */
class HeldOutput implements BudgetHolder {
  pieces: Buffer[] = [];
  /** Bytes of the pieces. */
  bytes = 0;
  heldBytes = 0;
  stalledSince = 0;
  /** A write callback: the bytes of a flush made after send() returned BACKPRESSURE are written. */
  readonly written: (error?: Error | null) => void;

  constructor(readonly ws: WebSocket) {
    // An error means the socket is failing or ended: its 'close' follows and does the rest.
    this.written = (error) => {
      if (error === undefined || error === null) ws.handleSocketDrain();
    };
  }

  dropForBudget(): void {
    this.ws.dropSlowConsumer('the server is over its budget of unsent bytes and this connection has taken nothing for longest');
  }
}

/**
 * Per-connection state most connections never use: a negotiated subprotocol, the client's
 * URL, application data, the close timer, the error that failed the connection, the queue
 * behind `for await`, output held for a backed-up socket, topic subscriptions. Kept out of
 * WebSocket itself so an idle connection stays small.
 */
class ConnectionExtras {
  protocol = '';
  url = '';
  data: unknown = undefined;
  closeTimer: NodeJS.Timeout | null = null;
  failure: WebSocketError | null = null;
  messageIterator: MessageIterator | null = null;
  handshake: ClientHandshakeRecord | undefined = undefined;
  held: HeldOutput | null = null;
  topics: Set<string> | null = null;
  /** `send()` callbacks waiting for their bytes to be written (see whenWritten). */
  writeCallbacks: WrittenCallback[] | null = null;
}

const NO_TOPICS: ReadonlySet<string> = new Set();
const NO_START: ConnectionStart = Object.freeze({});

export class WebSocket extends EventEmitter<WebSocketEvents> {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;

  private readonly session: ProtocolSession;
  private readonly socket: Duplex;
  private readonly settings: SharedSettings;
  private flags = 0;
  /** Keepalive stamps (keepalive.ts clock units): data last received; a message last sent or received. */
  private seenAt = 0;
  private messageAt = 0;
  /** What only some connections need, allocated on first use (see ConnectionExtras). */
  private extras: ConnectionExtras | null = null;

  /**
   * Run a WebSocket over `transport`, on which the opening handshake has completed. Most code
   * gets its connections from `connect()` or a WebSocketServer instead; this is the way to speak
   * WebSocket over a transport opened by other means (a handshake done with node:http, a test
   * pair of streams).
   */
  constructor(transport: Duplex, init: WebSocketInit) {
    if (typeof transport === 'string' || transport instanceof URL) {
      throw new TypeError(
        'new WebSocket(url) is the browser API: use `await connect(url)` from "wsforge", ' +
          '`new WebSocket(url)` from "wsforge/whatwg", or import from "wsforge/ws" for the ws API',
      );
    }
    // User code's init is checked; a server's and connect()'s come with a start, their options checked where they entered.
    if ((init as InternalInit | undefined)?.[connectionStart] === undefined) checkOptions(init ?? {}, webSocketInitTable, 'new WebSocket(duplex, init)');
    super();
    const start = (init as InternalInit)[connectionStart] ?? NO_START;
    // No listener table until a listener is added (see listener-table.ts).
    withoutListenerTable(this);
    this.socket = transport;
    if (init.protocol !== undefined && init.protocol !== '') this.more().protocol = init.protocol;
    if (init.url !== undefined) this.more().url = init.url;
    if (start.handshake !== undefined) this.more().handshake = start.handshake;
    const options = start.options ?? init;
    const settings = (this.settings = start.settings ?? resolveSettings(options));
    this.session = new ProtocolSession(init.role, this, options);
    if (init.extension) this.session.setExtension(init.extension);
    if (options.observeFrames) this.session.observeFrames = true;
    setSocketOwner(transport, this);
    if (settings.keepalive !== null) {
      this.flags |= FLAG_KEEPALIVE;
      // A server's sweep goes over its clients; client connections join a shared set.
      if (settings.server === null) clientKeepalive(settingsPeriod(settings)).members.add(this);
      settings.keepalive.joined();
    }
    // After joined(), which brings the clock up to date.
    this.seenAt = this.messageAt = coarseNow();
    // 'drain' is listened to only once send() has returned false (fewer listeners per idle socket).
    if (start.deferReading) {
      // Client side: the caller attaches its handlers after `await connect()`; frames that came
      // with the handshake response wait until then, and so does the socket.
      transport.pause();
      setImmediate(startReading, this, init.head, start.emitOpen === true);
    } else {
      // The server pauses the socket between the request head and the upgrade.
      transport.resume();
      // Frames that came with the handshake are parsed once the 'connection' listeners (which
      // run right after this constructor) have attached theirs; socket reads come later still.
      if (init.head !== undefined && init.head.length > 0) process.nextTick(parseHead, this, init.head);
    }
  }

  /** @internal */
  startReading(head: Buffer | undefined, emitOpen: boolean): void {
    if (this.flags & FLAG_SOCKET_GONE) return;
    if (emitOpen) {
      try {
        this.emit('open');
      } catch (error) {
        this.listenerThrew(error);
      }
    }
    if (head !== undefined && head.length > 0) this.handleSocketData(head);
    this.resumeTransport();
  }

  /** The subprotocol agreed in the handshake ('' when none). */
  get protocol(): string {
    return this.extras?.protocol ?? '';
  }

  /** The URL connected to (client side; '' on the server). */
  get url(): string {
    return this.extras?.url ?? '';
  }

  /** Client side: the opening handshake as it went (for logs and `-v`); undefined on the server. */
  get handshake(): ClientHandshakeRecord | undefined {
    return this.extras?.handshake;
  }

  /** Application data, e.g. what an authentication hook returned. */
  get data(): unknown {
    return this.extras?.data;
  }

  set data(value: unknown) {
    this.more().data = value;
  }

  private more(): ConnectionExtras {
    return (this.extras ??= new ConnectionExtras());
  }

  private get closeTimer(): NodeJS.Timeout | null {
    return this.extras?.closeTimer ?? null;
  }

  private set closeTimer(timer: NodeJS.Timeout | null) {
    if (timer !== null || this.extras !== null) this.more().closeTimer = timer;
  }

  private get failure(): WebSocketError | null {
    return this.extras?.failure ?? null;
  }

  private set failure(error: WebSocketError | null) {
    this.more().failure = error;
  }

  get readyState(): ReadyState {
    return this.flags & FLAG_CLOSE_EMITTED ? ReadyState.CLOSED : this.session.readyState;
  }

  /** After 'close': whether both close frames were exchanged (a clean close, RFC 6455 §7.1.4). */
  get wasClean(): boolean {
    return (this.flags & FLAG_CLEAN) !== 0;
  }

  /** The negotiated extensions, as the `Sec-WebSocket-Extensions` value ('' when none). */
  get extensions(): string {
    const extension = this.session.negotiatedExtension;
    if (extension === null) return '';
    return extension.agreed.params.reduce(
      (text, [name, value]) => (value === true ? `${text}; ${name}` : `${text}; ${name}=${value}`),
      extension.agreed.name,
    );
  }

  /** Bytes accepted for sending and not yet written to the network (queued, held, in the socket). */
  get bufferedAmount(): number {
    const held = this.extras?.held ?? null;
    return this.session.pendingBytes + (held === null ? 0 : held.bytes) + this.socket.writableLength;
  }

  /** The remote address of the underlying socket, when it has one. */
  get remoteAddress(): string | undefined {
    return remoteAddressOf(this.socket);
  }

  /** Whether a message may be sent now (open, and no close frame sent). */
  get canSend(): boolean {
    return this.session.canSendMessage && !(this.flags & (FLAG_CLOSE_EMITTED | FLAG_SOCKET_GONE));
  }

  /**
   * Send a message. Strings go as text, binary data as binary (`options.binary` overrides).
   * Returns a SendStatus: SENT; BACKPRESSURE once `bufferedAmount` reaches the high-water mark
   * (wait for 'drain'); DROPPED when the connection already held more than `maxBackpressure`
   * (with `closeOnBackpressureLimit`, the default, it is then closed as a slow consumer).
   * Throws WSF_ERR_NOT_OPEN after the connection started closing.
   */
  send(data: SendData, options?: SendOptions, onWritten?: WrittenCallback): SendStatus {
    // ws's send(data, callback): the callback would never run; say so rather than drop it.
    if (typeof options === 'function') throw sendCallbackError();
    if (this.bufferedAmount > this.settings.maxBackpressure) return this.overBackpressureLimit();
    const compress = options?.compress ?? true;
    if (typeof data === 'string') {
      if (options?.binary === true) this.session.sendBytes(Buffer.from(data, 'utf8'), true, compress);
      else this.session.sendText(data, compress);
    } else {
      this.session.sendBytes(toBuffer(data), options?.binary ?? true, compress);
    }
    this.messageAt = coarseNow();
    if (onWritten !== undefined) this.whenWritten(onWritten);
    return this.statusAfterSend();
  }

  /**
   * Call `callback` once everything sent so far has been written: it joins the callbacks taken
   * by the next write that leaves nothing waiting in the session (a message being compressed,
   * or queued behind one, is not written yet).
   */
  private whenWritten(callback: WrittenCallback): void {
    const extras = this.more();
    if (extras.writeCallbacks === null) extras.writeCallbacks = [callback];
    else extras.writeCallbacks.push(callback);
  }

  /** The write callbacks that the output being written now completes, if any. */
  private takeWriteCallbacks(): WrittenCallback[] | null {
    const extras = this.extras;
    if (extras === null || extras.writeCallbacks === null || this.session.sendsWaiting) return null;
    const callbacks = extras.writeCallbacks;
    extras.writeCallbacks = null;
    return callbacks;
  }

  /**
   * Send a message framed once for many connections (see `WebSocketServer.prepare`): the same
   * bytes go to every socket. Returns a SendStatus, as send() does.
   */
  sendPrepared(message: PreparedMessage): SendStatus {
    if (this.bufferedAmount > this.settings.maxBackpressure) return this.overBackpressureLimit();
    this.session.sendPrepared(message);
    this.messageAt = coarseNow();
    return this.statusAfterSend();
  }

  private statusAfterSend(): SendStatus {
    if (this.bufferedAmount < this.settings.highWaterMark) return SendStatus.SENT;
    this.flags |= FLAG_NEED_DRAIN;
    return SendStatus.BACKPRESSURE;
  }

  /** A send past maxBackpressure: refused, and the connection closed when so configured. */
  private overBackpressureLimit(): SendStatus {
    if (!this.session.canSendMessage) throw new WebSocketError(ErrorCode.NOT_OPEN, 'the connection is not open (closing or closed)');
    if (this.settings.closeOnBackpressureLimit) {
      this.dropSlowConsumer(`peer left more than ${this.settings.maxBackpressure} bytes unread`);
    }
    return SendStatus.DROPPED;
  }

  /**
   * Send one message made of everything `source` yields, as fragments (RFC 6455 §5.4):
   * memory stays bounded however large the message. Waits for 'drain' when the connection is
   * backed up. Other messages sent meanwhile go after it. If `source` fails, the connection is
   * closed with 1011 (a half-sent message cannot be taken back) and the promise rejects.
   */
  async sendStream(source: AsyncIterable<SendData> | Iterable<SendData>, options?: { binary?: boolean; compress?: boolean }): Promise<void> {
    const binary = options?.binary ?? true;
    const session = this.session;
    // With permessage-deflate, fragments are compressed (RSV1 on the first frame, RFC 7692 §6.1).
    const compress = (options?.compress ?? true) && session.canCompressFragments;
    // From now on, other messages wait for this one (RFC 6455 §5.4: no interleaving); if
    // another stream or queued messages go first, wait for our turn.
    await new Promise<void>((resolve, reject) => session.reserveStream((error) => (error === null ? resolve() : reject(error))));
    let first = true;
    let previous: Buffer | null = null;
    const sendFragment = async (data: Buffer, fin: boolean): Promise<void> => {
      if (compress) {
        await new Promise<void>((resolve, reject) =>
          session.sendCompressedFragment(data, binary, first, fin, (error) => (error === null ? resolve() : reject(error))),
        );
      } else {
        session.sendFragment(data, binary, first, fin);
      }
      first = false;
      this.messageAt = coarseNow();
      if (this.statusAfterSend() === SendStatus.BACKPRESSURE) await this.waitForDrain();
    };
    try {
      for await (const chunk of source) {
        const buffer = bytesOf(chunk);
        if (buffer.length === 0) continue;
        // Hold one chunk back so the last one carries FIN.
        if (previous !== null) await sendFragment(previous, false);
        previous = buffer;
      }
    } catch (error) {
      if (session.streamReserved) session.cancelStream();
      else if (session.isStreaming && this.readyState === ReadyState.OPEN) this.close(CloseCode.INTERNAL_ERROR);
      throw error;
    }
    await sendFragment(previous ?? EMPTY, true);
  }

  /** Send a ping (RFC 6455 §5.5.2); the peer answers with a pong carrying the same data. */
  ping(data: SendData = EMPTY, onWritten?: WrittenCallback): void {
    this.session.ping(bytesOf(data));
    if (onWritten !== undefined) this.whenWritten(onWritten);
  }

  /** Send an unsolicited pong (a unidirectional heartbeat, RFC 6455 §5.5.3). */
  pong(data: SendData = EMPTY, onWritten?: WrittenCallback): void {
    this.session.pong(bytesOf(data));
    if (onWritten !== undefined) this.whenWritten(onWritten);
  }

  /**
   * Frame-level API: send one frame exactly as described (any opcode, FIN, RSV1). The
   * caller is responsible for the protocol's rules.
   */
  sendFrame(frame: { opcode: number; payload?: SendData; fin?: boolean; rsv1?: boolean }): void {
    const payload = frame.payload === undefined ? EMPTY : bytesOf(frame.payload);
    this.session.sendRawFrame(frame.opcode, frame.fin ?? true, frame.rsv1 ?? false, payload);
  }

  /**
   * Start the closing handshake (RFC 6455 §7.1.2) with an optional code (1000-1003,
   * 1007-1014, 3000-4999) and reason (at most 123 bytes of UTF-8). Messages already sent are
   * delivered first. The 'close' event follows when the TCP connection is closed.
   */
  close(code?: number, reason?: string): void {
    if (this.flags & FLAG_CLOSE_EMITTED) return;
    this.session.close(code, reason);
  }

  /** Close the TCP connection at once, without a closing handshake (over HTTP/2: reset the stream). */
  terminate(): void {
    abortTransport(this.socket);
  }

  /** Stop reading from the peer (messages already received are still delivered); see resume(). */
  pause(): void {
    if (this.flags & (FLAG_USER_PAUSED | FLAG_SOCKET_GONE | FLAG_CLOSE_EMITTED)) return;
    this.flags |= FLAG_USER_PAUSED;
    this.socket.pause();
  }

  /** Read from the peer again after pause(). */
  resume(): void {
    if (!(this.flags & FLAG_USER_PAUSED)) return;
    this.flags &= ~FLAG_USER_PAUSED;
    this.resumeTransport();
  }

  /** @internal The message iterator holds too much (or caught up): reading waits for it (or goes on). */
  holdForIterator(hold: boolean): void {
    if (hold) {
      this.flags |= FLAG_ITERATOR_PAUSED;
      this.socket.pause();
    } else if (this.flags & FLAG_ITERATOR_PAUSED) {
      this.flags &= ~FLAG_ITERATOR_PAUSED;
      this.resumeTransport();
    }
  }

  /** Read from the socket again, unless something still holds reading (the application, the iterator, a decode). */
  private resumeTransport(): void {
    if (!(this.flags & (FLAG_USER_PAUSED | FLAG_ITERATOR_PAUSED | FLAG_YIELDED | FLAG_SOCKET_GONE)) && !this.session.isPaused) this.socket.resume();
  }

  /** Whether pause() is in effect. */
  get isPaused(): boolean {
    return (this.flags & FLAG_USER_PAUSED) !== 0;
  }

  /** Messages as an async iterator: strings for text, Buffers for binary; ends at close. */
  [Symbol.asyncIterator](): AsyncIterableIterator<string | Buffer> {
    const extras = this.more();
    const iterator = (extras.messageIterator ??= new MessageIterator(this));
    return iterator.iterator();
  }

  // ---- Topics (server side) ---------------------------------------------------------------------

  /** Subscribe to a topic of this connection's server (see `WebSocketServer.publish`). Returns false when already subscribed. */
  subscribe(topic: string): boolean {
    const server = this.serverHooks('subscribe');
    if (typeof topic !== 'string') throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'a topic is a string');
    if (!this.canSend) return false;
    const topics = (this.more().topics ??= new Set());
    if (topics.has(topic)) return false;
    topics.add(topic);
    server.topics.add(topic, this);
    return true;
  }

  /** Leave a topic. Returns false when not subscribed. */
  unsubscribe(topic: string): boolean {
    const topics = this.extras?.topics ?? null;
    if (topics === null || !topics.delete(topic)) return false;
    this.settings.server?.topics.remove(topic, this);
    return true;
  }

  isSubscribed(topic: string): boolean {
    return this.extras?.topics?.has(topic) ?? false;
  }

  /** The topics this connection is subscribed to. */
  get topics(): ReadonlySet<string> {
    return this.extras?.topics ?? NO_TOPICS;
  }

  /**
   * Publish to every subscriber of `topic` but this connection (and to other servers through
   * the server's `pubsub` adapter). Returns how many local subscribers got it.
   */
  publish(topic: string, data: SendData, options?: { binary?: boolean; compress?: boolean }): number {
    const server = this.serverHooks('publish');
    if (!this.canSend) throw new WebSocketError(ErrorCode.NOT_OPEN, 'the connection is not open (closing or closed)');
    return server.publishFrom(this, topic, data, options);
  }

  private serverHooks(what: string): NonNullable<SharedSettings['server']> {
    const server = this.settings.server;
    if (server === null) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `${what}: topics belong to a WebSocketServer's connections`);
    return server;
  }

  // ---- Session events (SessionHandler) --------------------------------------------------------

  /** @internal */
  onMessage(message: string | Buffer, isBinary: boolean): void {
    this.messageAt = coarseNow();
    // User code runs here, inside the parser's loop: an exception must not leave it (the rest
    // of the chunk would be lost and the next frame parsed mid-way).
    try {
      const handlers = this.settings.handlers;
      if (handlers.message !== undefined) handlers.message(this, message, isBinary);
      const events = listenerTable(this);
      if (events === undefined) return;
      // The common case, one listener: call it as emit() would, minus emit()'s generic work.
      const listener = events.message;
      if (typeof listener === 'function') (listener as (data: string | Buffer, isBinary: boolean) => void).call(this, message, isBinary);
      else if (listener !== undefined) this.emit('message', message, isBinary);
    } catch (error) {
      this.listenerThrew(error);
    }
  }

  /** @internal */
  onPing(payload: Buffer): void {
    try {
      this.settings.handlers.ping?.(this, payload);
      if (this.listenerCount('ping') > 0) this.emit('ping', payload);
    } catch (error) {
      this.listenerThrew(error);
    }
  }

  /** @internal */
  onPong(payload: Buffer): void {
    try {
      this.settings.handlers.pong?.(this, payload);
      if (this.listenerCount('pong') > 0) this.emit('pong', payload);
    } catch (error) {
      this.listenerThrew(error);
    }
  }

  /** @internal */
  onFrame(frame: Frame): void {
    try {
      this.emit('frame', frame);
    } catch (error) {
      this.listenerThrew(error);
    }
  }

  /** @internal */
  onPeerClose(): void {
    if (this.flags & FLAG_CLOSE_DEFERRED) process.nextTick(finishDeferredClose, this);
  }

  /** @internal */
  onCloseSent(): void {
    if (this.closeTimer === null) {
      // A peer that never answers our close is dropped after the close timeout.
      this.closeTimer = setTimeout(closeTimedOut, this.settings.closeTimeout, this);
      this.closeTimer.unref?.();
    }
  }

  /** @internal */
  onCloseHandshakeComplete(): void {
    // RFC 6455 §7.1.1: the server closes the TCP connection first; a client waits for it
    // (until the close timeout) and then closes its side too.
    if (this.session.role === 'server') this.endTransport();
  }

  /** @internal */
  onProtocolError(error: WebSocketError): void {
    this.failure = error;
    if (this.flags & FLAG_CLOSE_DEFERRED) process.nextTick(finishDeferredClose, this);
    this.reportError(error);
    // §7.1.7: after failing, close the connection (our close frame goes out first).
    this.endTransport();
  }

  /** @internal */
  onOutput(): void {
    // The connection being read flushes when its read is handled; others at the end of the turn.
    outputPending(this);
  }

  /** @internal */
  onReceiverResumed(): void {
    if (this.flags & FLAG_CLOSE_DEFERRED) this.finishClose();
    else this.resumeTransport();
  }

  // ---- Keepalive --------------------------------------------------------------------------------

  /** @internal Called by the keepalive sweep (keepalive.ts) with the clock's time. */
  keepaliveCheck(now: number): void {
    if (this.flags & (FLAG_CLOSE_EMITTED | FLAG_SOCKET_GONE)) return;
    const settings = this.settings;
    if (settings.idleAfter > 0 && now - this.messageAt >= settings.idleAfter && this.session.canSendMessage) {
      this.failure = new WebSocketError(ErrorCode.IDLE_TIMEOUT, 'no message either way within the idle timeout', { closeCode: CloseCode.GOING_AWAY });
      this.reportError(this.failure);
      this.session.close(CloseCode.GOING_AWAY, 'idle timeout');
      return;
    }
    if (settings.pingAfter === 0) return;
    const silent = now - this.seenAt;
    if (silent >= settings.deadAfter) {
      const error = new WebSocketError(ErrorCode.KEEPALIVE_TIMEOUT, 'the peer did not answer a keepalive ping in time', { closeCode: CloseCode.INTERNAL_ERROR });
      this.failure = error;
      this.reportError(error);
      // A close frame that cannot be written (the socket is not draining) would wait for
      // nothing: drop the connection instead.
      if (this.flags & FLAG_WAITING_WRITE || !this.session.canSendMessage) resetTransport(this.socket);
      else this.session.close(CloseCode.INTERNAL_ERROR, 'keepalive timeout');
      return;
    }
    if (silent >= settings.pingAfter && !(this.flags & FLAG_PING_SENT) && this.session.canSendMessage) {
      this.flags |= FLAG_PING_SENT;
      this.session.ping(EMPTY);
    }
  }

  // ---- Transport ------------------------------------------------------------------------------

  /** @internal Write everything the session produced (once per turn), or hold it while the socket is not draining. */
  flush(): void {
    if (this.flags & FLAG_SOCKET_GONE) return;
    if (this.flags & FLAG_WAITING_WRITE) {
      const output = this.session.holdOutput();
      if (output !== null) this.hold(output);
      return;
    }
    const output = this.session.takeOutput();
    if (output !== null) this.write(output);
  }

  /** Write output to the socket; once the socket is full (its own high-water mark), hold what comes next. */
  private write(output: Buffer | Buffer[]): void {
    const socket = this.socket;
    // After send() returned BACKPRESSURE, learn when these bytes are written even if the socket
    // itself never fills up (a highWaterMark below the socket's own does not make it emit 'drain').
    const drainCheck = this.flags & FLAG_NEED_DRAIN ? this.heldOutput().written : undefined;
    const callbacks = this.takeWriteCallbacks();
    const onWritten = callbacks === null ? drainCheck : writtenCallbacks(callbacks, drainCheck, socket);
    // Several pieces (frames sent by reference, broadcasts): join small ones into one write.
    const joined = Array.isArray(output) ? joinPieces(output) : output;
    if (joined !== null) {
      socket.write(joined, onWritten);
    } else {
      const pieces = output as Buffer[];
      socket.cork();
      const last = pieces.length - 1;
      for (let i = 0; i < last; i++) socket.write(pieces[i]!);
      socket.write(pieces[last]!, onWritten);
      socket.uncork();
    }
    if (this.flags & FLAG_END_AFTER_FLUSH) {
      this.flags &= ~FLAG_END_AFTER_FLUSH;
      socket.end();
    } else if (socket.writableNeedDrain) {
      this.waitForWrite();
    }
  }

  /**
   * The socket is full: from now on output is held here (no write requests pile up on a socket
   * that is not draining) until the socket's 'drain'.
   */
  private waitForWrite(): void {
    this.flags |= FLAG_WAITING_WRITE;
    if (!(this.flags & FLAG_DRAIN_LISTENER)) {
      this.flags |= FLAG_DRAIN_LISTENER;
      listenForDrain(this.socket);
    }
  }

  private heldOutput(): HeldOutput {
    return (this.more().held ??= new HeldOutput(this));
  }

  /** Keep output for later, counted in the server's budget; small slab slices are copied so they do not pin a shared slab. */
  private hold(output: Buffer | Buffer[]): void {
    const held = this.heldOutput();
    if (!Array.isArray(output)) {
      this.holdPiece(held, output);
      return;
    }
    for (let i = 0; i < output.length; i++) this.holdPiece(held, output[i]!);
  }

  private holdPiece(held: HeldOutput, output: Buffer): void {
    // Dropped by the budget while holding the pieces before this one.
    if (this.flags & FLAG_SOCKET_GONE) return;
    const piece = detachFromSlab(output);
    held.pieces.push(piece);
    held.bytes += piece.length;
    // The budget may drop this very connection (it holds the most): nothing else happens after.
    this.settings.server?.budget.hold(held, piece);
  }

  /** Write what was held, in order, with whatever the session produced since. */
  private writeHeld(): void {
    const held = this.extras?.held ?? null;
    let pieces: Buffer[] = [];
    if (held !== null && held.pieces.length > 0) {
      pieces = held.pieces;
      held.pieces = [];
      held.bytes = 0;
      this.settings.server?.budget.release(held, pieces);
    }
    const output = this.session.takeOutput();
    this.session.outputWritten();
    if (output !== null) {
      if (Array.isArray(output)) for (const piece of output) pieces.push(piece);
      else pieces.push(output);
    }
    if (pieces.length === 0) return;
    this.write(pieces.length === 1 ? pieces[0]! : pieces);
  }

  /** Drop every held piece (the connection is gone). */
  private releaseHeld(): void {
    const held = this.extras?.held ?? null;
    if (held === null || held.pieces.length === 0) return;
    const pieces = held.pieces;
    held.pieces = [];
    held.bytes = 0;
    this.settings.server?.budget.release(held, pieces);
  }

  private waitForDrain(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onDrain = () => {
        this.off('close', onClose);
        resolve();
      };
      const onClose = () => {
        this.off('drain', onDrain);
        reject(new WebSocketError(ErrorCode.NOT_OPEN, 'the connection closed while sending'));
      };
      this.once('drain', onDrain);
      this.once('close', onClose);
    });
  }

  private endTransport(): void {
    if (this.flags & FLAG_SOCKET_GONE) return;
    const held = this.extras?.held ?? null;
    if (this.session.outputLength > 0 || (held !== null && held.pieces.length > 0)) this.flags |= FLAG_END_AFTER_FLUSH;
    else this.socket.end();
    if (this.closeTimer === null) {
      this.closeTimer = setTimeout(closeTimedOut, this.settings.closeTimeout, this);
      this.closeTimer.unref?.();
    }
  }

  /** @internal A slow consumer (over its own limit or the server's budget): dropped at once, reported as 1008. */
  dropSlowConsumer(why: string): void {
    if (this.flags & FLAG_SOCKET_GONE) return;
    const error = new WebSocketError(ErrorCode.BUFFERED_AMOUNT_EXCEEDED, why);
    this.failure = error;
    this.reportError(error);
    this.releaseHeld();
    // Nothing more is written to it, and what the kernel holds for it is freed; its 'close' follows.
    this.flags |= FLAG_SOCKET_GONE;
    resetTransport(this.socket);
  }

  /** @internal */
  handleSocketData(chunk: Buffer): void {
    const session = this.session;
    this.seenAt = coarseNow();
    this.flags &= ~FLAG_PING_SENT;
    // What this connection sends while handling the read (an echo, a reply) is written once,
    // right after it, without waiting for the end of the turn.
    const outer = beginRead(this);
    session.receive(chunk);
    endRead(outer);
    if (session.outputLength > 0) this.flush();
    // While an asynchronous decode runs, stop reading: the backlog stays small.
    if (session.isPaused) this.socket.pause();
    else if (session.frameCount >= YIELD_AFTER_FRAMES) this.yieldToOthers();
  }

  /** Stop reading until the next turn, so that other connections are served (see YIELD_AFTER_FRAMES). */
  private yieldToOthers(): void {
    this.session.takeFrameCount();
    if (this.flags & (FLAG_YIELDED | FLAG_SOCKET_GONE)) return;
    this.flags |= FLAG_YIELDED;
    this.socket.pause();
    setImmediate(resumeAfterYield, this);
  }

  /** @internal */
  resumeAfterYield(): void {
    this.flags &= ~FLAG_YIELDED;
    this.resumeTransport();
  }

  /** @internal */
  handleSocketEnd(): void {
    // We never keep a half-open connection: answer the peer's FIN with ours.
    this.flags |= FLAG_PEER_ENDED;
    if (!(this.flags & FLAG_SOCKET_GONE)) {
      if (this.session.outputLength > 0) this.flush();
      this.socket.end();
    }
  }

  /** @internal */
  handleSocketClose(): void {
    if (this.flags & FLAG_CLOSE_EMITTED) return;
    this.flags |= FLAG_SOCKET_GONE;
    this.releaseHeld();
    // A decode still running holds frames that arrived before the FIN (messages, the peer's
    // close frame): report the close once they are parsed.
    if (this.session.isPaused) {
      this.flags |= FLAG_CLOSE_DEFERRED;
      return;
    }
    this.finishClose();
  }

  /** @internal */
  finishClose(): void {
    if (this.flags & FLAG_CLOSE_EMITTED) return;
    this.flags |= FLAG_CLOSE_EMITTED;
    if (this.closeTimer !== null) {
      clearTimeout(this.closeTimer);
      this.closeTimer = null;
    }
    const session = this.session;
    if (session.transportClosed()) this.flags |= FLAG_CLEAN;
    // RFC 6455 §7.1.5: the close code is the one in the peer's close frame (1005 if it had
    // none); we report the code we failed the connection with when we did; otherwise 1006.
    let code: number = CloseCode.ABNORMAL;
    let reason = '';
    if (session.closeReceived) {
      code = session.closeCode;
      reason = session.closeReason;
    } else if (this.failure !== null) {
      code = this.failure.closeCode;
    }
    // Sends whose bytes never reached the socket: their callbacks learn it now.
    const unwritten = this.extras?.writeCallbacks ?? null;
    if (unwritten !== null) {
      this.extras!.writeCallbacks = null;
      const error = new WebSocketError(ErrorCode.NOT_OPEN, 'the connection closed before the data was written');
      for (const callback of unwritten) callback(error);
    }
    const settings = this.settings;
    if (this.flags & FLAG_KEEPALIVE && settings.server === null && settings.keepalive !== null) {
      clientKeepalive(settingsPeriod(settings)).members.delete(this);
    }
    settings.server?.connectionClosed(this);
    // The server forgets the subscriptions now (subscriberCount no longer counts this one); the
    // connection's own list stays until after the close handlers, which may still read
    // `ws.topics` (a chat announcing who left which room).
    const topics = this.extras?.topics ?? null;
    if (topics !== null && settings.server !== null) {
      for (const topic of topics) settings.server.topics.remove(topic, this);
    }
    try {
      settings.handlers.close?.(this, code, reason);
      this.emit('close', code, reason);
    } catch (error) {
      this.listenerThrew(error);
    }
    topics?.clear();
  }

  /** Errors go to the `error` handler and 'error' listeners; with neither, `close` says it all. */
  private reportError(error: WebSocketError): void {
    try {
      this.settings.handlers.error?.(this, error);
      if (this.listenerCount('error') > 0) this.emit('error', error);
    } catch (thrown) {
      rethrowLater(thrown);
    }
  }

  /** A handler or listener threw (see listener-errors.ts). */
  private listenerThrew(thrown: unknown): void {
    listenerThrew(this.settings.handlers, this, thrown);
  }

  private get errorsObserved(): boolean {
    return this.settings.handlers.error !== undefined || this.listenerCount('error') > 0;
  }

  /** @internal */
  handleSocketError(error: Error): void {
    // ECONNRESET and the like: the 'close' event (code 1006) follows and says it all.
    if (this.errorsObserved && !(this.flags & FLAG_CLOSE_EMITTED)) {
      this.reportError(
        new WebSocketError(ErrorCode.CONNECTION_LOST, `connection lost: ${error.message}`, { cause: error, closeCode: CloseCode.ABNORMAL }),
      );
    }
  }

  /** @internal The socket drained, or a watched write completed. */
  handleSocketDrain(): void {
    if (this.flags & FLAG_SOCKET_GONE) return;
    if (this.flags & FLAG_WAITING_WRITE) {
      // Still full (this was a write callback, not the socket's 'drain'): its 'drain' comes later.
      if (this.socket.writableNeedDrain) return;
      this.flags &= ~FLAG_WAITING_WRITE;
      this.writeHeld();
      if (this.flags & FLAG_WAITING_WRITE) return;
    }
    if (this.flags & FLAG_NEED_DRAIN && this.bufferedAmount < this.settings.highWaterMark) {
      this.flags &= ~FLAG_NEED_DRAIN;
      try {
        this.settings.handlers.drain?.(this);
        this.emit('drain');
      } catch (error) {
        this.listenerThrew(error);
      }
    }
  }

  /** @internal */
  handleCloseTimeout(): void {
    this.closeTimer = null;
    if (this.errorsObserved && !(this.flags & FLAG_CLOSE_EMITTED)) {
      this.reportError(
        new WebSocketError(ErrorCode.CLOSE_TIMEOUT, `the peer did not finish the closing handshake within ${this.settings.closeTimeout} ms`, {
          closeCode: CloseCode.ABNORMAL,
        }),
      );
    }
    abortTransport(this.socket);
  }
}

createListenerTableOnFirstListener(WebSocket.prototype);

/** The sweep period a settings object was made with (client connections share a sweep per period). */
function settingsPeriod(settings: SharedSettings): number {
  return settings.keepalive!.period;
}

/** One socket write callback for the write callbacks a write completes (and the drain check). */
function writtenCallbacks(callbacks: WrittenCallback[], drainCheck: ((error?: Error | null) => void) | undefined, socket: Duplex): WrittenCallback {
  return (error) => {
    drainCheck?.(error);
    // Node reports success for a write that a destroyed socket abandoned: say it may be lost.
    const outcome = error ?? (socket.destroyed ? new WebSocketError(ErrorCode.NOT_OPEN, 'the connection closed before the write completed') : null);
    for (const callback of callbacks) callback(outcome);
  };
}

function sendCallbackError(): InvalidOptionError {
  return new InvalidOptionError(
    'options',
    "send(): the second argument is an options object ({ binary, compress }), got a function: ws's send(data, callback) is in 'wsforge/ws'",
  );
}
function startReading(ws: WebSocket, head: Buffer | undefined, emitOpen: boolean): void {
  ws.startReading(head, emitOpen);
}
function resumeAfterYield(ws: WebSocket): void {
  ws.resumeAfterYield();
}
function parseHead(ws: WebSocket, head: Buffer): void {
  ws.handleSocketData(head);
}
function finishDeferredClose(ws: WebSocket): void {
  ws.finishClose();
}
function closeTimedOut(ws: WebSocket): void {
  ws.handleCloseTimeout();
}
