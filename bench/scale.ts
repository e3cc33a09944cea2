// The scaling workloads of `npm run bench`: wsforge/cluster (one port served by several workers) and
// wsforge/redis (servers sharing publishes through Redis), against one worker and against ws with the
// Redis fan-out its users write by hand. Driven by the same C loadgen; every server process's CPU is
// counted (the cluster primary and its workers, both servers of a pair). See bench/README.md "Scaling".
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { join } from 'node:path';
import { ManagedProcess, readCpuSeconds, readForeignCpuSeconds, sleep } from './proc.js';
import { formatNumber, median } from './report.js';

export const SCALE_WORKLOAD_NAMES = ['workers-echo', 'workers-publish', 'workers-publish-hop', 'redis-fanout'] as const;
export type ScaleWorkloadName = (typeof SCALE_WORKLOAD_NAMES)[number];

export function isScaleWorkload(name: string): name is ScaleWorkloadName {
  return (SCALE_WORKLOAD_NAMES as readonly string[]).includes(name);
}

export interface ScaleContext {
  reps: number;
  duration: number;
  warmup: number;
  receivers: number;
  quietWaitS: number;
  stamp: string;
  root: string;
  loadgen: string;
  rawDir: string;
  pinned: boolean;
  /** Servers the run may use (`--server`): ws variants need 'ws'. */
  servers: readonly string[];
  log: (text: string) => void;
  waitQuiet: (limitS: number) => Promise<number>;
}

interface ServerSpec {
  script: string;
  args: string[];
  /** Lines announcing a port: one per server entry point, in the loadgen's --ports order. */
  portLines: RegExp;
  ports: number;
}

interface Variant {
  label: string;
  server: 'wsforge' | 'ws';
  servers: ServerSpec[];
  serverCpus: string;
  loadgenCpus: string;
  redis: boolean;
}

interface ScaleWorkload {
  name: ScaleWorkloadName;
  description: (ctx: ScaleContext) => string;
  unit: string;
  loadgenArgs: (ctx: ScaleContext) => string[];
  value: (json: Record<string, unknown>) => number;
  variants: (ctx: ScaleContext) => Variant[];
  /** What the latency columns per port mean, in --ports order. */
  portNames?: [string, string];
}

interface PortLatency {
  p50: number;
  p99: number;
}

export interface ScaleRun {
  workload: string;
  variant: string;
  rep: number;
  ok: boolean;
  error?: string;
  value?: number;
  /** CPUs used by every server process over the window (1 = one core busy). */
  serverCpu?: number;
  redisCpu?: number;
  loadgenCpu?: number;
  otherLoad?: number;
  p50?: number;
  p99?: number;
  byPort?: PortLatency[];
}

export interface ScaleResult {
  workload: ScaleWorkload;
  description: string;
  runs: ScaleRun[];
}

const HOST = '127.0.0.1';
const LISTENING = /^listening on ws:\/\/[\d.]+:(\d+)$/;
const WORKER_LISTENING = /^worker \d+ listening on ws:\/\/[\d.]+:(\d+)$/;

function scalePath(root: string, name: string): string {
  return join(root, 'bench', 'servers', name);
}

function wsforgeServer(root: string, args: string[], workerPorts = false): ServerSpec {
  return {
    script: scalePath(root, 'wsforge-scale-server.mjs'),
    args: [...args, ...(workerPorts ? ['--worker-ports'] : [])],
    portLines: workerPorts ? WORKER_LISTENING : LISTENING,
    ports: workerPorts ? 2 : 1,
  };
}

