/**
 * One WebSocket connection's protocol state, without I/O (RFC 6455 §5-§7): bytes go in through
 * `receive()`, events go to the handler, bytes to send come out of `takeOutput()`. Timers and
 * closing the transport are the owner's job; the session says when.
 *
 * It is the frame parser's subclass (see receive/frame-parser.ts) and owns the close state
 * machine (§7), the automatic pong (§5.5.2), text decoding, and the order of what it sends: every
 * frame goes through the frame writer into the connection's output, and sends that must wait
 * (behind a compression, a message sent in fragments) wait in a SendQueue.
 */
import { encodeClosePayload, parseClosePayload } from '../close.js';
import { closeReasonForError, CloseCode, ErrorCode, WebSocketError } from '../errors.js';
import type { MessageExtension } from '../extensions/extension.js';
import { EMPTY, type Frame, MAX_CONTROL_PAYLOAD, Opcode } from '../frame/opcode.js';
import type { PreparedMessage } from '../frame/prepared.js';
import { writeFrame, writeTextFrame } from '../frame/writer.js';
import { DEFAULT_LIMITS, DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, FrameParser, type ReceiverLimits } from '../receive/frame-parser.js';
import { OutputBuffer } from '../send/output-buffer.js';
import { type QueuedSend, SendQueue } from '../send/send-queue.js';
import { rememberDecodedText } from '../send/text-echo.js';
import { decodeUtf8, decodeUtf8Region } from '../utf8.js';
import { ReadyState, type Role } from './ready-state.js';

/** What a session reports to its owner (node/'s WebSocket, or a test). */
export interface SessionHandler {
  /** A complete message: text decoded to a string (validated UTF-8), binary as a Buffer. */
  onMessage(data: string | Buffer, isBinary: boolean): void;
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
  /** Deliver text as the Buffer of its validated UTF-8 bytes instead of a string (default false). */
  textAsBuffer?: boolean;
  /**
   * Keep delivering data messages that arrive after our close frame, until the peer's close
   * (default false: they are dropped). RFC 6455 §1.4 only has a peer discard data after it
   * *received* a close; messages the peer sent before it saw ours are still in flight.
   */
  receiveAfterClose?: boolean;
}

/**
 * Bytes of pongs not yet taken by the transport beyond which further pings are not answered: a
 * peer that pings and never reads cannot make the session queue pongs without bound (RFC 6455
 * §5.5.3 lets an endpoint skip answering some pings). 64 KiB holds the answers to 500 pings of
 * the largest size, far more than any burst a live peer sends in one go.
 */
export const MAX_PENDING_PONG_BYTES = 64 * 1024;

/**
 * Limits objects are shared by every session created with the same options object (a server
 * passes one options object for all its connections), so a connection does not carry its own.
 */
const limitsByOptions = new WeakMap<SessionOptions, ReceiverLimits>();

