/**
 * wsforge/ws: the API of ws 8 (`ws` on npm), server and client, on wsforge's engine. A ws user
 * moves by changing the import: `import { WebSocketServer } from 'wsforge/ws'`, or
 * `require('wsforge/ws')`, which gives what `require('ws')` gives (the WebSocket class with
 * `.WebSocketServer`, `.Server` and `.createWebSocketStream`). What differs from ws, and
 * why, is listed in docs/MIGRATING.md.
 */
import { WebSocketServer } from './server.js';
import { createWebSocketStream } from './stream.js';
import { WebSocket } from './websocket.js';

WebSocket.WebSocket = WebSocket;
WebSocket.WebSocketServer = WebSocketServer;
WebSocket.Server = WebSocketServer;
WebSocket.createWebSocketStream = createWebSocketStream;

export { WebSocket, WebSocketServer, WebSocketServer as Server, createWebSocketStream };
// What `require('wsforge/ws')` returns (Node's require() of an ES module), as `require('ws')`.
export { WebSocket as 'module.exports' };
export default WebSocket;

export type { SendCallback, SendOptions, WebSocketEventMap } from './websocket.js';
export type { UpgradeCallback, WebSocketServerEventMap } from './server.js';
export type {
  PerMessageDeflateOptions,
  ServerOptions,
  VerifyClientCallbackAsync,
  VerifyClientCallbackSync,
  VerifyClientInfo,
  WebSocketClass,
} from './options.js';
export type { BinaryType, RawData, WsSendData } from './message-data.js';
export { CloseEvent, ErrorEvent, Event, MessageEvent, type EventListener, type WebSocketEventTypes } from './events.js';
export type { WsError } from './errors.js';
export type { ClientOptions } from './client-options.js';
export type { ClientUpgradeRequest } from './client-request.js';
