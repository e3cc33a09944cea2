/**
 * The `maxSessionMemory` (MB) wsforge gives node:http2 sessions that carry WebSockets. node:http2
 * counts the data a stream has handed over and not yet sent against it, and while a session is
 * over it refuses every new header block with ENHANCE_YOUR_CALM: one WebSocket with a large
 * message queued would stop new WebSockets on the same connection (a browser's tabs share one).
 * wsforge bounds unsent data per connection itself, so the budget is node:http2's default 10 MB
 * plus room for two messages of `maxPayload`.
 */
const NODE_DEFAULT_SESSION_MEMORY = 10;

export function sessionMemoryFor(maxPayload: number): number {
  return NODE_DEFAULT_SESSION_MEMORY + 2 * Math.ceil(maxPayload / (1024 * 1024));
}
