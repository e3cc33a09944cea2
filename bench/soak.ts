// The soak workload of `npm run bench`: the wsforge echo server (bench/servers/wsforge-server.mjs) for
// 10 minutes (or --duration) under bench/soak-client.ts: long-lived clients echo checked messages
// without pause while short-lived connections are opened and closed continuously, abrupt resets
// included. The server's VmRSS is sampled from /proc all along. It passes when no message is lost
// or mismatched, no long-lived client is disconnected, and no short-lived connection stalls; the
// RSS at the start, middle and end and its slope say whether anything accumulates.
import { join } from 'node:path';
import { ManagedProcess, readCpuSeconds, readStatusKiB, sleep } from './proc.js';

export const SOAK_WORKLOAD = 'soak';

export interface SoakSettings {
  durationS: number;
  longLived: number;
  inflight: number;
  churn: number;
}

export interface SoakResult {
  ok: boolean;
  error?: string;
  settings: SoakSettings;
  /** [seconds since the load started, VmRSS KiB] */
  samples: Array<[number, number]>;
  /** the first reading after the warmup, the one nearest the middle, the last */
  rssStartKiB: number;
  rssMidKiB: number;
  rssEndKiB: number;
  rssMaxKiB: number;
  warmupS: number;
  /** least-squares slope of VmRSS after the warmup */
  slopeKiBPerMin: number;
  /** the same over the second half of the run: heap growth settles early, a leak goes on */
  secondHalfSlopeKiBPerMin: number;
  serverCpu: number;
  lost: number;
  mismatched: number;
  longLivedClosed: number;
  longLivedEchoed: number;
  churnEchoed: number;
  churn: Record<string, number>;
  churnFailures: Record<string, number>;
  examples: string[];
}

export interface SoakDeps {
  root: string;
  /** the wsforge echo server, pinned and with the open-file limit raised, as the other workloads start it */
  startServer(): ManagedProcess;
  waitListening(server: ManagedProcess): Promise<number>;
  pinnedCommand(cpu: number, command: string, args: readonly string[]): [string, string[]];
  log(text: string): void;
}

/** Least-squares slope of y over x. */
function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return Number.NaN;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) * (x - mx);
  }
  return den === 0 ? Number.NaN : num / den;
}

type Report = Record<string, unknown> & { event: string; ok: boolean; error?: string };

export async function runSoak(deps: SoakDeps, settings: SoakSettings): Promise<SoakResult> {
  const result: SoakResult = {
    ok: false,
    settings,
    samples: [],
    rssStartKiB: Number.NaN,
    rssMidKiB: Number.NaN,
    rssEndKiB: Number.NaN,
    rssMaxKiB: Number.NaN,
    warmupS: Math.min(60, settings.durationS * 0.1),
    slopeKiBPerMin: Number.NaN,
    secondHalfSlopeKiBPerMin: Number.NaN,
    serverCpu: Number.NaN,
    lost: 0,
    mismatched: 0,
    longLivedClosed: 0,
    longLivedEchoed: 0,
    churnEchoed: 0,
    churn: {},
    churnFailures: {},
    examples: [],
  };
  let server: ManagedProcess | undefined;
  let client: ManagedProcess | undefined;
  try {
    server = deps.startServer();
    const port = await deps.waitListening(server);
    const srv = server;
    const script = join(deps.root, 'build', 'bench', 'soak-client.js');
    const args = ['--port', String(port), '--long-lived', String(settings.longLived), '--inflight', String(settings.inflight), '--churn', String(settings.churn)];
    const [cmd, cmdArgs] = deps.pinnedCommand(1, process.execPath, [script, ...args]);
    client = new ManagedProcess(cmd, cmdArgs, { cwd: deps.root });
    const cl = client;
    cl.onLine((line) => {
      if (line.startsWith('PROGRESS ')) {
        const p = JSON.parse(line.slice(9)) as { seconds: number; longLivedEchoed: number; churn: Record<string, number> };
        const churned = Object.values(p.churn).reduce((a, b) => a + b, 0);
        deps.log(`  soak ${String(p.seconds).padStart(4)} s: ${p.longLivedEchoed} long-lived echoes, ${churned} short-lived connections, server RSS ${readStatusKiB(srv.pid, 'VmRSS') ?? '?'} KiB`);
      }
    });
    await cl.waitForLine((l) => l === 'READY' || l.startsWith('{'), 30_000, 'the soak client to connect');
    if (!cl.running) throw new Error(`the soak client exited at start (${cl.describeExit()}) ${cl.stderrTail()}`);
    const cpu0 = readCpuSeconds(srv.pid);
    const started = Date.now();
    const everyMs = Math.max(1000, Math.min(5000, (settings.durationS * 1000) / 60));
    for (;;) {
      const t = (Date.now() - started) / 1000;
      const rss = readStatusKiB(srv.pid, 'VmRSS');
      if (rss === null) throw new Error(`the server exited during the soak (${srv.describeExit()}) ${srv.stderrTail()}`);
      result.samples.push([t, rss]);
      if (!cl.running) throw new Error(`the soak client exited during the soak (${cl.describeExit()}) ${cl.stderrTail()}`);
      if (t >= settings.durationS) break;
      await sleep(Math.min(everyMs, Math.max(0, settings.durationS * 1000 - (Date.now() - started))));
    }
    const cpu1 = readCpuSeconds(srv.pid);
    if (cpu0 !== null && cpu1 !== null) result.serverCpu = (cpu1 - cpu0) / ((Date.now() - started) / 1000);
    cl.writeLine('stop');
    const line = await cl.waitForLine((l) => l.startsWith('{'), 30_000, 'the soak client report');
    const report = JSON.parse(line) as Report;
    if (!report.ok) throw new Error(`the soak client failed: ${String(report.error)}`);
    result.lost = Number(report.lost);
    result.mismatched = Number(report.mismatched);
    result.longLivedClosed = Number(report.longLivedClosed);
    result.longLivedEchoed = Number(report.longLivedEchoed);
    result.churnEchoed = Number(report.churnEchoed);
    result.churn = report.churn as Record<string, number>;
    result.churnFailures = report.churnFailures as Record<string, number>;
    result.examples = [...(report.mismatchExamples as string[]), ...(report.closeExamples as string[])];
    if (!srv.running) throw new Error(`the server exited (${srv.describeExit()}) ${srv.stderrTail()}`);
    const failures = Object.values(result.churnFailures).reduce((a, b) => a + b, 0);
    result.ok = result.lost === 0 && result.mismatched === 0 && result.longLivedClosed === 0 && failures === 0;
    if (!result.ok) {
      result.error = `lost ${result.lost}, mismatched ${result.mismatched}, long-lived clients disconnected ${result.longLivedClosed}, short-lived failures ${failures}`;
    }
  } catch (error) {
    result.ok = false;
    result.error = (error instanceof Error ? error.message : String(error)).replace(/\s+/g, ' ').trim();
  } finally {
    if (client !== undefined) await client.stop(20_000);
    if (server !== undefined) await server.stop(3000);
  }
  summarizeRss(result);
  return result;
}