const WORKLOADS: readonly ScaleWorkload[] = [
  {
    name: 'workers-echo',
    description: () =>
      '100 connections, 32 B text, 16 in flight each (echo-small-pipelined), against one process and against a wsforge/cluster of 2 workers on the same port; messages echoed per second, and per CPU-second of all server processes',
    unit: 'msg/s',
    loadgenArgs: () => ['--mode', 'echo', '--conns', '100', '--size', '32', '--text', '--inflight', '16'],
    value: (j) => Number(j.msgs_per_s),
    variants: (ctx) => [
      { label: '1 worker', server: 'wsforge', servers: [wsforgeServer(ctx.root, ['--mode', 'echo', '--workers', '1'])], serverCpus: '0', loadgenCpus: '1', redis: false },
      { label: '2 workers', server: 'wsforge', servers: [wsforgeServer(ctx.root, ['--mode', 'echo', '--workers', '2'])], serverCpus: '0,1', loadgenCpus: '0,1', redis: false },
    ],
  },
  {
    name: 'workers-publish',
    description: (ctx) =>
      `${ctx.receivers} receivers + 1 publisher, 32 B text, 1 message outstanding; every client subscribes to one topic, each message is published to it (wss.publish); one process, or 2 workers with half the receivers on the publisher's worker and half on the other (each worker also listens on a port of its own so the loadgen can choose); receiver deliveries per second, latency from publishing to delivery`,
    unit: 'deliveries/s',
    loadgenArgs: (ctx) => ['--mode', 'broadcast', '--conns', String(ctx.receivers), '--size', '32', '--text', '--inflight', '1'],
    value: (j) => Number(j.deliveries_per_s),
    portNames: ["publisher's worker", 'other worker'],
    variants: (ctx) => [
      { label: '1 worker', server: 'wsforge', servers: [wsforgeServer(ctx.root, ['--mode', 'publish', '--workers', '1'])], serverCpus: '0', loadgenCpus: '1', redis: false },
      { label: '2 workers', server: 'wsforge', servers: [wsforgeServer(ctx.root, ['--mode', 'publish', '--workers', '2'], true)], serverCpus: '0,1', loadgenCpus: '0,1', redis: false },
    ],
  },
  {
    name: 'workers-publish-hop',
    description: () =>
      '10 receivers (5 on each of 2 workers) + 1 publisher, 32 B text, 1 message outstanding: the fan-out is small, so the latency is mostly the hop itself (worker, primary, worker over IPC) against local delivery',
    unit: 'deliveries/s',
    loadgenArgs: () => ['--mode', 'broadcast', '--conns', '10', '--size', '32', '--text', '--inflight', '1'],
    value: (j) => Number(j.deliveries_per_s),
    portNames: ["publisher's worker", 'other worker'],
    variants: (ctx) => [
      { label: '2 workers', server: 'wsforge', servers: [wsforgeServer(ctx.root, ['--mode', 'publish', '--workers', '2'], true)], serverCpus: '0,1', loadgenCpus: '0,1', redis: false },
    ],
  },
  {
    name: 'redis-fanout',
    description: (ctx) =>
      `two servers on one Redis, ${ctx.receivers} receivers split between them + 1 publisher on the first, 32 B text, 1 message outstanding; wsforge: topics with wsforge/redis (local subscribers served directly, the other server through Redis); ws: what ws users write (every message PUBLISHed to Redis, a subscriber on each server loops over wss.clients); receiver deliveries per second, latency from publishing to delivery`,
    unit: 'deliveries/s',
    loadgenArgs: (ctx) => ['--mode', 'broadcast', '--conns', String(ctx.receivers), '--size', '32', '--text', '--inflight', '1'],
    value: (j) => Number(j.deliveries_per_s),
    portNames: ["publisher's server", 'other server'],
    variants: (ctx) => {
      const pair = (spec: () => ServerSpec): ServerSpec[] => [spec(), spec()];
      // ws first: the ratio line reads wsforge / ws.
      return [
        {
          label: 'ws',
          server: 'ws',
          servers: pair(() => ({ script: scalePath(ctx.root, 'ws-redis-server.mjs'), args: ['--redis', 'REDIS_URL'], portLines: LISTENING, ports: 1 })),
          serverCpus: '0',
          loadgenCpus: '1',
          redis: true,
        },
        { label: 'wsforge', server: 'wsforge', servers: pair(() => wsforgeServer(ctx.root, ['--mode', 'publish', '--redis', 'REDIS_URL'])), serverCpus: '0', loadgenCpus: '1', redis: true },
      ];
    },
  },
];

