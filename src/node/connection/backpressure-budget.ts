/**
 * The memory budget for unsent data of a server's connections. A connection whose socket is not
 * draining holds what it is asked to send in its own queue (no write requests pile up on the
 * socket); the budget counts those bytes across connections, a frame shared by a broadcast once
 * however many connections hold it, plus a small cost per reference. When the total passes the
 * limit, the connections holding the most are dropped first (slow consumers, close 1008), until
 * it is back under 75% of the limit (those holding nearly as much go too). Without a budget, 5,000 peers that never read pushed a
 * broadcasting server past 4 GiB before any one reached its own limit.
 */
import { getHeapStatistics } from 'node:v8';
import { isSharedFrame } from '../../protocol/frame/prepared.js';

/**
 * What a held reference costs besides its bytes: its slot in the connection's queue and the
 * garbage each flush of a backed-up connection leaves (measured in test/attacks/: with 5,000
 * non-reading peers of a broadcast, the heap grew about twice as fast as 16 bytes a reference).
 */
export const HELD_PIECE_COST = 48;

/**
 * Default limit: a quarter of V8's heap limit (1 GiB with Node's default limit on a machine
 * with 16 GiB or more; `--max-old-space-size` moves it), so unsent data cannot push the process
 * out of memory.
 */
export function defaultTotalBackpressure(): number {
  return Math.floor(getHeapStatistics().heap_size_limit / 4);
}

/** A connection that holds output in the budget. */
export interface BudgetHolder {
  /** Bytes this connection holds, shared frames included in full (to find the largest holders). */
  heldBytes: number;
  /** Drop the connection: over the budget, it holds the most. */
  dropForBudget(): void;
}

export class BackpressureBudget {
  /** Bytes counted now. */
  total = 0;
  private readonly holders = new Set<BudgetHolder>();
  /** Shared frames held, with how many holds each: counted once. */
  private readonly shared = new Map<Buffer, number>();

  constructor(readonly limit: number) {}

  /** How many connections hold output now. */
  get holderCount(): number {
    return this.holders.size;
  }

  /** Count `piece` (now held by `holder`), then enforce the limit. */
  hold(holder: BudgetHolder, piece: Buffer): void {
    holder.heldBytes += piece.length + HELD_PIECE_COST;
    if (isSharedFrame(piece)) {
      const holds = this.shared.get(piece) ?? 0;
      this.total += holds === 0 ? piece.length + HELD_PIECE_COST : HELD_PIECE_COST;
      this.shared.set(piece, holds + 1);
    } else {
      this.total += piece.length + HELD_PIECE_COST;
    }
    this.holders.add(holder);
    if (this.total > this.limit) this.enforce();
  }

  /** Forget `pieces` held by `holder` (written, or the connection is gone). */
  release(holder: BudgetHolder, pieces: readonly Buffer[]): void {
    let own = 0;
    let removed = 0;
    for (const piece of pieces) {
      own += piece.length + HELD_PIECE_COST;
      const holds = this.shared.get(piece);
      if (holds === undefined) {
        removed += piece.length + HELD_PIECE_COST;
      } else if (holds === 1) {
        this.shared.delete(piece);
        removed += piece.length + HELD_PIECE_COST;
      } else {
        this.shared.set(piece, holds - 1);
        removed += HELD_PIECE_COST;
      }
    }
    holder.heldBytes -= own;
    this.total -= removed;
    if (holder.heldBytes === 0) this.holders.delete(holder);
  }

  /**
   * Drop the largest holders until the total is under 75% of the limit, and with them every
   * holder that holds nearly as much as the last one dropped (90% of it or more): many peers that
   * hold alike (the non-readers of a broadcast) go together, not one round at a time.
   */
  private enforce(): void {
    const largestFirst = [...this.holders].sort((a, b) => b.heldBytes - a.heldBytes);
    const target = this.limit * 0.75;
    let lastDropped = Infinity;
    for (const holder of largestFirst) {
      if (this.total <= target && holder.heldBytes < lastDropped * 0.9) break;
      lastDropped = holder.heldBytes;
      holder.dropForBudget();
    }
  }

}
