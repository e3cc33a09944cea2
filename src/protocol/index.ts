/**
 * wsforge/protocol: the sans-I/O core. No sockets, no timers: bytes in, events and bytes out.
 * Usable on its own to build a WebSocket endpoint over any transport.
 */
export { CloseCode, closeCodeForError, closeReasonForError, ErrorCode, WebSocketError } from './errors.js';
export { InvalidOptionError } from './options/invalid-option-error.js';
export { encodeClosePayload, isValidCloseCode, MAX_CLOSE_REASON_BYTES, parseClosePayload, type ClosePayload } from './close.js';
export { isValidUtf8, Utf8Validator } from './utf8.js';

// Frames (RFC 6455 §5): the codec, and messages framed once for many connections.
export { EMPTY, isControlOpcode, MAX_CONTROL_PAYLOAD, Opcode, type Frame } from './frame/opcode.js';
export { encodeFrameHeader, frameHeaderSize } from './frame/header.js';
export { applyMask, applyMaskKey, randomMask } from './frame/mask.js';
export { buildFrame, type BuildFrameOptions } from './frame/build.js';
export { encodeFrame } from './frame/writer.js';
export { PreparedMessage } from './frame/prepared.js';

// Receiving and the connection's state machine.
export { DEFAULT_MAX_FRAGMENTS, DEFAULT_MAX_PAYLOAD, type ReceiverLimits } from './receive/frame-parser.js';
export { FrameReceiver, type ReceiverHandler } from './receive/frame-receiver.js';
export { ProtocolSession, type SessionHandler, type SessionOptions } from './session/session.js';
export { ReadyState, type Role } from './session/ready-state.js';
export { OutputBuffer } from './send/output-buffer.js';

// HTTP/1.1 and the opening handshake (RFC 6455 §4), server and client side.
export {
  DEFAULT_MAX_HEADER_SIZE,
  findHeadEnd,
  parseRequestHead,
  parseResponseHead,
  type HeaderMap,
  type HttpRequestHead,
  type HttpResponseHead,
} from './http1/head-parser.js';
export { headerHasToken, isToken } from './http1/token.js';
export { HandshakeRejection } from './http1/rejection.js';
export { buildErrorResponse, errorResponseBody, type HeaderFields } from './http1/response.js';
export { computeAcceptKey, generateKey, WEBSOCKET_GUID } from './handshake/accept-key.js';
export { buildUpgradeResponse, validateUpgradeRequest, type UpgradeRequest } from './handshake/upgrade-request.js';
export { readHandshakeOffers, type HandshakeOffers } from './handshake/offers.js';
export {
  decideHandshake,
  type HandshakeAccept,
  type HandshakeAcceptance,
  type HandshakeDecision,
  type HandshakeOutcome,
  type HandshakePolicy,
  type HandshakeReject,
  type HandshakeRequest,
  type ServerLoad,
} from './handshake/decision.js';
export {
  buildClientRequest,
  createClientHandshake,
  formatUpgradeRequest,
  type ClientHandshake,
  type ClientHandshakeOptions,
  type ClientRequestOptions,
} from './handshake/client-request.js';
export {
  acceptExtensions,
  checkHandshakeResponse,
  validateUpgradeResponse,
  type AcceptedResponse,
  type ClientHandshakeResult,
} from './handshake/client-response.js';

// The opening handshake over HTTP/2: extended CONNECT (RFC 8441), server and client side.
export {
  buildExtendedConnectRefusal,
  buildExtendedConnectResponse,
  CONNECTION_SPECIFIC_FIELDS,
  readHttp2HeaderList,
  validateExtendedConnect,
  type ExtendedConnectRequest,
  type Http2HeaderList,
} from './handshake/extended-connect.js';
export { buildExtendedConnectRequest, checkExtendedConnectResponse, readExtendedConnectResponse } from './handshake/extended-connect-client.js';

// Extensions (RFC 6455 §9) and permessage-deflate (RFC 7692).
export { formatExtension, parseExtensionHeader, type ExtensionParams } from './extensions/extension-header.js';
export type { ClientExtensionFactory, MessageExtension, ServerExtensionFactory, SharedEncoding } from './extensions/extension.js';
export {
  DEFAULT_DEFLATE_THRESHOLD,
  DEFAULT_ZLIB_CONCURRENCY,
  parseDeflateParams,
  type DeflateOffer,
  type PerMessageDeflateOptions,
} from './extensions/permessage-deflate/params.js';
export { PerMessageDeflate } from './extensions/permessage-deflate/codec.js';
export { clientPerMessageDeflate, serverPerMessageDeflate } from './extensions/permessage-deflate/negotiation.js';
export { pooledContextCount } from './extensions/permessage-deflate/zlib-pool.js';
