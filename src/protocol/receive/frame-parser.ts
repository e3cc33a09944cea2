/**
 * The receive side of RFC 6455, sans-I/O: an incremental frame parser and message assembler,
 * correct for any chunking down to one byte at a time. Frame headers are parsed straight from
 * the chunk (§5.2), payloads unmasked in place (§5.3) and passed on as slices when a message
 * fits in one chunk; fragments (§5.4) are assembled with memory proportional to the payload;
 * text is validated as it arrives and fails fast (§8.1, Autobahn 6.4).
 *
 * The parser calls back into its owner through abstract methods (the shape of uWebSockets'
 * WebSocketProtocol<Impl>): the protocol session is a subclass, so a text message reaches the
 * session's code without a handler object in between. It stops itself: on a close frame
 * (§5.5.1: nothing after it is processed) and on a failure; nobody stops it from outside while
 * it parses. Per-connection state is small: flags, states and opcodes share one number, and
 * what only some messages need is allocated on first need.
 */
import { ErrorCode, WebSocketError } from '../errors.js';
import type { MessageExtension } from '../extensions/extension.js';
import { applyMaskKey } from '../frame/mask.js';
import { EMPTY, type Frame, MAX_CONTROL_PAYLOAD, Opcode } from '../frame/opcode.js';
import { classifyUtf8, UTF8_ASCII, UTF8_INVALID, Utf8Validator } from '../utf8.js';
import { ByteAssembly } from './byte-assembly.js';

export interface ReceiverLimits {
  /**
   * Largest message, in bytes after decompression. A frame whose length would pass it is
   * refused from its header, before its payload is buffered (close 1009).
   */
  readonly maxPayload: number;
  /** Most frames in one message (close 1009). */
  readonly maxFragments: number;
}

/** Default limits, documented in README ("Options and defaults"). */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
/** A maxPayload message in 64-byte fragments is still legitimate: 16 MiB / 64 B. */
export const DEFAULT_MAX_FRAGMENTS = 262_144;

export const DEFAULT_LIMITS: ReceiverLimits = Object.freeze({ maxPayload: DEFAULT_MAX_PAYLOAD, maxFragments: DEFAULT_MAX_FRAGMENTS });

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;
const STATE_STOPPED = 2;

// Bits of FrameParser.parserBits: the current frame's flags and the parser's own switches.
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
// Small numbers share the same field (see the accessors): 8 bytes each saved on every connection.
const STATE_SHIFT = 10; // 2 bits: STATE_*
const OPCODE_SHIFT = 12; // 4 bits: the current frame's opcode
const MESSAGE_OPCODE_SHIFT = 16; // 4 bits: the current message's opcode, 0 between messages
const HEADER_FILL_SHIFT = 20; // 4 bits: bytes of a split header copied so far (at most 14)

/**
 * What only some connections need at some times: a header split across reads, a message or a
 * frame being assembled, its UTF-8 validator, and the bytes held while a decode runs.
 * Allocated on first need and dropped when idle, so an idle connection carries none of it.
 */
class ParserRareState {
  headerBytes: Buffer | null = null;
  /** The message's bytes so far (uncompressed messages in several pieces, decoded output). */
  message: ByteAssembly | null = null;
  /** A frame that must be seen whole (control, compressed or observed) arriving in pieces. */
  frame: ByteAssembly | null = null;
  utf8: Utf8Validator | null = null;
  /** Bytes received while an asynchronous decode runs (permessage-deflate only). */
  backlog: Buffer[] | null = null;
  backlogBytes = 0;
  /** Bound once: the extension's answer for a decoded frame. */
  decodeCallback: ((error: WebSocketError | null, output: Buffer[] | null) => void) | null = null;
}

