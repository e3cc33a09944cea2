import { ErrorCode, WebSocketError } from './errors.js';
import { applyMaskKey, EMPTY, type Frame, MAX_CONTROL_PAYLOAD, Opcode } from './frame.js';
import type { MessageExtension } from './extensions.js';
import { classifyUtf8, UTF8_ASCII, UTF8_INVALID, Utf8Validator } from './utf8.js';

/** What the receiver reports to its owner (the protocol session). */
export interface ReceiverHandler {
  /** A complete data message; text has been validated as UTF-8 and is passed as bytes. */
  onMessage(data: Buffer, isBinary: boolean): void;
  /**
   * Optional: a complete text message as a region of a buffer, already validated as UTF-8
   * (`ascii` when every byte is below 0x80). When present it is called for text instead of
   * onMessage, which saves a Buffer view per message when the handler decodes to a string.
   * The region's bytes stay unchanged after the call.
   */
  onTextMessage?(source: Buffer, start: number, end: number, ascii: boolean): void;
  onPing(payload: Buffer): void;
  onPong(payload: Buffer): void;
  /** A close frame, payload not yet validated (the session does that, see close.ts). */
  onCloseFrame(payload: Buffer): void;
  /** Every frame as received (unmasked), when `observeFrames` is on. */
  onFrame(frame: Frame): void;
  /** The connection must fail; the receiver has stopped. */
  onReceiveError(error: WebSocketError): void;
  /** An asynchronous decode finished and the backlog held meanwhile has been parsed. */
  onReceiverResumed(): void;
}

export interface ReceiverLimits {
  /**
   * Largest message, in bytes after decompression. A frame whose length would pass it is
   * refused from its header, before its payload is buffered (close 1009).
   */
  maxPayload: number;
  /** Most frames in one message (close 1009). */
  maxFragments: number;
}

/** Default limits, documented in README ("Limits"). */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
/** A maxPayload message in 64-byte fragments is still legitimate: 16 MiB / 64 B. */
export const DEFAULT_MAX_FRAGMENTS = 262_144;

/**
 * Payload pieces at least this long are kept by reference; shorter ones are copied
 * together into one buffer. A message made of many tiny TCP chunks or fragments thus
 * costs its own size in memory plus one buffer header per 16 KiB, never one object per
 * piece (the "buffered chunks" a peer can make us hold are bounded by the message size).
 */
const COALESCE_LIMIT = 16 * 1024;
const FIRST_TAIL_SIZE = 1024;

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;
const STATE_STOPPED = 2;

// Bits of FrameReceiver.bits: the current frame's flags and the receiver's own switches.
const BIT_FIN = 1;
const BIT_RSV1 = 2;
const BIT_MASKED = 4;
const BIT_COMPRESSED = 8; // the current message had RSV1 on its first frame
const BIT_PAUSED = 16; // an asynchronous decode holds parsing back
const BIT_PARSING = 32; // inside parse(): a decode callback must not re-enter it
const BIT_OBSERVE = 64; // report every frame to onFrame
const BIT_EXPECT_MASKED = 128; // server side: frames must be masked
const BIT_DECODE_FIN = 256; // the frame being decoded is the message's last
const BIT_DISCARD = 512; // our close is sent: parse data frames but drop them without decoding
// Small numbers share the same field (see the accessors in FrameReceiver): 8 bytes each saved
// on every connection.
const STATE_SHIFT = 10; // 2 bits: STATE_*
const OPCODE_SHIFT = 12; // 4 bits: the current frame's opcode
const MESSAGE_OPCODE_SHIFT = 16; // 4 bits: the current message's opcode, 0 between messages
const HEADER_FILL_SHIFT = 20; // 4 bits: bytes of a split header copied so far (at most 14)

/**
 * State that only some messages need, allocated on first need so an idle connection does
 * not carry it: pieces of a message that spans frames or chunks, the incremental UTF-8
 * validator, and the pieces of a frame that must be seen whole.
 */
