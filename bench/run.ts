// `npm run bench`: wsforge vs ws vs the thinnest JS echo, driven by a C epoll load generator.
//
// Each server runs pinned to CPU 0 and the loadgen to CPU 1; servers are interleaved within each repetition
// (and their order rotates between repetitions) so slow drifts of a shared machine hit all of them alike.
// See bench/README.md for the workloads, the pacing schemes and how to read the results.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { deflateRawSync, constants as zlibConstants } from 'node:zlib';
import {
  ManagedProcess,
  type CpuTimes,
  cpuBusyBetween,
  hardFileLimit,
  machineBusy,
  readCpuSeconds,
  readCpuTimes,
  readForeignCpuSeconds,
  readSchedstat,
  readStatusKiB,
  sleep,
} from './proc.js';
import { acquireLock } from './run-lock.js';
import {
  DISTURBED,
  SERVER_NAMES,
  type Headroom,
  type MetricSpec,
  type ReportInput,
  type RunRecord,
  type ServerName,
  type WorkloadSummary,
  disturbance,
  renderMarkdown,
  renderSvg,
  summarize,
} from './report.js';
import { isScaleWorkload, renderScaleSection, runScaleWorkload, SCALE_WORKLOAD_NAMES, type ScaleResult } from './scale.js';
import { runSoak, SOAK_WORKLOAD, type SoakResult } from './soak.js';

// build/bench/run.js -> repository root
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BENCH = join(ROOT, 'bench');
const LOADGEN = join(BENCH, 'bin', 'loadgen');
// compiled with the tests (npm run build:test)
const SOCKETIO_LOADGEN = join(ROOT, 'build', 'bench', 'socketio-loadgen.js');
const RESULTS = join(BENCH, 'results');
const RAW = join(RESULTS, 'raw');
const HOST = '127.0.0.1';

const usage = (workloads: readonly string[]): string => `usage: node build/bench/run.js [options]

  --workload a,b     workloads to run (default: all but deflate-memory, which joins when wsforge
                     negotiates permessage-deflate):
                     ${workloads.join(', ')}
  --server a,b       servers: wsforge, wsforge-ws, ws, thin (default: all available)
  --reps N           repetitions (default 3)
  --duration S       measured seconds per run (default 5); for soak, its length (default 600)
  --warmup S         warmup seconds per run (default 1)
  --quick            smoke run: every workload once with tiny durations and counts
                     (writes bench/results/quick.md/.svg, not latest.md; so does a run
                     with --workload or --server, to partial.md/.svg)
  --idle-conns N     idle-memory connections (default 19500)
  --deflate-conns N  deflate-memory connections (default 10000)
  --receivers N      broadcast receivers (default 1000)
  --broadcast-inflight K
                     broadcast: messages not yet received by the slowest receiver (default 1;
                     more lets servers that coalesce writes batch several messages per write)
  --retries N        repeat a run disturbed by other load (other processes used > 10% of a CPU
                     during the window) up to N times, keeping the calmest (default 1; quick: 0)
  --quiet-wait S     before each run, wait up to S seconds for the machine to be quiet (< 15% of
                     all CPU busy over 0.5 s) (default 30; quick: 0)
  --lock-wait S      wait up to S seconds for another benchmark run on this machine to finish (default 1200)
  --no-headroom      skip the loadgen headroom check
  --render FILE      write the report and chart again from a run's bench/results/raw/*-summary.json
  --help
`;

type ServerMode = 'echo' | 'broadcast';
type DeflateMode = false | 'defaults' | 'takeover' | 'no-takeover';

interface Settings {
  quick: boolean;
  reps: number;
  duration: number;
  warmup: number;
  idleConns: number;
  deflateConns: number;
  receivers: number;
  broadcastInflight: number;
  settleMs: number;
  retries: number;
  quietWaitS: number;
}

interface WorkloadDef {
  name: string;
  description: (s: Settings) => string;
  serverMode: ServerMode;
  /** permessage-deflate on the server: off, each library's defaults, or the same context takeover setting for both. */
  deflate: DeflateMode;
  /** extra command-line flags for a server in this workload */
  serverFlags?: Partial<Record<ServerName, readonly string[]>>;
  /** servers that can take part (thin has no permessage-deflate) */
  servers: readonly ServerName[];
  /** the server program per server when not the usual one (script, then its flags) */
  scripts?: Partial<Record<ServerName, readonly string[]>>;
  /** the load generator: the C epoll client (default) or the socket.io client process */
  loadgen?: 'c' | 'socketio';
  metric: MetricSpec;
  kind: 'load' | 'memory';
  loadgenArgs: (s: Settings) => string[];
  /** primary value from the loadgen JSON (load workloads) */
  value?: (j: LoadgenJson) => number;
  connections?: (s: Settings) => number;
}

type LoadgenJson = Record<string, unknown> & { ok: boolean; error?: string };

function num(j: LoadgenJson, key: string): number {
  const v = j[key];
  return typeof v === 'number' ? v : Number.NaN;
}

function latency(j: LoadgenJson): { p50?: number; p99?: number } {
  const l = j.latency_us as { p50?: number; p99?: number; count?: number } | undefined;
  if (l === undefined || !l.count) return {};
  return { ...(l.p50 === undefined ? {} : { p50: l.p50 }), ...(l.p99 === undefined ? {} : { p99: l.p99 }) };
}