export abstract class FrameParser {
  /** BIT_* flags, and the state, opcodes and header fill (the *_SHIFT fields). */
  private parserBits: number;
  // The frame being received (and its opcode in `parserBits`).
  private maskKey = 0;
  private frameLength = 0;
  private frameReceived = 0;
  // The message being received (and its opcode in `parserBits`).
  /** Bytes of the message after decoding (what maxPayload bounds). */
  private messageLength = 0;
  /** Bytes of the message on the wire. */
  private messageWireLength = 0;
  private fragmentCount = 0;
  private rare: ParserRareState | null = null;
  /** Frames parsed since `takeFrameCount()` last read it (the owner's fairness between connections). */
  private framesCounted = 0;
  /** @internal The negotiated RSV1 extension (permessage-deflate), or null. */
  protected extension: MessageExtension | null = null;

  constructor(
    /** RFC 6455 §5.1: servers require masked frames, clients require unmasked ones. */
    expectMasked: boolean,
    private readonly limits: ReceiverLimits,
  ) {
    this.parserBits = expectMasked ? BIT_EXPECT_MASKED : 0;
  }

  // ---- What the parser reports (implemented by its owner) -----------------------------------

  /** @internal A complete binary message, or a text message assembled from pieces (validated UTF-8). */
  protected abstract onMessage(data: Buffer, isBinary: boolean): void;
  /**
   * @internal A complete text message that arrived in one piece: validated UTF-8 at
   * `source[start, end)` (`ascii` when every byte is below 0x80). The bytes stay unchanged.
   */
  protected abstract onTextMessage(source: Buffer, start: number, end: number, ascii: boolean): void;
  /** @internal */
  protected abstract onPing(payload: Buffer): void;
  /** @internal */
  protected abstract onPong(payload: Buffer): void;
  /** @internal A close frame, payload not yet validated; the parser has stopped (§5.5.1). */
  protected abstract onCloseFrame(payload: Buffer): void;
  /** @internal Every frame as received (unmasked), when `observeFrames` is on. */
  protected abstract onFrame(frame: Frame): void;
  /** @internal The connection must fail; the parser has stopped. */
  protected abstract onReceiveError(error: WebSocketError): void;
  /** @internal An asynchronous decode finished and what arrived meanwhile has been parsed. */
  protected abstract onReceiverResumed(): void;

  // ---- Packed fields --------------------------------------------------------------------------

  private get state(): number {
    return (this.parserBits >>> STATE_SHIFT) & 3;
  }

  private set state(state: number) {
    this.parserBits = (this.parserBits & ~(3 << STATE_SHIFT)) | (state << STATE_SHIFT);
  }

  private get opcode(): number {
    return (this.parserBits >>> OPCODE_SHIFT) & 15;
  }

  private set opcode(opcode: number) {
    this.parserBits = (this.parserBits & ~(15 << OPCODE_SHIFT)) | (opcode << OPCODE_SHIFT);
  }

  private get messageOpcode(): number {
    return (this.parserBits >>> MESSAGE_OPCODE_SHIFT) & 15;
  }

  private set messageOpcode(opcode: number) {
    this.parserBits = (this.parserBits & ~(15 << MESSAGE_OPCODE_SHIFT)) | (opcode << MESSAGE_OPCODE_SHIFT);
  }

  private get headerFill(): number {
    return (this.parserBits >>> HEADER_FILL_SHIFT) & 15;
  }

  private set headerFill(fill: number) {
    this.parserBits = (this.parserBits & ~(15 << HEADER_FILL_SHIFT)) | (fill << HEADER_FILL_SHIFT);
  }

  private more(): ParserRareState {
    return (this.rare ??= new ParserRareState());
  }

  // ---- Public state and switches --------------------------------------------------------------

  /** Report every frame to `onFrame` (the frame-level API). */
  get observeFrames(): boolean {
    return (this.parserBits & BIT_OBSERVE) !== 0;
  }

  set observeFrames(on: boolean) {
    this.parserBits = on ? this.parserBits | BIT_OBSERVE : this.parserBits & ~BIT_OBSERVE;
  }

