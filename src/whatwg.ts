/**
 * wsforge/whatwg: the browser's WebSocket API (WHATWG WebSockets Standard) on Node.
 */
export { type BinaryType, CloseEvent, WebSocket, WebSocketMessageEvent } from './node/whatwg.js';
