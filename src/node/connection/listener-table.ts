/**
 * The listener table of a connection, created when its first listener is added: a server that
 * uses `handlers` has none on any connection (EventEmitter's own table is a dictionary,
 * `{ __proto__: null }`, about 100 bytes more per connection than the table below).
 */
import { EventEmitter } from 'node:events';

/** The common event names pre-declared (others are added as they come, still in fast mode), no prototype. */
const EventTable = function (this: Record<string, unknown>) {
  this.message = undefined;
  this.close = undefined;
  this.error = undefined;
} as unknown as new () => object;
EventTable.prototype = Object.create(null) as object;

/** EventEmitter's own field holding the table. */
interface ListenerTableOwner {
  _events: Record<string, unknown> | undefined;
}

/** Start an emitter without a table (call in its constructor). */
export function withoutListenerTable(emitter: EventEmitter): void {
  (emitter as unknown as ListenerTableOwner)._events = undefined;
}

/** The table, or undefined when no listener was ever added. */
export function listenerTable(emitter: EventEmitter): Record<string, unknown> | undefined {
  return (emitter as unknown as ListenerTableOwner)._events;
}

/**
 * Give `prototype` listener methods that create the table first. Every way of adding a
 * listener goes through these (events.once() and events.on() call them too).
 */
export function createListenerTableOnFirstListener(prototype: EventEmitter): void {
  for (const name of ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener'] as const) {
    const add = EventEmitter.prototype[name] as (this: EventEmitter, ...args: unknown[]) => EventEmitter;
    Object.defineProperty(prototype, name, {
      value: function addListenerFirst(this: EventEmitter & ListenerTableOwner, ...args: unknown[]) {
        if (this._events === undefined) this._events = new EventTable() as Record<string, unknown>;
        return add.apply(this, args);
      },
      writable: true,
      configurable: true,
    });
  }
}
