/**
 * The errors a wsforge/ws connection emits: for the failures ws also detects, an error with
 * ws's code (`err.code === 'WS_ERR_...'`) and the wsforge error as its `cause`; what ws does
 * not detect keeps wsforge's error as it is. Socket resets and close timeouts are not errors
 * in ws (only the 'close' event, code 1006, tells of them), so they are not emitted.
 */
import { ErrorCode, type WebSocketError } from '../index.js';

/** An error as ws's receiver raises it: a message, ws's code, the wsforge error as cause. */
export interface WsError extends Error {
  code: string;
}

/** wsforge's code → ws's code, for what both detect (ws's doc/ws.md "Error codes"). */
const WS_CODES: Partial<Record<string, string>> = {
  [ErrorCode.INVALID_OPCODE]: 'WS_ERR_INVALID_OPCODE',
  // ws reports a continuation without a message, and a new message inside a fragmented one,
  // as an invalid opcode.
  [ErrorCode.UNEXPECTED_CONTINUATION]: 'WS_ERR_INVALID_OPCODE',
  [ErrorCode.EXPECTED_CONTINUATION]: 'WS_ERR_INVALID_OPCODE',
  [ErrorCode.CONTROL_FRAME_TOO_LONG]: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  [ErrorCode.INVALID_CLOSE_PAYLOAD]: 'WS_ERR_INVALID_CONTROL_PAYLOAD_LENGTH',
  [ErrorCode.CONTROL_FRAME_FRAGMENTED]: 'WS_ERR_EXPECTED_FIN',
  [ErrorCode.MASK_REQUIRED]: 'WS_ERR_EXPECTED_MASK',
  [ErrorCode.UNEXPECTED_MASK]: 'WS_ERR_UNEXPECTED_MASK',
  [ErrorCode.INVALID_LENGTH]: 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH',
  [ErrorCode.INVALID_CLOSE_CODE]: 'WS_ERR_INVALID_CLOSE_CODE',
  [ErrorCode.INVALID_UTF8]: 'WS_ERR_INVALID_UTF8',
  [ErrorCode.MESSAGE_TOO_BIG]: 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH',
  [ErrorCode.TOO_MANY_FRAGMENTS]: 'WS_ERR_TOO_MANY_BUFFERED_PARTS',
};

/** Errors ws does not emit on the WebSocket (it only closes with 1006). */
const SILENT: ReadonlySet<string> = new Set([ErrorCode.CONNECTION_LOST, ErrorCode.CLOSE_TIMEOUT]);

/** The error to emit for a wsforge connection error, or null when ws would emit none. */
export function toWsError(error: WebSocketError): WsError | null {
  if (SILENT.has(error.code)) return null;
  const code =
    error.code === ErrorCode.RESERVED_BITS
      ? /RSV2|RSV3/.test(error.message)
        ? 'WS_ERR_UNEXPECTED_RSV_2_3'
        : 'WS_ERR_UNEXPECTED_RSV_1'
      : WS_CODES[error.code];
  // What ws does not detect (a slow consumer, bad compressed data) keeps wsforge's error.
  if (code === undefined) return error;
  // ws raises RangeError for frame and limit violations, Error for bad UTF-8.
  const wsError = (error.code === ErrorCode.INVALID_UTF8 ? new Error(error.message, { cause: error }) : new RangeError(error.message, { cause: error })) as WsError;
  wsError.code = code;
  return wsError;
}

/**
 * The error ws emits when the opening handshake fails (its messages, RFC 6455 §4.1's checks),
 * with the wsforge error as `cause`. A socket that cannot connect gives the system's error
 * (`code` 'ECONNREFUSED', a TLS verification code...), as ws emits it; what ws does not check
 * keeps wsforge's error.
 */
export function toWsHandshakeError(error: WebSocketError, offeredProtocols: readonly string[]): Error {
  switch (error.code) {
    case ErrorCode.HANDSHAKE_CONNECTION:
      return error.cause instanceof Error ? error.cause : error;
    case ErrorCode.HANDSHAKE_TIMEOUT:
      return new Error('Opening handshake has timed out', { cause: error });
    case ErrorCode.HANDSHAKE_UPGRADE:
      return new Error(/Connection header/.test(error.message) ? 'Invalid Connection header' : 'Invalid Upgrade header', { cause: error });
    case ErrorCode.HANDSHAKE_ACCEPT:
      return new Error('Invalid Sec-WebSocket-Accept header', { cause: error });
    case ErrorCode.HANDSHAKE_SUBPROTOCOL:
      return new Error(offeredProtocols.length === 0 ? 'Server sent a subprotocol but none was requested' : 'Server sent an invalid subprotocol', {
        cause: error,
      });
    case ErrorCode.HANDSHAKE_EXTENSION:
      return new Error(/not offered/.test(error.message) ? 'Server indicated an extension that was not requested' : 'Invalid Sec-WebSocket-Extensions header', {
        cause: error,
      });
    default:
      return error;
  }
}
