import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { CloseCode, ErrorCode, WebSocketError } from '../protocol/errors.js';
import type { Frame } from '../protocol/frame.js';
import { EMPTY } from '../protocol/frame.js';
import type { MessageExtension } from '../protocol/extensions.js';
import { detachFromSlab } from '../protocol/output.js';
import { ProtocolSession, ReadyState, rememberDecodedText, type Role, type SessionHandler } from '../protocol/session.js';
import { decodeUtf8, decodeUtf8Region } from '../protocol/utf8.js';
import { listenForDrain, setSocketOwner, type SocketOwner } from './socket-owner.js';

export { ReadyState };

/** Data `send()` accepts. */
export type SendData = string | Buffer | ArrayBuffer | ArrayBufferView;

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
  /** Client side: the handshake completed (a connection from `connect()` is already open). */
  open: [];
  /** A complete message: text as a string (a Buffer with `textAsBuffer`), binary as a Buffer. */
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

export interface ConnectionOptions {
  /** Largest message in bytes (after decompression); default 16 MiB. Over it: close 1009. */
  maxPayload?: number;
  /** Most frames per message; default 262,144. Over it: close 1009. */
  maxFragments?: number;
  /** Time to wait for the peer's part of the closing handshake, ms; default 5000. */
  closeTimeout?: number;
  /** `send()` returns false once `bufferedAmount` reaches this; default 1 MiB. */
  highWaterMark?: number;
  /** Drop a peer that leaves more than this many bytes unread (a slow consumer); default 64 MiB. */
  maxBufferedAmount?: number;
  /** Answer pings automatically (default true). */
  autoPong?: boolean;
  /** Emit a 'frame' event for every received frame (default false). */
  observeFrames?: boolean;
  /**
   * Deliver text messages as the Buffer of their UTF-8 bytes (validated, as always) instead of
   * a string: what ws gives, without decoding to a string and encoding back (default false).
   */
  textAsBuffer?: boolean;
}

export const DEFAULT_CLOSE_TIMEOUT = 5000;
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024;
export const DEFAULT_MAX_BUFFERED_AMOUNT = 64 * 1024 * 1024;

/**
 * One set of functions for every connection of a server (`handlers` in ServerOptions), in
 * the style of uWebSockets and Bun: the connection comes as the first argument, so nothing is
 * created per connection (a listener added in 'connection' is a closure and a listener table
 * on every connection: 0.1-0.3 KiB each, see README "Memory per connection"). Each is called
 * before the connection's own listeners of the same event, if any.
 */
export interface ConnectionHandlers {
  /** A complete message: text as a string (a Buffer with `textAsBuffer`), binary as a Buffer. */
  message?(ws: WebSocket, data: string | Buffer, isBinary: boolean): void;
  ping?(ws: WebSocket, payload: Buffer): void;
  pong?(ws: WebSocket, payload: Buffer): void;
  /** The TCP connection is gone (the same code and reason as the 'close' event). */
  close?(ws: WebSocket, code: number, reason: string): void;
  /** What the 'error' event reports; with this handler present, errors are reported here. */
  error?(ws: WebSocket, error: WebSocketError): void;
  /** `bufferedAmount` fell back below the high-water mark after `send()` returned false. */
  drain?(ws: WebSocket): void;
}

const NO_HANDLERS: ConnectionHandlers = Object.freeze({});

/** Per-connection settings that rarely differ; shared so a connection does not carry them. */
export interface SharedSettings {
  closeTimeout: number;
  highWaterMark: number;
  maxBufferedAmount: number;
  handlers: ConnectionHandlers;
  /** Told when a connection closes (the server's `clients` bookkeeping), without a closure per connection. */
  onConnectionClosed?: (ws: WebSocket) => void;
}

const defaultSettings: SharedSettings = {
  closeTimeout: DEFAULT_CLOSE_TIMEOUT,
  highWaterMark: DEFAULT_HIGH_WATER_MARK,
  maxBufferedAmount: DEFAULT_MAX_BUFFERED_AMOUNT,
  handlers: NO_HANDLERS,
};

export function resolveSettings(options: ConnectionOptions): SharedSettings {
  if (options.closeTimeout === undefined && options.highWaterMark === undefined && options.maxBufferedAmount === undefined) {
    return defaultSettings;
  }
  return {
    closeTimeout: options.closeTimeout ?? DEFAULT_CLOSE_TIMEOUT,
    highWaterMark: options.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    maxBufferedAmount: options.maxBufferedAmount ?? DEFAULT_MAX_BUFFERED_AMOUNT,
    handlers: NO_HANDLERS,
  };
}


