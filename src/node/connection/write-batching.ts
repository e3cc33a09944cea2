/**
 * One write per connection per event-loop turn: everything a connection sends while handling
 * one read (an echo, a reply) is written right after that read, and what it sends from timers
 * or other connections' reads (a broadcast) at the end of the turn. The pipelined echo is 10x
 * ws's because of this (README "Performance"). This module owns the per-turn state shared by
 * all connections: the queue of connections to flush, the connection being read, and the join
 * cache below.
 */

/** A connection with output to write. */
export interface Flushable {
  flush(): void;
}

let flushQueue: Flushable[] = [];
/** The connection whose read is being handled, if any: it flushes when the read is done. */
let reading: Flushable | null = null;
let flushScheduled = false;

/** Mark `connection` as being read; returns the connection read before (reads can nest). */
export function beginRead(connection: Flushable): Flushable | null {
  const outer = reading;
  reading = connection;
  return outer;
}

export function endRead(outer: Flushable | null): void {
  reading = outer;
}

/** Output became pending on `connection`: write it at the end of this turn, unless it is being read. */
export function outputPending(connection: Flushable): void {
  if (reading === connection) return;
  flushQueue.push(connection);
  if (!flushScheduled) {
    flushScheduled = true;
    process.nextTick(flushAll);
  }
}

function flushAll(): void {
  // Flushing can schedule more output (a 'drain' handler that sends): loop until quiet.
  while (flushQueue.length > 0) {
    const queue = flushQueue;
    flushQueue = [];
    for (let i = 0; i < queue.length; i++) queue[i]!.flush();
  }
  flushScheduled = false;
  lastPieces = null;
  lastJoined = null;
}

/**
 * Pending output up to this size is joined into one buffer (one write); above, the pieces go
 * out as they are with one writev (copying large frames costs more than a few extra writes).
 */
const JOIN_LIMIT = 8 * 1024;
// The pieces joined last and the result. A broadcast appends the same frame objects to every
// connection, in the same order: the first connection flushed joins them, the others reuse the
// join, so K broadcasts in one turn cost one copy and one write per socket (broadcast-burst in
// bench/: 17x ws). Cleared when the turn's flush ends.
let lastPieces: Buffer[] | null = null;
let lastJoined: Buffer | null = null;

/** One buffer for the pieces, or null when they are too large to copy (write them as they are). */
export function joinPieces(pieces: Buffer[]): Buffer | null {
  const count = pieces.length;
  if (lastPieces !== null && lastPieces.length === count) {
    let same = true;
    for (let i = 0; i < count; i++) {
      if (pieces[i] !== lastPieces[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastJoined;
  }
  let total = 0;
  for (let i = 0; i < count; i++) total += pieces[i]!.length;
  if (total > JOIN_LIMIT) return null;
  const joined = Buffer.concat(pieces, total);
  lastPieces = pieces;
  lastJoined = joined;
  // Make sure the remembered join is dropped at the end of this turn.
  if (!flushScheduled) {
    flushScheduled = true;
    process.nextTick(flushAll);
  }
  return joined;
}
