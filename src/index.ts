/**
 * wsforge: a strict, fast WebSocket server and client for Node.js (RFC 6455, RFC 7692).
 */
export {
  ReadyState,
  WebSocket,
  type ClientHandshakeRecord,
  type SendOptions,
  type WrittenCallback,
  type WebSocketEvents,
  type WebSocketInit,
} from './node/connection/websocket.js';
export {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BACKPRESSURE,
  DEFAULT_PING_INTERVAL,
  DEFAULT_PING_TIMEOUT,
  type ConnectionHandlers,
  type ConnectionOptions,
} from './node/connection/options.js';
export { SendStatus } from './node/connection/send-status.js';
export { defaultTotalBackpressure } from './node/connection/backpressure-budget.js';
export type { PubSubAdapter } from './pubsub/adapter.js';
export type { SendData } from './node/connection/send-data.js';
export { WebSocketServer } from './node/server/server.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  type ListenOptions,
  type ServerHandlers,
  type ServerOptions,
  type WebSocketServerEvents,
} from './node/server/options.js';
export type { HandshakeAccept, HandshakeDecision, HandshakeReject, HandshakeRequest } from './protocol/handshake/decision.js';
export { connect } from './node/client/connect.js';
export {
  isRetryable,
  ReconnectingClient,
  type ReconnectingClientEvents,
  type ReconnectingClientOptions,
  type ReconnectingClientState,
} from './node/client/reconnecting-client.js';
export {
  backoffDelay,
  DEFAULT_RECONNECT_FACTOR,
  DEFAULT_RECONNECT_INITIAL_DELAY,
  DEFAULT_RECONNECT_JITTER,
  DEFAULT_RECONNECT_MAX_DELAY,
  type ReconnectOptions,
} from './node/client/backoff.js';
export { DEFAULT_CLIENT_HANDSHAKE_TIMEOUT, type ConnectOptions } from './node/client/options.js';
export { parseWebSocketUrl } from './node/client/url.js';
export { CloseCode, ErrorCode, WebSocketError, type RefusalResponse } from './protocol/errors.js';
export { InvalidOptionError } from './protocol/options/invalid-option-error.js';
export { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD } from './protocol/receive/frame-parser.js';
export { DEFAULT_MAX_HEADER_SIZE } from './protocol/http1/head-parser.js';
export { Opcode, type Frame } from './protocol/frame/opcode.js';
export { PreparedMessage } from './protocol/frame/prepared.js';
export { clientPerMessageDeflate, serverPerMessageDeflate } from './protocol/extensions/permessage-deflate/negotiation.js';
export {
  DEFAULT_DEFLATE_THRESHOLD,
  DEFAULT_ZLIB_CONCURRENCY,
  type DeflateOffer,
  type PerMessageDeflateOptions,
} from './protocol/extensions/permessage-deflate/params.js';