/** Internal construction parameters. */
export interface WebSocketInit {
  role: Role;
  options: ConnectionOptions;
  settings?: SharedSettings;
  protocol?: string;
  extension?: MessageExtension | null;
  url?: string;
  /** Bytes that arrived right after the handshake. */
  head?: Buffer;
  /** Start reading on the next turn (client side, after `connect()` resolved). */
  deferReading?: boolean;
}

/**
 * One WebSocket connection, server or client side, over any Duplex (a TCP socket, a TLS
 * socket, later an HTTP/2 stream). Protocol work is done by a sans-I/O ProtocolSession;
 * this class moves bytes, runs the close timer and turns session events into events.
 */
export class WebSocket extends EventEmitter<WebSocketEvents> implements SocketOwner {
  static readonly CONNECTING = ReadyState.CONNECTING;
  static readonly OPEN = ReadyState.OPEN;
  static readonly CLOSING = ReadyState.CLOSING;
  static readonly CLOSED = ReadyState.CLOSED;


  /** @internal */
  readonly session: ProtocolSession;
  private readonly socket: Duplex;
  private readonly settings: SharedSettings;
  private flags = 0;
  /** What only some connections need, allocated on first use (see ConnectionExtras). */
  private extras: ConnectionExtras | null = null;

  /** @internal: use `connect()` or a WebSocketServer. */
  constructor(socket: Duplex, init: WebSocketInit) {
    super();
    // No listener table until a listener is added (see addListenerFirst): a server that uses
    // `handlers` has none on any connection. EventEmitter's own table would be a dictionary
    // (`{ __proto__: null }`), ~100 bytes more than an EventTable.
    (this as unknown as ListenerTableOwner)._events = undefined;
    this.socket = socket;
    if (init.protocol !== undefined && init.protocol !== '') this.more().protocol = init.protocol;
    if (init.url !== undefined) this.more().url = init.url;
    this.settings = init.settings ?? resolveSettings(init.options);
    this.session = new ProtocolSession(init.role, this, init.options);
    if (init.extension) this.session.setExtension(init.extension);
    if (init.options.observeFrames) this.session.receiver.observeFrames = true;
    if (init.options.textAsBuffer) this.flags |= FLAG_TEXT_AS_BUFFER;
    setSocketOwner(socket, this);
    // 'drain' is listened to only once send() has returned false (fewer listeners per idle socket).
    if (init.deferReading) {
      // Client side: the caller attaches its handlers after `await connect()`; frames that came
      // with the handshake response wait until then, and so does the socket.
      socket.pause();
      setImmediate(startReading, this, init.head);
    } else {
      // The server pauses the socket between the request head and the upgrade.
      socket.resume();
      if (init.head !== undefined && init.head.length > 0) this.handleSocketData(init.head);
    }
  }

  /** @internal */
  startReading(head: Buffer | undefined): void {
    if (this.flags & FLAG_SOCKET_GONE) return;
    if (head !== undefined && head.length > 0) this.handleSocketData(head);
    if (!this.session.receiver.isPaused) this.resumeTransport();
  }

  /**
   * Stop reading from the network until `resume()`: TCP flow control then holds the peer back
   * (nothing is buffered here). Messages already read are still delivered.
   */
  pause(): void {
    if (this.flags & FLAG_SOCKET_GONE) return;
    this.flags |= FLAG_USER_PAUSED;
    this.socket.pause();
  }

  /** Read from the network again after `pause()`. */
  resume(): void {
    if (!(this.flags & FLAG_USER_PAUSED)) return;
    this.flags &= ~FLAG_USER_PAUSED;
    if (!(this.flags & FLAG_SOCKET_GONE) && !this.session.receiver.isPaused) this.socket.resume();
  }

  /** Whether `pause()` holds reading. */
  get isPaused(): boolean {
    return (this.flags & FLAG_USER_PAUSED) !== 0;
  }

  /** @internal Resume the socket unless the application paused it. */
  resumeTransport(): void {
    if (!(this.flags & FLAG_USER_PAUSED)) this.socket.resume();
  }

  /** The subprotocol agreed in the handshake ('' when none). */
  get protocol(): string {
    return this.extras?.protocol ?? '';
  }

