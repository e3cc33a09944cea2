/**
 * The one piece of ws's internals that engine.io (socket.io) uses: for a broadcast, socket.io
 * frames the message once with ws's `Sender.frame()` and engine.io hands the frame to every
 * socket through `websocket._sender.sendFrame(frame, callback)` when that exists, instead of
 * encoding the packet again for each socket. wsforge/ws takes those frames: the payload is
 * sent as the message it frames (one copy into the shared output; no per-socket packet
 * encoding, no UTF-8 encoding of a string per socket).
 */
import type { SendCallback } from './ordered-sends.js';

/** What the frame of ws's `Sender.frame()` is sent through. */
export interface FrameSink {
  send(data: Buffer, options: { binary: boolean }, callback?: SendCallback): void;
}

const EMPTY = Buffer.alloc(0);
const TEXT_OPTIONS = { binary: false };
const BINARY_OPTIONS = { binary: true };

export class PreEncodedFrameSender {
  constructor(private readonly sink: FrameSink) {}

  /**
   * `frame` is `[header]` or `[header, payload]`: an unmasked, final text or binary frame, as
   * socket.io prepares them (RFC 6455 §5.2). Anything else is refused.
   */
  sendFrame(frame: readonly Buffer[], callback?: SendCallback): void {
    const header = frame[0];
    if (header === undefined || header.length < 2) throw new TypeError('sendFrame: expected [header, payload]');
    const first = header[0]!;
    const opcode = first & 0x0f;
    // FIN set, RSV bits clear, text or binary, no mask (a server's frame).
    if ((first & 0xf0) !== 0x80 || (opcode !== 1 && opcode !== 2) || (header[1]! & 0x80) !== 0) {
      throw new TypeError('sendFrame: only final, unmasked, uncompressed text or binary frames are taken');
    }
    this.sink.send(frame[1] ?? EMPTY, opcode === 2 ? BINARY_OPTIONS : TEXT_OPTIONS, callback);
  }
}
