import { encodeClosePayload, parseClosePayload } from './close.js';
import { closeReasonForError, CloseCode, ErrorCode, WebSocketError } from './errors.js';
import type { MessageExtension } from './extensions.js';
import {
  applyMaskKey,
  EMPTY,
  encodeFrameHeader,
  type Frame,
  frameHeaderSize,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  writeRandomMask,
} from './frame.js';
import { OutputBuffer, SLAB_MAX_FRAME } from './output.js';
import { encodeUtf8Into } from './utf8.js';
import {
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  FrameReceiver,
  type ReceiverHandler,
  type ReceiverLimits,
} from './receiver.js';

export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

export type Role = 'server' | 'client';

/** What a session reports to its owner (node/'s WebSocket, or a test). */
export interface SessionHandler {
  onMessage(data: Buffer, isBinary: boolean): void;
  /** Optional: text as a validated UTF-8 region (see ReceiverHandler.onTextMessage). */
  onTextMessage?(source: Buffer, start: number, end: number, ascii: boolean): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  onFrame(frame: Frame): void;
  /** A valid close frame arrived from the peer (code 1005 when it had no payload). */
  onPeerClose(code: number, reason: string): void;
  /** Our close frame is queued: the closing handshake started (the owner starts its close timer). */
  onCloseSent(code: number, reason: string): void;
  /** Both close frames have been exchanged: the transport should now be closed (RFC 6455 §7.1.1). */
  onCloseHandshakeComplete(): void;
  /** The connection failed (RFC 6455 §7.1.7); a close frame with the error's code is queued when possible. */
  onProtocolError(error: WebSocketError): void;
  /** Output became pending: call `takeOutput()` soon (at the end of this turn). */
  onOutput(): void;
  /** Parsing resumed after an asynchronous decode (the owner may read from the transport again). */
  onReceiverResumed(): void;
}

export interface SessionOptions {
  maxPayload?: number;
  maxFragments?: number;
  /** Answer pings with pongs automatically (default true). */
  autoPong?: boolean;
}

/** A message waiting behind an asynchronous encode, to keep messages in order. */
interface QueuedSend {
  kind: 'message' | 'close' | 'prepared' | 'stream';
  data: Buffer | string;
  isBinary: boolean;
  compress: boolean;
  code: number | undefined;
  /** kind 'stream': called when the stream's turn comes (null), or with why it never will. */
  onTurn?: (error: WebSocketError | null) => void;
}

/**
 * Limits objects are shared by every session created with the same options object (a server
 * passes one options object for all its connections), so a connection does not carry its own.
 */
const limitsByOptions = new WeakMap<SessionOptions, ReceiverLimits>();
const defaultLimits: ReceiverLimits = { maxPayload: DEFAULT_MAX_PAYLOAD, maxFragments: DEFAULT_MAX_FRAGMENTS };

function receiverLimits(options: SessionOptions): ReceiverLimits {
  if (options.maxPayload === undefined && options.maxFragments === undefined) return defaultLimits;
  let limits = limitsByOptions.get(options);
  if (limits === undefined) {
    limits = {
      maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD,
      maxFragments: options.maxFragments ?? DEFAULT_MAX_FRAGMENTS,
    };
    limitsByOptions.set(options, limits);
  }
  return limits;
}

const SESSION_MASKING = 1; // client side: every frame we send is masked
const SESSION_AUTO_PONG = 2;
const SESSION_CLOSE_SENT = 4;
const SESSION_CLOSE_RECEIVED = 8;
const SESSION_ENCODING = 16; // an asynchronous encode is running; later sends wait
const SESSION_STREAMING = 32; // a fragmented message is being sent
const SESSION_QUEUED = 64; // sends are waiting in the queue
const SESSION_EXTENSION = 128; // an RSV1 extension is negotiated
const SESSION_STREAM_RESERVED = 1024; // sendStream() started but sent no fragment yet
const READY_STATE_SHIFT = 8; // two bits: ReadyState

/** Session state few connections need, kept out of the session object itself. */
class SessionRareState {
  extension: MessageExtension | null = null;
  queue: QueuedSend[] | null = null;
  closeCode: number = CloseCode.ABNORMAL;
  closeReason = '';
}

