/**
 * Every failure wsforge reports carries a stable code name. Protocol failures also
 * carry the close code sent to the peer; this table is the one place that maps one
 * to the other (protocol error 1002, invalid UTF-8 1007, policy 1008, too big 1009,
 * internal 1011).
 */

export const CloseCode = {
  /** RFC 6455 §7.4.1: normal closure. */
  NORMAL: 1000,
  /** The endpoint is going away (server shutdown, page navigation). */
  GOING_AWAY: 1001,
  /** The peer broke the protocol. */
  PROTOCOL_ERROR: 1002,
  /** The endpoint cannot accept this data type. */
  UNSUPPORTED_DATA: 1003,
  /** Reserved: no status code was present. Never sent on the wire. */
  NO_STATUS: 1005,
  /** Reserved: the connection closed without a close frame. Never sent on the wire. */
  ABNORMAL: 1006,
  /** Data inconsistent with the message type (invalid UTF-8 in a text message). */
  INVALID_PAYLOAD: 1007,
  /** Policy violation (generic). */
  POLICY_VIOLATION: 1008,
  /** The message is too big to process. */
  MESSAGE_TOO_BIG: 1009,
  /** Client: the server did not negotiate an extension the client requires. */
  MANDATORY_EXTENSION: 1010,
  /** Unexpected condition on the server. */
  INTERNAL_ERROR: 1011,
  SERVICE_RESTART: 1012,
  TRY_AGAIN_LATER: 1013,
  BAD_GATEWAY: 1014,
} as const;

/** Stable names for every error wsforge raises. Documented in README ("Error codes"). */
export const ErrorCode = {
  // Frame-level protocol errors (close 1002).
  RESERVED_BITS: 'WSF_ERR_RESERVED_BITS',
  INVALID_OPCODE: 'WSF_ERR_INVALID_OPCODE',
  CONTROL_FRAME_TOO_LONG: 'WSF_ERR_CONTROL_FRAME_TOO_LONG',
  CONTROL_FRAME_FRAGMENTED: 'WSF_ERR_CONTROL_FRAME_FRAGMENTED',
  UNEXPECTED_CONTINUATION: 'WSF_ERR_UNEXPECTED_CONTINUATION',
  EXPECTED_CONTINUATION: 'WSF_ERR_EXPECTED_CONTINUATION',
  MASK_REQUIRED: 'WSF_ERR_MASK_REQUIRED',
  UNEXPECTED_MASK: 'WSF_ERR_UNEXPECTED_MASK',
  INVALID_LENGTH: 'WSF_ERR_INVALID_LENGTH',
  INVALID_CLOSE_PAYLOAD: 'WSF_ERR_INVALID_CLOSE_PAYLOAD',
  INVALID_CLOSE_CODE: 'WSF_ERR_INVALID_CLOSE_CODE',
  // Payload errors.
  INVALID_UTF8: 'WSF_ERR_INVALID_UTF8',
  INVALID_COMPRESSED_DATA: 'WSF_ERR_INVALID_COMPRESSED_DATA',
  // Limits (close 1009 / 1008).
  MESSAGE_TOO_BIG: 'WSF_ERR_MESSAGE_TOO_BIG',
  TOO_MANY_FRAGMENTS: 'WSF_ERR_TOO_MANY_FRAGMENTS',
  BUFFERED_AMOUNT_EXCEEDED: 'WSF_ERR_BUFFERED_AMOUNT_EXCEEDED',
  // Connection lifecycle.
  CLOSE_TIMEOUT: 'WSF_ERR_CLOSE_TIMEOUT',
  KEEPALIVE_TIMEOUT: 'WSF_ERR_KEEPALIVE_TIMEOUT',
  IDLE_TIMEOUT: 'WSF_ERR_IDLE_TIMEOUT',
  LISTENER_THREW: 'WSF_ERR_LISTENER_THREW',
  CONNECTION_LOST: 'WSF_ERR_CONNECTION_LOST',
  NOT_OPEN: 'WSF_ERR_NOT_OPEN',
  INVALID_ARGUMENT: 'WSF_ERR_INVALID_ARGUMENT',
  /** An options object with an unknown key, a wrong type or a value out of range (a TypeError, see InvalidOptionError). */
  INVALID_OPTION: 'WSF_ERR_INVALID_OPTION',
  INTERNAL: 'WSF_ERR_INTERNAL',
  // Handshake (client side: what the server answered; server side: why a request was refused).
  HANDSHAKE_TIMEOUT: 'WSF_ERR_HANDSHAKE_TIMEOUT',
  HANDSHAKE_STATUS: 'WSF_ERR_HANDSHAKE_STATUS',
  HANDSHAKE_INVALID_RESPONSE: 'WSF_ERR_HANDSHAKE_INVALID_RESPONSE',
  HANDSHAKE_UPGRADE: 'WSF_ERR_HANDSHAKE_UPGRADE',
  HANDSHAKE_ACCEPT: 'WSF_ERR_HANDSHAKE_ACCEPT',
  HANDSHAKE_SUBPROTOCOL: 'WSF_ERR_HANDSHAKE_SUBPROTOCOL',
  HANDSHAKE_EXTENSION: 'WSF_ERR_HANDSHAKE_EXTENSION',
  HANDSHAKE_HEADERS_TOO_LARGE: 'WSF_ERR_HANDSHAKE_HEADERS_TOO_LARGE',
  HANDSHAKE_CONNECTION: 'WSF_ERR_HANDSHAKE_CONNECTION',
  /** connect({ http2: true }): the server does not take WebSockets over HTTP/2 (no h2 by ALPN, or no SETTINGS_ENABLE_CONNECT_PROTOCOL). */
  HANDSHAKE_HTTP2_UNSUPPORTED: 'WSF_ERR_HANDSHAKE_HTTP2_UNSUPPORTED',
  INVALID_URL: 'WSF_ERR_INVALID_URL',
  // Client proxies: the proxy cannot be reached or spoke no proxy protocol; the proxy refused the tunnel.
  PROXY_CONNECTION: 'WSF_ERR_PROXY_CONNECTION',
  PROXY_REFUSED: 'WSF_ERR_PROXY_REFUSED',
} as const;

