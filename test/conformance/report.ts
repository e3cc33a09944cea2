// npm run conformance: every case against every target; per-category counts, every failure with what was
// expected and what was seen, a JSON report in test-artifacts/conformance.json; exit 1 on any miss.
//
//   CONFORMANCE_TARGETS=server,client-lib,client-cli (default) | ws | all | any target names
//   CONFORMANCE_CASES=6.4,7.9.1 (id prefixes; default all)
//   CONFORMANCE_JSON=path (default test-artifacts/conformance.json)
// The same can be given as arguments: --targets=..., --cases=..., --json=...
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { CATEGORIES, checkTables, selectCases } from './cases/index.js';
import { runSuite, type SuiteReport } from './suite.js';
import { ROOT, selectTargets } from './targets.js';
import { formatFailure, formatSummary } from './format.js';

function arg(name: string): string | undefined {
  const a = process.argv.find((x) => x.startsWith(`--${name}=`));
  return a?.slice(name.length + 3);
}

async function main(): Promise<void> {
  checkTables(CATEGORIES);
  const targets = selectTargets(arg('targets') ?? process.env.CONFORMANCE_TARGETS);
  const cases = selectCases(arg('cases') ?? process.env.CONFORMANCE_CASES);
  const jsonPath = resolve(ROOT, arg('json') ?? process.env.CONFORMANCE_JSON ?? 'test-artifacts/conformance.json');
  console.log(`conformance: ${cases.length} cases × ${targets.map((t) => t.name).join(', ')}`);
  let done = 0;
  const total = cases.length * targets.length;
  const tick = setInterval(() => console.log(`  ... ${done}/${total} done`), 15000);
  let report: SuiteReport;
  try {
    report = await runSuite({ targets, cases, onResult: () => done++ });
  } finally {
    clearInterval(tick);
  }
  const failures = report.results.filter((r) => !r.passed);
  if (failures.length > 0) {
    console.log(`\nfailures (${failures.length}):\n`);
    // A target that did not run fails every case the same way: print it once.
    const notRun = new Set(report.targets.filter((t) => t.error !== null).map((t) => t.name));
    for (const name of notRun) console.log(`✗ ${name}: every case failed, the target did not run: ${report.targets.find((t) => t.name === name)!.error}\n`);
    for (const r of failures) if (!notRun.has(r.target)) console.log(formatFailure(r) + '\n');
  }
  console.log(`\n${formatSummary(report)}  (${(report.durationMs / 1000).toFixed(1)} s)`);
  mkdirSync(dirname(jsonPath), { recursive: true });
  writeFileSync(jsonPath, JSON.stringify(report, null, 2));
  console.log(`report written to ${jsonPath}`);
  process.exitCode = report.failed > 0 ? 1 : 0;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 2;
});
