import { isUtf8 } from 'node:buffer';

/**
 * Incremental UTF-8 validation (RFC 3629) for text messages that arrive in pieces:
 * fragments, or one long frame delivered in several TCP chunks.
 *
 * RFC 6455 §8.1 requires failing the connection on invalid UTF-8; we fail as soon as
 * the first byte that cannot start or continue a valid sequence arrives (Autobahn
 * 6.4.x), not at the end of the message. The bulk of each piece is checked with the
 * native `buffer.isUtf8`; only the (at most 3) bytes of a code point split across
 * pieces go through the byte-level state machine below.
 */
export class Utf8Validator {
  /** Continuation bytes still expected for the current code point (0 = at a boundary). */
  private pending = 0;
  /** Allowed range for the next continuation byte (narrowed after E0, ED, F0, F4). */
  private low = 0x80;
  private high = 0xbf;

  /** True when the bytes seen so far end on a code point boundary. */
  get complete(): boolean {
    return this.pending === 0;
  }

  reset(): void {
    this.pending = 0;
    this.low = 0x80;
    this.high = 0xbf;
  }

  /**
   * Feed `bytes[start, end)`. Returns false as soon as the bytes seen so far cannot
   * be the prefix of valid UTF-8; the validator is then unusable until reset().
   */
  feed(bytes: Uint8Array, start = 0, end = bytes.length): boolean {
    let index = start;
    // Finish a code point left open by the previous piece.
    while (this.pending > 0 && index < end) {
      if (!this.step(bytes[index]!)) return false;
      index++;
    }
    if (index === end) return true;

    // Find where a code point left open at the end of this piece starts.
    let tailStart = end;
    for (let k = end - 1; k >= index && k >= end - 3; k--) {
      const byte = bytes[k]!;
      if (byte < 0x80) break;
      if (byte >= 0xc0) {
        const length = byte >= 0xf0 ? 4 : byte >= 0xe0 ? 3 : 2;
        if (end - k < length) tailStart = k;
        break;
      }
    }
    if (tailStart > index) {
      const whole = index === 0 && tailStart === bytes.length ? bytes : bytes.subarray(index, tailStart);
      if (!isUtf8(whole)) return false;
    }
    for (let k = tailStart; k < end; k++) {
      if (!this.step(bytes[k]!)) return false;
    }
    return true;
  }

  /** One byte through the state machine (RFC 3629 §4 syntax). */
  private step(byte: number): boolean {
    if (this.pending > 0) {
      if (byte < this.low || byte > this.high) return false;
      this.low = 0x80;
      this.high = 0xbf;
      this.pending--;
      return true;
    }
    if (byte < 0x80) return true;
    if (byte < 0xc2) return false; // continuation byte out of place, or overlong C0/C1
    if (byte < 0xe0) {
      this.pending = 1;
    } else if (byte < 0xf0) {
      this.pending = 2;
      if (byte === 0xe0) this.low = 0xa0; // overlong 3-byte forms
      else if (byte === 0xed) this.high = 0x9f; // UTF-16 surrogates U+D800..U+DFFF
    } else if (byte < 0xf5) {
      this.pending = 3;
      if (byte === 0xf0) this.low = 0x90; // overlong 4-byte forms
      else if (byte === 0xf4) this.high = 0x8f; // above U+10FFFF
    } else {
      return false; // F5..FF never appear in UTF-8
    }
    return true;
  }
}

/** Below this length a JS scan for ASCII beats a call into native code. */
const SHORT_TEXT = 128;

export const UTF8_INVALID = 0;
export const UTF8_ASCII = 1;
export const UTF8_VALID = 2;

/**
 * Validate `bytes[start, end)` as a whole text message: UTF8_INVALID, UTF8_ASCII (all bytes
 * below 0x80: decodes as Latin-1) or UTF8_VALID. Short messages are scanned in JS; longer
 * ones by the native check.
 */
export function classifyUtf8(bytes: Buffer, start: number, end: number): number {
  const length = end - start;
  if (length < SHORT_TEXT) {
    let i = start;
    while (i < end && bytes[i]! < 0x80) i++;
    if (i === end) return UTF8_ASCII;
  }
  return isUtf8(start === 0 && end === bytes.length ? bytes : bytes.subarray(start, end)) ? UTF8_VALID : UTF8_INVALID;
}

/** Whole-buffer validation: the native check, with a quick path for short ASCII. */
export function isValidUtf8(bytes: Uint8Array): boolean {
  const length = bytes.length;
  if (length < SHORT_TEXT && isShortAscii(bytes, length)) return true;
  return isUtf8(bytes);
}

function isShortAscii(bytes: Uint8Array, length: number): boolean {
  for (let i = 0; i < length; i++) if (bytes[i]! >= 0x80) return false;
  return true;
}

interface BufferCodecs {
  latin1Slice(start: number, end: number): string;
  utf8Slice(start: number, end: number): string;
  utf8Write(text: string, offset: number, length: number): number;
}

/** Decode validated UTF-8 from `bytes[start, end)`; `ascii` says the bytes are all below 0x80. */
export function decodeUtf8Region(bytes: Buffer, start: number, end: number, ascii: boolean): string {
  const codecs = bytes as unknown as BufferCodecs;
  return ascii ? codecs.latin1Slice(start, end) : codecs.utf8Slice(start, end);
}

/**
 * Decode validated UTF-8 to a string. Short ASCII is copied as Latin-1 (a straight byte copy
 * into a one-byte string, skipping the UTF-8 decoder); Buffer's codec methods are called
 * directly, without toString()'s argument handling.
 */
export function decodeUtf8(bytes: Buffer): string {
  const length = bytes.length;
  const codecs = bytes as unknown as BufferCodecs;
  if (length < SHORT_TEXT && isShortAscii(bytes, length)) return codecs.latin1Slice(0, length);
  return codecs.utf8Slice(0, length);
}

/**
 * Encode `text` as UTF-8 into `target` at `offset` (at most `max` bytes); returns the bytes
 * written. Short ASCII strings are copied in a JS loop, which beats the native call.
 */
export function encodeUtf8Into(target: Buffer, text: string, offset: number, max: number): number {
  const length = text.length;
  if (length < 64 && length <= max) {
    let i = 0;
    for (; i < length; i++) {
      const code = text.charCodeAt(i);
      if (code >= 0x80) break;
      target[offset + i] = code;
    }
    if (i === length) return length;
  }
  return (target as unknown as BufferCodecs).utf8Write(text, offset, max);
}
