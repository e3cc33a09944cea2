/**
 * wsforge/whatwg: the browser's WebSocket API (WHATWG WebSockets Standard) on Node.
 */
export { type BinaryType, WebSocket } from './node/whatwg/websocket.js';
export { CloseEvent, WebSocketMessageEvent } from './node/whatwg/events.js';
export {
  WebSocketStream,
  type WebSocketCloseInfo,
  type WebSocketOpenInfo,
  type WebSocketStreamOptions,
} from './node/whatwg/websocket-stream.js';
export { WebSocketError, type WebSocketErrorInit } from './node/whatwg/websocket-error.js';
