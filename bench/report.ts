// Summaries, the markdown report and the hand-written SVG chart of a benchmark run.
import { renderSoak, type SoakResult } from './soak.js';

export const SERVER_NAMES = ['wsforge', 'wsforge-ws', 'ws', 'thin'] as const;
export type ServerName = (typeof SERVER_NAMES)[number];

export interface MetricSpec {
  /** e.g. "msg/s" */
  unit: string;
  higherIsBetter: boolean;
  /** Also report the server's CPU time per unit of work (e.g. "delivery"), in µs. */
  cpuPer?: string;
}

/** One server × workload × repetition. */
export interface RunRecord {
  workload: string;
  server: ServerName;
  rep: number;
  ok: boolean;
  error?: string;
  /** the workload's primary metric */
  value?: number;
  latencyP50Us?: number;
  latencyP99Us?: number;
  /** server CPU during the measured window, as a fraction of one core */
  serverCpu?: number;
  /** time the server was runnable but not running (another process had its CPU), fraction of the window */
  serverWait?: number;
  loadgenWait?: number;
  /** CPU used by other user-space processes during the window, in CPUs (0.25 = a quarter of one CPU) */
  otherLoad?: number;
  /** CPU 0 (the server's) busy fraction over the window, all causes, and its irq+softirq share */
  serverCoreBusy?: number;
  serverCoreIrq?: number;
  /** CPU 1 (the loadgen's) busy fraction */
  loadgenCoreBusy?: number;
  loadgenCpu?: number;
  loadgenCpuUser?: number;
  /** server VmRSS when the load ended */
  serverRssKiB?: number;
  loadgenArgs: string[];
  /** share of all CPUs busy just before the run (other load on the machine) */
  machineBusyBefore?: number;
  loadgen?: Record<string, unknown>;
  extra?: Record<string, number | string | boolean>;
}

export interface ServerSummary {
  n: number;
  median: number;
  min: number;
  max: number;
  errors: string[];
  p50?: number;
  p99?: number;
  serverCpu?: number;
  loadgenCpu?: number;
  loadgenCpuUser?: number;
  /** median over runs of the other load (CPUs used by other processes): how disturbed the runs were */
  wait?: number;
  serverCoreBusy?: number;
  loadgenCoreBusy?: number;
  /** median over runs of the server's CPU seconds per unit of the metric, in µs */
  cpuUsPerUnit?: number;
}

export interface WorkloadSummary {
  name: string;
  description: string;
  metric: MetricSpec;
  servers: Partial<Record<ServerName, ServerSummary>>;
  errors: Partial<Record<ServerName, string[]>>;
}

export interface Headroom {
  loadgenCpu: number;
  loadgenCpuUser: number;
  serverCpu: number;
  serverCoreBusy?: number;
  loadgenCoreBusy?: number;
  msgsPerS: number;
  source: string;
}

export interface ReportInput {
  date: Date;
  quick: boolean;
  reps: number;
  duration: number;
  warmup: number;
  pinned: boolean;
  machine: { cpu: string; cores: number; kernel: string; node: string; host: string; loadStart: string; loadEnd: string };
  servers: ServerName[];
  serverNotes: string[];
  workloads: WorkloadSummary[];
  headroom: Headroom | null;
  notes: string[];
  elapsedS: number;
  command: string;
  /** the soak workload, when it ran */
  soak?: SoakResult;
}

/**
 * How much other load shared the machine during the measured window: the CPU used by other user-space
 * processes, in CPUs. (The server's run-queue wait is recorded too, but the benchmark's own kernel work,
 * ksoftirqd and TCP timers, makes it non-zero on a quiet machine, e.g. ~10% in `connect`.)
 */
export function disturbance(r: RunRecord): number | undefined {
  return r.otherLoad;
}

export const DISTURBED = 0.1;

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function medianOf(records: readonly RunRecord[], pick: (r: RunRecord) => number | undefined): number | undefined {
  const values = records.map(pick).filter((v): v is number => v !== undefined && Number.isFinite(v));
  return values.length === 0 ? undefined : median(values);
}

