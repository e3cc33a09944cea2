/**
 * WebSocketError of the WebSockets Standard (the WebSocketStream additions): a DOMException
 * with the close code and reason of an unclean close, and the value to abort a stream with to
 * close with a chosen code (`writable.abort(new WebSocketError('', { closeCode: 4000 }))`).
 * Not wsforge's WebSocketError (from "wsforge"), which names failures by code.
 */
import { MAX_CLOSE_REASON_BYTES } from '../../protocol/close.js';

export interface WebSocketErrorInit {
  closeCode?: number;
  reason?: string;
}

export class WebSocketError extends DOMException {
  /** The close code: null when none was given. */
  readonly closeCode: number | null;
  readonly reason: string;

  constructor(message = '', init: WebSocketErrorInit = {}) {
    super(message, 'WebSocketError');
    const reason = init.reason ?? '';
    let closeCode = init.closeCode ?? null;
    // WebSockets Standard: a reason without a code means 1000; codes a script may send only.
    if (closeCode !== null && closeCode !== 1000 && !(Number.isInteger(closeCode) && closeCode >= 3000 && closeCode <= 4999)) {
      throw new DOMException(`close code must be 1000 or 3000-4999, got ${closeCode}`, 'InvalidAccessError');
    }
    if (Buffer.byteLength(reason) > MAX_CLOSE_REASON_BYTES) throw new DOMException(`close reason is longer than ${MAX_CLOSE_REASON_BYTES} bytes`, 'SyntaxError');
    if (closeCode === null && reason !== '') closeCode = 1000;
    this.closeCode = closeCode;
    this.reason = reason;
  }

  /** The error of a connection that closed uncleanly: any code it ended with (1006 ...), unchecked. */
  static ofUncleanClose(message: string, closeCode: number, reason: string): WebSocketError {
    const error = new WebSocketError(message);
    Object.defineProperty(error, 'closeCode', { value: closeCode });
    Object.defineProperty(error, 'reason', { value: reason });
    return error;
  }
}