/** utime + stime of a process and all its live descendants (a cluster primary and its workers). */
function treeCpuSeconds(root: number): number {
  const parent = new Map<number, number>();
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      parent.set(pid, Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // gone
    }
  }
  let total = 0;
  for (const pid of parent.keys()) {
    for (let p: number | undefined = pid; p !== undefined && p > 1; p = parent.get(p)) {
      if (p === root) {
        total += readCpuSeconds(pid) ?? 0;
        break;
      }
    }
  }
  return total;
}

function treePids(root: number): number[] {
  const out = [root];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === root) out.push(pid);
    } catch {
      // gone
    }
  }
  return out;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, HOST, () => {
      const address = probe.address();
      probe.close(() => resolve(typeof address === 'object' && address !== null ? address.port : 0));
    });
  });
}

function pinned(ctx: ScaleContext, cpus: string, command: string, args: readonly string[]): [string, string[]] {
  return ctx.pinned ? ['taskset', ['-c', cpus, command, ...args]] : [command, [...args]];
}

async function startRedisServer(ctx: ScaleContext): Promise<{ process: ManagedProcess; url: string; dir: string }> {
  if (spawnSync('redis-server', ['--version']).status !== 0) throw new Error('redis-server is not installed: apt-get install redis-server');
  if (!existsSync(join(ctx.root, 'node_modules', 'redis', 'package.json'))) throw new Error('node_modules/redis is missing (npm install)');
  const port = await freePort();
  const dir = mkdtempSync(join(os.tmpdir(), 'wsforge-bench-redis-'));
  const [cmd, args] = pinned(ctx, '1', 'redis-server', ['--port', String(port), '--bind', HOST, '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning']);
  const process = new ManagedProcess(cmd, args, { cwd: ctx.root });
  const deadline = Date.now() + 10000;
  for (;;) {
    const pong = spawnSync('redis-cli', ['-p', String(port), 'PING'], { encoding: 'utf8' });
    if (pong.stdout?.trim() === 'PONG') break;
    if (!process.running || Date.now() > deadline) throw new Error(`redis-server did not start ${process.stderrTail()}`);
    await sleep(50);
  }
  return { process, url: `redis://${HOST}:${port}`, dir };
}

