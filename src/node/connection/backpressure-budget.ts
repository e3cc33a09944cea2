/**
 * The memory budget for unsent data of a server's connections. A connection whose socket is not
 * draining holds what it is asked to send in its own queue (no write requests pile up on the
 * socket); the budget counts those bytes across connections, a frame shared by a broadcast once
 * however many connections hold it, plus a small cost per reference. When the total passes the
 * limit, connections are dropped (slow consumers, close 1008) until the total is back under 75%
 * of the limit, those whose socket has taken nothing for the longest time first. Without a
 * budget, 5,000 peers that never read pushed a broadcasting server past 4 GiB before any one
 * reached its own limit.
 *
 * Why the stall and not the bytes: in a broadcast every holder holds the same shared frames, so
 * bytes barely tell a peer that never reads from a good one that fell a moment behind (a busy
 * client process, a lost packet), and dropping one holder of a shared frame frees only its
 * reference. A peer that reads makes progress: its socket drains, and its stall starts over.
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
  /** Bytes this connection holds, shared frames included in full. */
  heldBytes: number;
  /** When its socket last made progress (it began to hold, or held output was written): performance.now(). */
  stalledSince: number;
  /** Drop the connection: the server is over its budget and this connection has been stalled longest. */
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
    if (holder.heldBytes === 0) holder.stalledSince = performance.now();
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
    // Written: the socket drained, so the peer reads; what it still holds starts a new stall.
    if (holder.heldBytes === 0) this.holders.delete(holder);
    else holder.stalledSince = performance.now();
  }

  /**
   * Drop the holders stalled longest until the total is under 75% of the limit, and with them
   * every holder stalled nearly as long as the last one dropped (90% of its stall or more): peers
   * that stopped reading together (the non-readers of a broadcast) go together, not one round at
   * a time.
   */
  private enforce(): void {
    const longestStalledFirst = [...this.holders].sort((a, b) => a.stalledSince - b.stalledSince || b.heldBytes - a.heldBytes);
    const target = this.limit * 0.75;
    const now = performance.now();
    let lastStall = Infinity;
    for (const holder of longestStalledFirst) {
      const stall = now - holder.stalledSince;
      if (this.total <= target && stall < lastStall * 0.9) break;
      lastStall = stall;
      holder.dropForBudget();
    }
  }
}
