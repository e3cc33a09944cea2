// `node build/bench/cli-logging.js`: what its log costs `wsforge serve`, in handshakes per second.
//
// The CLI server (echo mode) runs pinned to CPU 0 with its log off (--quiet) or on, written to a file,
// to a pipe (read by this runner) or to a terminal (a pty drained by `script` on CPU 1); the C loadgen
// runs `--mode connect` (50 handshakes in flight) on CPU 1. Variants are interleaved within each
// repetition and their order rotates between repetitions; a run disturbed by other load (other processes
// used more than 10% of a CPU) is repeated, keeping the calmest. The report gives medians, (min-max) and
// the ratio to --quiet, and the server's CPU time per handshake over the measured window (less sensitive
// to other load on a shared machine than the rate). `--before DIR` adds the same runs for another checkout's build (DIR/dist/cli/main.js),
// e.g. the CLI before its log was batched.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ManagedProcess, machineBusy, readCpuSeconds, readForeignCpuSeconds, sleep } from './proc.js';
import { acquireLock } from './run-lock.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const LOADGEN = join(ROOT, 'bench', 'bin', 'loadgen');
const HOST = '127.0.0.1';
const TARGETS = ['quiet', 'file', 'pipe', 'tty'] as const;
type Target = (typeof TARGETS)[number];
/** Other processes' CPU during a run above which it is repeated (fraction of one CPU). */
const DISTURBED = 0.1;

const USAGE = `usage: node build/bench/cli-logging.js [options]

  --reps N        repetitions (default 3)
  --duration S    measured seconds per run (default 5)
  --warmup S      seconds before measuring (default 1)
  --targets a,b   log targets: ${TARGETS.join(', ')} (default all; tty needs script(1))
  --retries N     repeat a run disturbed by other load up to N times, keeping the calmest (default 1)
  --before DIR    also measure DIR/dist/cli/main.js (another checkout, built)
  --out FILE      write the report there too (markdown)
  --help
`;

interface Variant {
  cli: string;
  cliLabel: string;
  target: Target;
}

interface Run {
  variant: Variant;
  rep: number;
  handshakesPerS: number | null;
  /** Server CPU time per handshake in the measured window, µs. */
  cpuPerHandshakeUs: number | null;
  otherLoad: number;
  error?: string;
}

function quote(arg: string): string {
  return `'${arg.replace(/'/g, `'\\''`)}'`;
}

async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, HOST, resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Resolves once something accepts TCP connections on `port` (bounded). */
async function waitAccepting(port: number, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = netConnect({ host: HOST, port });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listening on ${HOST}:${port} after ${ms} ms`);
    await sleep(50);
  }
}

/** The server process for a variant; its log goes where the variant says. */
function startServer(variant: Variant, port: number, logFile: string): ManagedProcess {
  const serve = [process.execPath, variant.cli, 'serve', '--host', HOST, '--port', String(port), '--mode', 'echo'];
  if (variant.target === 'quiet') serve.push('--quiet');
  const command = serve.map(quote).join(' ');
  switch (variant.target) {
    case 'quiet':
    case 'pipe':
      return new ManagedProcess('taskset', ['-c', '0', ...serve], { cwd: ROOT });
    case 'file':
      // exec keeps the PID: taskset -> sh -> node
      return new ManagedProcess('taskset', ['-c', '0', 'sh', '-c', `exec ${command} > ${quote(logFile)}`], { cwd: ROOT });
    case 'tty':
      // script(1) gives the server a pseudo-terminal and drains it, as a terminal emulator would (on CPU 1).
      return new ManagedProcess(
        'taskset',
        ['-c', '1', 'sh', '-c', `exec script -qfec ${quote(`exec taskset -c 0 ${command}`)} /dev/null > /dev/null`],
        { cwd: ROOT },
      );
  }
}

/** Child PIDs of `pid` (to stop the server that script(1) started, by its PID). */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter((x) => x !== '').map(Number);
  } catch {
    return [];
  }
}