function summarizeRss(result: SoakResult): void {
  const samples = result.samples;
  if (samples.length === 0) return;
  const afterWarmup = samples.filter(([t]) => t >= result.warmupS);
  const steady = afterWarmup.length >= 2 ? afterWarmup : samples;
  const end = samples[samples.length - 1]![0];
  const nearest = (t: number): number => steady.reduce((best, s) => (Math.abs(s[0] - t) < Math.abs(best[0] - t) ? s : best))[1];
  result.rssStartKiB = steady[0]![1];
  result.rssMidKiB = nearest(end / 2);
  result.rssEndKiB = samples[samples.length - 1]![1];
  result.rssMaxKiB = Math.max(...samples.map(([, rss]) => rss));
  result.slopeKiBPerMin = slope(steady) * 60;
  result.secondHalfSlopeKiBPerMin = slope(samples.filter(([t]) => t >= end / 2)) * 60;
}

const mib = (kib: number): string => (Number.isFinite(kib) ? `${(kib / 1024).toFixed(1)} MiB` : '–');
const perMinute = (kib: number): string => (Number.isFinite(kib) ? `${kib.toFixed(0)} KiB/min` : '–');

/** The soak section of the benchmark report (markdown lines). */
export function renderSoak(result: SoakResult): string[] {
  const s = result.settings;
  const churned = Object.values(result.churn).reduce((a, b) => a + b, 0);
  const out = [
    '### Soak',
    '',
    `wsforge echo server, ${(s.durationS / 60).toFixed(1)} min: ${s.longLived} long-lived \`ws\` clients with ${s.inflight} checked messages in flight each ` +
      `(1 B-64 KiB, text and binary), and ${s.churn} short-lived raw connections at a time, opened and closed continuously ` +
      `(${Object.keys(result.churn).join(', ')}). Server VmRSS sampled from /proc; the slope is over the run after a ${result.warmupS.toFixed(0)} s warmup, and over its second half.`,
    '',
    `| result | RSS start | RSS middle | RSS end | RSS max | RSS slope | slope, 2nd half | lost | mismatched | long-lived disconnected | long-lived echoes | short-lived connections | server CPU |`,
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
    `| ${result.ok ? 'pass' : '**FAIL**'} | ${mib(result.rssStartKiB)} | ${mib(result.rssMidKiB)} | ${mib(result.rssEndKiB)} | ${mib(result.rssMaxKiB)} | ` +
      `${perMinute(result.slopeKiBPerMin)} | ${perMinute(result.secondHalfSlopeKiBPerMin)} | ${result.lost} | ${result.mismatched} | ${result.longLivedClosed} | ` +
      `${result.longLivedEchoed} | ${churned} | ${Number.isFinite(result.serverCpu) ? `${(result.serverCpu * 100).toFixed(0)}%` : '–'} |`,
    '',
    `Short-lived connections by kind: ${Object.entries(result.churn).map(([k, v]) => `${k} ${v}`).join(', ') || 'none'}.`,
  ];
  const failures = Object.entries(result.churnFailures);
  if (failures.length > 0) out.push(`Short-lived failures: ${failures.map(([k, v]) => `${k} × ${v}`).join('; ')}.`);
  if (result.error !== undefined) out.push(`Error: ${result.error}`);
  for (const example of result.examples) out.push(`- ${example}`);
  out.push('');
  return out;
}
