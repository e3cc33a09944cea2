// Bounded waits for the interop tests: every wait has a deadline and says what it waited for,
// so a peer that goes quiet fails the test with a message instead of hanging the suite.
import { withTimeout } from '../helpers/timing.js';

/** Rejection handled in advance: a wait that times out before it is awaited is not "unhandled". */
export function markHandled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
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
    return markHandled(withTimeout(this.promise, ms, what));
  }
}
