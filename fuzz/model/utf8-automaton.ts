/**
 * UTF-8 as RFC 3629 §4 writes it, one byte at a time, for the reference model (written from the
 * RFC's table, not from src/protocol/utf8.ts):
 *   UTF8-2 = %xC2-DF tail;  UTF8-3 = %xE0 %xA0-BF tail / %xE1-EC 2tail / %xED %x80-9F tail / %xEE-EF 2tail
 *   UTF8-4 = %xF0 %x90-BF 2tail / %xF1-F3 3tail / %xF4 %x80-8F 2tail;  tail = %x80-BF
 */
export class Utf8Automaton {
  private remaining = 0;
  private low = 0x80;
  private high = 0xbf;

  /** Whether the bytes so far end between two characters. */
  get atBoundary(): boolean {
    return this.remaining === 0;
  }

  /** Take one byte; false when the bytes so far cannot begin any valid UTF-8 text. */
  push(byte: number): boolean {
    if (this.remaining > 0) {
      if (byte < this.low || byte > this.high) return false;
      this.remaining--;
      this.low = 0x80;
      this.high = 0xbf;
      return true;
    }
    if (byte <= 0x7f) return true;
    if (byte >= 0xc2 && byte <= 0xdf) return this.expect(1, 0x80, 0xbf);
    if (byte === 0xe0) return this.expect(2, 0xa0, 0xbf);
    if ((byte >= 0xe1 && byte <= 0xec) || byte === 0xee || byte === 0xef) return this.expect(2, 0x80, 0xbf);
    if (byte === 0xed) return this.expect(2, 0x80, 0x9f);
    if (byte === 0xf0) return this.expect(3, 0x90, 0xbf);
    if (byte >= 0xf1 && byte <= 0xf3) return this.expect(3, 0x80, 0xbf);
    if (byte === 0xf4) return this.expect(3, 0x80, 0x8f);
    return false;
  }

  private expect(count: number, low: number, high: number): true {
    this.remaining = count;
    this.low = low;
    this.high = high;
    return true;
  }
}

/** Whether `bytes` is complete, valid UTF-8. */
export function isWholeUtf8(bytes: Uint8Array): boolean {
  const automaton = new Utf8Automaton();
  for (let i = 0; i < bytes.length; i++) if (!automaton.push(bytes[i]!)) return false;
  return automaton.atBoundary;
}