export function summarize(
  name: string,
  description: string,
  metric: MetricSpec,
  records: readonly RunRecord[],
): WorkloadSummary {
  const summary: WorkloadSummary = { name, description, metric, servers: {}, errors: {} };
  for (const server of SERVER_NAMES) {
    const mine = records.filter((r) => r.server === server);
    if (mine.length === 0) continue;
    const good = mine.filter((r) => r.ok && r.value !== undefined);
    const errors = mine.filter((r) => !r.ok).map((r) => `rep ${r.rep}: ${r.error ?? 'failed'}`);
    if (errors.length > 0) summary.errors[server] = errors;
    if (good.length === 0) continue;
    const values = good.map((r) => r.value!);
    const s: ServerSummary = {
      n: values.length,
      median: median(values),
      min: Math.min(...values),
      max: Math.max(...values),
      errors,
    };
    const p50 = medianOf(good, (r) => r.latencyP50Us);
    const p99 = medianOf(good, (r) => r.latencyP99Us);
    const serverCpu = medianOf(good, (r) => r.serverCpu);
    const loadgenCpu = medianOf(good, (r) => r.loadgenCpu);
    const loadgenCpuUser = medianOf(good, (r) => r.loadgenCpuUser);
    if (p50 !== undefined) s.p50 = p50;
    if (p99 !== undefined) s.p99 = p99;
    if (serverCpu !== undefined) s.serverCpu = serverCpu;
    if (loadgenCpu !== undefined) s.loadgenCpu = loadgenCpu;
    if (loadgenCpuUser !== undefined) s.loadgenCpuUser = loadgenCpuUser;
    const wait = medianOf(good, disturbance);
    if (wait !== undefined) s.wait = wait;
    const serverCoreBusy = medianOf(good, (r) => r.serverCoreBusy);
    const loadgenCoreBusy = medianOf(good, (r) => r.loadgenCoreBusy);
    if (serverCoreBusy !== undefined) s.serverCoreBusy = serverCoreBusy;
    if (loadgenCoreBusy !== undefined) s.loadgenCoreBusy = loadgenCoreBusy;
    const cpuUsPerUnit = medianOf(good, (r) => (r.serverCpu === undefined || !(r.value! > 0) ? undefined : (r.serverCpu / r.value!) * 1e6));
    if (cpuUsPerUnit !== undefined) s.cpuUsPerUnit = cpuUsPerUnit;
    summary.servers[server] = s;
  }
  return summary;
}

