/**
 * wsforge: a strict, fast WebSocket server and client for Node.js (RFC 6455).
 */
export {
  DEFAULT_CLOSE_TIMEOUT,
  DEFAULT_HIGH_WATER_MARK,
  DEFAULT_MAX_BUFFERED_AMOUNT,
  ReadyState,
  WebSocket,
  type ConnectionHandlers,
  type ConnectionOptions,
  type SendData,
  type SendOptions,
  type WebSocketEvents,
  type WrittenCallback,
} from './node/websocket.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT,
  WebSocketServer,
  type HandshakeAccept,
  type HandshakeDecision,
  type HandshakeReject,
  type HandshakeRequest,
  type ListenOptions,
  type ServerHandlers,
  type ServerOptions,
  type WebSocketServerEvents,
} from './node/server.js';
export { connect, DEFAULT_CLIENT_HANDSHAKE_TIMEOUT, parseWebSocketUrl, type ConnectOptions } from './node/client.js';
export { CloseCode, ErrorCode, WebSocketError } from './protocol/errors.js';
export { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD } from './protocol/receiver.js';
export { DEFAULT_MAX_HEADER_SIZE } from './protocol/handshake.js';
export { Opcode, type Frame } from './protocol/frame.js';
export {
  clientPerMessageDeflate,
  DEFAULT_DEFLATE_THRESHOLD,
  DEFAULT_ZLIB_CONCURRENCY,
  serverPerMessageDeflate,
  type DeflateOffer,
  type PerMessageDeflateOptions,
} from './protocol/deflate.js';
