/**
 * ws's emulation of the browser's EventTarget on its WebSocket: `addEventListener`,
 * `removeEventListener` and the `onopen` / `onmessage` / `onclose` / `onerror` attributes,
 * with the event objects ws passes (text messages as strings, close reasons as strings).
 * Listeners are EventEmitter listeners underneath, so both styles can be mixed.
 */
import type { RawData } from './message-data.js';
import type { WebSocket } from './websocket.js';

export class Event {
  constructor(
    readonly type: string,
    readonly target: WebSocket,
  ) {}
}

export class MessageEvent extends Event {
  constructor(
    target: WebSocket,
    /** Text messages as a string; binary ones as `binaryType` says. */
    readonly data: string | RawData,
  ) {
    super('message', target);
  }
}

export class CloseEvent extends Event {
  constructor(
    target: WebSocket,
    readonly code: number,
    readonly reason: string,
    readonly wasClean: boolean,
  ) {
    super('close', target);
  }
}

export class ErrorEvent extends Event {
  readonly message: string;

  constructor(
    target: WebSocket,
    readonly error: unknown,
  ) {
    super('error', target);
    this.message = error instanceof Error ? error.message : String(error);
  }
}

export interface WebSocketEventTypes {
  open: Event;
  message: MessageEvent;
  close: CloseEvent;
  error: ErrorEvent;
}

export type EventType = keyof WebSocketEventTypes;

/** A function (called with the WebSocket as `this`) or an object with `handleEvent`. */
export type EventListener<E> = ((this: WebSocket, event: E) => void) | { handleEvent(event: E): void };

const EVENT_TYPES: ReadonlySet<string> = new Set<EventType>(['open', 'message', 'close', 'error']);

const kHandler = Symbol('wsforge.ws.handler');
const kAttribute = Symbol('wsforge.ws.onAttribute');

/** The EventEmitter listener standing for an EventTarget listener. */
interface ListenerWrapper {
  (this: WebSocket, ...args: unknown[]): void;
  [kHandler]: EventListener<never>;
  [kAttribute]: boolean;
}

function call(handler: EventListener<never>, target: WebSocket, event: Event): void {
  const h = handler as EventListener<Event>;
  if (typeof h === 'function') h.call(target, event);
  else h.handleEvent(event);
}

/** The event object for what the EventEmitter event carries. */
function eventFor(type: EventType, target: WebSocket, args: unknown[]): Event {
  switch (type) {
    case 'message':
      // Text as a string (its Buffer decoded), binary data as it came.
      return new MessageEvent(target, args[1] === true ? (args[0] as RawData) : (args[0] as Buffer).toString('utf8'));
    case 'close':
      return new CloseEvent(target, args[0] as number, (args[1] as Buffer).toString('utf8'), target.closedCleanly);
    case 'error':
      return new ErrorEvent(target, args[0]);
    case 'open':
      return new Event('open', target);
  }
}

function wrap(type: EventType, handler: EventListener<never>): ListenerWrapper {
  const wrapper = function (this: WebSocket, ...args: unknown[]): void {
    call(handler, this, eventFor(type, this, args));
  } as ListenerWrapper;
  wrapper[kHandler] = handler;
  wrapper[kAttribute] = false;
  return wrapper;
}

/** The EventEmitter underneath, untyped: EventTarget listeners take any event name. */
function emitter(target: WebSocket): NodeJS.EventEmitter {
  return target as unknown as NodeJS.EventEmitter;
}

function wrappers(target: WebSocket, type: string): ListenerWrapper[] {
  return emitter(target)
    .listeners(type)
    .filter((listener): listener is ListenerWrapper => kHandler in listener);
}

/**
 * Add a listener as EventTarget does: only for 'open', 'message', 'close' and 'error' (other
 * types are ignored, as ws does), once per handler, optionally `once`.
 */
export function addEventListener(target: WebSocket, type: string, handler: EventListener<never>, options?: { once?: boolean }): void {
  if (!EVENT_TYPES.has(type)) return;
  if (wrappers(target, type).some((w) => w[kHandler] === handler && !w[kAttribute])) return;
  const wrapper = wrap(type as EventType, handler);
  if (options?.once === true) emitter(target).once(type, wrapper);
  else emitter(target).on(type, wrapper);
}

/** Remove a listener added with `addEventListener` (not an `on*` attribute). */
export function removeEventListener(target: WebSocket, type: string, handler: EventListener<never>): void {
  const wrapper = wrappers(target, type).find((w) => w[kHandler] === handler && !w[kAttribute]);
  if (wrapper !== undefined) emitter(target).removeListener(type, wrapper);
}

/** The handler of an `on*` attribute, or null. */
export function getEventAttribute(target: WebSocket, type: EventType): EventListener<never> | null {
  return wrappers(target, type).find((w) => w[kAttribute])?.[kHandler] ?? null;
}

/** Set (or, with a non-function, clear) the handler of an `on*` attribute. */
export function setEventAttribute(target: WebSocket, type: EventType, handler: unknown): void {
  for (const wrapper of wrappers(target, type)) {
    if (wrapper[kAttribute]) emitter(target).removeListener(type, wrapper);
  }
  if (typeof handler !== 'function') return;
  const wrapper = wrap(type, handler as EventListener<never>);
  wrapper[kAttribute] = true;
  emitter(target).on(type, wrapper);
}
