/**
 * Liveness without a timer per connection: connections stamp a coarse clock when data arrives
 * and when a message goes either way, and one sweep per server (and one for all client
 * connections) checks the stamps: a connection silent for `pingInterval` gets a ping; one that
 * stays silent `pingTimeout` longer is closed (1011, or dropped when even the close cannot be
 * written); one with no message either way for `idleTimeout` is closed (1001). The sweep runs
 * every quarter of the shortest of these (at least 50 ms, at most 1 s) and looks at every
 * connection, as uWebSockets' timeout sweep does: a comparison of two small integers each.
 */

/** The clock's unit: stamps are small integers (V8 keeps them unboxed in the connection). */
export const CLOCK_UNIT_MS = 100;
const START = Date.now();

let clock = 0;

/** The coarse time now, in CLOCK_UNIT_MS units since the process loaded this module. */
export function coarseNow(): number {
  return clock;
}

function advanceClock(): number {
  clock = Math.floor((Date.now() - START) / CLOCK_UNIT_MS);
  return clock;
}

/** Milliseconds to clock units, rounded up (a timeout never fires early). */
export function toClockUnits(ms: number): number {
  return Math.ceil(ms / CLOCK_UNIT_MS);
}

export interface KeepaliveMember {
  /** Ping, or close, as due at `now` (clock units). */
  keepaliveCheck(now: number): void;
}

/** One sweep over a set of connections. */
export class KeepaliveSweep {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    readonly period: number,
    private readonly members: () => Iterable<KeepaliveMember> & { readonly size: number },
  ) {}

  /** The sweep period for these timeouts (ms; 0 = off), or 0 when all are off. */
  static periodFor(...timeouts: number[]): number {
    const enabled = timeouts.filter((timeout) => timeout > 0);
    if (enabled.length === 0) return 0;
    return Math.max(50, Math.min(1000, Math.floor(Math.min(...enabled) / 4)));
  }

  /** A connection joined: make sure the sweep runs. */
  joined(): void {
    advanceClock();
    if (this.timer === null) {
      this.timer = setInterval(sweep, this.period, this);
      this.timer.unref();
    }
  }

  /** @internal */
  sweep(): void {
    const members = this.members();
    if (members.size === 0) {
      if (this.timer !== null) clearInterval(this.timer);
      this.timer = null;
      return;
    }
    const now = advanceClock();
    for (const member of members) member.keepaliveCheck(now);
  }
}

function sweep(sweeper: KeepaliveSweep): void {
  sweeper.sweep();
}
