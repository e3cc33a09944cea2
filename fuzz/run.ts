/**
 * `npm run fuzz -- [--seconds N] [--target NAME] [--seed S] [--runs N] [--seeds-only]`: fuzz every
 * target (or one) for N seconds each, print inputs/s, corpus size, coverage and findings, and
 * exit 1 on any crash, hang (an input running over 1 s) or heap growth.
 * `npm run fuzz -- --target NAME --replay FILE...`: run saved inputs through the target, with stack traces.
 */
import { fuzzTargets, type TargetResult } from './campaign.js';
import { replayInputs } from './replay.js';
import { TARGETS } from './targets/index.js';
import type { FuzzStats } from './worker-protocol.js';

interface Arguments {
  seconds: number;
  target: string | null;
  seed: number;
  runs: number;
  useGrown: boolean;
  replay: string[];
}

function usage(problem: string): never {
  console.error(`${problem}\nusage: npm run fuzz -- [--seconds N] [--target ${TARGETS.map((t) => t.name).join('|')}] [--seed S] [--runs N] [--seeds-only]\n       npm run fuzz -- --target NAME --replay FILE...`);
  process.exit(2);
}

function parseArguments(argv: readonly string[]): Arguments {
  const parsed: Arguments = { seconds: 10, target: null, seed: Date.now() >>> 0, runs: 0, useGrown: true, replay: [] };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i]!;
    if (flag === '--seeds-only') {
      parsed.useGrown = false;
      continue;
    }
    if (flag === '--replay') {
      parsed.replay = argv.slice(i + 1);
      if (parsed.replay.length === 0) usage('--replay needs files');
      break;
    }
    const value = argv[++i];
    if (value === undefined) usage(`${flag} needs a value`);
    const number = Number(value);
    switch (flag) {
      case '--seconds':
        if (!(number > 0)) usage('--seconds must be a positive number');
        parsed.seconds = number;
        break;
      case '--target':
        if (!TARGETS.some((t) => t.name === value)) usage(`unknown target ${value}`);
        parsed.target = value;
        break;
      case '--seed':
        if (!Number.isInteger(number)) usage('--seed must be an integer');
        parsed.seed = number >>> 0;
        break;
      case '--runs':
        if (!Number.isInteger(number) || number < 1) usage('--runs must be a positive integer');
        parsed.runs = number;
        break;
      default:
        usage(`unknown argument ${flag}`);
    }
  }
  if (parsed.replay.length > 0 && parsed.target === null) usage('--replay needs --target');
  return parsed;
}

const group = (n: number): string => Math.round(n).toLocaleString('en-US');

function line(name: string, stats: FuzzStats): string {
  const seconds = stats.elapsedMs / 1000;
  return (
    `${name.padEnd(22)} ${group(stats.execs).padStart(12)} inputs in ${seconds.toFixed(0).padStart(4)} s ` +
    `(${group(stats.execs / Math.max(seconds, 0.001)).padStart(7)}/s), corpus ${group(stats.corpus).padStart(5)} ` +
    `(${stats.seeds} seeds), coverage ${stats.functions} functions / ${(stats.coveredBytes / 1024).toFixed(1)} KiB of code`
  );
}

const args = parseArguments(process.argv.slice(2));
const specs = args.target === null ? TARGETS : TARGETS.filter((t) => t.name === args.target);
if (args.replay.length > 0) {
  const replayed = await replayInputs(specs[0]!, args.replay);
  for (const { path, failure } of replayed) console.log(`${path}: ${failure ?? 'keeps every invariant'}`);
  process.exit(replayed.some((r) => r.failure !== null) ? 1 : 0);
}
console.log(`fuzzing ${specs.map((s) => s.name).join(', ')} for ${args.seconds} s each, seed ${args.seed}, node ${process.version}`);

/** Progress every 30 s of each target. */
const lastPrint = new Map<string, number>();
const results: TargetResult[] = await fuzzTargets(specs, {
  seconds: args.seconds,
  maxExecs: args.runs,
  seed: args.seed,
  useGrown: args.useGrown,
  retentionSeconds: 3,
  hangMs: 1000,
  onProgress(target, stats) {
    if (stats.elapsedMs - (lastPrint.get(target) ?? 0) < 30_000) return;
    lastPrint.set(target, stats.elapsedMs);
    console.log(`  ... ${line(target, stats)}`);
  },
});

let findings = 0;
let total = 0;
console.log('');
for (const result of results) {
  if (result.stats !== null) {
    total += result.stats.execs;
    const signed = (values: number[]): string => values.map((g) => `${g >= 0 ? '+' : ''}${(g / 1024).toFixed(0)} KiB`).join(' ');
    const retention =
      result.retention === null ? '' : `\n${''.padEnd(22)} retention: heap ${signed(result.retention.growth)}, resident ${signed(result.retention.residentGrowth)} per ${group(result.retention.inputsPerRound)} inputs`;
    console.log(line(result.target, result.stats) + retention);
  } else {
    findings++;
    console.log(`${result.target.padEnd(22)} did not finish (its worker stopped before reporting)`);
  }
  const crashes = result.findings.filter((f) => f.kind === 'crash' || f.kind === 'worker-error').length;
  const hangs = result.findings.filter((f) => f.kind === 'hang').length;
  const leaks = result.findings.filter((f) => f.kind === 'leak').length;
  console.log(`${''.padEnd(22)} crashes ${crashes}, hangs ${hangs}, leaks ${leaks}`);
  for (const finding of result.findings) {
    findings++;
    console.log(`\n${result.target}: ${finding.kind}, input saved to ${finding.path}`);
    console.log(`input (${finding.input.length} bytes): ${finding.input.toString('hex').slice(0, 2048)}`);
    console.log(finding.message);
  }
}
console.log(`\ntotal ${group(total)} inputs, ${findings} findings`);
process.exit(findings === 0 ? 0 : 1);