  /** The URL connected to (client side; '' on the server). */
  get url(): string {
    return this.extras?.url ?? '';
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

  /** Bytes accepted by `send()` and not yet written to the network. */
  get bufferedAmount(): number {
    return this.session.pendingBytes + this.socket.writableLength;
  }

  /** The remote address of the underlying socket, when it has one. */
  get remoteAddress(): string | undefined {
    return (this.socket as { remoteAddress?: string }).remoteAddress;
  }

  /**
   * Send a message. Strings go as text, binary data as binary (`options.binary` overrides).
   * Returns false once `bufferedAmount` reaches the high-water mark: wait for 'drain'.
   * Throws WSF_ERR_NOT_OPEN after the connection started closing. `onWritten`, if given, is
   * called once the message is written to the network (never before; see WrittenCallback).
   */
  send(data: SendData, options?: SendOptions, onWritten?: WrittenCallback): boolean {
    const compress = options?.compress ?? true;
    if (typeof data === 'string') {
      if (options?.binary === true) this.session.sendBytes(Buffer.from(data, 'utf8'), true, compress);
      else this.session.sendText(data, compress);
    } else {
      this.session.sendBytes(toBuffer(data), options?.binary ?? true, compress);
    }
    if (onWritten !== undefined) this.whenWritten(onWritten);
    return this.checkBackpressure();
  }

  /**
   * Call `callback` once everything sent so far has been written: it joins the callbacks taken
   * by the next flush that leaves nothing waiting in the session (a message being compressed,
   * or queued behind one, is not written yet).
   */
  private whenWritten(callback: WrittenCallback): void {
    const extras = this.more();
    if (extras.writeCallbacks === null) extras.writeCallbacks = [callback];
    else extras.writeCallbacks.push(callback);
  }

  /** The write callbacks that the output being flushed now completes, if any. */
  private takeWriteCallbacks(): WrittenCallback[] | null {
    const extras = this.extras;
    if (extras === null || extras.writeCallbacks === null || this.session.sendsWaiting) return null;
    const callbacks = extras.writeCallbacks;
    extras.writeCallbacks = null;
    return callbacks;
  }

  /**
   * Send one message made of everything `source` yields, as fragments (RFC 6455 §5.4):
   * memory stays bounded however large the message. Waits for 'drain' when the connection is
   * backed up. Other messages sent meanwhile go after it. If `source` fails, the connection is
   * closed with 1011 (a half-sent message cannot be taken back) and the promise rejects.
   */
  async sendStream(
    source: AsyncIterable<SendData> | Iterable<SendData>,
    options?: { binary?: boolean; compress?: boolean },
  ): Promise<void> {
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
      if (!this.checkBackpressure()) await this.waitForDrain();
    };
    try {
      for await (const chunk of source) {
        const buffer = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : toBuffer(chunk);
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
    this.session.ping(typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data));
    if (onWritten !== undefined) this.whenWritten(onWritten);
  }

  /** Send an unsolicited pong (a unidirectional heartbeat, RFC 6455 §5.5.3). */
  pong(data: SendData = EMPTY, onWritten?: WrittenCallback): void {
    this.session.pong(typeof data === 'string' ? Buffer.from(data, 'utf8') : toBuffer(data));
    if (onWritten !== undefined) this.whenWritten(onWritten);
  }

  /**
   * Frame-level API: send one frame exactly as described (any opcode, FIN, RSV1). The
   * caller is responsible for the protocol's rules.
   */
  sendFrame(frame: { opcode: number; payload?: SendData; fin?: boolean; rsv1?: boolean }): void {
    const payload = frame.payload === undefined ? EMPTY : typeof frame.payload === 'string' ? Buffer.from(frame.payload) : toBuffer(frame.payload);
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

  /** Close the TCP connection at once, without a closing handshake. */
  terminate(): void {
    this.socket.destroy();
  }

  /** Messages as an async iterator: strings for text, Buffers for binary; ends at close. */
  [Symbol.asyncIterator](): AsyncIterableIterator<string | Buffer> {
    const extras = this.more();
    const queue = (extras.messageQueue ??= new MessageQueue(this));
    return queue.iterator();
  }

  // ---- SessionHandler (internal) ----------------------------------------------------------

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    this.deliver(isBinary || this.flags & FLAG_TEXT_AS_BUFFER ? data : decodeUtf8(data), isBinary);
  }

  /** @internal */
  onTextMessage(source: Buffer, start: number, end: number, ascii: boolean): void {
    if (this.flags & FLAG_TEXT_AS_BUFFER) {
      // The receiver validated these bytes and never writes the chunk again: a view is safe to keep.
      this.deliver(source.subarray(start, end), false);
      return;
    }
    const text = decodeUtf8Region(source, start, end, ascii);
    // With frame observation, user code has seen these bytes (the 'frame' payload): do not
    // assume they are unchanged later.
    if (!this.session.receiver.observeFrames) rememberDecodedText(text, source, start, end);
    this.deliver(text, false);
  }

  private deliver(message: string | Buffer, isBinary: boolean): void {
    const handlers = this.settings.handlers;
    if (handlers.message !== undefined) handlers.message(this, message, isBinary);
    const events = (this as unknown as ListenerTableOwner)._events;
    if (events === undefined) return;
    // The common case, one listener: call it as emit() would, minus emit()'s generic work.
    const listener = events.message;
    if (typeof listener === 'function') (listener as (data: string | Buffer, isBinary: boolean) => void).call(this, message, isBinary);
    else if (listener !== undefined) this.emit('message', message, isBinary);
  }

  /** @internal */
  onPing(payload: Buffer): void {
    this.settings.handlers.ping?.(this, payload);
    if (this.listenerCount('ping') > 0) this.emit('ping', payload);
  }

  /** @internal */
  onPong(payload: Buffer): void {
    this.settings.handlers.pong?.(this, payload);
    if (this.listenerCount('pong') > 0) this.emit('pong', payload);
  }

  /** @internal */
  onFrame(frame: Frame): void {
    this.emit('frame', frame);
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
    if (reading !== this) scheduleFlush(this);
  }

  /** @internal */
  onReceiverResumed(): void {
    if (this.flags & FLAG_CLOSE_DEFERRED) this.finishClose();
    else this.resumeTransport();
  }

  // ---- Transport ------------------------------------------------------------------------------

  /** @internal Write everything the session produced. Called once per turn. */
  flush(): void {
    const output = this.session.takeOutput();
    if (output === null || this.flags & FLAG_SOCKET_GONE) return;
    const socket = this.socket;
    // A backed-up socket queues what we write: copy small slab slices so a slow peer does not pin a shared slab.
    const backedUp = socket.writableLength > 0;
    // After send() returned false, learn when these bytes are written even if the socket itself
    // never fills up (a highWaterMark below the socket's own does not make it emit 'drain').
    const drainCheck = this.flags & FLAG_NEED_DRAIN ? this.drainCheck() : undefined;
    const callbacks = this.takeWriteCallbacks();
    const onWritten = callbacks === null ? drainCheck : writtenCallbacks(callbacks, drainCheck, socket);
    // Several pieces (frames sent by reference, broadcasts): join small ones into one write.
    const joined = Array.isArray(output) ? joinPieces(output) : output;
    if (joined !== null) {
      socket.write(backedUp ? detachFromSlab(joined) : joined, onWritten);
    } else {
      const pieces = output as Buffer[];
      socket.cork();
      const last = pieces.length - 1;
      for (let i = 0; i < last; i++) socket.write(backedUp ? detachFromSlab(pieces[i]!) : pieces[i]!);
      socket.write(backedUp ? detachFromSlab(pieces[last]!) : pieces[last]!, onWritten);
      socket.uncork();
    }
    if (this.flags & FLAG_END_AFTER_FLUSH) {
      this.flags &= ~FLAG_END_AFTER_FLUSH;
      socket.end();
    }
    if (socket.writableLength > this.settings.maxBufferedAmount) this.dropSlowConsumer();
  }

  private drainCheck(): () => void {
    return () => this.handleSocketDrain();
  }

  private checkBackpressure(): boolean {
    if (this.session.pendingBytes + this.socket.writableLength < this.settings.highWaterMark) return true;
    if (!(this.flags & FLAG_DRAIN_LISTENER)) {
      this.flags |= FLAG_DRAIN_LISTENER;
      listenForDrain(this.socket);
    }
    this.flags |= FLAG_NEED_DRAIN;
    return false;
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
    if (this.session.outputLength > 0) this.flags |= FLAG_END_AFTER_FLUSH;
    else this.socket.end();
    if (this.closeTimer === null) {
      this.closeTimer = setTimeout(closeTimedOut, this.settings.closeTimeout, this);
      this.closeTimer.unref?.();
    }
  }

  private dropSlowConsumer(): void {
    const error = new WebSocketError(
      ErrorCode.BUFFERED_AMOUNT_EXCEEDED,
      `peer left more than ${this.settings.maxBufferedAmount} bytes unread`,
    );
    this.failure = error;
    this.reportError(error);
    this.socket.destroy();
  }

  /** @internal */
  handleSocketData(chunk: Buffer): void {
    const session = this.session;
    // What this connection sends while handling the read (an echo, a reply) is written once,
    // right after it, without waiting for the end of the turn.
    const outer = reading;
    reading = this;
    try {
      session.receive(chunk);
    } finally {
      reading = outer;
      if (session.outputLength > 0) this.flush();
    }
    // While an asynchronous decode runs, stop reading: the backlog stays small.
    if (session.receiver.isPaused) this.socket.pause();
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
    // A decode still running holds frames that arrived before the FIN (messages, the peer's
    // close frame): report the close once they are parsed.
    if (this.session.receiver.isPaused) {
      this.flags |= FLAG_CLOSE_DEFERRED;
      return;
    }
    this.finishClose();
  }

  /** @internal */
  finishDeferredClose(): void {
    this.finishClose();
  }

  private finishClose(): void {
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
    this.settings.onConnectionClosed?.(this);
    this.settings.handlers.close?.(this, code, reason);
    this.emit('close', code, reason);
  }

  /** Errors go to the `error` handler and 'error' listeners; with neither, `close` says it all. */
  private reportError(error: WebSocketError): void {
    this.settings.handlers.error?.(this, error);
    if (this.listenerCount('error') > 0) this.emit('error', error);
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

  /** @internal */
  handleSocketDrain(): void {
    if (this.flags & FLAG_NEED_DRAIN && this.bufferedAmount < this.settings.highWaterMark) {
      this.flags &= ~FLAG_NEED_DRAIN;
      this.settings.handlers.drain?.(this);
      this.emit('drain');
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
    this.socket.destroy();
  }

  /** @internal The socket, for the server's bookkeeping. */
  get transport(): Duplex {
    return this.socket;
  }
}

const FLAG_NEED_DRAIN = 1;
const FLAG_END_AFTER_FLUSH = 2;
const FLAG_SOCKET_GONE = 4;
const FLAG_CLOSE_EMITTED = 8;
const FLAG_PEER_ENDED = 16;
const FLAG_CLEAN = 32;
const FLAG_DRAIN_LISTENER = 64;
const FLAG_CLOSE_DEFERRED = 128;
const FLAG_USER_PAUSED = 256;
const FLAG_TEXT_AS_BUFFER = 512;

/**
 * Per-connection state most connections never use: a negotiated subprotocol, the client's
 * URL, application data, the close timer, the error that failed the connection, the queue
 * behind `for await`. Kept out of WebSocket itself so an idle connection stays small.
 */
class ConnectionExtras {
  protocol = '';
  url = '';
  data: unknown = undefined;
  closeTimer: NodeJS.Timeout | null = null;
  failure: WebSocketError | null = null;
  messageQueue: MessageQueue | null = null;
  /** `send()` callbacks waiting for their bytes to be written (see whenWritten). */
  writeCallbacks: WrittenCallback[] | null = null;
}

/** One socket write callback for the write callbacks a flush completes (and the drain check). */
function writtenCallbacks(callbacks: WrittenCallback[], drainCheck: (() => void) | undefined, socket: Duplex): WrittenCallback {
  return (error) => {
    drainCheck?.();
    // Node reports success for a write that a destroyed socket abandoned: say it may be lost.
    const outcome =
      error ?? (socket.destroyed ? new WebSocketError(ErrorCode.NOT_OPEN, 'the connection closed before the write completed') : null);
    for (const callback of callbacks) callback(outcome);
  };
}

/**
 * The listener table of a WebSocket: the common names pre-declared (others are added as
 * they come, still in fast mode), no Object.prototype behind it.
 */
const EventTable = function (this: Record<string, unknown>) {
  this.message = undefined;
  this.close = undefined;
  this.error = undefined;
} as unknown as new () => object;
EventTable.prototype = Object.create(null) as object;

interface ListenerTableOwner {
  _events: Record<string, unknown> | undefined;
}

// The listener table is created when the first listener is added: every way of adding one
// goes through these (events.once() and events.on() call them too).
for (const name of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const) {
  const add = EventEmitter.prototype[name] as (this: EventEmitter, ...args: unknown[]) => EventEmitter;
  Object.defineProperty(WebSocket.prototype, name, {
    value: function addListenerFirst(this: WebSocket & ListenerTableOwner, ...args: unknown[]) {
      if (this._events === undefined) this._events = new EventTable() as Record<string, unknown>;
      return add.apply(this, args);
    },
    writable: true,
    configurable: true,
  });
}

function startReading(ws: WebSocket, head: Buffer | undefined): void {
  ws.startReading(head);
}
function finishDeferredClose(ws: WebSocket): void {
  ws.finishDeferredClose();
}
function closeTimedOut(ws: WebSocket): void {
  ws.handleCloseTimeout();
}

// One flush per event-loop turn for every connection that produced output: everything a
// connection sends while handling one read (or one timer) leaves in one write.
let flushQueue: WebSocket[] = [];
/** The connection whose read is being handled, if any. */
let reading: WebSocket | null = null;
let flushScheduled = false;

function scheduleFlush(ws: WebSocket): void {
  flushQueue.push(ws);
  if (!flushScheduled) {
    flushScheduled = true;
    process.nextTick(flushAll);
  }
}

function flushAll(): void {
  // Flushing can schedule more output (a 'drain' handler that sends): loop until quiet.
  while (flushQueue.length > 0) {
    const queue = flushQueue;
    flushQueue = [];
    for (let i = 0; i < queue.length; i++) queue[i]!.flush();
  }
  flushScheduled = false;
  lastPieces = null;
  lastJoined = null;
}

/**
 * Pending output up to this size is joined into one buffer (one write); above, the pieces go
 * out as they are with one writev (copying large frames costs more than a few extra writes).
 */
const JOIN_LIMIT = 8 * 1024;
// The pieces joined last and the result. A broadcast appends the same frame objects to every
// connection, in the same order: the first connection flushed joins them, the others reuse the
// join, so K broadcasts in one turn cost one copy and one write per socket. Cleared when the
// turn's flush ends.
let lastPieces: Buffer[] | null = null;
let lastJoined: Buffer | null = null;

/** One buffer for the pieces, or null when they are too large to copy (write them as they are). */
function joinPieces(pieces: Buffer[]): Buffer | null {
  const count = pieces.length;
  if (lastPieces !== null && lastPieces.length === count) {
    let same = true;
    for (let i = 0; i < count; i++) {
      if (pieces[i] !== lastPieces[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastJoined;
  }
  let total = 0;
  for (let i = 0; i < count; i++) total += pieces[i]!.length;
  if (total > JOIN_LIMIT) return null;
  const joined = Buffer.concat(pieces, total);
  lastPieces = pieces;
  lastJoined = joined;
  // Make sure the remembered join is dropped at the end of this turn.
  if (!flushScheduled) {
    flushScheduled = true;
    process.nextTick(flushAll);
  }
  return joined;
}

export function toBuffer(data: Buffer | ArrayBuffer | ArrayBufferView): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof ArrayBuffer) return Buffer.from(data);
  if (ArrayBuffer.isView(data)) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof SharedArrayBuffer !== 'undefined' && (data as unknown) instanceof SharedArrayBuffer) {
    return Buffer.from(data as unknown as ArrayBuffer);
  }
  throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'data must be a string, Buffer, ArrayBuffer or ArrayBufferView');
}

/** Backs `for await (const message of ws)`: buffers messages, pausing the socket when it holds too much. */
class MessageQueue {
  private readonly items: Array<string | Buffer> = [];
  private bytes = 0;
  private waiting: ((result: IteratorResult<string | Buffer>) => void) | null = null;
  private done = false;
  private static readonly PAUSE_AT = 1024 * 1024;

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
    if (this.bytes >= MessageQueue.PAUSE_AT) this.ws.transport.pause();
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
        if (this.bytes < MessageQueue.PAUSE_AT / 2 && !this.ws.session.receiver.isPaused) this.ws.resumeTransport();
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
        this.ws.resumeTransport();
        return Promise.resolve({ value: undefined, done: true });
      },
      [Symbol.asyncIterator]() {
        return iterator;
      },
    };
    return iterator;
  }
}

export type { SessionHandler };