class MessageAssembly {
  parts: Buffer[] | null = null;
  tail: Buffer | null = null;
  tailUsed = 0;
  utf8: Utf8Validator | null = null;
  framePieces: Buffer[] | null = null;
}

/** Bytes held while an asynchronous decode runs (permessage-deflate only). */
class DecodeState {
  backlog: Buffer[] = [];
  backlogBytes = 0;
  callback: (error: WebSocketError | null, output: Buffer[] | null) => void;
  constructor(receiver: FrameReceiver) {
    this.callback = (error, output) => receiver.decoded(error, output);
  }
}

/**
 * Incremental RFC 6455 frame parser and message assembler: sans-I/O, correct for any
 * chunking down to one byte at a time. Frame headers are parsed straight from the chunk,
 * payloads are unmasked in place and passed on as slices when a message fits in one chunk.
 * Per-connection state is kept small: flags share one number, rare state is allocated lazily.
 */
export class FrameReceiver {
  /** BIT_* flags, and the state, opcodes and header fill (the *_SHIFT fields). */
  private bits: number;
  /** Bytes of a header split across chunks (allocated on first need). */
  private headerBytes: Buffer | null = null;

  // The frame being received (and its opcode in `bits`).
  private maskKey = 0;
  private frameLength = 0;
  private frameReceived = 0;

  // The message being received (and its opcode in `bits`).
  /** Bytes of the message after decoding (what maxPayload bounds). */
  private messageLength = 0;
  /** Bytes of the message on the wire. */
  private messageWireLength = 0;
  private fragmentCount = 0;
  private assembly: MessageAssembly | null = null;
  private decoding: DecodeState | null = null;

  constructor(
    private readonly handler: ReceiverHandler,
    /** RFC 6455 §5.1: servers require masked frames, clients require unmasked ones. */
    expectMasked: boolean,
    private readonly limits: ReceiverLimits,
    private extension: MessageExtension | null = null,
  ) {
    this.bits = expectMasked ? BIT_EXPECT_MASKED : 0;
  }

  private get state(): number {
    return (this.bits >>> STATE_SHIFT) & 3;
  }

  private set state(state: number) {
    this.bits = (this.bits & ~(3 << STATE_SHIFT)) | (state << STATE_SHIFT);
  }

  private get opcode(): number {
    return (this.bits >>> OPCODE_SHIFT) & 15;
  }

  private set opcode(opcode: number) {
    this.bits = (this.bits & ~(15 << OPCODE_SHIFT)) | (opcode << OPCODE_SHIFT);
  }

  private get messageOpcode(): number {
    return (this.bits >>> MESSAGE_OPCODE_SHIFT) & 15;
  }

  private set messageOpcode(opcode: number) {
    this.bits = (this.bits & ~(15 << MESSAGE_OPCODE_SHIFT)) | (opcode << MESSAGE_OPCODE_SHIFT);
  }

  private get headerFill(): number {
    return (this.bits >>> HEADER_FILL_SHIFT) & 15;
  }

  private set headerFill(fill: number) {
    this.bits = (this.bits & ~(15 << HEADER_FILL_SHIFT)) | (fill << HEADER_FILL_SHIFT);
  }

  /** Report every frame to `handler.onFrame` (the frame-level API). */
  get observeFrames(): boolean {
    return (this.bits & BIT_OBSERVE) !== 0;
  }

  set observeFrames(on: boolean) {
    this.bits = on ? this.bits | BIT_OBSERVE : this.bits & ~BIT_OBSERVE;
  }

  /** Set the negotiated RSV1 extension (after the handshake). */
  setExtension(extension: MessageExtension | null): void {
    this.extension = extension;
  }

  /** True while an asynchronous decode holds back parsing. */
  get isPaused(): boolean {
    return (this.bits & BIT_PAUSED) !== 0;
  }

  /** Bytes received while paused, waiting to be parsed. */
  get backlogSize(): number {
    return this.decoding === null ? 0 : this.decoding.backlogBytes;
  }

  get stopped(): boolean {
    return this.state === STATE_STOPPED;
  }

