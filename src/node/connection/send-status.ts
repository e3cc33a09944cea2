/**
 * What `send()` (and `sendPrepared`, `publish` per subscriber) did with a message. The values
 * are uWebSockets.js's, so `if (!ws.send(data))` still means "wait for 'drain'".
 */
export const SendStatus = {
  /** Queued, and `bufferedAmount` is at or above the high-water mark: wait for 'drain'. */
  BACKPRESSURE: 0,
  /** Queued (or written). */
  SENT: 1,
  /** Not queued: the connection already held more than `maxBackpressure` unsent bytes. */
  DROPPED: 2,
} as const;
export type SendStatus = (typeof SendStatus)[keyof typeof SendStatus];
