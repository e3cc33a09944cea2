/**
 * DEFLATE as a permessage-deflate peer does it (RFC 7692 §7.2), written with zlib directly so
 * the tests do not trust the library's own codec: one message inflated or deflated, a sender
 * that takes over its context, a receiver that keeps the window, and test data.
 */
import assert from 'node:assert/strict';
import { constants, createDeflateRaw, deflateRawSync, inflateRawSync, type DeflateRaw } from 'node:zlib';
import type { PerMessageDeflateOptions } from '../../src/protocol/index.js';
import { seededRandom } from './seeded-random.js';

export const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/**
 * RFC 7692 §7.2.2: append 00 00 ff ff and inflate (with `dictionary` = the peer's taken-over window).
 * With windowBits below 15 the output goes in 64-byte pieces: zlib only checks distances against
 * its window across output buffers, so small ones make "invalid distance too far back" catch a
 * sender that used a larger window than agreed.
 */
export function inflateMessage(payload: Buffer, windowBits = 15, dictionary?: Buffer): Buffer {
  return inflateRawSync(Buffer.concat([payload, TRAILER]), {
    finishFlush: constants.Z_SYNC_FLUSH,
    windowBits,
    ...(windowBits < 15 ? { chunkSize: 64 } : {}),
    ...(dictionary !== undefined && dictionary.length > 0 ? { dictionary } : {}),
  });
}

/** One message compressed on its own (no context takeover), tail removed (RFC 7692 §7.2.1). */
export function deflateMessage(data: Buffer | string, windowBits = 15): Buffer {
  const out = deflateRawSync(typeof data === 'string' ? Buffer.from(data) : data, { finishFlush: constants.Z_SYNC_FLUSH, windowBits });
  assert.ok(out.subarray(-4).equals(TRAILER), 'zlib ends a sync flush with 00 00 ff ff');
  return out.subarray(0, out.length - 4);
}

/** A peer compressing with context takeover: one zlib stream, a sync flush after each message. */
export class TakeoverDeflater {
  private readonly deflate: DeflateRaw;
  constructor(windowBits = 15) {
    this.deflate = createDeflateRaw({ windowBits });
  }
  message(data: Buffer | string): Promise<Buffer> {
    const deflate = this.deflate;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      const onData = (chunk: Buffer) => chunks.push(chunk);
      deflate.on('data', onData);
      deflate.once('error', reject);
      deflate.write(typeof data === 'string' ? Buffer.from(data) : data);
      deflate.flush(constants.Z_SYNC_FLUSH, () => {
        deflate.off('data', onData);
        deflate.off('error', reject);
        const out = Buffer.concat(chunks);
        assert.ok(out.subarray(-4).equals(TRAILER));
        resolve(out.subarray(0, out.length - 4));
      });
    });
  }
  close(): void {
    this.deflate.close();
  }
}

/** Less compressible bytes (a seeded generator over 64 symbols), reproducible. */
export function noisyBytes(n: number, seed: number): Buffer {
  const random = seededRandom(seed);
  const out = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) out[i] = 0x30 + Math.floor(random() * 64);
  return out;
}

/** JSON-like text: compresses well. */
export function jsonText(n: number): string {
  let text = '[';
  for (let i = 0; text.length < n; i++) text += `{"id":${i},"name":"user-${i % 17}","active":${i % 3 === 0}},`;
  return text.slice(0, n);
}

/** Server options with context takeover in both directions. */
export const TAKEOVER: PerMessageDeflateOptions = { serverNoContextTakeover: false, clientNoContextTakeover: false };

/** A receiver of the peer's compressed messages that keeps the window when the peer takes over its context. */
export class WindowedInflater {
  private window = Buffer.alloc(0);
  constructor(
    private readonly takeover: boolean,
    private readonly windowBits = 15,
  ) {}
  message(payload: Buffer): Buffer {
    const out = inflateMessage(payload, this.windowBits, this.takeover ? this.window : undefined);
    if (this.takeover) {
      const joined = Buffer.concat([this.window, out]);
      this.window = joined.subarray(Math.max(0, joined.length - (1 << this.windowBits)));
    }
    return out;
  }
}
