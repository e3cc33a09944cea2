/**
 * A reference model of the receive side of RFC 6455 (§5.1-§5.5, §8.1): what a receiver must
 * report for a byte stream, written for clarity and not speed, independently of
 * src/protocol/receive/. It reads the whole stream at once, frame by frame, and says for each
 * event how many bytes must have arrived for it to happen, so the owner's action at a position
 * of the stream (sending its close frame: from then on data frames are dropped, §7.1.2) lands
 * where it does in the real receiver, whatever the chunking.
 *
 * Where several rules break at once the RFC does not say which one to report: a failure lists
 * every rule the frame breaks, and any of them is a right answer.
 */
import { ErrorCode } from '../../src/protocol/index.js';
import { Utf8Automaton } from './utf8-automaton.js';

export type ModelEvent =
  | { readonly type: 'message'; readonly data: Buffer; readonly isBinary: boolean }
  | { readonly type: 'ping'; readonly payload: Buffer }
  | { readonly type: 'pong'; readonly payload: Buffer }
  | { readonly type: 'frame'; readonly opcode: number; readonly fin: boolean; readonly rsv1: boolean; readonly payload: Buffer }
  | { readonly type: 'close-frame'; readonly payload: Buffer }
  /** The connection fails; any of `codes` is right. */
  | { readonly type: 'error'; readonly codes: readonly ErrorCode[] }
  /** The owner's action happened here (its close frame is sent: data is dropped from now on). */
  | { readonly type: 'action' };

/** What inflating one compressed message gives (RFC 7692 §7.2.2): its bytes, or the right failures. */
export type DecodeOutcome = { readonly output: Buffer } | { readonly codes: readonly ErrorCode[] };
/** The negotiated extension, as the model sees it: `limit` is how many bytes the message may inflate to. */
export type MessageDecoder = (compressed: Buffer, limit: number) => DecodeOutcome;

export interface FrameModelOptions {
  /** Server side: frames must be masked; client side: they must not be (§5.1). */
  readonly expectMasked: boolean;
  readonly maxPayload: number;
  readonly maxFragments: number;
  /** Report every frame before what it means (the frame-level API). */
  readonly observeFrames: boolean;
  /** The stream position (bytes received) after which the owner's action happens, or null. */
  readonly actionAt: number | null;
  /** permessage-deflate, when negotiated (RSV1 allowed on a message's first frame). */
  readonly decoder: MessageDecoder | null;
}

/** The close code each failure is reported with (RFC 6455 §7.4.1; §5.5.1, §8.1 and §10.4 say which). */
export const MODEL_CLOSE_CODES: Readonly<Partial<Record<ErrorCode, number>>> = {
  [ErrorCode.RESERVED_BITS]: 1002,
  [ErrorCode.INVALID_OPCODE]: 1002,
  [ErrorCode.CONTROL_FRAME_TOO_LONG]: 1002,
  [ErrorCode.CONTROL_FRAME_FRAGMENTED]: 1002,
  [ErrorCode.UNEXPECTED_CONTINUATION]: 1002,
  [ErrorCode.EXPECTED_CONTINUATION]: 1002,
  [ErrorCode.MASK_REQUIRED]: 1002,
  [ErrorCode.UNEXPECTED_MASK]: 1002,
  [ErrorCode.INVALID_LENGTH]: 1002,
  [ErrorCode.INVALID_CLOSE_PAYLOAD]: 1002,
  [ErrorCode.INVALID_CLOSE_CODE]: 1002,
  [ErrorCode.INVALID_UTF8]: 1007,
  [ErrorCode.INVALID_COMPRESSED_DATA]: 1007,
  [ErrorCode.MESSAGE_TOO_BIG]: 1009,
  [ErrorCode.TOO_MANY_FRAGMENTS]: 1009,
};

/**
 * How many bytes a compressed message may take on the wire: the receiver refuses it from a
 * frame header past this (its documented choice: maxPayload of output allows a little more
 * input, deflate's stored blocks cost 5 bytes per 64 KiB).
 */
export function compressedWireLimit(maxPayload: number): number {
  return maxPayload + Math.ceil(maxPayload / 1024) + 1024;
}

