/**
 * How servers in several processes or on several machines share publishes: an adapter carries
 * a server's publishes to the others and brings theirs back, over an existing engine (the
 * cluster primary over IPC, Redis pub/sub). A server calls it; it never calls a connection.
 */

export interface PubSubAdapter {
  /**
   * Called once, when a server starts using the adapter: `deliver` hands a message published
   * elsewhere to this server's local subscribers (and never back to the adapter).
   */
  attach(deliver: (topic: string, payload: Buffer, isBinary: boolean) => void): void;
  /** This server has its first local subscriber of `topic`. */
  subscribe(topic: string): void;
  /** This server's last local subscriber of `topic` left. */
  unsubscribe(topic: string): void;
  /** A message published on this server: carry it to every other server (this one serves its own subscribers). */
  publish(topic: string, payload: Buffer, isBinary: boolean): void;
  /** Stop: drop every subscription and release the engine's connections. */
  close(): Promise<void>;
}
