/**
 * Fuzzing targets one after the other, each in its own worker thread, with a watchdog: an input
 * that runs longer than the hang limit is saved and the worker stopped (terminate() interrupts
 * even a loop that never yields). Crashes, hangs and leaks are saved under fuzz/findings/<target>/.
 */
import { Worker } from 'node:worker_threads';
import { corpusFolders, saveInput } from './corpus.js';
import type { FuzzStats, RetentionResult, WorkerMessage, WorkerOptions } from './worker-protocol.js';

export interface TargetSpec {
  readonly name: string;
  readonly moduleUrl: string;
  readonly exportName: string;
}

export interface CampaignOptions {
  readonly seconds: number;
  readonly maxExecs: number;
  readonly seed: number;
  readonly useGrown: boolean;
  readonly retentionSeconds: number;
  /** An input running longer than this is a hang. */
  readonly hangMs: number;
  /** Called about once a second while a target runs. */
  readonly onProgress?: (target: string, stats: FuzzStats) => void;
}

export interface Finding {
  readonly kind: 'crash' | 'hang' | 'leak' | 'worker-error';
  readonly message: string;
  readonly input: Buffer;
  /** Where the input was saved. */
  readonly path: string;
}

export interface TargetResult {
  readonly target: string;
  readonly stats: FuzzStats | null;
  readonly retention: RetentionResult | null;
  readonly findings: Finding[];
}

const WATCHDOG_MS = 100;

export function fuzzTarget(spec: TargetSpec, options: CampaignOptions): Promise<TargetResult> {
  const workerOptions: WorkerOptions = {
    moduleUrl: spec.moduleUrl,
    exportName: spec.exportName,
    seconds: options.seconds,
    maxExecs: options.maxExecs,
    seed: options.seed,
    useGrown: options.useGrown,
    retentionSeconds: options.retentionSeconds,
  };
  const worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: workerOptions });
  const findings: Finding[] = [];
  const folder = corpusFolders(spec.name).findings;
  let stats: FuzzStats | null = null;
  let retention: RetentionResult | null = null;
  let state: Int32Array | null = null;
  let inputView: Uint8Array | null = null;

  const record = (kind: Finding['kind'], message: string, input: Buffer): void => {
    findings.push({ kind, message, input, path: saveInput(folder, input, `${kind}-`) });
  };
  /** The input running now, read from the shared memory. */
  const currentInput = (): Buffer => (state === null || inputView === null ? Buffer.alloc(0) : Buffer.from(inputView.subarray(0, state[2]!)));

  return new Promise((resolve) => {
    let lastExecs = -1;
    let sameSince = Date.now();
    let stopping = false;
    const watchdog = setInterval(() => {
      if (state === null || stopping) return;
      const execs = Atomics.load(state, 1);
      const running = Atomics.load(state, 0) === 1;
      if (execs !== lastExecs || !running) {
        lastExecs = execs;
        sameSince = Date.now();
        return;
      }
      const stuck = Date.now() - sameSince;
      if (stuck > options.hangMs) {
        stopping = true;
        record('hang', `one input ran for more than ${options.hangMs} ms (stopped after ${stuck} ms)`, currentInput());
        void worker.terminate();
      }
    }, WATCHDOG_MS);

    worker.on('message', (message: WorkerMessage) => {
      switch (message.type) {
        case 'ready':
          state = new Int32Array(message.state);
          inputView = new Uint8Array(message.input);
          break;
        case 'progress':
          stats = statsOf(message);
          options.onProgress?.(spec.name, stats);
          break;
        case 'done':
          stats = statsOf(message);
          retention = message.retention;
          break;
        case 'finding':
          record(message.kind, message.message, Buffer.from(message.input));
          break;
      }
    });
    // An exception outside a run's call stack (a callback of an asynchronous target).
    worker.on('error', (error) => {
      if (stopping) return;
      record('worker-error', error.stack ?? String(error), currentInput());
    });
    worker.on('exit', () => {
      clearInterval(watchdog);
      resolve({ target: spec.name, stats, retention, findings });
    });
  });
}

function statsOf(message: FuzzStats): FuzzStats {
  const { execs, corpus, seeds, functions, coveredBytes, elapsedMs } = message;
  return { execs, corpus, seeds, functions, coveredBytes, elapsedMs };
}

/** Every target in turn. */
export async function fuzzTargets(specs: readonly TargetSpec[], options: CampaignOptions): Promise<TargetResult[]> {
  const results: TargetResult[] = [];
  for (const spec of specs) results.push(await fuzzTarget(spec, options));
  return results;
}