/**
 * The text message decoded last, and where its validated UTF-8 bytes are. Relays and echoes
 * send back the string they just received: an equal string is then sent by copying those
 * bytes instead of encoding it again. Sound because a delivered region is never modified
 * afterwards (the receiver unmasks before delivering and never writes a chunk again).
 */
const recentText: { text: string | null; source: Buffer | null; start: number; end: number } = {
  text: null,
  source: null,
  start: 0,
  end: 0,
};

/** Record a text message just decoded from `source[start, end)` (see recentText). */
export function rememberDecodedText(text: string, source: Buffer, start: number, end: number): void {
  recentText.text = text;
  recentText.source = source;
  recentText.start = start;
  recentText.end = end;
}

function shouldEncodeText(extension: MessageExtension, text: string): boolean {
  return extension.shouldEncodeText !== undefined
    ? extension.shouldEncodeText(text)
    : extension.shouldEncode(Buffer.byteLength(text, 'utf8'));
}

/** Messages above this size are kept by reference instead of copied (server side, unmasked). */
const REFERENCE_PAYLOAD_MIN = 16 * 1024;

/**
 * One WebSocket connection's protocol state, without I/O (RFC 6455 §5-§7). Bytes go in
 * through `receive()`, events go to the handler, bytes to send come out of `takeOutput()`.
 * Timers (close timeout) and closing the transport are the owner's job; the session says when.
 */
export class ProtocolSession extends OutputBuffer implements ReceiverHandler {
  readonly receiver: FrameReceiver;
  /** Booleans and the ready state packed in one number (SESSION_* bits): a connection's state stays small. */
  private bits: number;
  /** State few connections need (an extension, a send queue, the peer's close), allocated on first use. */
  private rare: SessionRareState | null = null;
  private readonly handler: SessionHandler;

  constructor(role: Role, handler: SessionHandler, options: SessionOptions = {}) {
    super();
    this.handler = handler;
    this.bits =
      (role === 'client' ? SESSION_MASKING : 0) | ((options.autoPong ?? true) ? SESSION_AUTO_PONG : 0) | (ReadyState.OPEN << READY_STATE_SHIFT);
    this.receiver = new FrameReceiver(this, role === 'server', receiverLimits(options));
  }

  get readyState(): ReadyState {
    return ((this.bits >>> READY_STATE_SHIFT) & 3) as ReadyState;
  }

  set readyState(state: ReadyState) {
    this.bits = (this.bits & ~(3 << READY_STATE_SHIFT)) | (state << READY_STATE_SHIFT);
  }

  /** Code of the peer's close frame (1005 when it had none), once received; 1006 before. */
  get closeCode(): number {
    return this.rare?.closeCode ?? CloseCode.ABNORMAL;
  }

  /** Reason of the peer's close frame, once received. */
  get closeReason(): string {
    return this.rare?.closeReason ?? '';
  }

  private get extension(): MessageExtension | null {
    return this.rare?.extension ?? null;
  }

  /** Sends waiting for an encode or a streamed message to finish. */
  private get queue(): QueuedSend[] | null {
    return this.rare?.queue ?? null;
  }

  private set queue(queue: QueuedSend[] | null) {
    if (queue !== null || this.rare !== null) this.more().queue = queue;
    this.setBit(SESSION_QUEUED, queue !== null);
  }

  private more(): SessionRareState {
    return (this.rare ??= new SessionRareState());
  }

  get role(): Role {
    return this.bits & SESSION_MASKING ? 'client' : 'server';
  }

  /** Whether our close frame has been queued. */
  get closeSent(): boolean {
    return (this.bits & SESSION_CLOSE_SENT) !== 0;
  }

  /** Whether the peer's close frame has arrived. */
  get closeReceived(): boolean {
    return (this.bits & SESSION_CLOSE_RECEIVED) !== 0;
  }

  private get masking(): boolean {
    return (this.bits & SESSION_MASKING) !== 0;
  }

  private get encoding(): boolean {
    return (this.bits & SESSION_ENCODING) !== 0;
  }

  private get streaming(): boolean {
    return (this.bits & SESSION_STREAMING) !== 0;
  }

  private setBit(bit: number, on: boolean): void {
    this.bits = on ? this.bits | bit : this.bits & ~bit;
  }

