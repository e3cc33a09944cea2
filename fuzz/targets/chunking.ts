/**
 * Ways to cut one byte stream into reads: the receiver must report the same events and send the
 * same bytes whatever the cuts (TCP promises no boundaries). Every plan also cuts at `mustCut`,
 * where the owner acts, so the action lands at the same stream position in each.
 */
import { Random } from '../random.js';

/** The end offset of each read, increasing, the last one the stream's length. */
export type ChunkPlan = number[];

export function wholeStream(length: number, mustCut: number | null): ChunkPlan {
  return normalize([length], length, mustCut);
}

export function byteByByte(length: number, mustCut: number | null): ChunkPlan {
  const plan: number[] = [];
  for (let i = 1; i <= length; i++) plan.push(i);
  return normalize(plan, length, mustCut);
}

/** Reads of random sizes, mostly small (headers split at every place), sometimes large. */
export function randomCuts(length: number, mustCut: number | null, seed: number): ChunkPlan {
  const random = new Random(seed);
  const plan: number[] = [];
  let at = 0;
  while (at < length) {
    at += random.oneIn(4) ? 1 + random.below(length) : random.skewed(16);
    plan.push(Math.min(at, length));
  }
  return normalize(plan, length, mustCut);
}

function normalize(plan: number[], length: number, mustCut: number | null): ChunkPlan {
  const cuts = new Set(plan.filter((end) => end > 0 && end <= length));
  if (mustCut !== null && mustCut > 0) cuts.add(mustCut);
  cuts.add(length);
  return [...cuts].filter((end) => end > 0).sort((a, b) => a - b);
}

/**
 * Feed `stream` in the plan's reads: each run works on its own copy (a receiver unmasks in
 * place), and each read is a slice of that copy, as reads of one socket are slices of its buffers.
 */
export function feedReads(stream: Buffer, plan: ChunkPlan, onRead: (chunk: Buffer, end: number) => void): void {
  const copy = Buffer.from(stream);
  let start = 0;
  for (let i = 0; i < plan.length; i++) {
    const end = plan[i]!;
    onRead(copy.subarray(start, end), end);
    start = end;
  }
}
