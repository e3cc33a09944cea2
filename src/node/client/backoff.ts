/**
 * Exponential backoff with jitter for reconnecting clients, as a pure function (the random
 * source is a parameter, so tests are deterministic). Jitter spreads the reconnects of many
 * clients after a server restart over time instead of all at once (python websockets draws
 * its first delay at random for the same reason).
 */

export interface ReconnectOptions {
  /** Delay before the first retry, ms; default 1000. */
  initialDelay?: number;
  /** Largest delay, ms; default 30000. */
  maxDelay?: number;
  /** Each further retry waits this many times longer; default 2. */
  factor?: number;
  /**
   * 0-1: how much of each delay is random; default 0.5 (a delay d is drawn from [d/2, d]).
   * 0 gives the exact delays, 1 "full jitter" (anywhere in [0, d]).
   */
  jitter?: number;
  /** Failed attempts in a row that are retried before the client gives up; default Infinity. */
  maxRetries?: number;
}

export const DEFAULT_RECONNECT_INITIAL_DELAY = 1000;
export const DEFAULT_RECONNECT_MAX_DELAY = 30_000;
export const DEFAULT_RECONNECT_FACTOR = 2;
export const DEFAULT_RECONNECT_JITTER = 0.5;

/**
 * The delay before retry number `retry` (0 for the first): min(maxDelay, initialDelay *
 * factor^retry), less a random share of up to `jitter` of it. `random` returns [0, 1).
 */
export function backoffDelay(retry: number, options: ReconnectOptions = {}, random: () => number = Math.random): number {
  const initial = options.initialDelay ?? DEFAULT_RECONNECT_INITIAL_DELAY;
  const max = options.maxDelay ?? DEFAULT_RECONNECT_MAX_DELAY;
  const factor = options.factor ?? DEFAULT_RECONNECT_FACTOR;
  const jitter = Math.min(1, Math.max(0, options.jitter ?? DEFAULT_RECONNECT_JITTER));
  // factor^retry overflows to Infinity for large retries; min() then caps it at maxDelay
  // (and 0 * Infinity would be NaN: a zero initial delay stays zero).
  const base = initial === 0 ? 0 : Math.min(max, initial * factor ** retry);
  return Math.round(base * (1 - jitter * random()));
}
