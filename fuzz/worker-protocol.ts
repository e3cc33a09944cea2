/** What the fuzzing parent and a target's worker tell each other. */

export interface WorkerOptions {
  /** The module that exports the target, and the export's name. */
  readonly moduleUrl: string;
  readonly exportName: string;
  readonly seconds: number;
  /** Stop after this many inputs (0: only the time counts). */
  readonly maxExecs: number;
  readonly seed: number;
  /** Start from (and add to) the grown corpus, not only the committed seeds. */
  readonly useGrown: boolean;
  /** Time for the heap retention check after fuzzing; 0 skips it. */
  readonly retentionSeconds: number;
}

export interface FuzzStats {
  readonly execs: number;
  readonly corpus: number;
  readonly seeds: number;
  readonly functions: number;
  readonly coveredBytes: number;
  readonly elapsedMs: number;
}

export interface RetentionResult {
  readonly inputsPerRound: number;
  /** Heap growth (bytes) over each of two rounds after a warm-up round. */
  readonly growth: number[];
  /** Resident memory growth (bytes) over the same rounds (zlib's memory is outside the heap). */
  readonly residentGrowth: number[];
}

export type WorkerMessage =
  | { type: 'ready'; state: SharedArrayBuffer; input: SharedArrayBuffer; maxLength: number }
  | ({ type: 'progress' } & FuzzStats)
  | ({ type: 'done'; retention: RetentionResult | null } & FuzzStats)
  | { type: 'finding'; kind: 'crash' | 'leak'; message: string; input: Uint8Array };