/** 1234567 -> "1.23M", 147393 -> "147k", 1092.6 -> "1093", 5.43 -> "5.43" */
export function formatNumber(v: number): string {
  const a = Math.abs(v);
  if (a >= 1e6) return `${(v / 1e6).toFixed(a >= 1e7 ? 1 : 2)}M`;
  if (a >= 1e4) return `${(v / 1e3).toFixed(a >= 1e5 ? 0 : 1)}k`;
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function pct(v: number | undefined): string {
  return v === undefined ? '–' : `${(v * 100).toFixed(0)}%`;
}

function ratio(a: ServerSummary | undefined, b: ServerSummary | undefined): string {
  if (a === undefined || b === undefined || b.median === 0) return '–';
  return `${(a.median / b.median).toFixed(2)}×`;
}

function cell(s: ServerSummary | undefined, errors: string[] | undefined, selected: boolean): string {
  if (s !== undefined) {
    const range = s.n > 1 ? ` (${formatNumber(s.min)}–${formatNumber(s.max)})` : '';
    const failed = errors !== undefined && errors.length > 0 ? ` ⚠${errors.length} failed` : '';
    const disturbed = s.wait !== undefined && s.wait > DISTURBED ? ' †' : '';
    return `**${formatNumber(s.median)}**${range}${disturbed}${failed}`;
  }
  if (errors !== undefined && errors.length > 0) return 'error';
  return selected ? 'n/a' : '–';
}

export function renderMarkdown(input: ReportInput): string {
  const out: string[] = [];
  const m = input.machine;
  const iso = input.date.toISOString();
  out.push(`# wsforge benchmark${input.quick ? ' (quick smoke run: durations and counts are tiny, do not quote)' : ''}`);
  out.push('');
  out.push(`- date: ${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC; took ${input.elapsedS.toFixed(0)} s`);
  out.push(`- machine: ${m.cpu}, ${m.cores} cores, Linux ${m.kernel}, host \`${m.host}\``);
  out.push(`- node ${m.node}; load average at start ${m.loadStart}, at end ${m.loadEnd}`);
  out.push(
    `- method: ${input.pinned ? 'server pinned to CPU 0, C loadgen pinned to CPU 1' : 'NOT pinned (taskset or a second CPU missing)'}; ` +
      `${input.reps} repetition(s), servers interleaved within each; ${input.warmup} s warmup + ${input.duration} s measured per run`,
  );
  out.push(`- command: \`${input.command}\``);
  if (input.headroom !== null) {
    const h = input.headroom;
    out.push(
      `- loadgen headroom (${h.source}, ${formatNumber(h.msgsPerS)} msg/s): the loadgen process used ${pct(h.loadgenCpu)} of CPU 1 ` +
        `(${pct(h.loadgenCpuUser)} in user space, the rest is the kernel's loopback TCP work; CPU 1 busy ${pct(h.loadgenCoreBusy)} in all) ` +
        `while the server process used ${pct(h.serverCpu)} of CPU 0 (CPU 0 busy ${pct(h.serverCoreBusy)} in all, with the softirq network work)`,
    );
  }
  let busiest: { cpu: number; where: string } | null = null;
  for (const w of input.workloads) {
    for (const s of SERVER_NAMES) {
      const cpu = w.servers[s]?.loadgenCpu;
      if (cpu !== undefined && (busiest === null || cpu > busiest.cpu)) busiest = { cpu, where: `${w.name} against ${s}` };
    }
  }
  if (busiest !== null) {
    out.push(
      `- busiest loadgen: ${pct(busiest.cpu)} of CPU 1 in ${busiest.where} (median run); where a server's CPU is ~100% ` +
        'the server, not the loadgen, was the limit',
    );
  }
  for (const note of input.serverNotes) out.push(`- ${note}`);
  out.push('');
  out.push('Median of the repetitions, (min–max) when there are several. Ratios compare medians.');
  out.push(
    `† = disturbed: in the median run other processes on the machine used more than ${DISTURBED * 100}% of a CPU during the ` +
      'measured window; treat with care.',
  );
  out.push('');
  const servers = SERVER_NAMES.filter((s) => input.servers.includes(s));
  // wsforge-ws is wsforge's ws-compatible API (wsforge/ws): compared with ws, and with wsforge's own API.
  const compat = servers.includes('wsforge-ws');
  const compatHeads = compat ? ' wsforge-ws/ws | wsforge-ws/wsforge |' : '';
  out.push(`| workload | unit | ${servers.join(' | ')} | wsforge/ws | wsforge/thin |${compatHeads}`);
  out.push(`|---|---|${servers.map(() => '---:').join('|')}|---:|---:|${compat ? '---:|---:|' : ''}`);
  for (const w of input.workloads) {
    const unit = `${w.metric.unit} (${w.metric.higherIsBetter ? 'higher' : 'lower'} is better)`;
    const cells = servers.map((s) => cell(w.servers[s], w.errors[s], true));
    const compatCells = compat ? ` ${ratio(w.servers['wsforge-ws'], w.servers.ws)} | ${ratio(w.servers['wsforge-ws'], w.servers.wsforge)} |` : '';
    out.push(
      `| ${w.name} | ${unit} | ${cells.join(' | ')} | ${ratio(w.servers.wsforge, w.servers.ws)} | ${ratio(w.servers.wsforge, w.servers.thin)} |${compatCells}`,
    );
  }
  out.push('');
  const perUnit = input.workloads.filter((w) => w.metric.cpuPer !== undefined);
  if (perUnit.length > 0) {
    out.push('### Server CPU per unit of work');
    out.push('');
    out.push('The server process\'s CPU time (user + sys, /proc) during the measured window divided by the work done, in µs');
    out.push('(median of the runs; lower is better). It does not depend on whether the loadgen or the server was the limit.');
    out.push('');
    out.push(`| workload | per | ${servers.join(' | ')} |`);
    out.push(`|---|---|${servers.map(() => '---:').join('|')}|`);
    for (const w of perUnit) {
      const cells = servers.map((s) => {
        const v = w.servers[s]?.cpuUsPerUnit;
        return v === undefined ? '–' : `**${v.toFixed(2)}** µs`;
      });
      out.push(`| ${w.name} | ${w.metric.cpuPer} | ${cells.join(' | ')} |`);
    }
    out.push('');
  }
  out.push('### Latency and CPU');
  out.push('');
  out.push('Latency is per message, from the moment the loadgen queues it to the arrival of the whole echo');
  out.push('(broadcast: to each delivery; connect: from connect() to the 101). CPU is a fraction of one core during');
  out.push('the measured window: the server process from /proc/<pid>/stat, with the whole CPU 0 (process + softirq network');
  out.push('work + anything else) in parentheses; the loadgen from getrusage (user+sys), user space alone in parentheses.');
  out.push('"Other load" is the CPU that every other user-space process on the machine used during the window (from /proc),');
  out.push('in % of one CPU.');
  out.push('');
  out.push('| workload | server | p50 µs | p99 µs | server CPU (CPU 0) | loadgen CPU (user) | other load |');
  out.push('|---|---|---:|---:|---:|---:|---:|');
  for (const w of input.workloads) {
    for (const s of servers) {
      const x = w.servers[s];
      if (x === undefined || (x.p50 === undefined && x.serverCpu === undefined)) continue;
      const lat = (v: number | undefined): string => (v === undefined ? '–' : formatNumber(v));
      out.push(
        `| ${w.name} | ${s} | ${lat(x.p50)} | ${lat(x.p99)} | ${pct(x.serverCpu)} (${pct(x.serverCoreBusy)}) | ${pct(x.loadgenCpu)} (${pct(x.loadgenCpuUser)}) | ${pct(x.wait)} |`,
      );
    }
  }
  out.push('');
  if (input.soak !== undefined) out.push(...renderSoak(input.soak));
  out.push('### Workloads');
  out.push('');
  for (const w of input.workloads) out.push(`- **${w.name}**: ${w.description}`);
  const errorLines: string[] = [];
  for (const w of input.workloads) {
    for (const s of servers) {
      for (const e of w.errors[s] ?? []) errorLines.push(`- ${w.name} / ${s}: ${e}`);
    }
  }
  if (errorLines.length > 0 || input.notes.length > 0) {
    out.push('');
    out.push('### Notes and errors');
    out.push('');
    for (const note of input.notes) out.push(`- ${note}`);
    out.push(...errorLines);
  }
  out.push('');
  out.push('Chart: `latest.svg` (values normalized to thin = 1.0 per workload, or to ws where thin does not run).');
  out.push('');
  return out.join('\n');
}

const COLORS: Record<ServerName, string> = { wsforge: '#1f6fb2', 'wsforge-ws': '#6aa6d8', ws: '#e07b28', thin: '#8a8a8a' };

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Grouped bars per workload, normalized to thin = 1.0 (ws where thin is absent), absolute numbers as labels. */
export function renderSvg(input: ReportInput): string {
  const servers = SERVER_NAMES.filter((s) => input.servers.includes(s));
  const groups = input.workloads
    .map((w) => {
      const base = w.servers.thin ?? w.servers.ws ?? w.servers.wsforge;
      const baseName = w.servers.thin !== undefined ? 'thin' : w.servers.ws !== undefined ? 'ws' : 'wsforge';
      const bars = servers.map((s) => {
        const x = w.servers[s];
        return x === undefined || base === undefined || base.median === 0
          ? { server: s, norm: undefined, label: w.errors[s] !== undefined ? 'error' : 'n/a' }
          : {
              server: s,
              norm: x.median / base.median,
              label: `${formatNumber(x.median)}${x.wait !== undefined && x.wait > DISTURBED ? '†' : ''}`,
            };
      });
      return { w, baseName, bars };
    })
    .filter((g) => g.bars.some((b) => b.norm !== undefined));
  const barW = 34;
  const gap = 6;
  const groupW = servers.length * (barW + gap) + 44;
  const left = 56;
  const top = 64;
  const plotH = 300;
  const bottom = 96;
  const width = Math.max(480, left + groups.length * groupW + 20);
  const height = top + plotH + bottom;
  let maxNorm = 1.2;
  for (const g of groups) for (const b of g.bars) if (b.norm !== undefined) maxNorm = Math.max(maxNorm, b.norm);
  maxNorm *= 1.15;
  const y = (v: number): number => top + plotH - (v / maxNorm) * plotH;
  const s: string[] = [];
  s.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
  );
  s.push(`<rect width="${width}" height="${height}" fill="#ffffff"/>`);
  const date = input.date.toISOString().slice(0, 10);
  s.push(
    `<text x="${left}" y="22" font-size="15" font-weight="bold">wsforge (and wsforge/ws) vs ws vs thin JS echo — relative to thin = 1.0${input.quick ? ' (quick run)' : ''}</text>`,
  );
  s.push(
    `<text x="${left}" y="40" font-size="11" fill="#555">${esc(`${date}, ${input.machine.cpu}, node ${input.machine.node}; median of ${input.reps}; labels are absolute medians; † disturbed by other load`)}</text>`,
  );
  // legend
  let lx = left;
  for (const server of servers) {
    s.push(`<rect x="${lx}" y="48" width="12" height="12" fill="${COLORS[server]}"/>`);
    s.push(`<text x="${lx + 16}" y="58" font-size="11">${server}</text>`);
    lx += 80;
  }
  // axis and grid
  const step = maxNorm > 4 ? 1 : maxNorm > 2 ? 0.5 : 0.25;
  for (let v = 0; v <= maxNorm + 1e-9; v += step) {
    const yy = y(v).toFixed(1);
    s.push(
      `<line x1="${left}" x2="${width - 10}" y1="${yy}" y2="${yy}" stroke="${Math.abs(v - 1) < 1e-9 ? '#444' : '#e4e4e4'}"${Math.abs(v - 1) < 1e-9 ? ' stroke-dasharray="4 3"' : ''}/>`,
    );
    s.push(`<text x="${left - 6}" y="${(y(v) + 4).toFixed(1)}" font-size="10" text-anchor="end" fill="#555">${v.toFixed(2)}</text>`);
  }
  groups.forEach((g, gi) => {
    const gx = left + 22 + gi * groupW;
    g.bars.forEach((b, bi) => {
      const bx = gx + bi * (barW + gap);
      if (b.norm !== undefined) {
        const by = y(b.norm);
        s.push(
          `<rect x="${bx}" y="${by.toFixed(1)}" width="${barW}" height="${(top + plotH - by).toFixed(1)}" fill="${COLORS[b.server]}"><title>${esc(`${g.w.name} ${b.server}: ${b.label} ${g.w.metric.unit}`)}</title></rect>`,
        );
        s.push(
          `<text x="${bx + barW / 2}" y="${(by - 4).toFixed(1)}" font-size="9.5" text-anchor="middle" paint-order="stroke" stroke="#fff" stroke-width="3">${esc(b.label)}</text>`,
        );
      } else {
        s.push(
          `<text x="${bx + barW / 2}" y="${top + plotH - 4}" font-size="9" text-anchor="middle" fill="#999">${esc(b.label)}</text>`,
        );
      }
    });
    const cx = gx + (servers.length * (barW + gap) - gap) / 2;
    s.push(`<text x="${cx}" y="${top + plotH + 16}" font-size="11" font-weight="bold" text-anchor="middle">${esc(g.w.name)}</text>`);
    s.push(`<text x="${cx}" y="${top + plotH + 30}" font-size="10" text-anchor="middle" fill="#555">${esc(g.w.metric.unit)}</text>`);
    s.push(
      `<text x="${cx}" y="${top + plotH + 43}" font-size="9.5" text-anchor="middle" fill="#777">${g.w.metric.higherIsBetter ? 'higher is better' : 'lower is better'}${g.baseName !== 'thin' ? `, vs ${g.baseName}` : ''}</text>`,
    );
  });
  s.push(`<line x1="${left}" x2="${width - 10}" y1="${top + plotH}" y2="${top + plotH}" stroke="#333"/>`);
  s.push('</svg>');
  return `${s.join('\n')}\n`;
}