  /**
   * From now on, parse data frames but drop them without validating or decoding them (the
   * endpoint has sent its close frame, RFC 6455 §7.1.2). A decode in progress is abandoned
   * and what arrived meanwhile is parsed at once, so the peer's close frame is not held back.
   */
  discardData(): void {
    if (this.bits & BIT_DISCARD) return;
    this.bits |= BIT_DISCARD;
    this.assembly = null;
    if (this.bits & BIT_PAUSED) {
      this.bits &= ~BIT_PAUSED;
      this.messageOpcode = 0;
      if (!(this.bits & BIT_PARSING) && this.state !== STATE_STOPPED) this.drainBacklog();
    }
  }

  /** Stop parsing for good (after a close frame, an error, or when the connection ends). */
  stop(): void {
    this.state = STATE_STOPPED;
    this.assembly = null;
    this.decoding = null;
    this.headerBytes = null;
  }

  receive(chunk: Buffer): void {
    if (this.state === STATE_STOPPED || chunk.length === 0) return;
    if (this.bits & BIT_PAUSED) {
      const decoding = this.decoding!;
      decoding.backlog.push(chunk);
      decoding.backlogBytes += chunk.length;
      return;
    }
    this.bits |= BIT_PARSING;
    this.parse(chunk);
    this.bits &= ~BIT_PARSING;
  }

  private parse(chunk: Buffer): void {
    const end = chunk.length;
    let offset = 0;
    while (offset < end) {
      if (this.state === STATE_HEADER) {
        if (this.headerFill === 0 && end - offset >= 2) {
          const size = headerSize(chunk[offset + 1]!);
          if (end - offset >= size) {
            const start = offset;
            offset += size;
            this.readHeader(chunk, start);
            if (this.stopped) return;
            if (this.bits & BIT_PAUSED) break;
            continue;
          }
        }
        offset = this.fillHeader(chunk, offset);
        if (this.stopped) return;
        if (this.bits & BIT_PAUSED) break;
        continue;
      }
      if (this.state !== STATE_PAYLOAD) return;
      offset = this.readPayload(chunk, offset);
      if (this.stopped) return;
      if (this.bits & BIT_PAUSED) break;
    }
    if (this.bits & BIT_PAUSED && offset < end) {
      // Keep the unparsed rest, ahead of anything that arrives while paused.
      const decoding = this.decoding!;
      decoding.backlog.unshift(chunk.subarray(offset));
      decoding.backlogBytes += end - offset;
    }
  }

  /** Copy header bytes split across chunks; parse the header once complete. */
  private fillHeader(chunk: Buffer, offset: number): number {
    const header = (this.headerBytes ??= Buffer.allocUnsafe(14));
    const end = chunk.length;
    if (this.headerFill < 2) {
      while (this.headerFill < 2 && offset < end) header[this.headerFill++] = chunk[offset++]!;
      if (this.headerFill < 2) return offset;
    }
    const size = headerSize(header[1]!);
    while (this.headerFill < size && offset < end) header[this.headerFill++] = chunk[offset++]!;
    if (this.headerFill === size) {
      this.headerFill = 0;
      this.readHeader(header, 0);
    }
    return offset;
  }