  /** True while an asynchronous decode holds back parsing (the owner stops reading meanwhile). */
  get isPaused(): boolean {
    return (this.parserBits & BIT_PAUSED) !== 0;
  }

  /** Bytes received while paused, waiting to be parsed. */
  get backlogSize(): number {
    return this.rare?.backlogBytes ?? 0;
  }

  /**
   * How many frame headers were parsed since the last call (and start counting again): lets an
   * owner that reads many connections stop reading one that sends floods of tiny frames, so
   * that it does not hold the event loop at the expense of the others.
   */
  takeFrameCount(): number {
    const count = this.framesCounted;
    this.framesCounted = 0;
    return count;
  }

  /** Frame headers parsed since `takeFrameCount()` last read them. */
  get frameCount(): number {
    return this.framesCounted;
  }

  /** Whether parsing has ended for good (close frame, failure, end of the transport). */
  get stopped(): boolean {
    return this.state === STATE_STOPPED;
  }

  /**
   * @internal From now on, parse data frames but drop them without validating or decoding them (this
   * endpoint has sent its close frame, RFC 6455 §7.1.2). A decode in progress is abandoned and
   * what arrived meanwhile is parsed at once, so the peer's close frame is not held back.
   */
  protected discardData(): void {
    if (this.parserBits & BIT_DISCARD) return;
    this.parserBits |= BIT_DISCARD;
    const rare = this.rare;
    if (rare !== null) {
      rare.message = null;
      rare.utf8 = null;
    }
    if (this.parserBits & BIT_PAUSED) {
      this.parserBits &= ~BIT_PAUSED;
      this.messageOpcode = 0;
      if (!(this.parserBits & BIT_PARSING) && this.state !== STATE_STOPPED) this.drainBacklog();
    }
  }

  /** @internal Stop parsing for good and drop what is held (the transport is gone). */
  protected stopParsing(): void {
    this.state = STATE_STOPPED;
    this.parserBits &= ~BIT_PAUSED;
    this.rare = null;
  }

  /** Bytes received from the transport. */
  receive(chunk: Buffer): void {
    if (this.state === STATE_STOPPED || chunk.length === 0) return;
    if (this.parserBits & BIT_PAUSED) {
      this.hold(chunk, false);
      return;
    }
    this.parserBits |= BIT_PARSING;
    this.parse(chunk);
    this.parserBits &= ~BIT_PARSING;
  }