/** A permessage-deflate message for the deflate-memory workload, compressed like a client would. */
function deflateMessage(): { hex: string; size: number } {
  // 4 KiB of JSON-ish text: above ws's default 1 KiB compression threshold, so the server compresses its
  // reply too and both zlib streams (inflate and deflate) of the connection come to life.
  const items: string[] = [];
  for (let i = 0; items.join(',').length < 4000; i++) {
    items.push(`{"id":${i},"user":"user-${i % 37}","text":"the quick brown fox jumps over the lazy dog","n":${(i * 7919) % 1000}}`);
  }
  const text = `[${items.join(',')}]`.slice(0, 4096);
  // RFC 7692 §7.2.1: compress with a sync flush and drop the trailing 00 00 ff ff
  const raw = deflateRawSync(Buffer.from(text), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  return { hex: raw.subarray(0, raw.length - 4).toString('hex'), size: text.length };
}

const DEFLATE_OFFER = 'Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits';

/** socket.io broadcast pacing: messages outstanding at the slowest receiver (keeps the server busy). */
const SOCKETIO_INFLIGHT = 4;

const WORKLOADS: readonly WorkloadDef[] = [
  {
    name: 'echo-small-pipelined',
    description: () => '100 connections, 32 B text messages, 16 in flight per connection (pipelined); messages echoed per second',
    serverMode: 'echo',
    deflate: false,
    servers: SERVER_NAMES,
    metric: { unit: 'msg/s', higherIsBetter: true },
    kind: 'load',
    loadgenArgs: () => ['--mode', 'echo', '--conns', '100', '--size', '32', '--text', '--inflight', '16'],
    value: (j) => num(j, 'msgs_per_s'),
  },
  {
    name: 'echo-small',
    description: () => '100 connections, 32 B text messages, 1 in flight per connection; messages echoed per second',
    serverMode: 'echo',
    deflate: false,
    servers: SERVER_NAMES,
    metric: { unit: 'msg/s', higherIsBetter: true },
    kind: 'load',
    loadgenArgs: () => ['--mode', 'echo', '--conns', '100', '--size', '32', '--text', '--inflight', '1'],
    value: (j) => num(j, 'msgs_per_s'),
  },
  {
    name: 'echo-16k',
    description: () => '10 connections, 16 KiB binary messages, 4 in flight per connection; payload MiB echoed per second',
    serverMode: 'echo',
    deflate: false,
    servers: SERVER_NAMES,
    metric: { unit: 'MiB/s', higherIsBetter: true },
    kind: 'load',
    loadgenArgs: () => ['--mode', 'echo', '--conns', '10', '--size', '16384', '--binary', '--inflight', '4'],
    value: (j) => num(j, 'mib_per_s'),
  },
  {
    name: 'echo-1m',
    description: () => '4 connections, 1 MiB binary messages, 1 in flight per connection; payload MiB echoed per second',
    serverMode: 'echo',
    deflate: false,
    servers: SERVER_NAMES,
    metric: { unit: 'MiB/s', higherIsBetter: true },
    kind: 'load',
    loadgenArgs: () => ['--mode', 'echo', '--conns', '4', '--size', '1048576', '--binary', '--inflight', '1'],
    value: (j) => num(j, 'mib_per_s'),
  },
  {
    name: 'connect',
    description: () =>
      '50 handshakes in flight: connect, send the upgrade request, read the 101 to the end of its headers, close the TCP connection (FIN, no close frame), repeat; handshakes per second',
    serverMode: 'echo',
    deflate: false,
    servers: SERVER_NAMES,
    metric: { unit: 'handshakes/s', higherIsBetter: true },
    kind: 'load',
    loadgenArgs: () => ['--mode', 'connect', '--concurrency', '50'],
    value: (j) => num(j, 'handshakes_per_s'),
  },
  {
    name: 'idle-memory',
    description: (s) =>
      `server RSS growth per open idle connection: VmRSS before opening ${s.idleConns} connections and after all are open and settled, divided by ${s.idleConns}`,
    serverMode: 'echo',
    deflate: false,
    servers: SERVER_NAMES,
    metric: { unit: 'KiB/conn', higherIsBetter: false },
    kind: 'memory',
    loadgenArgs: (s) => ['--mode', 'idle', '--conns', String(s.idleConns)],
    connections: (s) => s.idleConns,
  },
  {
    name: 'idle-memory-listeners',
    description: (s) =>
      `idle-memory with the wsforge server written with per-connection listeners (ws.on('message'), ws.on('error') in a 'connection' listener, as ws users write it) instead of server-wide handlers; ${s.idleConns} connections`,
    serverMode: 'echo',
    deflate: false,
    serverFlags: { wsforge: ['--listeners'] },
    servers: ['wsforge', 'ws'],
    metric: { unit: 'KiB/conn', higherIsBetter: false },
    kind: 'memory',
    loadgenArgs: (s) => ['--mode', 'idle', '--conns', String(s.idleConns)],
    connections: (s) => s.idleConns,
  },
  {
    name: 'broadcast',
    description: (s) =>
      `${s.receivers} receivers + 1 publisher, 32 B text; the server sends every message to every client; the publisher keeps at most ${s.broadcastInflight} message(s) not yet received by the slowest receiver; receiver deliveries per second`,
    serverMode: 'broadcast',
    deflate: false,
    servers: SERVER_NAMES,
    metric: { unit: 'deliveries/s', higherIsBetter: true },
    kind: 'load',
    loadgenArgs: (s) => ['--mode', 'broadcast', '--conns', String(s.receivers), '--size', '32', '--text', '--inflight', String(s.broadcastInflight)],
    value: (j) => num(j, 'deliveries_per_s'),
  },
  {
    name: 'broadcast-burst',
    description: (s) =>
      `${s.receivers} receivers + 1 publisher, 32 B text; the server sends every message to every client; the publisher keeps up to 16 messages not yet received by the slowest receiver, so several messages reach the server per event-loop turn; receiver deliveries per second`,
    serverMode: 'broadcast',
    deflate: false,
    servers: SERVER_NAMES,
    metric: { unit: 'deliveries/s', higherIsBetter: true },
    kind: 'load',
    loadgenArgs: (s) => ['--mode', 'broadcast', '--conns', String(s.receivers), '--size', '32', '--text', '--inflight', '16'],
    value: (j) => num(j, 'deliveries_per_s'),
  },
  {
    name: 'socketio-broadcast',
    description: (s) =>
      `socket.io: ${s.receivers} socket.io-client receivers + 1 publisher (a Node load generator on CPU 1, WebSocket transport only), 32 B text; the server emits every published message to every socket (io.emit); the publisher keeps at most ${SOCKETIO_INFLIGHT} messages not yet received by every receiver; ws column: socket.io's default engine (ws), wsforge-ws column: wsEngine = wsforge/ws; receiver deliveries per second`,
    serverMode: 'broadcast',
    deflate: false,
    servers: ['ws', 'wsforge-ws'],
    scripts: {
      ws: [join(BENCH, 'servers', 'socketio-server.mjs'), '--engine', 'ws'],
      'wsforge-ws': [join(BENCH, 'servers', 'socketio-server.mjs'), '--engine', 'wsforge'],
    },
    loadgen: 'socketio',
    metric: { unit: 'deliveries/s', higherIsBetter: true, cpuPer: 'delivery' },
    kind: 'load',
    loadgenArgs: (s) => ['--conns', String(s.receivers), '--size', '32', '--inflight', String(SOCKETIO_INFLIGHT)],
    value: (j) => num(j, 'deliveries_per_s'),
  },
  {
    name: 'deflate-memory',
    description: (s) =>
      `server RSS growth per connection with permessage-deflate negotiated (default server settings, client offers client_max_window_bits) after each of ${s.deflateConns} connections exchanged one compressed 4 KiB text message`,
    serverMode: 'echo',
    deflate: 'defaults',
    servers: ['wsforge', 'ws'],
    metric: { unit: 'KiB/conn', higherIsBetter: false },
    kind: 'memory',
    loadgenArgs: (s) => {
      const m = deflateMessage();
      return ['--mode', 'idle', '--conns', String(s.deflateConns), '--text', '--rsv1', '--msg-hex', m.hex, '--header', DEFLATE_OFFER];
    },
    connections: (s) => s.deflateConns,
  },
  {
    name: 'deflate-memory-takeover',
    description: (s) =>
      `server RSS growth per connection with permessage-deflate negotiated (same settings: context takeover in both directions on both servers (ws's default; wsforge with serverNoContextTakeover and clientNoContextTakeover false)) after each of ${s.deflateConns} connections exchanged one compressed 4 KiB text message`,
    serverMode: 'echo',
    deflate: 'takeover',
    servers: ['wsforge', 'ws'],
    metric: { unit: 'KiB/conn', higherIsBetter: false },
    kind: 'memory',
    loadgenArgs: (s) => {
      const m = deflateMessage();
      return ['--mode', 'idle', '--conns', String(s.deflateConns), '--text', '--rsv1', '--msg-hex', m.hex, '--header', DEFLATE_OFFER];
    },
    connections: (s) => s.deflateConns,
  },
  {
    name: 'deflate-memory-no-takeover',
    description: (s) =>
      `server RSS growth per connection with permessage-deflate negotiated (same settings: no context takeover in either direction on both servers (wsforge's default; ws with serverNoContextTakeover and clientNoContextTakeover true)) after each of ${s.deflateConns} connections exchanged one compressed 4 KiB text message`,
    serverMode: 'echo',
    deflate: 'no-takeover',
    servers: ['wsforge', 'ws'],
    metric: { unit: 'KiB/conn', higherIsBetter: false },
    kind: 'memory',
    loadgenArgs: (s) => {
      const m = deflateMessage();
      return ['--mode', 'idle', '--conns', String(s.deflateConns), '--text', '--rsv1', '--msg-hex', m.hex, '--header', DEFLATE_OFFER];
    },
    connections: (s) => s.deflateConns,
  },
];

const SERVER_SCRIPTS: Record<ServerName, string> = {
  wsforge: join(BENCH, 'servers', 'wsforge-server.mjs'),
  'wsforge-ws': join(BENCH, 'servers', 'wsforge-ws-server.mjs'),
  ws: join(BENCH, 'servers', 'ws-server.mjs'),
  thin: join(BENCH, 'servers', 'thin-echo.mjs'),
};

function serverUnavailable(server: ServerName): string | null {
  if (server === 'wsforge' && !existsSync(join(ROOT, 'dist', 'index.js'))) return 'dist/index.js is missing (npm run build)';
  if (server === 'wsforge-ws' && !existsSync(join(ROOT, 'dist', 'ws', 'index.js'))) return 'dist/ws/index.js is missing (npm run build)';
  if (server === 'ws' && !existsSync(join(ROOT, 'node_modules', 'ws', 'package.json'))) return 'node_modules/ws is missing (npm install)';
  return null;
}

let pinned = true;

function pinnedCommand(cpu: number, command: string, args: readonly string[]): [string, string[]] {
  return pinned ? ['taskset', ['-c', String(cpu), command, ...args]] : [command, [...args]];
}

function startServer(
  server: ServerName,
  mode: ServerMode,
  deflate: DeflateMode,
  flags: readonly string[] = [],
  script: readonly string[] = [SERVER_SCRIPTS[server]],
): ManagedProcess {
  const nodeArgs = [...script, '--host', HOST, '--port', '0', '--mode', mode, ...flags];
  if (deflate !== false) nodeArgs.push('--deflate');
  if (deflate === 'takeover') nodeArgs.push('--takeover');
  if (deflate === 'no-takeover') nodeArgs.push('--no-takeover');
  const quoted = [process.execPath, ...nodeArgs].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  // raise the server's soft open-file limit to the hard limit; exec keeps the PID (taskset and sh exec too),
  // so the PID we hold is node's
  const [cmd, args] = pinnedCommand(0, 'sh', ['-c', `ulimit -n "$(ulimit -Hn)" && exec ${quoted}`]);
  return new ManagedProcess(cmd, args, { cwd: ROOT });
}

async function waitListening(server: ManagedProcess): Promise<number> {
  const line = await server.waitForLine((l) => l.startsWith('listening on ws://'), 15000, 'server start');
  const m = /:(\d+)\s*$/.exec(line);
  if (m === null) throw new Error(`cannot parse the port from "${line}"`);
  return Number(m[1]);
}

function parseJsonLine(p: ManagedProcess): LoadgenJson | null {
  for (let i = p.lines.length - 1; i >= 0; i--) {
    const line = p.lines[i]!.trim();
    if (!line.startsWith('{')) continue;
    try {
      return JSON.parse(line) as LoadgenJson;
    } catch {
      return null;
    }
  }
  return null;
}

interface RunContext {
  settings: Settings;
  stamp: string;
  log: (text: string) => void;
}


const QUIET = 0.15;

/**
 * Waits (at most `limitS` seconds) until the machine is quiet: less than 15% of all CPU time busy, sampled
 * over 0.5 s, between our own runs. Returns the last busy fraction seen.
 */
async function waitQuiet(limitS: number, log: (text: string) => void): Promise<number> {
  const deadline = Date.now() + limitS * 1000;
  let busy = await machineBusy(limitS > 0 ? 500 : 200);
  if (busy < QUIET || limitS <= 0) return busy;
  log(`  (machine busy: ${(busy * 100).toFixed(0)}% of all CPUs; waiting up to ${limitS} s for it to calm down)`);
  while (busy >= QUIET && Date.now() < deadline) {
    await sleep(1500);
    busy = await machineBusy(500);
  }
  if (busy >= QUIET) log(`  (still ${(busy * 100).toFixed(0)}% busy; running anyway)`);
  return busy;
}

async function runOnce(ctx: RunContext, w: WorkloadDef, serverName: ServerName, rep: number): Promise<RunRecord> {
  const s = ctx.settings;
  const busyBefore = await waitQuiet(s.quietWaitS, ctx.log);
  const lgArgs = [...w.loadgenArgs(s), '--duration', String(s.duration), '--warmup', String(s.warmup)];
  const record: RunRecord = { workload: w.name, server: serverName, rep, ok: false, loadgenArgs: lgArgs, machineBusyBefore: busyBefore };
  let server: ManagedProcess | undefined;
  let loadgen: ManagedProcess | undefined;
  try {
    server = startServer(serverName, w.serverMode, w.deflate, w.serverFlags?.[serverName], w.scripts?.[serverName]);
    const port = await waitListening(server);
    const srv = server;
    const fullArgs = ['--host', HOST, '--port', String(port), ...lgArgs];
    record.loadgenArgs = fullArgs;
    let rssBefore: number | null = null;
    if (w.kind === 'memory') {
      await sleep(s.settleMs);
      rssBefore = readStatusKiB(srv.pid, 'VmRSS');
    }
    const [cmd, args] =
      w.loadgen === 'socketio' ? pinnedCommand(1, process.execPath, [SOCKETIO_LOADGEN, ...fullArgs]) : pinnedCommand(1, LOADGEN, fullArgs);
    const lg = new ManagedProcess(cmd, args, { cwd: ROOT });
    loadgen = lg;
    let cpu0: number | null = null;
    let sched0: { server: { wait: number } | null; loadgen: { wait: number } | null } = { server: null, loadgen: null };
    let t0 = 0n;
    let cores0: CpuTimes[] | null = null;
    let foreign0 = 0;
    const ours = new Set([srv.pid, lg.pid, process.pid]);
    lg.onLine((line) => {
      // sampled synchronously as the loadgen announces its measured window
      if (line === 'MEASURE start') {
        cpu0 = readCpuSeconds(srv.pid);
        sched0 = { server: readSchedstat(srv.pid), loadgen: readSchedstat(lg.pid) };
        cores0 = readCpuTimes();
        foreign0 = readForeignCpuSeconds(ours);
        t0 = process.hrtime.bigint();
      } else if (line === 'MEASURE end' && cpu0 !== null) {
        const cpu1 = readCpuSeconds(srv.pid);
        const s1 = readSchedstat(srv.pid);
        const l1 = readSchedstat(lg.pid);
        const cores1 = readCpuTimes();
        const foreign1 = readForeignCpuSeconds(ours);
        if (pinned && cores0 !== null && cores1 !== null) {
          const c0 = cpuBusyBetween(cores0, cores1, 0);
          const c1 = cpuBusyBetween(cores0, cores1, 1);
          if (c0 !== null) record.serverCoreBusy = c0.busy;
          if (c0 !== null) record.serverCoreIrq = c0.irq;
          if (c1 !== null) record.loadgenCoreBusy = c1.busy;
        }
        const dt = Number(process.hrtime.bigint() - t0) / 1e9;
        if (cpu1 !== null && dt > 0) record.serverCpu = (cpu1 - cpu0) / dt;
        if (dt > 0) record.otherLoad = Math.max(0, foreign1 - foreign0) / dt;
        if (s1 !== null && sched0.server !== null && dt > 0) record.serverWait = (s1.wait - sched0.server.wait) / dt;
        if (l1 !== null && sched0.loadgen !== null && dt > 0) record.loadgenWait = (l1.wait - sched0.loadgen.wait) / dt;
      }
    });
    const timeoutMs = (s.warmup + s.duration + 150) * 1000;
    if (w.kind === 'memory') {
      const n = w.connections!(s);
      await lg.waitForLine((l) => l.startsWith('READY '), 130000, 'loadgen opening connections');
      // settle, read twice, keep the later reading
      await sleep(s.settleMs);
      const rss1 = readStatusKiB(srv.pid, 'VmRSS');
      await sleep(s.settleMs);
      const rss2 = readStatusKiB(srv.pid, 'VmRSS');
      if (rss2 !== null) record.serverRssKiB = rss2;
      lg.writeLine('close');
      if (!(await lg.waitExit(60000))) throw new Error('loadgen did not exit after the idle hold');
      if (rssBefore === null || rss2 === null) throw new Error('server exited during the measurement');
      record.value = (rss2 - rssBefore) / n;
      record.extra = { rssBeforeKiB: rssBefore, rssFirstKiB: rss1 ?? -1, rssAfterKiB: rss2, connections: n };
    } else if (!(await lg.waitExit(timeoutMs))) {
      lg.kill('SIGKILL');
      throw new Error(`loadgen still running after ${timeoutMs / 1000} s; killed`);
    }
    const json = parseJsonLine(lg);
    if (json === null) throw new Error(`loadgen printed no result (${lg.describeExit()}) ${lg.stderrTail()}`);
    record.loadgen = json;
    if (!json.ok || lg.exitCode !== 0) throw new Error(`loadgen: ${json.error ?? lg.describeExit()} ${lg.stderrTail()}`);
    if (w.kind === 'load') {
      record.value = w.value!(json);
      const l = latency(json);
      if (l.p50 !== undefined) record.latencyP50Us = l.p50;
      if (l.p99 !== undefined) record.latencyP99Us = l.p99;
      record.loadgenCpu = num(json, 'loadgen_cpu');
      record.loadgenCpuUser = num(json, 'loadgen_cpu_user');
      if (w.metric.cpuPer !== undefined && record.serverCpu !== undefined && record.value > 0) {
        record.extra = { ...record.extra, serverCpuUsPer: (record.serverCpu / record.value) * 1e6 };
      }
      const rss = readStatusKiB(srv.pid, 'VmRSS');
      if (rss !== null) record.serverRssKiB = rss;
      if (!(record.value > 0)) throw new Error('no progress during the measured window');
    } else {
      const n = w.connections!(s);
      if (num(json, 'opened') !== n) throw new Error(`only ${num(json, 'opened')} of ${n} connections opened`);
      if (w.deflate && num(json, 'ext_negotiated') !== n) {
        throw new Error(`permessage-deflate negotiated on ${num(json, 'ext_negotiated')} of ${n} connections`);
      }
      if (w.deflate) {
        if (num(json, 'echoed') !== n) throw new Error(`only ${num(json, 'echoed')} of ${n} connections got their reply`);
        record.extra = { ...record.extra, compressedReplies: num(json, 'echoed_compressed') };
      }
    }
    if (!srv.running) throw new Error(`server exited during the run (${srv.describeExit()}) ${srv.stderrTail()}`);
    record.ok = true;
  } catch (err) {
    record.ok = false;
    record.error = (err instanceof Error ? err.message : String(err)).replace(/\s+/g, ' ').trim();
  } finally {
    if (loadgen !== undefined) await loadgen.stop(2000);
    if (server !== undefined) {
      if (!record.ok && server.stderr.trim() !== '') record.extra = { ...record.extra, serverStderr: server.stderr.slice(-2000) };
      await server.stop(3000);
    }
  }
  mkdirSync(RAW, { recursive: true });
  writeFileSync(
    join(RAW, `${ctx.stamp}-${w.name}-${serverName}-r${rep}.json`),
    `${JSON.stringify({ ...record, settings: ctx.settings }, null, 2)}\n`,
  );
  return record;
}

/** Whether wsforge negotiates permessage-deflate and answers a compressed message (one connection). */
async function probeWsforgeDeflate(ctx: RunContext): Promise<boolean> {
  const def = WORKLOADS.find((w) => w.name === 'deflate-memory')!;
  const probe: WorkloadDef = { ...def, name: 'deflate-probe', connections: () => 1 };
  const settings = { ...ctx.settings, deflateConns: 1, settleMs: 50, quietWaitS: 0 };
  const r = await runOnce({ ...ctx, settings }, { ...probe, loadgenArgs: () => [...def.loadgenArgs(settings), '--setup-timeout', '10'] }, 'wsforge', 0);
  return r.ok;
}

function buildLoadgen(): void {
  mkdirSync(join(BENCH, 'bin'), { recursive: true });
  const r = spawnSync('cc', ['-O2', '-o', LOADGEN, join(BENCH, 'loadgen.c')], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) {
    process.stderr.write(r.stderr ?? '');
    throw new Error('building the loadgen failed (cc -O2 -o bench/bin/loadgen bench/loadgen.c)');
  }
}

function machineInfo(): ReportInput['machine'] {
  let cpu = os.cpus()[0]?.model ?? 'unknown CPU';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m !== null) cpu = m[1]!.trim();
  } catch {
    // keep os.cpus()
  }
  return {
    cpu,
    cores: os.cpus().length,
    kernel: os.release(),
    node: process.version,
    host: os.hostname(),
    loadStart: os.loadavg().map((v) => v.toFixed(2)).join(' '),
    loadEnd: '',
  };
}