interface Header {
  fin: boolean;
  rsv1: boolean;
  rsv2: boolean;
  rsv3: boolean;
  opcode: number;
  masked: boolean;
  /** Length as sent; for 64-bit lengths possibly above 2^53 (then `lengthTopBit`). */
  length: number;
  lengthField: 7 | 16 | 64;
  lengthTopBit: boolean;
  mask: Buffer | null;
  size: number;
}

function readHeader(stream: Buffer, at: number): Header | null {
  if (stream.length - at < 2) return null;
  const b0 = stream[at]!;
  const b1 = stream[at + 1]!;
  const len7 = b1 & 0x7f;
  const masked = (b1 & 0x80) !== 0;
  const lengthBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
  const size = 2 + lengthBytes + (masked ? 4 : 0);
  if (stream.length - at < size) return null;
  let length = len7;
  let lengthTopBit = false;
  if (len7 === 126) length = stream.readUInt16BE(at + 2);
  if (len7 === 127) {
    const big = stream.readBigUInt64BE(at + 2);
    lengthTopBit = big >= 1n << 63n;
    length = Number(big);
  }
  return {
    fin: (b0 & 0x80) !== 0,
    rsv1: (b0 & 0x40) !== 0,
    rsv2: (b0 & 0x20) !== 0,
    rsv3: (b0 & 0x10) !== 0,
    opcode: b0 & 0x0f,
    masked,
    length,
    lengthField: len7 === 126 ? 16 : len7 === 127 ? 64 : 7,
    lengthTopBit,
    mask: masked ? Buffer.from(stream.subarray(at + 2 + lengthBytes, at + size)) : null,
    size,
  };
}

