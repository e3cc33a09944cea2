/**
 * Inflating one compressed message as RFC 7692 §7.2.2 says, for the model: append 00 00 ff ff and
 * inflate with a fresh context (what no context takeover means), here with zlib's synchronous API
 * rather than the library's streams, pool and limiter.
 */
import { constants, inflateRawSync } from 'node:zlib';
import { ErrorCode } from '../../src/protocol/index.js';
import type { DecodeOutcome } from './frame-model.js';

const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);

/** Inflate `compressed` (one whole message); more than `limit` bytes of output is a failure (close 1009). */
export function inflateMessage(compressed: Buffer, limit: number): DecodeOutcome {
  let output: Buffer;
  try {
    output = inflateRawSync(Buffer.concat([compressed, TRAILER]), {
      finishFlush: constants.Z_SYNC_FLUSH,
      // Past the limit the message fails whatever follows: no need to inflate further.
      maxOutputLength: limit + 1,
    });
  } catch (error) {
    if ((error as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') return { codes: [ErrorCode.MESSAGE_TOO_BIG] };
    // Invalid data (1007); the output before the error may already have passed the limit (1009).
    return { codes: [ErrorCode.INVALID_COMPRESSED_DATA, ErrorCode.MESSAGE_TOO_BIG] };
  }
  return output.length > limit ? { codes: [ErrorCode.MESSAGE_TOO_BIG] } : { output };
}