function hostish(): string {
  return os.hostname().toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 24) || 'host';
}

function parseList<T extends string>(value: string | undefined, allowed: readonly T[], what: string): T[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').map((x) => x.trim()).filter((x) => x !== '');
  for (const item of items) {
    if (!allowed.includes(item as T)) throw new Error(`unknown ${what} "${item}" (known: ${allowed.join(', ')})`);
  }
  return items as T[];
}

function positive(value: string | undefined, fallback: number, what: string): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new Error(`--${what} needs a positive number`);
  return n;
}

/** The loadgen's CPU while it saturates the fastest server: the calmest thin echo-small-pipelined run. */
function headroomFrom(records: readonly RunRecord[]): Headroom | null {
  const runs = records.filter((r) => r.workload === 'echo-small-pipelined' && r.server === 'thin' && r.ok);
  if (runs.length === 0) return null;
  const best = [...runs].sort((a, b) => (disturbance(a) ?? 0) - (disturbance(b) ?? 0))[0]!;
  return {
    ...(best.serverCoreBusy !== undefined ? { serverCoreBusy: best.serverCoreBusy } : {}),
    ...(best.loadgenCoreBusy !== undefined ? { loadgenCoreBusy: best.loadgenCoreBusy } : {}),
    loadgenCpu: best.loadgenCpu ?? Number.NaN,
    loadgenCpuUser: best.loadgenCpuUser ?? Number.NaN,
    serverCpu: best.serverCpu ?? Number.NaN,
    msgsPerS: best.value ?? Number.NaN,
    source: 'thin echo-small-pipelined',
  };
}

