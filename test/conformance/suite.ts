// Runs the selected cases against the selected targets, concurrently within a weighted pool, and summarises.
// Used by report.ts (npm run conformance) and conformance.test.ts (npm test).
import type { Case, Category } from './types.js';
import { Pool, runCase, type CaseResult } from './runner.js';
import type { TargetDefinition, TargetSession } from './targets.js';

/** Pool units; a light case takes 1, large-message cases and per-case client processes more. */
export const POOL_CAPACITY = 16;

/** Extra weight for targets that spawn a process per case (node start-up costs CPU that timing cases need). */
export function caseWeight(target: TargetDefinition, kase: Case): number {
  const spawnsPerCase = target.side === 'client' && target.name.endsWith('-cli');
  return Math.max(kase.weight ?? 1, spawnsPerCase ? 2 : 1);
}

export function appliesTo(kase: Case, target: TargetDefinition): boolean {
  if (kase.sides !== undefined && !kase.sides.includes(target.side)) return false;
  // Compression cases run where permessage-deflate can be negotiated; a target configured for compression
  // runs only those (its plain twin runs the rest).
  const compression = target.compression ?? (target.side === 'server' ? 'none' : 'per-case');
  if (kase.needs === 'permessage-deflate') return compression !== 'none';
  return compression !== 'only';
}

export interface TargetStatus {
  name: string;
  side: 'server' | 'client';
  describe: string;
  /** Why the target did not run (not built, failed to start), or null. */
  error: string | null;
}

export interface CategoryCount {
  target: string;
  category: string;
  name: string;
  passed: number;
  total: number;
}

export interface SuiteReport {
  startedAt: string;
  durationMs: number;
  node: string;
  targets: TargetStatus[];
  counts: CategoryCount[];
  passed: number;
  failed: number;
  results: CaseResult[];
}

export interface SuiteOptions {
  targets: TargetDefinition[];
  cases: { category: Category; kase: Case }[];
  capacity?: number;
  onResult?: (r: CaseResult) => void;
}

/** Starts a target, or returns why it cannot run. */
export async function startTarget(t: TargetDefinition): Promise<{ session: TargetSession | null; status: TargetStatus }> {
  const status: TargetStatus = { name: t.name, side: t.side, describe: t.describe, error: t.unavailable() };
  if (status.error !== null) return { session: null, status };
  try {
    const session = await t.start();
    status.describe = session.describe;
    return { session, status };
  } catch (err) {
    status.error = `failed to start: ${(err as Error).message}`;
    return { session: null, status };
  }
}

export async function runSuite(o: SuiteOptions): Promise<SuiteReport> {
  const started = Date.now();
  const pool = new Pool(o.capacity ?? POOL_CAPACITY);
  const started_ = await Promise.all(o.targets.map((t) => startTarget(t)));
  const results: CaseResult[] = [];
  const jobs: Promise<void>[] = [];
  try {
    // Interleave targets case by case so that all targets progress together and the heavy cases come last.
    for (const { category, kase } of o.cases) {
      o.targets.forEach((t, ti) => {
        if (!appliesTo(kase, t)) return;
        const { session, status } = started_[ti]!;
        if (session === null) {
          const r = unavailableResult(kase, category, status);
          results.push(r);
          o.onResult?.(r);
          return;
        }
        jobs.push(
          pool.run(caseWeight(t, kase), async () => {
            const r = await runCase(session, kase, category.id);
            results.push(r);
            o.onResult?.(r);
          }),
        );
      });
    }
    await Promise.all(jobs);
  } finally {
    await Promise.all(started_.map(({ session }) => session?.stop()));
  }
  const order = new Map(o.cases.map(({ kase }, i) => [kase.id, i]));
  const tIndex = new Map(o.targets.map((t, i) => [t.name, i]));
  results.sort((a, b) => tIndex.get(a.target)! - tIndex.get(b.target)! || order.get(a.id)! - order.get(b.id)!);
  const counts: CategoryCount[] = [];
  for (const t of o.targets) {
    const cats = new Map<string, Category>();
    for (const { category } of o.cases) cats.set(category.id, category);
    for (const cat of cats.values()) {
      const rs = results.filter((r) => r.target === t.name && r.category === cat.id);
      if (rs.length === 0) continue;
      counts.push({ target: t.name, category: cat.id, name: cat.name, passed: rs.filter((r) => r.passed).length, total: rs.length });
    }
  }
  const passed = results.filter((r) => r.passed).length;
  return {
    startedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    node: process.version,
    targets: started_.map((s) => s.status),
    counts,
    passed,
    failed: results.length - passed,
    results,
  };
}

export function unavailableResult(kase: Case, category: Category, status: TargetStatus): CaseResult {
  return {
    id: kase.id,
    category: category.id,
    description: kase.description,
    target: status.name,
    side: status.side,
    passed: false,
    expected: '',
    seen: 'target not running',
    problems: [`target ${status.name} unavailable: ${status.error ?? 'unknown'}`],
    durationMs: 0,
    frames: [],
    firstBytesHex: '',
    notes: [],
  };
}