async function runVariant(ctx: ScaleContext, w: ScaleWorkload, v: Variant, rep: number): Promise<ScaleRun> {
  const run: ScaleRun = { workload: w.name, variant: v.label, rep, ok: false };
  const processes: ManagedProcess[] = [];
  let redis: { process: ManagedProcess; url: string; dir: string } | null = null;
  try {
    await ctx.waitQuiet(ctx.quietWaitS);
    if (v.redis) redis = await startRedisServer(ctx);
    const ports: number[] = [];
    const servers: ManagedProcess[] = [];
    for (const spec of v.servers) {
      const args = spec.args.map((a) => (a === 'REDIS_URL' ? redis!.url : a));
      const quoted = [process.execPath, spec.script, '--host', HOST, '--port', '0', ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
      const [cmd, cmdArgs] = pinned(ctx, v.serverCpus, 'sh', ['-c', `ulimit -n "$(ulimit -Hn)" && exec ${quoted}`]);
      const server = new ManagedProcess(cmd, cmdArgs, { cwd: ctx.root });
      processes.push(server);
      servers.push(server);
      await server.waitForLine((l) => LISTENING.test(l), 20000, 'server start');
      const found = server.lines.map((l) => spec.portLines.exec(l)?.[1]).filter((p): p is string => p !== undefined);
      if (found.length < spec.ports) throw new Error(`expected ${spec.ports} port line(s), got ${found.length}`);
      ports.push(...found.slice(0, spec.ports).map(Number));
    }
    const lgArgs = ['--host', HOST, '--ports', ports.join(','), ...w.loadgenArgs(ctx), '--duration', String(ctx.duration), '--warmup', String(ctx.warmup)];
    const [cmd, args] = pinned(ctx, v.loadgenCpus, ctx.loadgen, lgArgs);
    const lg = new ManagedProcess(cmd, args, { cwd: ctx.root });
    processes.push(lg);
    let t0 = 0n;
    let cpu0 = 0;
    let redis0 = 0;
    let foreign0 = 0;
    let lg0 = 0;
    const ours = (): Set<number> => new Set([process.pid, lg.pid, ...(redis === null ? [] : [redis.process.pid]), ...servers.flatMap((s) => treePids(s.pid))]);
    lg.onLine((line) => {
      if (line === 'MEASURE start') {
        t0 = process.hrtime.bigint();
        cpu0 = servers.reduce((sum, s) => sum + treeCpuSeconds(s.pid), 0);
        redis0 = redis === null ? 0 : (readCpuSeconds(redis.process.pid) ?? 0);
        lg0 = readCpuSeconds(lg.pid) ?? 0;
        foreign0 = readForeignCpuSeconds(ours());
      } else if (line === 'MEASURE end' && t0 !== 0n) {
        const dt = Number(process.hrtime.bigint() - t0) / 1e9;
        run.serverCpu = (servers.reduce((sum, s) => sum + treeCpuSeconds(s.pid), 0) - cpu0) / dt;
        if (redis !== null) run.redisCpu = ((readCpuSeconds(redis.process.pid) ?? 0) - redis0) / dt;
        run.loadgenCpu = ((readCpuSeconds(lg.pid) ?? 0) - lg0) / dt;
        run.otherLoad = Math.max(0, readForeignCpuSeconds(ours()) - foreign0) / dt;
      }
    });
    const timeoutMs = (ctx.warmup + ctx.duration + 150) * 1000;
    if (!(await lg.waitExit(timeoutMs))) throw new Error(`loadgen still running after ${timeoutMs / 1000} s`);
    const line = [...lg.lines].reverse().find((l) => l.trim().startsWith('{'));
    if (line === undefined) throw new Error(`loadgen printed no result (${lg.describeExit()}) ${lg.stderrTail()}`);
    const json = JSON.parse(line) as Record<string, unknown>;
    if (json.ok !== true) throw new Error(`loadgen: ${String(json.error ?? 'failed')} ${lg.stderrTail()}`);
    run.value = w.value(json);
    const latency = json.latency_us as { p50?: number; p99?: number } | undefined;
    if (latency?.p50 !== undefined) run.p50 = latency.p50;
    if (latency?.p99 !== undefined) run.p99 = latency.p99;
    const byPort = json.latency_by_port_us as Array<{ p50: number; p99: number }> | undefined;
    if (byPort !== undefined) run.byPort = byPort.map((p) => ({ p50: p.p50, p99: p.p99 }));
    for (const s of servers) if (!s.running) throw new Error(`a server exited during the run ${s.stderrTail()}`);
    if (!(run.value > 0)) throw new Error('no progress during the measured window');
    run.ok = true;
  } catch (error) {
    run.error = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  } finally {
    for (const p of processes.reverse()) await p.stop(5000);
    if (redis !== null) {
      await redis.process.stop(2000);
      rmSync(redis.dir, { recursive: true, force: true });
    }
  }
  mkdirSync(ctx.rawDir, { recursive: true });
  writeFileSync(join(ctx.rawDir, `${ctx.stamp}-${w.name}-${v.label.replace(/\s+/g, '')}-r${rep}.json`), `${JSON.stringify(run, null, 2)}\n`);
  return run;
}

export async function runScaleWorkload(name: ScaleWorkloadName, ctx: ScaleContext): Promise<ScaleResult> {
  const w = WORKLOADS.find((x) => x.name === name)!;
  const variants = w.variants(ctx).filter((v) => ctx.servers.includes(v.server));
  const runs: ScaleRun[] = [];
  for (let rep = 1; rep <= ctx.reps; rep++) {
    const shift = (rep - 1) % Math.max(1, variants.length);
    for (const v of [...variants.slice(shift), ...variants.slice(0, shift)]) {
      const r = await runVariant(ctx, w, v, rep);
      runs.push(r);
      const detail = r.ok
        ? `${formatNumber(r.value!)} ${w.unit} (servers ${((r.serverCpu ?? 0) * 100).toFixed(0)}% CPU${r.redisCpu === undefined ? '' : `, redis ${(r.redisCpu * 100).toFixed(0)}%`}, other load ${((r.otherLoad ?? 0) * 100).toFixed(0)}%)`
        : `FAILED: ${r.error}`;
      ctx.log(`  ${w.name.padEnd(21)} rep ${rep} ${v.label.padEnd(10)} ${detail}`);
    }
  }
  return { workload: w, description: w.description(ctx), runs };
}

function med(runs: readonly ScaleRun[], pick: (r: ScaleRun) => number | undefined): number | undefined {
  const values = runs.map(pick).filter((x): x is number => x !== undefined && Number.isFinite(x));
  return values.length === 0 ? undefined : median(values);
}

const show = (v: number | undefined, digits = 0): string => (v === undefined ? '–' : digits > 0 ? v.toFixed(digits) : formatNumber(v));
const ms = (us: number | undefined): string => (us === undefined ? '–' : (us / 1000).toFixed(2));

/** The "Scaling" section of the report: per workload, one row per variant (medians over repetitions). */
export function renderScaleSection(results: readonly ScaleResult[]): string {
  if (results.length === 0) return '';
  const out: string[] = ['', '## Scaling: wsforge/cluster and wsforge/redis', ''];
  out.push(
    'Server CPU is the CPU of every server process over the measured window (the cluster primary and its workers; both servers of a Redis pair), in cores; per CPU-second = the rate divided by it. Redis CPU is separate. Medians over repetitions; latencies in ms.',
    '',
  );
  for (const { workload: w, description, runs } of results) {
    out.push(`### ${w.name}`, '', description, '');
    const ports = w.portNames;
    out.push(
      `| variant | ${w.unit} (min–max) | server CPU | ${w.unit.split('/')[0]} per server CPU-second | redis CPU | p50 | p99 |${ports === undefined ? '' : ` ${ports[0]} p50 / p99 | ${ports[1]} p50 / p99 |`} other load |`,
      `|---|---|---|---|---|---|---|${ports === undefined ? '' : '---|---|'}---|`,
    );
    const labels = [...new Set(runs.map((r) => r.variant))];
    const rows = new Map<string, { value?: number; perCpu?: number }>();
    for (const label of labels) {
      const ok = runs.filter((r) => r.variant === label && r.ok);
      const failed = runs.filter((r) => r.variant === label && !r.ok);
      if (ok.length === 0) {
        out.push(`| ${label} | FAILED: ${failed[0]?.error ?? 'no run'} |`);
        continue;
      }
      const value = med(ok, (r) => r.value);
      const cpu = med(ok, (r) => r.serverCpu);
      const perCpu = med(ok, (r) => (r.serverCpu ? r.value! / r.serverCpu : undefined));
      rows.set(label, { ...(value === undefined ? {} : { value }), ...(perCpu === undefined ? {} : { perCpu }) });
      const values = ok.map((r) => r.value!);
      const range = `${formatNumber(value!)} (${formatNumber(Math.min(...values))}–${formatNumber(Math.max(...values))})`;
      const port = (i: number): string => `${ms(med(ok, (r) => r.byPort?.[i]?.p50))} / ${ms(med(ok, (r) => r.byPort?.[i]?.p99))}`;
      out.push(
        `| ${label} | ${range} | ${show(cpu, 2)} | ${show(perCpu)} | ${show(med(ok, (r) => r.redisCpu), 2)} | ${ms(med(ok, (r) => r.p50))} | ${ms(med(ok, (r) => r.p99))} |${ports === undefined ? '' : ` ${port(0)} | ${port(1)} |`} ${show(med(ok, (r) => r.otherLoad), 2)} |` +
          (failed.length > 0 ? ` (${failed.length} failed: ${failed[0]!.error})` : ''),
      );
    }
    const [first, second] = labels.map((l) => rows.get(l));
    if (labels.length === 2 && first?.value !== undefined && second?.value !== undefined) {
      const perCpu = first.perCpu !== undefined && second.perCpu !== undefined ? `, per server CPU-second ${(second.perCpu / first.perCpu).toFixed(2)}×` : '';
      out.push('', `${labels[1]} / ${labels[0]}: ${w.unit} ${(second.value / first.value).toFixed(2)}×${perCpu}.`);
    }
    out.push('');
  }
  return out.join('\n');
}