  /** Validate a complete frame header (RFC 6455 §5.2) and start the frame. */
  private readHeader(bytes: Buffer, at: number): void {
    const b0 = bytes[at]!;
    const b1 = bytes[at + 1]!;
    // The common case on a server, checked in one go: a whole text or binary message (FIN,
    // no RSV bits), masked, with a 7-bit length, no fragmented message in progress. Every
    // rule below holds for it, so it starts the frame directly.
    if ((b0 === 0x81 || b0 === 0x82) && b1 > 0x80 && b1 < 0xfe && this.messageOpcode === 0 && this.bits & BIT_EXPECT_MASKED) {
      const length = b1 & 0x7f;
      if (length <= this.limits.maxPayload) {
        this.messageOpcode = b0 & 0x0f;
        this.fragmentCount = 1;
        this.messageLength = 0;
        this.messageWireLength = length;
        this.bits = (this.bits & ~(BIT_RSV1 | BIT_COMPRESSED)) | BIT_FIN | BIT_MASKED;
        this.opcode = b0 & 0x0f;
        this.maskKey = ((bytes[at + 2]! << 24) | (bytes[at + 3]! << 16) | (bytes[at + 4]! << 8) | bytes[at + 5]!) >>> 0;
        this.frameLength = length;
        this.frameReceived = 0;
        this.state = STATE_PAYLOAD;
        return;
      }
    }
    const fin = (b0 & 0x80) !== 0;
    const rsv1 = (b0 & 0x40) !== 0;
    const opcode = b0 & 0x0f;
    const masked = (b1 & 0x80) !== 0;
    let length = b1 & 0x7f;
    let position = at + 2;

    if (length === 126) {
      length = (bytes[position]! << 8) | bytes[position + 1]!;
      position += 2;
      // §5.2: "the minimal number of bytes MUST be used to encode the length".
      if (length < 126) return this.fail(ErrorCode.INVALID_LENGTH, 'non-minimal 16-bit payload length');
    } else if (length === 127) {
      const high = bytes.readUInt32BE(position);
      const low = bytes.readUInt32BE(position + 4);
      position += 8;
      // §5.2: "the most significant bit MUST be 0".
      if (high >= 0x80000000) return this.fail(ErrorCode.INVALID_LENGTH, '64-bit payload length with the top bit set');
      length = high * 0x100000000 + low;
      if (length < 0x10000) return this.fail(ErrorCode.INVALID_LENGTH, 'non-minimal 64-bit payload length');
    }

    // §5.2: RSV2 and RSV3 MUST be 0 unless an extension defines them (none does here).
    if ((b0 & 0x30) !== 0) return this.fail(ErrorCode.RESERVED_BITS, 'RSV2 or RSV3 set');

    if (opcode >= 0x8) {
      if (opcode > Opcode.PONG) return this.fail(ErrorCode.INVALID_OPCODE, `reserved control opcode ${opcode}`);
      // §5.5: control frames MUST NOT be fragmented and carry at most 125 bytes.
      if (!fin) return this.fail(ErrorCode.CONTROL_FRAME_FRAGMENTED, 'fragmented control frame');
      if (length > MAX_CONTROL_PAYLOAD) {
        return this.fail(ErrorCode.CONTROL_FRAME_TOO_LONG, `control frame of ${length} bytes`);
      }
      // RFC 7692 §6.1: compression never applies to control frames.
      if (rsv1) return this.fail(ErrorCode.RESERVED_BITS, 'RSV1 set on a control frame');
    } else if (opcode === Opcode.CONTINUATION) {
      // §5.4: a continuation frame continues a started message.
      if (this.messageOpcode === 0) return this.fail(ErrorCode.UNEXPECTED_CONTINUATION, 'continuation frame without a message');
      // RFC 7692 §6.1: RSV1 is set on the first frame of a message only.
      if (rsv1) return this.fail(ErrorCode.RESERVED_BITS, 'RSV1 set on a continuation frame');
      if (++this.fragmentCount > this.limits.maxFragments) {
        return this.fail(ErrorCode.TOO_MANY_FRAGMENTS, `more than ${this.limits.maxFragments} fragments`);
      }
    } else if (opcode <= Opcode.BINARY) {
      // §5.4: fragments of one message are not interleaved with another data message.
      if (this.messageOpcode !== 0) {
        return this.fail(ErrorCode.EXPECTED_CONTINUATION, 'new data frame inside a fragmented message');
      }
      if (rsv1 && this.extension === null) return this.fail(ErrorCode.RESERVED_BITS, 'RSV1 set without an extension');
      this.messageOpcode = opcode;
      this.bits = rsv1 ? this.bits | BIT_COMPRESSED : this.bits & ~BIT_COMPRESSED;
      this.messageLength = 0;
      this.messageWireLength = 0;
      this.fragmentCount = 1;
    } else {
      return this.fail(ErrorCode.INVALID_OPCODE, `reserved data opcode ${opcode}`);
    }

    // §5.1: a server MUST close on an unmasked frame; a client on a masked one.
    const expectMasked = (this.bits & BIT_EXPECT_MASKED) !== 0;
    if (masked !== expectMasked) {
      return expectMasked
        ? this.fail(ErrorCode.MASK_REQUIRED, 'unmasked frame from a client')
        : this.fail(ErrorCode.UNEXPECTED_MASK, 'masked frame from a server');
    }

    if (opcode < 0x8) {
      // Refuse from the header, before buffering anything (close 1009). maxPayload counts
      // decoded bytes; compressed data may be a little longer than what it inflates to
      // (stored blocks: 5 bytes per 64 KiB), so its wire bound allows deflate's worst case.
      const maxPayload = this.limits.maxPayload;
      const wireLimit = this.bits & BIT_COMPRESSED ? maxPayload + Math.ceil(maxPayload / 1024) + 1024 : maxPayload;
      if (this.messageWireLength + length > wireLimit) {
        return this.fail(ErrorCode.MESSAGE_TOO_BIG, `message over ${this.limits.maxPayload} bytes`);
      }
      this.messageWireLength += length;
    }

    this.bits = (this.bits & ~(BIT_FIN | BIT_RSV1 | BIT_MASKED)) | (fin ? BIT_FIN : 0) | (rsv1 ? BIT_RSV1 : 0) | (masked ? BIT_MASKED : 0);
    this.opcode = opcode;
    if (masked) {
      this.maskKey = ((bytes[position]! << 24) | (bytes[position + 1]! << 16) | (bytes[position + 2]! << 8) | bytes[position + 3]!) >>> 0;
    }
    this.frameLength = length;
    this.frameReceived = 0;
    if (length === 0) {
      this.state = STATE_HEADER;
      this.frameComplete(EMPTY, true);
    } else {
      this.state = STATE_PAYLOAD;
    }
  }