/** The events a receiver reports for `stream` (the whole input; a frame cut off at the end is waited for). */
export function modelReceive(stream: Buffer, options: FrameModelOptions): ModelEvent[] {
  const events: ModelEvent[] = [];
  const actionAt = options.actionAt;
  let dropping = false;
  /** Events happen when `time` bytes have arrived; the action comes after everything at or before its position. */
  const reach = (time: number): void => {
    if (!dropping && actionAt !== null && time > actionAt) {
      dropping = true;
      events.push({ type: 'action' });
    }
  };
  const fail = (time: number, codes: ErrorCode[]): ModelEvent[] => {
    reach(time);
    events.push({ type: 'error', codes });
    return events;
  };

  // The message in progress.
  let messageOpcode = 0;
  let compressed = false;
  let fragments = 0;
  let wireLength = 0;
  let utf8: Utf8Automaton | null = null;
  let parts: Buffer[] = [];

  let at = 0;
  for (;;) {
    const header = readHeader(stream, at);
    if (header === null) break;
    const headerEnd = at + header.size;
    const { opcode, fin, rsv1, length } = header;
    const control = opcode >= 0x8;
    const broken: ErrorCode[] = [];

    // §5.2: lengths use the fewest bytes, and a 64-bit length has its top bit clear.
    if (header.lengthField === 16 && length < 126) broken.push(ErrorCode.INVALID_LENGTH);
    if (header.lengthField === 64 && (header.lengthTopBit || length < 0x10000)) broken.push(ErrorCode.INVALID_LENGTH);
    // §5.2: RSV2 and RSV3 without an extension that defines them; RSV1 only for permessage-deflate,
    // on a message's first frame (RFC 7692 §6.1).
    if (header.rsv2 || header.rsv3) broken.push(ErrorCode.RESERVED_BITS);
    if (rsv1 && (control || opcode === 0 || options.decoder === null)) broken.push(ErrorCode.RESERVED_BITS);
    if (control) {
      if (opcode > 0xa) broken.push(ErrorCode.INVALID_OPCODE);
      // §5.5: control frames are not fragmented and carry at most 125 bytes.
      if (!fin) broken.push(ErrorCode.CONTROL_FRAME_FRAGMENTED);
      if (length > 125) broken.push(ErrorCode.CONTROL_FRAME_TOO_LONG);
    } else if (opcode === 0) {
      // §5.4: a continuation continues a message.
      if (messageOpcode === 0) broken.push(ErrorCode.UNEXPECTED_CONTINUATION);
      else if (fragments + 1 > options.maxFragments) broken.push(ErrorCode.TOO_MANY_FRAGMENTS);
    } else if (opcode <= 2) {
      // §5.4: no new message inside a fragmented one.
      if (messageOpcode !== 0) broken.push(ErrorCode.EXPECTED_CONTINUATION);
    } else {
      broken.push(ErrorCode.INVALID_OPCODE);
    }
    // §5.1: masking by role.
    if (header.masked !== options.expectMasked) broken.push(options.expectMasked ? ErrorCode.MASK_REQUIRED : ErrorCode.UNEXPECTED_MASK);
    if (!control) {
      const isCompressed = opcode === 0 ? compressed : rsv1;
      const sofar = opcode === 0 ? wireLength : 0;
      const limit = isCompressed ? compressedWireLimit(options.maxPayload) : options.maxPayload;
      if (sofar + length > limit) broken.push(ErrorCode.MESSAGE_TOO_BIG);
    }
    if (broken.length > 0) return fail(headerEnd, broken);

    // The header is valid: the frame starts.
    if (!control) {
      if (opcode !== 0) {
        messageOpcode = opcode;
        compressed = rsv1;
        fragments = 1;
        wireLength = 0;
        parts = [];
        utf8 = opcode === 1 && !compressed ? new Utf8Automaton() : null;
      } else {
        fragments++;
      }
      wireLength += length;
    }

    const payloadEnd = headerEnd + length;
    const available = Math.min(payloadEnd, stream.length);
    const payload = Buffer.from(stream.subarray(headerEnd, available));
    if (header.mask !== null) for (let i = 0; i < payload.length; i++) payload[i] = payload[i]! ^ header.mask[i & 3]!;

    // §8.1: uncompressed text is checked as it arrives (fail fast), until data starts being dropped.
    if (!control && utf8 !== null && !dropping) {
      for (let i = 0; i < payload.length; i++) {
        const position = headerEnd + i;
        if (actionAt !== null && position >= actionAt) break;
        if (!utf8.push(payload[i]!)) return fail(position + 1, [ErrorCode.INVALID_UTF8]);
      }
    }
    if (available < payloadEnd) break; // the rest of the frame has not arrived

    reach(payloadEnd);
    if (options.observeFrames) events.push({ type: 'frame', opcode, fin, rsv1, payload });
    at = payloadEnd;

    if (control) {
      if (opcode === 0x9) events.push({ type: 'ping', payload });
      else if (opcode === 0xa) events.push({ type: 'pong', payload });
      else {
        // §5.5.1: nothing after a close frame is processed.
        events.push({ type: 'close-frame', payload });
        return events;
      }
      continue;
    }

    if (dropping) {
      // §7.1.2: our close frame is sent; data frames are parsed and dropped.
      utf8 = null;
      parts = [];
      if (fin) messageOpcode = 0;
      continue;
    }
    parts.push(payload);
    if (!fin) continue;

    const isBinary = messageOpcode === 2;
    messageOpcode = 0;
    let data: Buffer = Buffer.concat(parts);
    parts = [];
    if (compressed) {
      const decoded = options.decoder!(data, options.maxPayload);
      if ('codes' in decoded) return fail(payloadEnd, [...decoded.codes]);
      data = decoded.output;
      if (!isBinary) {
        const check = new Utf8Automaton();
        for (let i = 0; i < data.length; i++) if (!check.push(data[i]!)) return fail(payloadEnd, [ErrorCode.INVALID_UTF8]);
        if (!check.atBoundary) return fail(payloadEnd, [ErrorCode.INVALID_UTF8]);
      }
    } else if (utf8 !== null && !utf8.atBoundary) {
      // A text message may not end inside a character.
      return fail(payloadEnd, [ErrorCode.INVALID_UTF8]);
    }
    utf8 = null;
    events.push({ type: 'message', data, isBinary });
  }
  // The stream ends open (or inside a frame): the action, if still to come, happens now.
  if (actionAt !== null && !dropping) events.push({ type: 'action' });
  return events;
}