export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** The close code each protocol-level error is reported to the peer with. */
const closeCodeByError: Partial<Record<ErrorCode, number>> = {
  [ErrorCode.RESERVED_BITS]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.INVALID_OPCODE]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.CONTROL_FRAME_TOO_LONG]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.CONTROL_FRAME_FRAGMENTED]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.UNEXPECTED_CONTINUATION]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.EXPECTED_CONTINUATION]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.MASK_REQUIRED]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.UNEXPECTED_MASK]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.INVALID_LENGTH]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.INVALID_CLOSE_PAYLOAD]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.INVALID_CLOSE_CODE]: CloseCode.PROTOCOL_ERROR,
  [ErrorCode.INVALID_UTF8]: CloseCode.INVALID_PAYLOAD,
  [ErrorCode.INVALID_COMPRESSED_DATA]: CloseCode.INVALID_PAYLOAD,
  [ErrorCode.MESSAGE_TOO_BIG]: CloseCode.MESSAGE_TOO_BIG,
  [ErrorCode.TOO_MANY_FRAGMENTS]: CloseCode.MESSAGE_TOO_BIG,
  [ErrorCode.BUFFERED_AMOUNT_EXCEEDED]: CloseCode.POLICY_VIOLATION,
  [ErrorCode.INTERNAL]: CloseCode.INTERNAL_ERROR,
  [ErrorCode.KEEPALIVE_TIMEOUT]: CloseCode.INTERNAL_ERROR,
  [ErrorCode.IDLE_TIMEOUT]: CloseCode.GOING_AWAY,
  [ErrorCode.LISTENER_THREW]: CloseCode.INTERNAL_ERROR,
};

/** The close code to send for an error code; 1011 for anything unexpected. */
export function closeCodeForError(code: ErrorCode): number {
  return closeCodeByError[code] ?? CloseCode.INTERNAL_ERROR;
}

/** Short reasons sent in close frames: never internal details (RFC 6455 §7.1.7 allows any reason; we keep them generic). */
const closeReasonByError: Partial<Record<ErrorCode, string>> = {
  [ErrorCode.INVALID_UTF8]: 'invalid UTF-8',
  [ErrorCode.INVALID_COMPRESSED_DATA]: 'invalid compressed data',
  [ErrorCode.MESSAGE_TOO_BIG]: 'message too big',
  [ErrorCode.TOO_MANY_FRAGMENTS]: 'too many fragments',
  [ErrorCode.BUFFERED_AMOUNT_EXCEEDED]: 'slow consumer',
};

export function closeReasonForError(code: ErrorCode): string {
  const reason = closeReasonByError[code];
  if (reason !== undefined) return reason;
  return closeCodeForError(code) === CloseCode.PROTOCOL_ERROR ? 'protocol error' : '';
}

/** What a server answered instead of accepting a handshake (client side, WSF_ERR_HANDSHAKE_STATUS). */
export interface RefusalResponse {
  readonly status: number;
  readonly statusText: string;
  /** Lowercased names; repeated fields joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  /** The start of the body, decoded (chunked framing removed), as text. */
  readonly body: string;
}

export class WebSocketError extends Error {
  /** Stable machine-readable name, e.g. `WSF_ERR_INVALID_UTF8`. */
  readonly code: ErrorCode;
  /** The close code this error is (or would be) reported to the peer with. */
  readonly closeCode: number;
  /** For a refused handshake: what the server answered. */
  readonly response: RefusalResponse | undefined;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown; closeCode?: number; response?: RefusalResponse }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'WebSocketError';
    this.code = code;
    this.closeCode = options?.closeCode ?? closeCodeForError(code);
    this.response = options?.response;
  }
}