async function runOnce(variant: Variant, rep: number, duration: number, warmup: number, tmp: string): Promise<Run> {
  // wait (bounded, 60 s) for a quiet machine: < 15% of all CPU time busy
  for (let i = 0; i < 40 && (await machineBusy(500)) >= 0.15; i++) await sleep(1000);
  const port = await freePort();
  const server = startServer(variant, port, join(tmp, `serve-${rep}-${variant.target}.log`));
  let loadgen: ManagedProcess | undefined;
  const grandchildren: number[] = [];
  try {
    await waitAccepting(port, 15_000);
    if (variant.target === 'tty') for (const child of childrenOf(server.pid)) grandchildren.push(child);
    loadgen = new ManagedProcess(
      'taskset',
      ['-c', '1', LOADGEN, '--host', HOST, '--port', String(port), '--mode', 'connect', '--concurrency', '50', '--duration', String(duration), '--warmup', String(warmup)],
      { cwd: ROOT },
    );
    const ours = new Set([process.pid, server.pid, loadgen.pid, ...grandchildren]);
    // The node process that serves: the server itself, or the one script(1) started.
    const node = grandchildren[0] ?? server.pid;
    let cpu0: number | null = null;
    let cpu1: number | null = null;
    let foreign0 = 0;
    let foreign1 = 0;
    let t0 = 0;
    let t1 = 0;
    loadgen.onLine((line) => {
      // sampled synchronously as the loadgen announces its measured window
      if (line === 'MEASURE start') {
        cpu0 = readCpuSeconds(node);
        foreign0 = readForeignCpuSeconds(ours);
        t0 = Date.now();
      } else if (line === 'MEASURE end') {
        cpu1 = readCpuSeconds(node);
        foreign1 = readForeignCpuSeconds(ours);
        t1 = Date.now();
      }
    });
    if (!(await loadgen.waitExit((warmup + duration + 60) * 1000))) throw new Error('loadgen did not finish');
    const window = (t1 - t0) / 1000;
    const otherLoad = window > 0 ? Math.max(0, foreign1 - foreign0) / window : 0;
    const line = [...loadgen.lines].reverse().find((l) => l.trim().startsWith('{'));
    const json = line === undefined ? null : (JSON.parse(line) as { ok?: boolean; handshakes_per_s?: number; error?: string });
    if (json === null || json.ok !== true || typeof json.handshakes_per_s !== 'number') {
      throw new Error(`loadgen: ${json?.error ?? loadgen.describeExit()} ${loadgen.stderrTail()}`);
    }
    if (!server.running) throw new Error(`server exited (${server.describeExit()}) ${server.stderrTail()}`);
    const cpuPerHandshakeUs =
      cpu0 !== null && cpu1 !== null && window > 0 ? ((cpu1 - cpu0) / (json.handshakes_per_s * window)) * 1e6 : null;
    return { variant, rep, handshakesPerS: json.handshakes_per_s, cpuPerHandshakeUs, otherLoad };
  } catch (error) {
    return { variant, rep, handshakesPerS: null, cpuPerHandshakeUs: null, otherLoad: 0, error: (error as Error).message };
  } finally {
    await loadgen?.stop(2000);
    await server.stop(3000);
    for (const pid of grandchildren) {
      try {
        process.kill(pid, 'SIGKILL'); // the server script(1) started, if the pty's hangup did not end it
      } catch {
        // gone
      }
    }
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function report(runs: Run[], variants: Variant[], settings: { reps: number; duration: number; warmup: number }): string {
  const lines = [
    `# wsforge serve: handshakes/s with and without its log`,
    '',
    `${new Date().toISOString().slice(0, 10)}, ${os.cpus()[0]?.model ?? 'CPU'} (${os.cpus().length} cores), Node ${process.version}, ` +
      `${settings.reps} interleaved repetitions of ${settings.warmup}+${settings.duration} s; server on CPU 0, loadgen on CPU 1 ` +
      '(`loadgen --mode connect --concurrency 50`). Command: `node build/bench/cli-logging.js ' + process.argv.slice(2).join(' ') + '`.',
    '',
    '| CLI | log | handshakes/s, median (min-max) | vs --quiet | server CPU µs/handshake | vs --quiet | other load |',
    '|---|---|---|---|---|---|---|',
  ];
  for (const variant of variants) {
    const mine = runs.filter((r) => r.variant === variant && r.handshakesPerS !== null);
    const values = mine.map((r) => r.handshakesPerS!);
    const quiet = runs.filter((r) => r.variant.cli === variant.cli && r.variant.target === 'quiet' && r.handshakesPerS !== null).map((r) => r.handshakesPerS!);
    const cell = values.length === 0 ? 'failed' : `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}-${Math.max(...values).toFixed(0)})`;
    const ratio = values.length === 0 || quiet.length === 0 ? '' : `${(median(values) / median(quiet)).toFixed(2)}×`;
    const load = mine.length === 0 ? '' : `${(Math.max(...mine.map((r) => r.otherLoad)) * 100).toFixed(0)}% of a CPU at most`;
    const target = variant.target === 'quiet' ? '--quiet' : `to a ${variant.target === 'tty' ? 'terminal (pty)' : variant.target}`;
    const cpu = mine.map((r) => r.cpuPerHandshakeUs).filter((v): v is number => v !== null);
    const quietCpu = runs
      .filter((r) => r.variant.cli === variant.cli && r.variant.target === 'quiet')
      .map((r) => r.cpuPerHandshakeUs)
      .filter((v): v is number => v !== null);
    const cpuCell = cpu.length === 0 ? '' : `${median(cpu).toFixed(0)} (${Math.min(...cpu).toFixed(0)}-${Math.max(...cpu).toFixed(0)})`;
    const cpuRatio = cpu.length === 0 || quietCpu.length === 0 ? '' : `${(median(cpu) / median(quietCpu)).toFixed(2)}×`;
    lines.push(`| ${variant.cliLabel} | ${target} | ${cell} | ${ratio} | ${cpuCell} | ${cpuRatio} | ${load} |`);
  }
  const failed = runs.filter((r) => r.error !== undefined);
  if (failed.length > 0) {
    lines.push('', ...failed.map((r) => `- failed: ${r.variant.cliLabel} ${r.variant.target} rep ${r.rep}: ${r.error}`));
  }
  return `${lines.join('\n')}\n`;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      reps: { type: 'string', default: '3' },
      duration: { type: 'string', default: '5' },
      warmup: { type: 'string', default: '1' },
      targets: { type: 'string' },
      retries: { type: 'string', default: '1' },
      before: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const settings = { reps: Number(values.reps), duration: Number(values.duration), warmup: Number(values.warmup) };
  if (!(settings.reps >= 1 && settings.duration > 0 && settings.warmup >= 0)) throw new Error('--reps, --duration and --warmup need positive numbers');
  const retries = Number(values.retries);
  if (!(retries >= 0)) throw new Error('--retries needs a number >= 0');
  const targets = (values.targets?.split(',') ?? [...TARGETS]) as Target[];
  for (const target of targets) if (!TARGETS.includes(target)) throw new Error(`unknown target "${target}" (known: ${TARGETS.join(', ')})`);
  if (targets.includes('tty') && spawnSync('script', ['--version']).status !== 0) throw new Error('the tty target needs script(1) (util-linux)');
  const clis: Array<[string, string]> = [[join(ROOT, 'dist', 'cli', 'main.js'), 'this checkout']];
  if (values.before !== undefined) clis.push([join(values.before, 'dist', 'cli', 'main.js'), `before (${values.before})`]);
  for (const [cli] of clis) if (!existsSync(cli)) throw new Error(`${cli} is missing (npm run build)`);
  mkdirSync(join(ROOT, 'bench', 'bin'), { recursive: true });
  if (spawnSync('cc', ['-O2', '-o', LOADGEN, join(ROOT, 'bench', 'loadgen.c')]).status !== 0) throw new Error('building the loadgen failed');

  const lockNote = await acquireLock(1200, (text) => process.stdout.write(`${text}\n`));
  if (lockNote !== null) process.stdout.write(`cli-logging: ${lockNote}\n`);
  const variants: Variant[] = clis.flatMap(([cli, cliLabel]) => targets.map((target) => ({ cli, cliLabel, target })));
  const tmp = mkdtempSync(join(os.tmpdir(), 'wsforge-cli-logging-'));
  const runs: Run[] = [];
  try {
    for (let rep = 1; rep <= settings.reps; rep++) {
      const shift = (rep - 1) % variants.length;
      for (const variant of [...variants.slice(shift), ...variants.slice(0, shift)]) {
        let run = await runOnce(variant, rep, settings.duration, settings.warmup, tmp);
        for (let retry = 1; retry <= retries && run.handshakesPerS !== null && run.otherLoad > DISTURBED; retry++) {
          process.stdout.write(`  rep ${rep} ${variant.cliLabel} ${variant.target.padEnd(5)} disturbed (other load ${(run.otherLoad * 100).toFixed(0)}%), again\n`);
          const again = await runOnce(variant, rep, settings.duration, settings.warmup, tmp);
          if (again.handshakesPerS !== null && again.otherLoad < run.otherLoad) run = again;
        }
        runs.push(run);
        const value =
          run.handshakesPerS === null
            ? `FAILED: ${run.error}`
            : `${run.handshakesPerS.toFixed(0)} handshakes/s, ${run.cpuPerHandshakeUs?.toFixed(0) ?? '?'} µs CPU each`;
        process.stdout.write(`  rep ${rep} ${variant.cliLabel} ${variant.target.padEnd(5)} ${value} (other load ${(run.otherLoad * 100).toFixed(0)}%)\n`);
      }
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  const text = report(runs, variants, settings);
  process.stdout.write(`\n${text}`);
  if (values.out !== undefined) writeFileSync(values.out, text);
  return runs.some((r) => r.handshakesPerS === null) ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`cli-logging: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
  },
);