  /** Install the extension negotiated in the handshake (permessage-deflate). */
  setExtension(extension: MessageExtension | null): void {
    if (extension !== null || this.rare !== null) this.more().extension = extension;
    this.setBit(SESSION_EXTENSION, extension !== null);
    this.receiver.setExtension(extension);
  }

  get negotiatedExtension(): MessageExtension | null {
    return this.extension;
  }

  /** Bytes received from the transport. */
  receive(chunk: Buffer): void {
    this.receiver.receive(chunk);
  }

  /** Everything to write now: one Buffer, several, or null. */
  takeOutput(): Buffer | Buffer[] | null {
    return this.take();
  }

  /** Bytes accepted for sending but not yet handed to the transport. */
  get pendingBytes(): number {
    if (!(this.bits & SESSION_QUEUED)) return this.outputLength;
    let queued = 0;
    if (this.queue !== null) {
      for (const item of this.queue) queued += typeof item.data === 'string' ? item.data.length : item.data.length;
    }
    return this.outputLength + queued;
  }

  // ---- Sending -------------------------------------------------------------------------

  /** Send a text message. */
  sendText(text: string, compress = true): void {
    this.assertCanSend();
    const bits = this.bits;
    if ((bits & (SESSION_QUEUED | SESSION_STREAMING | SESSION_EXTENSION)) === 0) {
      if (text === recentText.text) this.writeRecentText();
      else this.writeTextFrame(text);
      return;
    }
    if (bits & (SESSION_QUEUED | SESSION_STREAMING)) {
      this.enqueue({ kind: 'message', data: text, isBinary: false, compress, code: undefined });
      return;
    }
    if (compress && this.extension !== null && shouldEncodeText(this.extension, text)) {
      this.encodeAndSend(Buffer.from(text, 'utf8'), false);
      return;
    }
    this.writeTextFrame(text);
  }

  /** Send a binary message, or a text message made of the given UTF-8 bytes. */
  sendBytes(data: Buffer, isBinary: boolean, compress = true): void {
    this.assertCanSend();
    if (this.bits & (SESSION_QUEUED | SESSION_STREAMING)) {
      this.enqueue({ kind: 'message', data, isBinary, compress, code: undefined });
      return;
    }
    if (compress && this.extension !== null && this.extension.shouldEncode(data.length)) {
      this.encodeAndSend(data, isBinary);
      return;
    }
    this.writeFrame(isBinary ? Opcode.BINARY : Opcode.TEXT, true, false, data);
  }

  /**
   * Start, continue or finish a message sent in fragments (RFC 6455 §5.4), uncompressed (see
   * sendCompressedFragment). Other messages sent meanwhile wait until the last fragment (`fin`).
   */
  sendFragment(data: Buffer, isBinary: boolean, first: boolean, fin: boolean): void {
    this.claimFragment(first);
    this.writeFrame(first ? (isBinary ? Opcode.BINARY : Opcode.TEXT) : Opcode.CONTINUATION, fin, false, data);
    if (fin) {
      this.setBit(SESSION_STREAMING, false);
      this.flushQueue();
    }
  }

  /**
   * Whether sends are waiting in the session (behind an asynchronous encode or a fragmented
   * message): what `takeOutput()` returns then does not hold them yet.
   */
  get sendsWaiting(): boolean {
    return (this.bits & (SESSION_QUEUED | SESSION_ENCODING)) !== 0;
  }

  /** Whether a data message may be sent now (open, no close sent). */
  get canSendMessage(): boolean {
    return this.readyState === ReadyState.OPEN && !this.closeSent;
  }