function receiverLimits(options: SessionOptions): ReceiverLimits {
  if (options.maxPayload === undefined && options.maxFragments === undefined) return DEFAULT_LIMITS;
  let limits = limitsByOptions.get(options);
  if (limits === undefined) {
    limits = { maxPayload: options.maxPayload ?? DEFAULT_MAX_PAYLOAD, maxFragments: options.maxFragments ?? DEFAULT_MAX_FRAGMENTS };
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
const SESSION_EXTENSION = 128; // an RSV1 extension is negotiated and alive
const SESSION_STREAM_RESERVED = 1024; // sendStream() started but sent no fragment yet
const SESSION_NO_TEXT_ECHO = 2048; // do not record decoded text for the echo cache (observeFrames)
const SESSION_TEXT_AS_BUFFER = 1 << 29; // text is delivered as its bytes, not decoded
const READY_STATE_SHIFT = 8; // two bits: ReadyState
const PENDING_PONGS_SHIFT = 12; // 17 bits: bytes of pongs written since the output was last taken
const PENDING_PONGS_MASK = 0x1ffff << PENDING_PONGS_SHIFT;
const SESSION_RECEIVE_AFTER_CLOSE = 1 << 30; // data messages are delivered after our close frame

/** Session state few connections need, kept out of the session object itself. */
class SessionRareState {
  queue: SendQueue | null = null;
  closeCode: number = CloseCode.ABNORMAL;
  closeReason = '';
}

export class ProtocolSession extends FrameParser {
  /** Booleans, the ready state and the pending-pong bytes packed in one number (SESSION_* bits). */
  private sessionBits: number;
  /** State few connections need (a send queue, the peer's close), allocated on first use. */
  private sessionRare: SessionRareState | null = null;
  private readonly handler: SessionHandler;
  private readonly output = new OutputBuffer();

  constructor(role: Role, handler: SessionHandler, options: SessionOptions = {}) {
    super(role === 'server', receiverLimits(options));
    this.handler = handler;
    this.sessionBits =
      (role === 'client' ? SESSION_MASKING : 0) |
      ((options.autoPong ?? true) ? SESSION_AUTO_PONG : 0) |
      (options.textAsBuffer === true ? SESSION_TEXT_AS_BUFFER : 0) |
      (options.receiveAfterClose === true ? SESSION_RECEIVE_AFTER_CLOSE : 0) |
      (ReadyState.OPEN << READY_STATE_SHIFT);
  }

  get readyState(): ReadyState {
    return ((this.sessionBits >>> READY_STATE_SHIFT) & 3) as ReadyState;
  }

  private setReadyState(state: ReadyState): void {
    this.sessionBits = (this.sessionBits & ~(3 << READY_STATE_SHIFT)) | (state << READY_STATE_SHIFT);
  }

  get role(): Role {
    return this.sessionBits & SESSION_MASKING ? 'client' : 'server';
  }

  /** Code of the peer's close frame (1005 when it had none), once received; 1006 before. */
  get closeCode(): number {
    return this.sessionRare?.closeCode ?? CloseCode.ABNORMAL;
  }

  /** Reason of the peer's close frame, once received. */
  get closeReason(): string {
    return this.sessionRare?.closeReason ?? '';
  }

  /** Whether our close frame has been queued. */
  get closeSent(): boolean {
    return (this.sessionBits & SESSION_CLOSE_SENT) !== 0;
  }

  /** Whether the peer's close frame has arrived. */
  get closeReceived(): boolean {
    return (this.sessionBits & SESSION_CLOSE_RECEIVED) !== 0;
  }

  /** Whether a data message may be sent now (open, no close sent). */
  get canSendMessage(): boolean {
    return (this.sessionBits & (SESSION_CLOSE_SENT | (3 << READY_STATE_SHIFT))) === ReadyState.OPEN << READY_STATE_SHIFT;
  }

  /** The extension negotiated in the handshake, or null. */
  get negotiatedExtension(): MessageExtension | null {
    return this.extension;
  }

  /** Install the extension negotiated in the handshake (permessage-deflate). */
  setExtension(extension: MessageExtension | null): void {
    this.extension = extension;
    this.setBit(SESSION_EXTENSION, extension !== null);
  }

  /** Report every received frame to the handler's onFrame (the frame-level API). */
  override set observeFrames(on: boolean) {
    super.observeFrames = on;
    // User code sees frames' payloads and could change them: the echo cache must not trust them.
    this.setBit(SESSION_NO_TEXT_ECHO, on);
  }

  override get observeFrames(): boolean {
    return super.observeFrames;
  }

  /** Whether fragments of a message can be compressed on this connection. */
  get canCompressFragments(): boolean {
    const extension = this.extension;
    return extension !== null && this.sessionBits & SESSION_EXTENSION ? extension.encodeFragment !== undefined : false;
  }

  /** Whether the reserved stream has sent no fragment yet. */
  get streamReserved(): boolean {
    return (this.sessionBits & SESSION_STREAM_RESERVED) !== 0;
  }

  /** Whether a fragmented message is being sent. */
  get isStreaming(): boolean {
    return (this.sessionBits & SESSION_STREAMING) !== 0;
  }

  /**
   * Whether sends are waiting in the session (behind an asynchronous encode or a fragmented
   * message): what `takeOutput()` returns then does not hold them yet.
   */
  get sendsWaiting(): boolean {
    return (this.sessionBits & (SESSION_QUEUED | SESSION_ENCODING)) !== 0;
  }

  /** Bytes of output not yet taken by the transport. */
  get outputLength(): number {
    return this.output.length;
  }

  /** Bytes accepted for sending but not yet handed to the transport (output and waiting sends). */
  get pendingBytes(): number {
    return this.output.length + (this.sessionBits & SESSION_QUEUED ? this.sessionRare!.queue!.bytes : 0);
  }

  /** Everything to write now: one Buffer, several, or null. */
  takeOutput(): Buffer | Buffer[] | null {
    this.sessionBits &= ~PENDING_PONGS_MASK;
    return this.output.take();
  }

  /**
   * Everything pending, for a transport that cannot write it yet and holds it meanwhile: the
   * pongs in it still count as unsent (see MAX_PENDING_PONG_BYTES) until `outputWritten()`.
   */
  holdOutput(): Buffer | Buffer[] | null {
    return this.output.take();
  }

  /** What the transport held has been written. */
  outputWritten(): void {
    this.sessionBits &= ~PENDING_PONGS_MASK;
  }

  private setBit(bit: number, on: boolean): void {
    this.sessionBits = on ? this.sessionBits | bit : this.sessionBits & ~bit;
  }

  private sessionMore(): SessionRareState {
    return (this.sessionRare ??= new SessionRareState());
  }

  private get masking(): boolean {
    return (this.sessionBits & SESSION_MASKING) !== 0;
  }

  // ---- Sending -------------------------------------------------------------------------------

  /** Send a text message. */
  sendText(text: string, compress = true): void {
    this.assertCanSend();
    const bits = this.sessionBits;
    if ((bits & (SESSION_QUEUED | SESSION_STREAMING | SESSION_ENCODING)) !== 0) {
      this.enqueue({ kind: 'text', text, compress });
      return;
    }
    this.sendTextNow(text, compress);
  }

  private sendTextNow(text: string, compress: boolean): void {
    if (this.sessionBits & SESSION_EXTENSION && compress && shouldEncodeText(this.extension!, text)) {
      this.encodeAndSend(Buffer.from(text, 'utf8'), false);
      return;
    }
    const wasEmpty = this.output.length === 0;
    writeTextFrame(this.output, text, this.masking);
    if (wasEmpty) this.handler.onOutput();
  }

  /** Send a binary message, or a text message made of the given UTF-8 bytes. */
  sendBytes(data: Buffer, isBinary: boolean, compress = true): void {
    this.assertCanSend();
    if (this.sessionBits & (SESSION_QUEUED | SESSION_STREAMING | SESSION_ENCODING)) {
      this.enqueue({ kind: 'bytes', data, isBinary, compress });
      return;
    }
    this.sendBytesNow(data, isBinary, compress);
  }

  private sendBytesNow(data: Buffer, isBinary: boolean, compress: boolean): void {
    if (this.sessionBits & SESSION_EXTENSION && compress && this.extension!.shouldEncode(data.length)) this.encodeAndSend(data, isBinary);
    else this.write(isBinary ? Opcode.BINARY : Opcode.TEXT, true, false, data);
  }

  /**
   * Send a message framed once for many connections (broadcast, topics). A server writes the
   * prepared bytes by reference; with permessage-deflate it uses the frame compressed once for
   * its setting (or compresses on its own with context takeover). A client frames the payload
   * itself, since each of its frames needs a fresh mask (RFC 6455 §5.3).
   */
  sendPrepared(message: PreparedMessage): void {
    this.assertCanSend();
    if (this.sessionBits & (SESSION_QUEUED | SESSION_STREAMING | SESSION_ENCODING)) {
      this.enqueue({ kind: 'prepared', message });
      return;
    }
    this.writePrepared(message);
  }

  private writePrepared(message: PreparedMessage): void {
    if (this.sessionBits & SESSION_MASKING) {
      this.sendBytesNow(message.payload, message.isBinary, message.compress);
      return;
    }
    const extension = this.extension;
    if (this.sessionBits & SESSION_EXTENSION && message.compress && extension!.shouldEncode(message.payload.length)) {
      const shared = extension!.sharedEncoding ?? null;
      if (shared === null) {
        this.encodeAndSend(message.payload, message.isBinary);
        return;
      }
      const ready = message.compressedFrameFor(shared.key);
      if (ready !== null) {
        this.appendFrame(ready);
        return;
      }
      // Compressed once for every connection with this setting; later sends wait for it.
      this.setBit(SESSION_ENCODING, true);
      this.ensureQueue();
      message.requestCompressedFrame(shared, this);
      return;
    }
    this.appendFrame(message.frame);
  }

  /** @internal A prepared message's compressed frame is ready (CompressedFrameWaiter). */
  compressedFrameReady(frame: Buffer | null, error: WebSocketError | null): void {
    this.setBit(SESSION_ENCODING, false);
    if (this.readyState === ReadyState.CLOSED) return;
    if (frame === null) {
      this.onReceiveError(new WebSocketError(ErrorCode.INTERNAL, `compression failed: ${error?.message ?? 'no output'}`));
      return;
    }
    if (!this.closeSent) this.appendFrame(frame);
    this.flushQueue();
  }

  /** Append a complete frame by reference. */
  private appendFrame(frame: Buffer): void {
    const wasEmpty = this.output.length === 0;
    this.output.appendReference(frame);
    if (wasEmpty) this.handler.onOutput();
  }

  /**
   * Start, continue or finish a message sent in fragments (RFC 6455 §5.4), uncompressed (see
   * sendCompressedFragment). Other messages sent meanwhile wait until the last fragment (`fin`).
   */
  sendFragment(data: Buffer, isBinary: boolean, first: boolean, fin: boolean): void {
    this.claimFragment(first);
    this.write(first ? (isBinary ? Opcode.BINARY : Opcode.TEXT) : Opcode.CONTINUATION, fin, false, data);
    if (fin) {
      this.setBit(SESSION_STREAMING, false);
      this.flushQueue();
    }
  }

  /** Check that a fragment may go now: the first starts the stream (or uses the reserved one), others continue it. */
  private claimFragment(first: boolean): void {
    this.assertCanSend();
    if (first && !(this.sessionBits & SESSION_STREAM_RESERVED)) {
      if (this.isStreaming) throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'a fragmented message is already in progress');
      // §5.4: no frame of another message between the fragments of one. Messages sent earlier still
      // wait (behind a compression): starting now would put this one first and theirs inside it.
      if (this.sessionBits & (SESSION_QUEUED | SESSION_ENCODING)) {
        throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'earlier messages are still being sent; wait for your turn with reserveStream()');
      }
      this.setBit(SESSION_STREAMING, true);
    } else if (!this.isStreaming) {
      throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, 'no fragmented message in progress');
    }
    this.setBit(SESSION_STREAM_RESERVED, false);
  }

  /**
   * Compress and send one fragment of a streamed message (RFC 7692 §6.1: RSV1 on the first
   * frame). Asynchronous: the callback runs once the frame is queued for the transport.
   */
  sendCompressedFragment(data: Buffer, isBinary: boolean, first: boolean, fin: boolean, callback: (error: WebSocketError | null) => void): void {
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
      this.write(first ? (isBinary ? Opcode.BINARY : Opcode.TEXT) : Opcode.CONTINUATION, fin, first, output);
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
    if (this.sessionBits & (SESSION_STREAMING | SESSION_QUEUED | SESSION_ENCODING)) {
      // Another message goes first: wait in line, in call order.
      this.enqueue({ kind: 'stream', onTurn });
      return;
    }
    this.sessionBits |= SESSION_STREAMING | SESSION_STREAM_RESERVED;
    onTurn(null);
  }

  /** Give up a reserved stream before any fragment was sent; waiting messages go out. */
  cancelStream(): void {
    if (!(this.sessionBits & SESSION_STREAM_RESERVED)) return;
    this.sessionBits &= ~(SESSION_STREAMING | SESSION_STREAM_RESERVED);
    this.flushQueue();
  }

  ping(payload: Buffer = EMPTY): void {
    this.assertCanSend();
    assertControlPayload(payload);
    this.write(Opcode.PING, true, false, payload);
  }

  pong(payload: Buffer = EMPTY): void {
    this.assertCanSend();
    assertControlPayload(payload);
    this.write(Opcode.PONG, true, false, payload);
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
    this.write(opcode, fin, rsv1, payload);
  }

  /**
   * Start the closing handshake (RFC 6455 §7.1.2). Queued messages are sent first; a
   * fragmented message in progress is cut (control frames may be injected, §5.4). Does
   * nothing if a close frame was already sent.
   */
  close(code?: number, reason = ''): void {
    if (this.closeSent || this.readyState === ReadyState.CLOSED) return;
    const payload = encodeClosePayload(code, reason); // validates before any state changes
    if (this.sessionBits & SESSION_ENCODING && !this.isStreaming) {
      // Streams that have not started will not: close goes after the messages already queued.
      const queue = this.sessionRare?.queue ?? null;
      if (queue !== null) {
        for (const stream of queue.takeStreams()) stream.onTurn(new WebSocketError(ErrorCode.NOT_OPEN, 'the connection is closing'));
      }
      this.enqueue({ kind: 'close', payload, code });
      this.setReadyState(ReadyState.CLOSING);
      return;
    }
    this.dropQueue();
    this.setBit(SESSION_STREAMING, false);
    this.writeClose(payload, code ?? CloseCode.NO_STATUS, reason);
  }

  /**
   * The transport is gone. Stops everything; returns whether the closing handshake completed
   * (both close frames exchanged: a clean close).
   */
  transportClosed(): boolean {
    this.stopParsing();
    this.setReadyState(ReadyState.CLOSED);
    this.dropQueue();
    this.output.clear();
    const extension = this.extension;
    if (extension !== null && this.sessionBits & SESSION_EXTENSION) {
      // Free its zlib contexts; the object stays so `extensions` still says what was agreed.
      extension.dispose();
      this.setBit(SESSION_EXTENSION, false);
    }
    return this.closeSent && this.closeReceived;
  }

  // ---- Receiving (the parser's callbacks) ---------------------------------------------------

  /** @internal */
  protected onMessage(data: Buffer, isBinary: boolean): void {
    // §7.1.2: after a close is sent, only the closing handshake is processed (unless
    // receiveAfterClose asks for the messages still in flight).
    if ((this.sessionBits & (SESSION_CLOSE_SENT | SESSION_RECEIVE_AFTER_CLOSE)) === SESSION_CLOSE_SENT) return;
    this.handler.onMessage(isBinary || this.sessionBits & SESSION_TEXT_AS_BUFFER ? data : decodeUtf8(data), isBinary);
  }

  /** @internal */
  protected onTextMessage(source: Buffer, start: number, end: number, ascii: boolean): void {
    if ((this.sessionBits & (SESSION_CLOSE_SENT | SESSION_RECEIVE_AFTER_CLOSE)) === SESSION_CLOSE_SENT) return;
    if (this.sessionBits & SESSION_TEXT_AS_BUFFER) {
      this.handler.onMessage(source.subarray(start, end), false);
      return;
    }
    const text = decodeUtf8Region(source, start, end, ascii);
    if (!(this.sessionBits & SESSION_NO_TEXT_ECHO)) rememberDecodedText(text, source, start, end);
    this.handler.onMessage(text, false);
  }

  /** @internal */
  protected onPing(payload: Buffer): void {
    if (this.sessionBits & SESSION_CLOSE_SENT) return;
    // §5.5.2: a Ping is answered with a Pong carrying the same application data; §5.5.3 allows
    // not answering every one: a peer that pings and does not read gets MAX_PENDING_PONG_BYTES at most.
    if (this.sessionBits & SESSION_AUTO_PONG) {
      const pending = (this.sessionBits & PENDING_PONGS_MASK) >>> PENDING_PONGS_SHIFT;
      const size = payload.length + 2;
      if (pending + size <= MAX_PENDING_PONG_BYTES) {
        this.write(Opcode.PONG, true, false, payload);
        this.sessionBits += size << PENDING_PONGS_SHIFT;
      }
    }
    this.handler.onPing(payload);
  }

  /** @internal */
  protected onPong(payload: Buffer): void {
    if (this.sessionBits & SESSION_CLOSE_SENT) return;
    this.handler.onPong(payload);
  }

  /** @internal */
  protected onFrame(frame: Frame): void {
    this.handler.onFrame(frame);
  }

  /** @internal */
  protected onCloseFrame(payload: Buffer): void {
    let code: number;
    let reason: string;
    try {
      ({ code, reason } = parseClosePayload(payload));
    } catch (error) {
      this.onReceiveError(error as WebSocketError);
      return;
    }
    this.setBit(SESSION_CLOSE_RECEIVED, true);
    const rare = this.sessionMore();
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
    this.setReadyState(ReadyState.CLOSED);
    this.handler.onPeerClose(code, reason);
    this.handler.onCloseHandshakeComplete();
  }

  /** @internal */
  protected onReceiveError(error: WebSocketError): void {
    this.stopParsing();
    if (!this.closeSent) {
      this.dropQueue();
      this.setBit(SESSION_STREAMING, false);
      // §7.1.7: fail the connection: send a close frame with the error's code, then close.
      this.writeClose(encodeClosePayload(error.closeCode, closeReasonForError(error.code)), error.closeCode, '');
    }
    this.setReadyState(ReadyState.CLOSED);
    this.handler.onProtocolError(error);
  }

  /** @internal */
  protected onReceiverResumed(): void {
    this.handler.onReceiverResumed();
  }

  // ---- Internals -----------------------------------------------------------------------------

  private assertCanSend(): void {
    if (!this.canSendMessage) throw new WebSocketError(ErrorCode.NOT_OPEN, 'the connection is not open (closing or closed)');
  }

  /** One frame into the output (masked on the client side, §5.3). */
  private write(opcode: number, fin: boolean, rsv1: boolean, payload: Buffer): void {
    const wasEmpty = this.output.length === 0;
    writeFrame(this.output, opcode, fin, rsv1, payload, (this.sessionBits & SESSION_MASKING) !== 0);
    if (wasEmpty) this.handler.onOutput();
  }

  private writeClose(payload: Buffer, code: number, reason: string): void {
    this.write(Opcode.CLOSE, true, false, payload);
    this.setBit(SESSION_CLOSE_SENT, true);
    // Data arriving from now on is dropped (§7.1.2): the parser skips decoding it, so a
    // decompression in progress cannot hold back the peer's close frame.
    if (!(this.sessionBits & SESSION_RECEIVE_AFTER_CLOSE)) this.discardData();
    if (this.readyState === ReadyState.OPEN) this.setReadyState(ReadyState.CLOSING);
    this.handler.onCloseSent(code, reason);
  }

  private ensureQueue(): SendQueue {
    const rare = this.sessionMore();
    this.setBit(SESSION_QUEUED, true);
    return (rare.queue ??= new SendQueue());
  }

  private enqueue(item: QueuedSend): void {
    this.ensureQueue().push(item);
  }

  /** Forget queued sends (the connection is closing); streams still waiting are told. */
  private dropQueue(): void {
    const queue = this.sessionRare?.queue ?? null;
    if (queue === null) return;
    this.sessionRare!.queue = null;
    this.setBit(SESSION_QUEUED, false);
    for (const item of queue.clear()) {
      if (item.kind === 'stream') item.onTurn(new WebSocketError(ErrorCode.NOT_OPEN, 'the connection closed before the stream could start'));
    }
  }

  private encodeAndSend(data: Buffer, isBinary: boolean): void {
    this.setBit(SESSION_ENCODING, true);
    this.ensureQueue();
    this.extension!.encode(data, (error, output) => {
      this.setBit(SESSION_ENCODING, false);
      if (this.readyState === ReadyState.CLOSED) return;
      if (error !== null || output === null) {
        // Encoding our own data cannot fail on valid input; report it as an internal error.
        this.onReceiveError(new WebSocketError(ErrorCode.INTERNAL, `compression failed: ${error?.message ?? 'no output'}`));
        return;
      }
      if (!this.closeSent) this.write(isBinary ? Opcode.BINARY : Opcode.TEXT, true, true, output);
      this.flushQueue();
    });
  }

  /** Send what waited, in order, until the next asynchronous encode or stream. */
  private flushQueue(): void {
    const queue = this.sessionRare?.queue ?? null;
    if (queue === null) {
      this.setBit(SESSION_QUEUED, false);
      return;
    }
    while (queue.length > 0) {
      if (this.sessionBits & (SESSION_ENCODING | SESSION_STREAMING)) return;
      const item = queue.shift()!;
      if (item.kind === 'close') {
        this.writeClose(item.payload, item.code ?? CloseCode.NO_STATUS, '');
        continue;
      }
      if (this.closeSent) continue;
      switch (item.kind) {
        case 'stream':
          // Its turn: the stream owns the connection until its last fragment.
          this.sessionBits |= SESSION_STREAMING | SESSION_STREAM_RESERVED;
          item.onTurn(null);
          return;
        case 'prepared':
          this.writePrepared(item.message);
          break;
        case 'text':
          this.sendTextNow(item.text, item.compress);
          break;
        case 'bytes':
          this.sendBytesNow(item.data, item.isBinary, item.compress);
          break;
      }
    }
    if (queue.length === 0 && !(this.sessionBits & SESSION_ENCODING)) {
      this.sessionRare!.queue = null;
      this.setBit(SESSION_QUEUED, false);
    }
  }
}

function shouldEncodeText(extension: MessageExtension, text: string): boolean {
  return extension.shouldEncodeText !== undefined ? extension.shouldEncodeText(text) : extension.shouldEncode(Buffer.byteLength(text, 'utf8'));
}

function assertControlPayload(payload: Buffer): void {
  if (payload.length > MAX_CONTROL_PAYLOAD) {
    throw new WebSocketError(ErrorCode.INVALID_ARGUMENT, `control frame payload of ${payload.length} bytes; at most 125`);
  }
}
