import type { EventEmitter } from 'node:events';

/** Resolve after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reject with a message naming `what` if `promise` does not settle within `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** The arguments of the next `event` emitted by `emitter`, within `ms`. */
export function nextEvent<T extends unknown[] = unknown[]>(
  emitter: EventEmitter | NodeJS.EventEmitter,
  event: string,
  ms: number,
): Promise<T> {
  const target = emitter as NodeJS.EventEmitter;
  let listener: ((...args: unknown[]) => void) | undefined;
  const promise = new Promise<T>((resolve) => {
    listener = (...args: unknown[]) => resolve(args as T);
    target.once(event, listener);
  });
  return withTimeout(promise, ms, `event "${event}"`).finally(() => {
    if (listener !== undefined) target.off(event, listener);
  });
}

/** Poll `condition` every few ms until it holds, failing after `ms`. */
export async function waitUntil(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await delay(5);
  }
}
