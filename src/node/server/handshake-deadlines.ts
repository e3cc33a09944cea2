/**
 * One timer for every handshake in progress instead of one per connection: a sweep every quarter
 * of the timeout (at least 10 ms, at most 1 s) ends those past their deadline, so a handshake
 * times out at most a quarter of the timeout late and a connection costs no timer object.
 */

export interface HandshakeInProgress {
  /** Date.now() after which it times out. */
  readonly deadline: number;
  timedOut(): void;
}

export class HandshakeDeadlines {
  private readonly handshakes = new Set<HandshakeInProgress>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly timeout: number) {}

  get size(): number {
    return this.handshakes.size;
  }

  /** The deadline for a handshake starting now. */
  deadlineFromNow(): number {
    return Date.now() + this.timeout;
  }

  add(handshake: HandshakeInProgress): void {
    this.handshakes.add(handshake);
    if (this.timer === null) {
      this.timer = setInterval(sweep, Math.max(10, Math.min(1000, this.timeout / 4)), this);
      this.timer.unref();
    }
  }

  delete(handshake: HandshakeInProgress): void {
    this.handshakes.delete(handshake);
    if (this.handshakes.size === 0) this.stop();
  }

  /** End every handshake (the server is closing) and stop the timer. */
  abortAll(abort: (handshake: HandshakeInProgress) => void): void {
    const all = [...this.handshakes];
    this.handshakes.clear();
    this.stop();
    for (const handshake of all) abort(handshake);
  }

  /** @internal */
  sweep(): void {
    const now = Date.now();
    for (const handshake of this.handshakes) {
      if (handshake.deadline <= now) {
        this.handshakes.delete(handshake);
        handshake.timedOut();
      }
    }
    if (this.handshakes.size === 0) this.stop();
  }

  private stop(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}

function sweep(deadlines: HandshakeDeadlines): void {
  deadlines.sweep();
}