/** `--render raw/<stamp>-summary.json`: write the report again from a finished run (no measuring). */
function renderAgain(file: string): number {
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { input: ReportInput & { date: string }; records: RunRecord[]; scaleSection?: string };
  const input: ReportInput = { ...saved.input, date: new Date(saved.input.date), headroom: headroomFrom(saved.records) ?? saved.input.headroom };
  const dir = RESULTS;
  const names = input.quick ? ['quick'] : [`${input.date.toISOString().slice(0, 10)}-${hostish()}`, 'latest'];
  for (const name of names) writeFileSync(join(dir, `${name}.md`), renderMarkdown(input) + (saved.scaleSection ?? ''));
  writeFileSync(join(dir, input.quick ? 'quick.svg' : 'latest.svg'), renderSvg(input));
  process.stdout.write(`bench: rendered ${names.map((n) => `bench/results/${n}.md`).join(', ')} and the chart from ${file}\n`);
  return 0;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      workload: { type: 'string' },
      server: { type: 'string' },
      reps: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'idle-conns': { type: 'string' },
      'deflate-conns': { type: 'string' },
      receivers: { type: 'string' },
      'broadcast-inflight': { type: 'string' },
      retries: { type: 'string' },
      'quiet-wait': { type: 'string' },
      'lock-wait': { type: 'string' },
      'no-headroom': { type: 'boolean', default: false },
      render: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  const workloadNames = [...WORKLOADS.map((w) => w.name), ...SCALE_WORKLOAD_NAMES, SOAK_WORKLOAD];
  if (values.render !== undefined) return renderAgain(values.render);
  if (values.help) {
    process.stdout.write(usage(workloadNames));
    return 0;
  }
  const quick = values.quick === true;
  const fileLimit = hardFileLimit();
  const settings: Settings = {
    quick,
    reps: Math.round(positive(values.reps, quick ? 1 : 3, 'reps')),
    duration: positive(values.duration, quick ? 1 : 5, 'duration'),
    warmup: values.warmup !== undefined ? Number(values.warmup) : quick ? 0.3 : 1,
    idleConns: Math.round(positive(values['idle-conns'], quick ? 2000 : 19500, 'idle-conns')),
    deflateConns: Math.round(positive(values['deflate-conns'], quick ? 500 : 10000, 'deflate-conns')),
    receivers: Math.round(positive(values.receivers, quick ? 200 : 1000, 'receivers')),
    broadcastInflight: Math.round(positive(values['broadcast-inflight'], 1, 'broadcast-inflight')),
    settleMs: quick ? 300 : 1000,
    retries: values.retries !== undefined ? Math.round(Number(values.retries)) : quick ? 0 : 1,
    quietWaitS: values['quiet-wait'] !== undefined ? Number(values['quiet-wait']) : quick ? 0 : 30,
  };
  if (!(settings.quietWaitS >= 0)) throw new Error('--quiet-wait needs a number >= 0');
  if (!(settings.retries >= 0)) throw new Error('--retries needs a number >= 0');
  if (!(settings.warmup >= 0)) throw new Error('--warmup needs a number >= 0');
  const notes: string[] = [];
  for (const key of ['idleConns', 'deflateConns'] as const) {
    // both the server and the loadgen hold one fd per connection, each under the hard limit
    const cap = fileLimit - 200;
    if (settings[key] > cap) {
      notes.push(`${key} lowered from ${settings[key]} to ${cap} (open-file hard limit ${fileLimit})`);
      settings[key] = cap;
    }
  }

  const requestedServers = parseList(values.server, SERVER_NAMES, 'server');
  const serverNotes: string[] = [];
  const servers: ServerName[] = [];
  for (const s of requestedServers ?? SERVER_NAMES) {
    const why = serverUnavailable(s);
    if (why === null) servers.push(s);
    else serverNotes.push(`${s} skipped: ${why}`);
  }
  if (servers.length === 0) throw new Error(`no server available: ${serverNotes.join('; ')}`);

  if (os.cpus().length < 2 || spawnSync('taskset', ['-c', '0', 'true']).status !== 0) {
    pinned = false;
    notes.push('server and loadgen are not pinned: taskset is missing or there is only one CPU');
  }

  const lockNote = await acquireLock(
    values['lock-wait'] !== undefined ? Number(values['lock-wait']) : 1200,
    (text) => process.stdout.write(`${text}\n`),
  );
  if (lockNote !== null) notes.push(lockNote);
  buildLoadgen();
  const started = Date.now();
  const date = new Date();
  const stamp = date.toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
  const log = (text: string): void => {
    process.stdout.write(`${text}\n`);
  };
  const ctx: RunContext = { settings, stamp, log };
  const machine = machineInfo();

  let selected = parseList(values.workload, workloadNames, 'workload');
  if (selected === undefined) {
    const deflateWorkloads = workloadNames.filter((n) => n.startsWith('deflate-memory'));
    selected = workloadNames.filter((n) => !n.startsWith('deflate-memory'));
    if (!existsSync(join(ROOT, 'node_modules', 'socket.io', 'package.json')) || !existsSync(SOCKETIO_LOADGEN)) {
      selected = selected.filter((n) => n !== 'socketio-broadcast');
      notes.push('socketio-broadcast not run: node_modules/socket.io (npm ci) or build/bench/socketio-loadgen.js (npm run build:test) is missing');
    }
    if (servers.includes('wsforge')) {
      if (await probeWsforgeDeflate(ctx)) selected.push(...deflateWorkloads);
      else notes.push('deflate-memory not in the default set: wsforge did not negotiate permessage-deflate (run it with --workload deflate-memory)');
    }
  }
  log(
    `bench: servers ${servers.join(', ')}; workloads ${selected.join(', ')}; ${settings.reps} rep(s), ` +
      `${settings.warmup}+${settings.duration} s per run${pinned ? ', server on CPU 0, loadgen on CPU 1' : ''}`,
  );
  for (const note of [...serverNotes, ...notes]) log(`bench: ${note}`);

  const records: RunRecord[] = [];
  const summaries: WorkloadSummary[] = [];
  const scaleResults: ScaleResult[] = [];
  for (const name of selected) {
    if (name === SOAK_WORKLOAD) continue;
    if (isScaleWorkload(name)) {
      // wsforge/cluster and wsforge/redis: several server processes per run (bench/scale.ts)
      const scaleContext = { ...settings, stamp, root: ROOT, loadgen: LOADGEN, rawDir: RAW, pinned, servers, log };
      scaleResults.push(await runScaleWorkload(name, { ...scaleContext, waitQuiet: (limitS: number) => waitQuiet(limitS, log) }));
      continue;
    }
    const w = WORKLOADS.find((x) => x.name === name)!;
    const mine = servers.filter((s) => w.servers.includes(s));
    const recs: RunRecord[] = [];
    for (let rep = 1; rep <= settings.reps; rep++) {
      // interleave servers within a repetition; rotate the order between repetitions
      const shift = (rep - 1) % Math.max(1, mine.length);
      const order = [...mine.slice(shift), ...mine.slice(0, shift)];
      for (const server of order) {
        let r = await runOnce(ctx, w, server, rep);
        // a run disturbed by other load on the machine is repeated (bounded), keeping the calmer one
        for (let retry = 1; retry <= settings.retries && r.ok && w.kind === 'load' && (disturbance(r) ?? 0) > DISTURBED; retry++) {
          log(`  ${w.name.padEnd(21)} rep ${rep} ${server.padEnd(8)} disturbed (other processes used ${((disturbance(r) ?? 0) * 100).toFixed(0)}% of a CPU), again`);
          const again = await runOnce(ctx, w, server, rep);
          if (again.ok && (disturbance(again) ?? 0) < (disturbance(r) ?? 0)) r = again;
        }
        recs.push(r);
        const value = r.ok ? `${r.value!.toFixed(w.metric.unit === 'KiB/conn' ? 2 : 1)} ${w.metric.unit}` : `FAILED: ${r.error}`;
        const cpu =
          r.serverCpu !== undefined
            ? ` (server ${(r.serverCpu * 100).toFixed(0)}%, loadgen ${((r.loadgenCpu ?? 0) * 100).toFixed(0)}%, other load ${((disturbance(r) ?? 0) * 100).toFixed(0)}%)`
            : '';
        log(`  ${w.name.padEnd(21)} rep ${rep} ${server.padEnd(8)} ${value}${r.ok ? cpu : ''}`);
      }
    }
    records.push(...recs);
    summaries.push(summarize(w.name, w.description(settings), w.metric, recs));
    if (w.deflate) {
      for (const server of mine) {
        const r = recs.find((x) => x.server === server && x.ok);
        const k = r?.extra?.compressedReplies;
        if (typeof k === 'number') notes.push(`${w.name}: ${server} compressed ${k} of ${w.connections!(settings)} replies (RSV1 set)`);
      }
    }
  }

  let soak: SoakResult | undefined;
  if (selected.includes(SOAK_WORKLOAD)) {
    if (servers.includes('wsforge')) {
      const durationS = values.duration !== undefined ? settings.duration : quick ? 20 : 600;
      log(`  soak: ${durationS} s against wsforge (long-lived echo clients and continuous connection churn)`);
      soak = await runSoak(
        { root: ROOT, startServer: () => startServer('wsforge', 'echo', false), waitListening, pinnedCommand, log },
        { durationS, longLived: quick ? 10 : 50, inflight: 4, churn: quick ? 5 : 20 },
      );
      log(`  soak: ${soak.ok ? 'pass' : `FAILED: ${soak.error}`}; RSS ${soak.rssStartKiB} → ${soak.rssMidKiB} → ${soak.rssEndKiB} KiB, slope ${soak.slopeKiBPerMin.toFixed(0)} KiB/min (second half ${soak.secondHalfSlopeKiBPerMin.toFixed(0)})`);
    } else {
      notes.push('soak skipped: it runs against wsforge, which is not among the servers');
    }
  }

  // headroom: the loadgen's CPU while it saturates the fastest server
  let headroom: Headroom | null;
  const thinPipelined = records.filter((r) => r.workload === 'echo-small-pipelined' && r.server === 'thin' && r.ok);
  // (not for a soak alone: it has no loadgen)
  if (thinPipelined.length === 0 && !values['no-headroom'] && selected.some((n) => n !== SOAK_WORKLOAD)) {
    const w = WORKLOADS.find((x) => x.name === 'echo-small-pipelined')!;
    const r = await runOnce(ctx, w, 'thin', 0);
    log(`  headroom check (thin, echo-small-pipelined): ${r.ok ? `${r.value!.toFixed(0)} msg/s` : `FAILED: ${r.error}`}`);
    if (r.ok) thinPipelined.push(r);
  }
  headroom = headroomFrom(thinPipelined);
  if (headroom !== null) {
    log(
      `bench: headroom: loadgen ${(headroom.loadgenCpu * 100).toFixed(0)}% of CPU 1 (user ${(headroom.loadgenCpuUser * 100).toFixed(0)}%), ` +
        `server ${(headroom.serverCpu * 100).toFixed(0)}% of CPU 0 (CPU 0 busy ${((headroom.serverCoreBusy ?? Number.NaN) * 100).toFixed(0)}%)`,
    );
  }

  machine.loadEnd = os.loadavg().map((v) => v.toFixed(2)).join(' ');
  const input: ReportInput = {
    date,
    quick,
    reps: settings.reps,
    duration: settings.duration,
    warmup: settings.warmup,
    pinned,
    machine,
    servers,
    serverNotes,
    workloads: summaries,
    headroom,
    notes,
    elapsedS: (Date.now() - started) / 1000,
    command: `node build/bench/run.js ${process.argv.slice(2).join(' ')}`.trim(),
    ...(soak === undefined ? {} : { soak }),
  };
  const md = renderMarkdown(input) + renderScaleSection(scaleResults);
  const svg = renderSvg(input);
  mkdirSync(RAW, { recursive: true });
  const written: string[] = [];
  const write = (path: string, text: string): void => {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    written.push(relative(ROOT, path));
  };
  // A run of some workloads or servers only must not replace the full report (README quotes it).
  const partial = values.workload !== undefined || values.server !== undefined;
  if (quick || partial) {
    const name = quick ? 'quick' : 'partial';
    write(join(RESULTS, `${name}.md`), md);
    write(join(RESULTS, `${name}.svg`), svg);
  } else {
    write(join(RESULTS, `${date.toISOString().slice(0, 10)}-${hostish()}.md`), md);
    write(join(RESULTS, 'latest.md'), md);
    write(join(RESULTS, 'latest.svg'), svg);
  }
  write(join(RAW, `${stamp}-summary.json`), `${JSON.stringify({ input, records, scaleSection: renderScaleSection(scaleResults) }, null, 2)}\n`);
  log('');
  log(md);
  log(`bench: wrote ${written.join(', ')}`);
  return records.some((r) => !r.ok) || scaleResults.some((s) => s.runs.some((r) => !r.ok)) || soak?.ok === false ? 1 : 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 2;
  },
);
