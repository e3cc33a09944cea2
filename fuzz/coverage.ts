/**
 * Code coverage as the fuzzer's feedback: V8's block coverage through node:inspector (the
 * Profiler domain's precise coverage, binary mode: each block ran or not since the last take).
 *
 * V8 reports, for every function that ran, its range and the ranges inside it that did not run,
 * and it merges neighbouring ranges with equal counts, so the same block can be reported as
 * different ranges from one run to another. What is compared is therefore the source text that
 * ran: for each function, its range minus the ranges that did not run. An input is new when
 * it ran source text of the core that no input had run before.
 */
import { Session } from 'node:inspector';

interface CoverageRange {
  readonly startOffset: number;
  readonly endOffset: number;
  readonly count: number;
}
interface FunctionCoverage {
  readonly ranges: readonly CoverageRange[];
}
interface ScriptCoverage {
  readonly scriptId: string;
  readonly url: string;
  readonly functions: readonly FunctionCoverage[];
}

/** Source intervals [start, end) that ran, sorted and disjoint. */
type Intervals = number[];

export class BlockCoverage {
  private readonly session = new Session();
  /** Per function ("script:start"), the source that any input ran. */
  private readonly covered = new Map<string, Intervals>();
  private coveredBytes = 0;

  constructor(private readonly scope: string) {}

  start(): void {
    this.session.connect();
    this.post('Profiler.enable');
    this.post('Profiler.startPreciseCoverage', { callCount: false, detailed: true });
  }

  stop(): void {
    this.post('Profiler.stopPreciseCoverage');
    this.session.disconnect();
  }

  /** Functions that ran at least once. */
  get functions(): number {
    return this.covered.size;
  }

  /** Bytes of the core's compiled source that ran at least once. */
  get bytes(): number {
    return this.coveredBytes;
  }

  /**
   * What ran since the last call (and reset V8's counters). With `record`, remember it;
   * returns whether it ran source that nothing had run before.
   */
  take(record: boolean): boolean {
    const scripts = this.post('Profiler.takePreciseCoverage') as { result: ScriptCoverage[] };
    let found = false;
    for (const script of scripts.result) {
      if (!script.url.includes(this.scope)) continue;
      for (const fn of script.functions) {
        const root = fn.ranges[0];
        if (root === undefined || root.count === 0) continue;
        const key = `${script.scriptId}:${root.startOffset}`;
        const ran = ranIntervals(fn.ranges);
        const known = this.covered.get(key);
        if (known !== undefined && contains(known, ran)) continue;
        found = true;
        if (!record) return true;
        const merged = known === undefined ? ran : union(known, ran);
        this.coveredBytes += size(merged) - (known === undefined ? 0 : size(known));
        this.covered.set(key, merged);
      }
    }
    return found;
  }

  /** Post a command; the inspector answers a session of the same thread synchronously. */
  private post(method: string, params?: object): unknown {
    let answer: unknown;
    let failure: Error | null = null;
    this.session.post(method, params, (error, result) => {
      failure = error;
      answer = result;
    });
    if (failure !== null) throw failure;
    return answer;
  }
}

/** The function's range minus its ranges that did not run. */
function ranIntervals(ranges: readonly CoverageRange[]): Intervals {
  const root = ranges[0]!;
  const holes = ranges
    .slice(1)
    .filter((range) => range.count === 0)
    .sort((x, y) => x.startOffset - y.startOffset);
  const out: Intervals = [];
  let at = root.startOffset;
  for (const hole of holes) {
    if (hole.startOffset > at) out.push(at, hole.startOffset);
    if (hole.endOffset > at) at = hole.endOffset;
  }
  if (root.endOffset > at) out.push(at, root.endOffset);
  return out;
}

/** Whether every interval of `inner` lies within `outer` (both sorted and disjoint). */
function contains(outer: Intervals, inner: Intervals): boolean {
  let j = 0;
  for (let i = 0; i < inner.length; i += 2) {
    const start = inner[i]!;
    const end = inner[i + 1]!;
    while (j < outer.length && outer[j + 1]! < end) j += 2;
    if (j >= outer.length || outer[j]! > start) return false;
  }
  return true;
}

function union(a: Intervals, b: Intervals): Intervals {
  const all: Array<[number, number]> = [];
  for (let i = 0; i < a.length; i += 2) all.push([a[i]!, a[i + 1]!]);
  for (let i = 0; i < b.length; i += 2) all.push([b[i]!, b[i + 1]!]);
  all.sort((x, y) => x[0] - y[0]);
  const out: Intervals = [];
  for (const [start, end] of all) {
    const last = out.length - 1;
    if (last > 0 && start <= out[last]!) out[last] = Math.max(out[last]!, end);
    else out.push(start, end);
  }
  return out;
}

function size(intervals: Intervals): number {
  let total = 0;
  for (let i = 0; i < intervals.length; i += 2) total += intervals[i + 1]! - intervals[i]!;
  return total;
}