  /**
   * Send a complete, already encoded server frame by reference: the same Buffer can go to
   * many connections (frame-once broadcast). Server side only: client frames need a fresh mask.
   */
  sendPreparedFrame(frame: Buffer): void {
    this.assertCanSend();
    if (this.masking) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'prepared frames are for the server side');
    if (this.queue !== null || this.streaming) {
      this.enqueue({ kind: 'prepared', data: frame, isBinary: true, compress: false, code: undefined });
      return;
    }
    const wasEmpty = this.outputLength === 0;
    this.appendReference(frame);
    if (wasEmpty) this.handler.onOutput();
  }

  /** Check that a fragment may go now: the first starts the stream (or uses the reserved one), others continue it. */
  private claimFragment(first: boolean): void {
    this.assertCanSend();
    if (first && !(this.bits & SESSION_STREAM_RESERVED)) {
      if (this.streaming) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'a fragmented message is already in progress');
      this.setBit(SESSION_STREAMING, true);
    } else if (!this.streaming) {
      throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'no fragmented message in progress');
    }
    this.setBit(SESSION_STREAM_RESERVED, false);
  }

  /** Whether fragments of a message can be compressed on this connection. */
  get canCompressFragments(): boolean {
    const extension = this.extension;
    return extension !== null && this.bits & SESSION_EXTENSION ? extension.encodeFragment !== undefined : false;
  }

  /**
   * Compress and send one fragment of a streamed message (RFC 7692 §6.1: RSV1 on the first
   * frame). Asynchronous: the callback runs once the frame is queued for the transport.
   */
  sendCompressedFragment(
    data: Buffer,
    isBinary: boolean,
    first: boolean,
    fin: boolean,
    callback: (error: WebSocketError | null) => void,
  ): void {
    this.claimFragment(first);
    this.extension!.encodeFragment!(data, first, fin, (error, output) => {
      // Closed meanwhile: a data frame may no longer be sent (§5.5.1).
      if (this.closeSent || this.readyState === ReadyState.CLOSED) {
        callback(new WebSocketError(ErrorCode.NOT_OPEN, 'the connection closed while sending'));
        return;
      }
      if (error !== null || output === null) {
        this.onReceiveError(new WebSocketError(ErrorCode.INTERNAL, `compression failed: ${error?.message ?? 'no output'}`));
        callback(error ?? new WebSocketError(ErrorCode.INTERNAL, 'compression failed'));
        return;
      }
      this.writeFrame(first ? (isBinary ? Opcode.BINARY : Opcode.TEXT) : Opcode.CONTINUATION, fin, first, output);
      if (fin) {
        this.setBit(SESSION_STREAMING, false);
        this.flushQueue();
      }
      callback(null);
    });
  }

  /**
   * Claim the message stream before the first fragment is known: messages sent from now on
   * wait until the fragmented message ends (or `cancelStream()`).
   */
  reserveStream(onTurn: (error: WebSocketError | null) => void): void {
    this.assertCanSend();
    if (this.bits & (SESSION_STREAMING | SESSION_QUEUED)) {
      // Another message goes first: wait in line, in call order.
      this.enqueue({ kind: 'stream', data: EMPTY, isBinary: false, compress: false, code: undefined, onTurn });
      return;
    }
    this.bits |= SESSION_STREAMING | SESSION_STREAM_RESERVED;
    onTurn(null);
  }

  /** Give up a reserved stream before any fragment was sent; waiting messages go out. */
  cancelStream(): void {
    if (!(this.bits & SESSION_STREAM_RESERVED)) return;
    this.bits &= ~(SESSION_STREAMING | SESSION_STREAM_RESERVED);
    this.flushQueue();
  }

  /** Whether the reserved stream has sent no fragment yet. */
  get streamReserved(): boolean {
    return (this.bits & SESSION_STREAM_RESERVED) !== 0;
  }

  /** Whether a fragmented message is being sent. */
  get isStreaming(): boolean {
    return this.streaming;
  }

  ping(payload: Buffer = EMPTY): void {
    this.assertCanSend();
    this.assertControlPayload(payload);
    this.writeFrame(Opcode.PING, true, false, payload);
  }

  pong(payload: Buffer = EMPTY): void {
    this.assertCanSend();
    this.assertControlPayload(payload);
    this.writeFrame(Opcode.PONG, true, false, payload);
  }

  /**
   * Frame-level API: send one frame as given (any opcode, FIN, RSV1), with only the state
   * checked. Meant for tests and special peers; the caller owns the protocol's rules.
   */
  sendRawFrame(opcode: number, fin: boolean, rsv1: boolean, payload: Buffer): void {
    this.assertCanSend();
    if (!Number.isInteger(opcode) || opcode < 0 || opcode > 15) {
      throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `opcode must be 0-15, got ${opcode}`);
    }
    this.writeFrame(opcode, fin, rsv1, payload);
  }

  /**
   * Start the closing handshake (RFC 6455 §7.1.2). Queued messages are sent first; a
   * fragmented message in progress is cut (control frames may be injected, §5.4). Does
   * nothing if a close frame was already sent.
   */
  close(code?: number, reason = ''): void {
    if (this.closeSent || this.readyState === ReadyState.CLOSED) return;
    const payload = encodeClosePayload(code, reason); // validates before any state changes
    if (this.encoding && !this.streaming) {
      // Streams that have not started will not: close goes after the messages already queued.
      const waiting = this.queue;
      if (waiting !== null) {
        this.queue = waiting.filter((item) => item.kind !== 'stream');
        for (const item of waiting) {
          if (item.kind === 'stream') item.onTurn!(new WebSocketError(ErrorCode.NOT_OPEN, 'the connection is closing'));
        }
      }
      this.enqueue({ kind: 'close', data: payload, isBinary: false, compress: false, code });
      this.readyState = ReadyState.CLOSING;
      return;
    }
    this.dropQueue();
    this.setBit(SESSION_STREAMING, false);
    this.writeClose(payload, code ?? CloseCode.NO_STATUS, reason);
  }

  // ---- Receiving (ReceiverHandler) ----------------------------------------------------

  /** @internal */
  onMessage(data: Buffer, isBinary: boolean): void {
    // §7.1.2 / issue rule: after a close is sent, only the closing handshake is processed.
    if (this.closeSent) return;
    this.handler.onMessage(data, isBinary);
  }

  /** @internal */
  onTextMessage(source: Buffer, start: number, end: number, ascii: boolean): void {
    if (this.closeSent) return;
    const handler = this.handler;
    if (handler.onTextMessage !== undefined) handler.onTextMessage(source, start, end, ascii);
    else handler.onMessage(source.subarray(start, end), false);
  }

  /** @internal */
  onPing(payload: Buffer): void {
    if (this.closeSent) return;
    // §5.5.2: a Ping is answered with a Pong carrying the same application data.
    if (this.bits & SESSION_AUTO_PONG) this.writeFrame(Opcode.PONG, true, false, payload);
    this.handler.onPing(payload);
  }

  /** @internal */
  onPong(payload: Buffer): void {
    if (this.closeSent) return;
    this.handler.onPong(payload);
  }

  /** @internal */
  onFrame(frame: Frame): void {
    this.handler.onFrame(frame);
  }

  /** @internal */
  onCloseFrame(payload: Buffer): void {
    let code: number;
    let reason: string;
    try {
      ({ code, reason } = parseClosePayload(payload));
    } catch (error) {
      this.onReceiveError(error as WebSocketError);
      return;
    }
    // Nothing after a close frame is processed (§5.5.1).
    this.receiver.stop();
    this.setBit(SESSION_CLOSE_RECEIVED, true);
    const rare = this.more();
    rare.closeCode = code;
    rare.closeReason = reason;
    if (!this.closeSent) {
      // §5.5.1: answer with a close frame, echoing the peer's status code (1000 when it sent none).
      this.dropQueue();
      this.setBit(SESSION_STREAMING, false);
      // The reason goes back too, so both ends show the same one (browsers display the echo's).
      const echo = code === CloseCode.NO_STATUS ? CloseCode.NORMAL : code;
      this.writeClose(encodeClosePayload(echo, reason), echo, reason);
    }
    this.readyState = ReadyState.CLOSED;
    this.handler.onPeerClose(code, reason);
    this.handler.onCloseHandshakeComplete();
  }

  /** @internal */
  onReceiveError(error: WebSocketError): void {
    this.receiver.stop();
    if (!this.closeSent) {
      this.dropQueue();
      this.setBit(SESSION_STREAMING, false);
      // §7.1.7: fail the connection: send a close frame with the error's code, then close.
      this.writeClose(encodeClosePayload(error.closeCode, closeReasonForError(error.code)), error.closeCode, '');
    }
    this.readyState = ReadyState.CLOSED;
    this.handler.onProtocolError(error);
  }

  /** @internal */
  onReceiverResumed(): void {
    this.handler.onReceiverResumed();
  }

  /**
   * The transport is gone. Stops everything; returns whether the closing handshake completed
   * (both close frames exchanged: a clean close).
   */
  transportClosed(): boolean {
    this.receiver.stop();
    this.readyState = ReadyState.CLOSED;
    this.dropQueue();
    this.clear();
    const extension = this.extension;
    if (extension !== null && this.bits & SESSION_EXTENSION) {
      // Free its zlib contexts; the object stays so `extensions` still says what was agreed.
      extension.dispose();
      this.setBit(SESSION_EXTENSION, false);
    }
    return this.closeSent && this.closeReceived;
  }

  // ---- Internals ------------------------------------------------------------------------

  private assertCanSend(): void {
    // One test: ready state OPEN and no close frame sent.
    if ((this.bits & (SESSION_CLOSE_SENT | (3 << READY_STATE_SHIFT))) !== ReadyState.OPEN << READY_STATE_SHIFT) {
      throw new WebSocketError(ErrorCode.NOT_OPEN, 'the connection is not open (closing or closed)');
    }
  }

  private assertControlPayload(payload: Buffer): void {
    if (payload.length > MAX_CONTROL_PAYLOAD) {
      throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `control frame payload of ${payload.length} bytes; at most 125`);
    }
  }

  private writeClose(payload: Buffer, code: number, reason: string): void {
    this.writeFrame(Opcode.CLOSE, true, false, payload);
    this.setBit(SESSION_CLOSE_SENT, true);
    // Data arriving from now on is dropped (§7.1.2): the receiver skips decoding it, so a
    // decompression in progress cannot hold back the peer's close frame.
    this.receiver.discardData();
    if (this.readyState === ReadyState.OPEN) this.readyState = ReadyState.CLOSING;
    this.handler.onCloseSent(code, reason);
  }

  /** Forget queued sends (the connection is closing); streams still waiting are told. */
  private dropQueue(): void {
    const queue = this.queue;
    if (queue === null) return;
    this.queue = null;
    for (const item of queue) {
      if (item.kind === 'stream') item.onTurn!(new WebSocketError(ErrorCode.NOT_OPEN, 'the connection closed before the stream could start'));
    }
  }

  private enqueue(item: QueuedSend): void {
    const queue = this.queue;
    if (queue === null) this.queue = [item];
    else queue.push(item);
  }

  private encodeAndSend(data: Buffer, isBinary: boolean): void {
    this.setBit(SESSION_ENCODING, true);
    if (this.queue === null) this.queue = [];
    this.extension!.encode(data, (error, output) => {
      this.setBit(SESSION_ENCODING, false);
      if (this.readyState === ReadyState.CLOSED) return;
      if (error !== null || output === null) {
        // Encoding our own data cannot fail on valid input; report it as an internal error.
        this.onReceiveError(new WebSocketError(ErrorCode.INTERNAL, `compression failed: ${error?.message ?? 'no output'}`));
        return;
      }
      this.writeFrame(isBinary ? Opcode.BINARY : Opcode.TEXT, true, true, output);
      this.flushQueue();
    });
  }

  /** Send what waited, in order, until the next asynchronous encode. */
  private flushQueue(): void {
    const queue = this.queue;
    this.queue = null;
    if (queue === null) return;
    while (queue.length > 0) {
      if (this.encoding || this.streaming) {
        this.queue = queue;
        return;
      }
      const item = queue.shift()!;
      if (item.kind === 'close') {
        this.writeClose(item.data as Buffer, item.code ?? CloseCode.NO_STATUS, '');
        continue;
      }
      if (this.closeSent) continue;
      if (item.kind === 'stream') {
        // Its turn: the stream owns the connection until its last fragment.
        this.bits |= SESSION_STREAMING | SESSION_STREAM_RESERVED;
        if (queue.length > 0) this.queue = queue;
        item.onTurn!(null);
        return;
      }
      if (item.kind === 'prepared') {
        const wasEmpty = this.outputLength === 0;
        this.appendReference(item.data as Buffer);
        if (wasEmpty) this.handler.onOutput();
        continue;
      }
      const extension = this.extension;
      const worthIt =
        extension !== null &&
        (typeof item.data === 'string' ? shouldEncodeText(extension, item.data) : extension.shouldEncode(item.data.length));
      if (item.compress && worthIt) {
        this.encodeAndSend(typeof item.data === 'string' ? Buffer.from(item.data, 'utf8') : item.data, item.isBinary);
      } else if (typeof item.data === 'string') {
        this.writeTextFrame(item.data);
      } else {
        this.writeFrame(item.isBinary ? Opcode.BINARY : Opcode.TEXT, true, false, item.data);
      }
    }
  }

  /** Send the text last decoded by rememberDecodedText() by copying its UTF-8 bytes. */
  private writeRecentText(): void {
    const { source, start, end } = recentText;
    const length = end - start;
    const masking = this.masking;
    const headerSize = frameHeaderSize(length, masking);
    if (headerSize + length >= SLAB_MAX_FRAME) {
      this.writeFrame(Opcode.TEXT, true, false, source!.subarray(start, end));
      return;
    }
    const wasEmpty = this.outputLength === 0;
    const target = this.reserve(headerSize + length);
    const at = OutputBuffer.offset;
    encodeFrameHeader(target, at, Opcode.TEXT, true, false, length, null);
    const payloadAt = at + headerSize;
    if (length < 64) {
      for (let i = 0; i < length; i++) target[payloadAt + i] = source![start + i]!;
    } else {
      source!.copy(target, payloadAt, start, end);
    }
    if (masking) {
      target[at + 1] = target[at + 1]! | 0x80;
      writeRandomMask(target, payloadAt - 4);
      applyMaskKey(target, target.readUInt32BE(payloadAt - 4), payloadAt, payloadAt + length, 0);
    }
    if (wasEmpty) this.handler.onOutput();
  }

  /** Encode a text frame straight from a string (no intermediate Buffer for small ones). */
  private writeTextFrame(text: string): void {
    const length = text.length;
    // Up to 3 bytes per UTF-16 code unit: if that fits a 7-bit length, encode in place.
    if (length * 3 < 126) {
      const maskBytes = this.masking ? 4 : 0;
      const reserved = 2 + maskBytes + length * 3;
      const wasEmpty = this.outputLength === 0;
      const target = this.reserve(reserved);
      const at = OutputBuffer.offset;
      const payloadAt = at + 2 + maskBytes;
      const written = length === 0 ? 0 : encodeUtf8Into(target, text, payloadAt, length * 3);
      target[at] = 0x80 | Opcode.TEXT;
      target[at + 1] = (this.masking ? 0x80 : 0) | written;
      if (this.masking) {
        writeRandomMask(target, at + 2);
        applyMaskKey(target, target.readUInt32BE(at + 2), payloadAt, payloadAt + written, 0);
      }
      this.unreserve(reserved - (2 + maskBytes + written));
      if (wasEmpty) this.handler.onOutput();
      return;
    }
    this.writeFrame(Opcode.TEXT, true, false, Buffer.from(text, 'utf8'));
  }

  /** Encode one frame into the output (masked on the client side, §5.3). */
  private writeFrame(opcode: number, fin: boolean, rsv1: boolean, payload: Buffer): void {
    const length = payload.length;
    const masking = this.masking;
    const headerSize = frameHeaderSize(length, masking);
    const wasEmpty = this.outputLength === 0;
    if (!masking && length >= REFERENCE_PAYLOAD_MIN) {
      const header = this.reserve(headerSize);
      encodeFrameHeader(header, OutputBuffer.offset, opcode, fin, rsv1, length, null);
      this.appendReference(payload);
    } else if (headerSize + length < SLAB_MAX_FRAME) {
      const target = this.reserve(headerSize + length);
      this.encodeInto(target, OutputBuffer.offset, opcode, fin, rsv1, payload, headerSize);
    } else {
      const frame = Buffer.allocUnsafe(headerSize + length);
      this.encodeInto(frame, 0, opcode, fin, rsv1, payload, headerSize);
      this.appendReference(frame);
    }
    if (wasEmpty) this.handler.onOutput();
  }

  private encodeInto(
    target: Buffer,
    at: number,
    opcode: number,
    fin: boolean,
    rsv1: boolean,
    payload: Buffer,
    headerSize: number,
  ): void {
    if (this.masking) {
      encodeFrameHeader(target, at, opcode, fin, rsv1, payload.length, null);
      target[at + 1] = target[at + 1]! | 0x80;
      const maskAt = at + headerSize - 4;
      writeRandomMask(target, maskAt);
      payload.copy(target, at + headerSize);
      applyMaskKey(target, target.readUInt32BE(maskAt), at + headerSize, at + headerSize + payload.length, 0);
    } else {
      encodeFrameHeader(target, at, opcode, fin, rsv1, payload.length, null);
      payload.copy(target, at + headerSize);
    }
  }
}