  /** Keep bytes that arrive (or remain) while a decode runs; `first` puts them ahead of the rest. */
  private hold(chunk: Buffer, first: boolean): void {
    const rare = this.more();
    const backlog = (rare.backlog ??= []);
    if (first) backlog.unshift(chunk);
    else backlog.push(chunk);
    rare.backlogBytes += chunk.length;
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
          } else {
            offset = this.fillHeader(chunk, offset);
          }
        } else {
          offset = this.fillHeader(chunk, offset);
        }
      } else if (this.state === STATE_PAYLOAD) {
        offset = this.readPayload(chunk, offset);
      } else {
        return; // stopped: a close frame or a failure
      }
      if (this.parserBits & BIT_PAUSED) {
        // Keep the unparsed rest, ahead of anything that arrives while paused.
        if (offset < end) this.hold(chunk.subarray(offset), true);
        return;
      }
    }
  }

  /** Copy header bytes split across chunks; parse the header once complete. */
  private fillHeader(chunk: Buffer, offset: number): number {
    const rare = this.more();
    const header = (rare.headerBytes ??= Buffer.allocUnsafe(14));
    const end = chunk.length;
    let fill = this.headerFill;
    while (fill < 2 && offset < end) header[fill++] = chunk[offset++]!;
    if (fill >= 2) {
      const size = headerSize(header[1]!);
      while (fill < size && offset < end) header[fill++] = chunk[offset++]!;
      if (fill === size) {
        this.headerFill = 0;
        rare.headerBytes = null;
        this.readHeader(header, 0);
        return offset;
      }
    }
    this.headerFill = fill;
    return offset;
  }

  /** Validate a complete frame header (RFC 6455 §5.2) and start the frame. */
  private readHeader(bytes: Buffer, at: number): void {
    const b0 = bytes[at]!;
    const b1 = bytes[at + 1]!;
    this.framesCounted++;
    // The common case on a server, checked in one go: a whole text or binary message (FIN,
    // no RSV bits), masked, with a 7-bit length, no fragmented message in progress. Every
    // rule below holds for it, so it starts the frame directly.
    if ((b0 === 0x81 || b0 === 0x82) && b1 > 0x80 && b1 < 0xfe && this.messageOpcode === 0 && this.parserBits & BIT_EXPECT_MASKED) {
      const length = b1 & 0x7f;
      if (length <= this.limits.maxPayload) {
        this.messageOpcode = b0 & 0x0f;
        this.fragmentCount = 1;
        this.messageLength = 0;
        this.messageWireLength = length;
        this.parserBits = (this.parserBits & ~(BIT_RSV1 | BIT_COMPRESSED)) | BIT_FIN | BIT_MASKED;
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
      if (length > MAX_CONTROL_PAYLOAD) return this.fail(ErrorCode.CONTROL_FRAME_TOO_LONG, `control frame of ${length} bytes`);
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
      if (this.messageOpcode !== 0) return this.fail(ErrorCode.EXPECTED_CONTINUATION, 'new data frame inside a fragmented message');
      if (rsv1 && this.extension === null) return this.fail(ErrorCode.RESERVED_BITS, 'RSV1 set without an extension');
      this.messageOpcode = opcode;
      this.parserBits = rsv1 ? this.parserBits | BIT_COMPRESSED : this.parserBits & ~BIT_COMPRESSED;
      this.messageLength = 0;
      this.messageWireLength = 0;
      this.fragmentCount = 1;
    } else {
      return this.fail(ErrorCode.INVALID_OPCODE, `reserved data opcode ${opcode}`);
    }

    // §5.1: a server MUST close on an unmasked frame; a client on a masked one.
    const expectMasked = (this.parserBits & BIT_EXPECT_MASKED) !== 0;
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
      const wireLimit = this.parserBits & BIT_COMPRESSED ? maxPayload + Math.ceil(maxPayload / 1024) + 1024 : maxPayload;
      if (this.messageWireLength + length > wireLimit) {
        return this.fail(ErrorCode.MESSAGE_TOO_BIG, `message over ${this.limits.maxPayload} bytes`);
      }
      this.messageWireLength += length;
    }

    this.parserBits =
      (this.parserBits & ~(BIT_FIN | BIT_RSV1 | BIT_MASKED)) | (fin ? BIT_FIN : 0) | (rsv1 ? BIT_RSV1 : 0) | (masked ? BIT_MASKED : 0);
    this.opcode = opcode;
    if (masked) {
      this.maskKey = ((bytes[position]! << 24) | (bytes[position + 1]! << 16) | (bytes[position + 2]! << 8) | bytes[position + 3]!) >>> 0;
    }
    this.frameLength = length;
    this.frameReceived = 0;
    if (length === 0) {
      this.state = STATE_HEADER;
      this.frameComplete(EMPTY, false);
    } else {
      this.state = STATE_PAYLOAD;
    }
  }

  private readPayload(chunk: Buffer, offset: number): number {
    const remaining = this.frameLength - this.frameReceived;
    const available = chunk.length - offset;
    const take = available < remaining ? available : remaining;
    const end = offset + take;
    const bits = this.parserBits;
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
        this.onMessage(chunk.subarray(offset, end), true);
        return end;
      }
      const kind = classifyUtf8(chunk, offset, end);
      if (kind === UTF8_INVALID) {
        this.fail(ErrorCode.INVALID_UTF8, 'text message is not valid UTF-8');
        return end;
      }
      this.onTextMessage(chunk, offset, end, kind === UTF8_ASCII);
      return end;
    }

    if (this.opcode >= 0x8 || bits & (BIT_COMPRESSED | BIT_OBSERVE)) {
      // The whole frame is needed: control frames, compressed frames, observed frames.
      // Plain observed data is validated as it arrives (fail fast), before the frame is seen,
      // whether the frame came in one read or several.
      const validate = this.opcode < 0x8 && !(bits & (BIT_COMPRESSED | BIT_DISCARD));
      if (validate && !this.validatePlainData(chunk, offset, end)) return end;
      if (whole) {
        this.frameComplete(chunk.subarray(offset, end), validate);
        return end;
      }
      const rare = this.more();
      const frame = (rare.frame ??= new ByteAssembly());
      frame.append(chunk, offset, end, this.frameLength - this.frameReceived, this.frameLength);
      if (complete) {
        rare.frame = null;
        this.frameComplete(frame.take(), validate);
      }
      return end;
    }

    if (bits & BIT_DISCARD) {
      if (complete && bits & BIT_FIN) this.messageOpcode = 0;
      return end;
    }
    if (!this.validatePlainData(chunk, offset, end)) return end;
    this.keep(chunk, offset, end);
    if (complete && bits & BIT_FIN) this.deliverMessage();
    return end;
  }

  /** Validate a piece of an uncompressed message (text fails fast, §8.1). False when the connection failed. */
  private validatePlainData(chunk: Buffer, start: number, end: number): boolean {
    if (this.messageOpcode !== Opcode.TEXT) return true;
    const utf8 = (this.more().utf8 ??= new Utf8Validator());
    // Stop at the first invalid sequence, even mid-frame (Autobahn 6.4).
    if (utf8.feed(chunk, start, end)) return true;
    this.fail(ErrorCode.INVALID_UTF8, 'text message is not valid UTF-8');
    return false;
  }

  /** Add bytes to the message being assembled. */
  private keep(chunk: Buffer, start: number, end: number): void {
    if (end === start) return;
    this.messageLength += end - start;
    const rare = this.more();
    const message = (rare.message ??= new ByteAssembly());
    message.append(chunk, start, end, this.frameLength - this.frameReceived, this.limits.maxPayload - this.messageLength);
  }

  /** A frame is complete with this payload; `validated` when its text was checked as it arrived. */
  private frameComplete(payload: Buffer, validated: boolean): void {
    const opcode = this.opcode;
    const fin = (this.parserBits & BIT_FIN) !== 0;
    if (this.parserBits & BIT_OBSERVE) {
      this.onFrame({ opcode, fin, rsv1: (this.parserBits & BIT_RSV1) !== 0, rsv2: false, rsv3: false, payload });
    }
    if (opcode >= 0x8) {
      if (opcode === Opcode.PING) this.onPing(payload);
      else if (opcode === Opcode.PONG) this.onPong(payload);
      else {
        // §5.5.1: nothing after a close frame is processed.
        this.stopParsing();
        this.onCloseFrame(payload);
      }
      return;
    }
    if (this.parserBits & BIT_DISCARD) {
      if (fin) this.messageOpcode = 0;
      return;
    }
    if (this.parserBits & BIT_COMPRESSED) {
      this.decode(payload, fin);
      return;
    }
    if (!validated && !this.validatePlainData(payload, 0, payload.length)) return;
    this.keep(payload, 0, payload.length);
    if (fin) this.deliverMessage();
  }

  /** Hand one frame of a compressed message to the extension; parsing pauses until it answers. */
  private decode(payload: Buffer, fin: boolean): void {
    const extension = this.extension!;
    const rare = this.more();
    const callback = (rare.decodeCallback ??= (error, output) => this.decoded(error, output));
    this.parserBits = (this.parserBits | BIT_PAUSED) & ~BIT_DECODE_FIN;
    if (fin) this.parserBits |= BIT_DECODE_FIN;
    extension.decode(payload, fin, this.limits.maxPayload - this.messageLength, callback);
  }

  /** The extension's answer for the frame handed to decode(). */
  private decoded(error: WebSocketError | null, output: Buffer[] | null): void {
    // Stopped, or abandoned by discardData(): nothing to do with the result.
    if (this.stopped || this.parserBits & BIT_DISCARD) return;
    if (error !== null) return this.fail(error.code, error.message);
    const text = this.messageOpcode === Opcode.TEXT;
    if (output !== null) {
      for (const piece of output) {
        if (this.messageLength + piece.length > this.limits.maxPayload) {
          return this.fail(ErrorCode.MESSAGE_TOO_BIG, `message over ${this.limits.maxPayload} bytes`);
        }
        if (text) {
          const utf8 = (this.more().utf8 ??= new Utf8Validator());
          if (!utf8.feed(piece)) return this.fail(ErrorCode.INVALID_UTF8, 'text message is not valid UTF-8');
        }
        this.keep(piece, 0, piece.length);
      }
    }
    if (this.parserBits & BIT_DECODE_FIN) {
      this.deliverMessage();
      if (this.stopped) return;
    }
    this.parserBits &= ~BIT_PAUSED;
    if (!(this.parserBits & BIT_PARSING)) this.drainBacklog();
  }

  /** Parse what arrived during an asynchronous decode. */
  private drainBacklog(): void {
    this.parserBits |= BIT_PARSING;
    const rare = this.rare;
    const backlog = rare?.backlog;
    while (backlog !== undefined && backlog !== null && backlog.length > 0 && !(this.parserBits & BIT_PAUSED) && !this.stopped) {
      const chunk = backlog.shift()!;
      rare!.backlogBytes -= chunk.length;
      this.parse(chunk);
    }
    this.parserBits &= ~BIT_PARSING;
    if (!(this.parserBits & BIT_PAUSED) && !this.stopped) {
      if (rare !== null && rare.backlogBytes === 0) rare.backlog = null;
      this.releaseIdleState();
      this.onReceiverResumed();
    }
  }

  private deliverMessage(): void {
    const rare = this.rare;
    let data: Buffer = EMPTY;
    let utf8Complete = true;
    if (rare !== null) {
      if (rare.message !== null) {
        data = rare.message.take();
        rare.message = null;
      }
      if (rare.utf8 !== null) {
        utf8Complete = rare.utf8.complete;
        rare.utf8 = null;
      }
    }
    const isBinary = this.messageOpcode === Opcode.BINARY;
    this.messageOpcode = 0;
    this.parserBits &= ~BIT_COMPRESSED;
    this.releaseIdleState();
    // A text message must not end inside a code point.
    if (!isBinary && !utf8Complete) return this.fail(ErrorCode.INVALID_UTF8, 'text message ends inside a UTF-8 sequence');
    this.onMessage(data, isBinary);
  }

  /** Between messages and with nothing held, drop the rare state: an idle connection carries none. */
  private releaseIdleState(): void {
    const rare = this.rare;
    if (
      rare !== null &&
      rare.message === null &&
      rare.frame === null &&
      rare.headerBytes === null &&
      rare.backlog === null &&
      !(this.parserBits & BIT_PAUSED)
    ) {
      this.rare = null;
    }
  }

  /** @internal Fail the connection: stop, then report (the owner sends the close frame). */
  protected fail(code: ErrorCode, message: string): void {
    this.stopParsing();
    this.onReceiveError(new WebSocketError(code, message));
  }
}

/** Header size from the second header byte: 2, plus 2 or 8 length bytes, plus 4 mask bytes. */
function headerSize(secondByte: number): number {
  const length = secondByte & 0x7f;
  const base = length < 126 ? 2 : length === 126 ? 4 : 10;
  return (secondByte & 0x80) !== 0 ? base + 4 : base;
}
