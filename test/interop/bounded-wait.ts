// Bounded waits for the interop tests: every wait has a deadline and says what it waited for,
// so a peer that goes quiet fails the test with a message instead of hanging the suite.
import type { EventEmitter } from 'node:events';

/** Rejection handled in advance: a wait that times out before it is awaited is not "unhandled". */
export function markHandled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

/** Resolve as `promise` does, or reject after `ms` with "timed out ... waiting for <what>". */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return markHandled(Promise.race([promise, deadline]).finally(() => clearTimeout(timer)));
}

/** The arguments of the next `event` emitted by `emitter`, within `ms`. */
export function nextEvent<A extends unknown[]>(emitter: EventEmitter, event: string, ms: number, what = `'${event}'`): Promise<A> {
  let listener: ((...args: unknown[]) => void) | undefined;
  const fired = new Promise<A>((resolve) => {
    listener = (...args: unknown[]) => resolve(args as A);
    emitter.once(event, listener);
  });
  return markHandled(
    withTimeout(fired, ms, what).finally(() => {
      if (listener !== undefined) emitter.off(event, listener);
    }),
  );
}

/**
 * Items that arrive before anyone waits for them are kept: record events as they happen
 * (push) and take them in order later (next), each take bounded in time.
 */
export class EventQueue<T> {
  private readonly items: T[] = [];
  private readonly waiters: Array<(item: T) => void> = [];
  /** Everything ever pushed, for assertions on the whole history. */
  readonly history: T[] = [];

  constructor(private readonly name: string) {}

  push(item: T): void {
    this.history.push(item);
    const waiter = this.waiters.shift();
    if (waiter !== undefined) waiter(item);
    else this.items.push(item);
  }

  get size(): number {
    return this.items.length;
  }

  next(ms: number, what = `the next ${this.name}`): Promise<T> {
    if (this.items.length > 0) return Promise.resolve(this.items.shift()!);
    let waiter: ((item: T) => void) | undefined;
    const arrived = new Promise<T>((resolve) => {
      waiter = resolve;
      this.waiters.push(resolve);
    });
    return markHandled(
      withTimeout(arrived, ms, what).catch((error: unknown) => {
        const index = waiter === undefined ? -1 : this.waiters.indexOf(waiter);
        if (index !== -1) this.waiters.splice(index, 1);
        throw error;
      }),
    );
  }
}

/** A promise settled from outside, with a bounded wait. */
export class Deferred<T> {
  readonly promise: Promise<T>;
  resolve!: (value: T) => void;
  settled = false;

  constructor() {
    this.promise = new Promise<T>((resolve) => {
      this.resolve = (value: T) => {
        this.settled = true;
        resolve(value);
      };
    });
  }

  wait(ms: number, what: string): Promise<T> {
    return withTimeout(this.promise, ms, what);
  }
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
