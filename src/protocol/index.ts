/**
 * wsforge/protocol: the sans-I/O core. No sockets, no timers: bytes in, events and bytes out.
 * Usable on its own to build a WebSocket endpoint over any transport.
 */
export { CloseCode, closeCodeForError, closeReasonForError, ErrorCode, WebSocketError } from './errors.js';
export { encodeClosePayload, isValidCloseCode, MAX_CLOSE_REASON_BYTES, parseClosePayload, type ClosePayload } from './close.js';
export {
  applyMask,
  applyMaskKey,
  buildFrame,
  encodeFrameHeader,
  frameHeaderSize,
  isControlOpcode,
  MAX_CONTROL_PAYLOAD,
  Opcode,
  randomMask,
  type BuildFrameOptions,
  type Frame,
} from './frame.js';
export { isValidUtf8, Utf8Validator } from './utf8.js';
export {
  DEFAULT_MAX_FRAGMENTS,
  DEFAULT_MAX_PAYLOAD,
  FrameReceiver,
  type ReceiverHandler,
  type ReceiverLimits,
} from './receiver.js';
export { ProtocolSession, ReadyState, type Role, type SessionHandler, type SessionOptions } from './session.js';
export { OutputBuffer } from './output.js';
export {
  buildClientRequest,
  buildErrorResponse,
  buildUpgradeResponse,
  computeAcceptKey,
  DEFAULT_MAX_HEADER_SIZE,
  findHeadEnd,
  generateKey,
  HandshakeRejection,
  headerHasToken,
  parseRequestHead,
  parseResponseHead,
  validateUpgradeRequest,
  validateUpgradeResponse,
  WEBSOCKET_GUID,
  type AcceptedResponse,
  type ClientRequestOptions,
  type HeaderMap,
  type HttpRequestHead,
  type HttpResponseHead,
  type UpgradeRequest,
} from './handshake.js';
export {
  formatExtension,
  isToken,
  parseExtensionHeader,
  type ClientExtensionFactory,
  type ExtensionParams,
  type MessageExtension,
  type ServerExtensionFactory,
} from './extensions.js';
export {
  clientPerMessageDeflate,
  parseDeflateParams,
  PerMessageDeflate,
  pooledContextCount,
  serverPerMessageDeflate,
  type DeflateOffer,
  type PerMessageDeflateOptions,
} from './deflate.js';