  private readPayload(chunk: Buffer, offset: number): number {
    const remaining = this.frameLength - this.frameReceived;
    const available = chunk.length - offset;
    const take = available < remaining ? available : remaining;
    const end = offset + take;
    const bits = this.bits;
    if (bits & BIT_MASKED) applyMaskKey(chunk, this.maskKey, offset, end, this.frameReceived);
    const whole = take === remaining && this.frameReceived === 0;
    this.frameReceived += take;
    const complete = this.frameReceived === this.frameLength;
    if (complete) this.state = STATE_HEADER;

    // Plain data. Fast path: a whole unfragmented message in one piece, delivered as a slice
    // (text as a region of the chunk, without a view).
    if (whole && (bits & (BIT_FIN | BIT_COMPRESSED | BIT_OBSERVE)) === BIT_FIN && this.fragmentCount === 1 && this.opcode < 0x8) {
      const isBinary = this.messageOpcode === Opcode.BINARY;
      this.messageOpcode = 0;
      if (bits & BIT_DISCARD) return end;
      if (isBinary) {
        this.handler.onMessage(chunk.subarray(offset, end), true);
        return end;
      }
      const kind = classifyUtf8(chunk, offset, end);
      if (kind === UTF8_INVALID) {
        this.fail(ErrorCode.INVALID_UTF8, 'text message is not valid UTF-8');
        return end;
      }
      if (this.handler.onTextMessage !== undefined) this.handler.onTextMessage(chunk, offset, end, kind === UTF8_ASCII);
      else this.handler.onMessage(chunk.subarray(offset, end), false);
      return end;
    }

    const piece = chunk.subarray(offset, end);
    if (this.opcode >= 0x8 || bits & (BIT_COMPRESSED | BIT_OBSERVE)) {
      // The whole frame is needed: control frames, compressed frames, observed frames.
      if (whole) {
        this.frameComplete(piece, true);
      } else {
        const assembly = (this.assembly ??= new MessageAssembly());
        (assembly.framePieces ??= []).push(piece);
        if (this.opcode < 0x8 && !(bits & BIT_COMPRESSED)) this.acceptPlainData(piece, false);
        if (complete && !this.stopped) {
          const pieces = assembly.framePieces!;
          assembly.framePieces = null;
          this.frameComplete(pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces), false);
        }
      }
      return end;
    }

