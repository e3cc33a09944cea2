/**
 * What happens when user code throws inside wsforge (a handler, a listener, a hook): the
 * connection goes on (other messages are delivered, the parser stays in step, nothing blames the
 * peer); the exception goes to the server's `error` handler when there is one, wrapped as
 * WSF_ERR_LISTENER_THREW with the exception as `cause`, and otherwise reaches process
 * 'uncaughtException' on the next tick, as an EventEmitter listener's exception would.
 */
import { CloseCode, ErrorCode, WebSocketError } from '../../protocol/errors.js';
import type { ConnectionHandlers } from './options.js';
import type { WebSocket } from './websocket.js';

export function listenerThrew(handlers: ConnectionHandlers, ws: WebSocket, thrown: unknown): void {
  const handler = handlers.error;
  if (handler === undefined) {
    rethrowLater(thrown);
    return;
  }
  const message = thrown instanceof Error ? thrown.message : String(thrown);
  try {
    handler(ws, new WebSocketError(ErrorCode.LISTENER_THREW, `a handler or listener threw: ${message}`, { cause: thrown, closeCode: CloseCode.INTERNAL_ERROR }));
  } catch (again) {
    rethrowLater(again);
  }
}

/** Throw `error` on the next tick, outside wsforge's stack. */
export function rethrowLater(error: unknown): void {
  process.nextTick(rethrow, error);
}

function rethrow(error: unknown): never {
  throw error;
}
