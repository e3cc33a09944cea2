/**
 * One target's fuzzing, in a worker thread (so a hang can be stopped from outside): run the
 * corpus, then mutate entries and keep the mutants that reach new code, until the time is up;
 * then check that the heap does not grow with the number of inputs run.
 *
 * Coverage is taken once per batch of mutants (a take costs about as much as hundreds of small
 * inputs); only a batch that reached new code is run again input by input to find which ones.
 * Before each input, its bytes go to memory shared with the parent, which can then save the
 * input that hangs.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { BlockCoverage } from './coverage.js';
import { corpusFolders, readInputs, saveInput } from './corpus.js';
import { retainedBytes } from './heap.js';
import { Mutator } from './mutator.js';
import { Random } from './random.js';
import { type FuzzTarget, PROTOCOL_COVERAGE_SCOPE } from './target.js';
import type { RetentionResult, WorkerMessage, WorkerOptions } from './worker-protocol.js';

const BATCH = 96;
const PROGRESS_MS = 1000;
/** Heap growth between two retention rounds above which the target keeps something per input. */
const RETENTION_LIMIT = 512 * 1024;
/**
 * The same for the process's resident memory, which also holds what zlib allocates outside the
 * heap (a context that is never closed); it moves more on its own, hence the larger bound.
 */
const RESIDENT_LIMIT = 32 * 1024 * 1024;

const options = workerData as WorkerOptions;
const port = parentPort!;
const post = (message: WorkerMessage): void => port.postMessage(message);

const target = (await import(options.moduleUrl) as Record<string, FuzzTarget>)[options.exportName];
if (target === undefined) throw new Error(`${options.moduleUrl} has no export ${options.exportName}`);

// [0] 1 while an input runs, [1] inputs run, [2] length of the input in `inputView`.
const state = new Int32Array(new SharedArrayBuffer(12));
const inputView = new Uint8Array(new SharedArrayBuffer(Math.max(1, target.maxLength)));
post({ type: 'ready', state: state.buffer as SharedArrayBuffer, input: inputView.buffer as SharedArrayBuffer, maxLength: target.maxLength });

const random = new Random(options.seed);
const mutator = new Mutator(random, target.maxLength, target.dictionary);
const coverage = new BlockCoverage(target.coverageScope ?? PROTOCOL_COVERAGE_SCOPE);
const folders = corpusFolders(target.name);
const corpus: Buffer[] = [];
let seedCount = 0;
let crashed = false;
const started = Date.now();
// Errors are part of normal runs (every refused frame, handshake and parameter throws or makes one).
Error.stackTraceLimit = 0;

function stats(): WorkerMessage & { type: 'progress' } {
  return {
    type: 'progress',
    execs: state[1]!,
    corpus: corpus.length,
    seeds: seedCount,
    functions: coverage.functions,
    coveredBytes: coverage.bytes,
    elapsedMs: Date.now() - started,
  };
}

/** Run one input; false once it broke an invariant (reported). */
async function runOne(input: Buffer): Promise<boolean> {
  const length = Math.min(input.length, inputView.length);
  inputView.set(input.subarray(0, length));
  state[2] = length;
  Atomics.store(state, 0, 1);
  try {
    const result = target!.run(input);
    if (result !== undefined) await result;
  } catch (error) {
    Atomics.store(state, 0, 0);
    crashed = true;
    post({ type: 'finding', kind: 'crash', message: await describeCrash(input, error), input: Uint8Array.from(input) });
    return false;
  }
  Atomics.store(state, 0, 0);
  Atomics.add(state, 1, 1);
  return true;
}

/** The crash with a stack trace: inputs run without them (capturing one per error thrown cost a quarter of the time), so run it again with them. */
async function describeCrash(input: Buffer, first: unknown): Promise<string> {
  Error.stackTraceLimit = 50;
  try {
    const result = target!.run(input);
    if (result !== undefined) await result;
  } catch (again) {
    return describe(again);
  }
  return `${describe(first)}\n(the input did not fail when run again)`;
}

function describe(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return `non-Error thrown: ${String(error)}`;
}

async function fuzz(): Promise<void> {
  coverage.start();
  coverage.take(false); // module loading so far is not an input's coverage
  const seeds = readInputs(folders.seeds).map((entry) => entry.bytes);
  const grown = options.useGrown ? readInputs(folders.grown).map((entry) => entry.bytes) : [];
  const initial = seeds.length + grown.length > 0 ? [...seeds, ...grown] : [Buffer.alloc(0)];
  seedCount = seeds.length;
  for (const input of initial) {
    if (!(await runOne(input))) return;
    coverage.take(true);
    corpus.push(input);
  }

  const deadline = started + options.seconds * 1000;
  let lastProgress = Date.now();
  const batch: Buffer[] = [];
  while (Date.now() < deadline && (options.maxExecs === 0 || state[1]! < options.maxExecs)) {
    batch.length = 0;
    for (let i = 0; i < BATCH; i++) {
      const child = mutator.mutate(random.pick(corpus), random.pick(corpus));
      if (!(await runOne(child))) return;
      batch.push(child);
    }
    if (coverage.take(false)) {
      // Something in the batch ran new code: find which inputs, one by one.
      for (const child of batch) {
        if (!(await runOne(child))) return;
        if (coverage.take(true)) {
          corpus.push(child);
          if (options.useGrown) saveInput(folders.grown, child);
        }
      }
    }
    if (Date.now() - lastProgress >= PROGRESS_MS) {
      lastProgress = Date.now();
      post(stats());
    }
  }
  coverage.stop();
}

/**
 * Run the corpus round after round and watch the heap after full collections: an invariant
 * "nothing is retained after close" that single inputs cannot show. Growth in two successive
 * rounds past RETENTION_LIMIT is reported.
 */
async function checkRetention(): Promise<RetentionResult | null> {
  const elapsed = Math.max(1, Date.now() - started);
  const rate = (state[1]! * 1000) / elapsed;
  const perRound = Math.max(200, Math.min(20_000, Math.round(rate * options.retentionSeconds / 3)));
  let next = 0;
  const round = async (): Promise<boolean> => {
    for (let i = 0; i < perRound; i++) {
      if (!(await runOne(corpus[next]!))) return false;
      next = (next + 1) % corpus.length;
    }
    return true;
  };
  if (!(await round())) return null; // warm-up: caches and compiled code settle
  const heap = [retainedBytes()];
  const resident = [process.memoryUsage.rss()];
  for (let i = 0; i < 2; i++) {
    if (!(await round())) return null;
    heap.push(retainedBytes());
    resident.push(process.memoryUsage.rss());
  }
  const growth = [heap[1]! - heap[0]!, heap[2]! - heap[1]!];
  const residentGrowth = [resident[1]! - resident[0]!, resident[2]! - resident[1]!];
  const kib = (values: number[]): string => values.map((g) => `${(g / 1024).toFixed(0)} KiB`).join(' then ');
  if (growth.every((g) => g > RETENTION_LIMIT) || residentGrowth.every((g) => g > RESIDENT_LIMIT)) {
    post({
      type: 'finding',
      kind: 'leak',
      message: `over two rounds of ${perRound} inputs (corpus of ${corpus.length}) the heap grew by ${kib(growth)}, resident memory by ${kib(residentGrowth)}`,
      input: Uint8Array.from(corpus[0]!),
    });
  }
  return { inputsPerRound: perRound, growth, residentGrowth };
}

await fuzz();
const fuzzStats = stats();
const retention = crashed || options.retentionSeconds === 0 ? null : await checkRetention();
post({ ...fuzzStats, type: 'done', retention });
