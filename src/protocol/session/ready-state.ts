/** The connection's ready state (WHATWG WebSockets / RFC 6455 §4-§7) and its role. */

export const ReadyState = {
  CONNECTING: 0,
  OPEN: 1,
  CLOSING: 2,
  CLOSED: 3,
} as const;
export type ReadyState = (typeof ReadyState)[keyof typeof ReadyState];

/** Which end of the connection: a client masks what it sends (RFC 6455 §5.3), a server never does. */
export type Role = 'server' | 'client';