    this.acceptPlainData(piece, complete && (bits & BIT_FIN) !== 0);
    return end;
  }

  /** Validate (text, fail-fast) and keep a piece of an uncompressed message. */
  private acceptPlainData(piece: Buffer, lastPiece: boolean): void {
    if (this.bits & BIT_DISCARD) {
      if (lastPiece) this.messageOpcode = 0;
      return;
    }
    if (this.messageOpcode === Opcode.TEXT) {
      const assembly = (this.assembly ??= new MessageAssembly());
      const utf8 = (assembly.utf8 ??= new Utf8Validator());
      // §8.1, failing fast: stop at the first invalid sequence, even mid-frame.
      if (!utf8.feed(piece)) return this.fail(ErrorCode.INVALID_UTF8, 'text message is not valid UTF-8');
    }
    this.messageLength += piece.length;
    this.append(piece);
    if (lastPiece) this.deliverMessage();
  }

  /** A frame is complete. `alreadyAccepted` is false when its data still has to be taken in. */
  private frameComplete(payload: Buffer, alreadyAccepted: boolean): void {
    const opcode = this.opcode;
    const fin = (this.bits & BIT_FIN) !== 0;
    if (this.bits & BIT_OBSERVE) {
      this.handler.onFrame({
        opcode,
        fin,
        rsv1: (this.bits & BIT_RSV1) !== 0,
        rsv2: false,
        rsv3: false,
        payload,
      });
      if (this.stopped) return;
    }
    if (opcode >= 0x8) {
      if (opcode === Opcode.PING) this.handler.onPing(payload);
      else if (opcode === Opcode.PONG) this.handler.onPong(payload);
      else this.handler.onCloseFrame(payload);
      return;
    }
    if (this.bits & BIT_COMPRESSED) {
      if (this.bits & BIT_DISCARD) {
        if (fin) this.messageOpcode = 0;
        return;
      }
      this.decode(payload, fin);
      return;
    }
    if (alreadyAccepted) {
      // Zero-length frame, or a whole frame given here directly (observed frames).
      if (payload.length > 0 || fin) this.acceptPlainData(payload, fin);
    } else if (fin) {
      this.deliverMessage();
    }
  }

  /** Hand one frame of a compressed message to the extension; parsing pauses until it answers. */
  private decode(payload: Buffer, fin: boolean): void {
    const extension = this.extension!;
    const decoding = (this.decoding ??= new DecodeState(this));
    this.bits = (this.bits | BIT_PAUSED) & ~BIT_DECODE_FIN;
    if (fin) this.bits |= BIT_DECODE_FIN;
    const limit = this.limits.maxPayload - this.messageLength;
    extension.decode(payload, fin, limit, decoding.callback);
  }

  /** @internal The extension's answer for the frame handed to decode(). */
  decoded(error: WebSocketError | null, output: Buffer[] | null): void {
    // Stopped, or abandoned by discardData(): nothing to do with the result.
    if (this.stopped || this.bits & BIT_DISCARD) return;
    if (error !== null) return this.fail(error.code, error.message);
    const text = this.messageOpcode === Opcode.TEXT;
    if (output !== null) {
      for (const piece of output) {
        this.messageLength += piece.length;
        if (this.messageLength > this.limits.maxPayload) {
          return this.fail(ErrorCode.MESSAGE_TOO_BIG, `message over ${this.limits.maxPayload} bytes`);
        }
        if (text) {
          const assembly = (this.assembly ??= new MessageAssembly());
          const utf8 = (assembly.utf8 ??= new Utf8Validator());
          if (!utf8.feed(piece)) return this.fail(ErrorCode.INVALID_UTF8, 'text message is not valid UTF-8');
        }
        this.append(piece);
      }
    }
    if (this.bits & BIT_DECODE_FIN) this.deliverMessage();
    if (this.stopped) return;
    this.bits &= ~BIT_PAUSED;
    if (!(this.bits & BIT_PARSING)) this.drainBacklog();
    // Nothing held back: an idle connection keeps no decode state.
    if (!(this.bits & BIT_PAUSED) && this.decoding !== null && this.decoding.backlog.length === 0) this.decoding = null;
  }

  /** Parse what arrived during an asynchronous decode. */
  private drainBacklog(): void {
    this.bits |= BIT_PARSING;
    const decoding = this.decoding;
    while (decoding !== null && decoding.backlog.length > 0 && !(this.bits & BIT_PAUSED) && !this.stopped) {
      const chunk = decoding.backlog.shift()!;
      decoding.backlogBytes -= chunk.length;
      this.parse(chunk);
    }
    this.bits &= ~BIT_PARSING;
    if (!(this.bits & BIT_PAUSED) && !this.stopped) this.handler.onReceiverResumed();
  }

  /** Keep a message piece: large pieces by reference, small ones copied together. */
  private append(piece: Buffer): void {
    const length = piece.length;
    if (length === 0) return;
    const assembly = (this.assembly ??= new MessageAssembly());
    let tail = assembly.tail;
    if (tail !== null && tail.length - assembly.tailUsed >= length) {
      piece.copy(tail, assembly.tailUsed);
      assembly.tailUsed += length;
      return;
    }
    if (length >= COALESCE_LIMIT) {
      this.sealTail(assembly);
      (assembly.parts ??= []).push(piece);
      return;
    }
    this.sealTail(assembly);
    // Room for the rest of this frame when it is near, so a frame split across reads is copied
    // once and delivered without a second copy; never more than twice what has arrived (a
    // header may announce far more than the peer ever sends).
    const frameRest = this.frameLength - this.frameReceived;
    const wanted = length + frameRest;
    const cap = Math.max(2 * length, this.messageLength > COALESCE_LIMIT ? COALESCE_LIMIT : FIRST_TAIL_SIZE);
    tail = assembly.tail = Buffer.allocUnsafe(wanted < cap ? Math.max(wanted, length) : cap);
    piece.copy(tail, 0);
    assembly.tailUsed = length;
  }

  private sealTail(assembly: MessageAssembly): void {
    if (assembly.tail !== null && assembly.tailUsed > 0) (assembly.parts ??= []).push(assembly.tail.subarray(0, assembly.tailUsed));
    assembly.tail = null;
    assembly.tailUsed = 0;
  }

  private deliverMessage(): void {
    const assembly = this.assembly;
    let parts: Buffer[] | null = null;
    let utf8Complete = true;
    if (assembly !== null) {
      this.sealTail(assembly);
      parts = assembly.parts;
      assembly.parts = null;
      if (assembly.utf8 !== null) {
        utf8Complete = assembly.utf8.complete;
        assembly.utf8.reset();
      }
      // Drop the assembly once the message is out: idle connections carry none.
      if (assembly.framePieces === null) this.assembly = null;
    }
    const isBinary = this.messageOpcode === Opcode.BINARY;
    const length = this.messageLength;
    this.messageOpcode = 0;
    this.bits &= ~BIT_COMPRESSED;
    // A text message must not end inside a code point.
    if (!isBinary && !utf8Complete) return this.fail(ErrorCode.INVALID_UTF8, 'text message ends inside a UTF-8 sequence');
    const data = parts === null ? EMPTY : parts.length === 1 ? parts[0]! : Buffer.concat(parts, length);
    this.handler.onMessage(data, isBinary);
  }

  private fail(code: ErrorCode, message: string): void {
    this.stop();
    this.bits &= ~BIT_PAUSED;
    this.handler.onReceiveError(new WebSocketError(code, message));
  }
}

/** Header size from the second header byte: 2, plus 2 or 8 length bytes, plus 4 mask bytes. */
function headerSize(secondByte: number): number {
  const length = secondByte & 0x7f;
  const base = length < 126 ? 2 : length === 126 ? 4 : 10;
  return (secondByte & 0x80) !== 0 ? base + 4 : base;
}
