// Child-process helpers for the benchmark runner: line-oriented stdout, bounded waits, stop by PID, and
// the /proc readings (CPU ticks, VmRSS) used to measure a server.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Every process this runner started and has not yet seen exit; killed by PID on SIGINT/SIGTERM. */
const live = new Set<ManagedProcess>();

let cleanupInstalled = false;
function installCleanup(): void {
  if (cleanupInstalled) return;
  cleanupInstalled = true;
  const onSignal = (signal: NodeJS.Signals): void => {
    for (const p of live) p.kill('SIGKILL');
    process.stderr.write(`\nbench: ${signal}, stopped ${live.size} child process(es)\n`);
    process.exit(130);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

export class ManagedProcess {
  readonly child: ChildProcessWithoutNullStreams;
  readonly pid: number;
  readonly lines: string[] = [];
  stderr = '';
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  running = true;
  readonly exited: Promise<void>;
  private partial = '';
  private readonly lineListeners: Array<(line: string) => void> = [];
  private readonly changeListeners = new Set<() => void>();

  constructor(command: string, args: readonly string[], options: { cwd: string; env?: NodeJS.ProcessEnv }) {
    installCleanup();
    this.child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: 'pipe' });
    if (this.child.pid === undefined) throw new Error(`could not start ${command}`);
    this.pid = this.child.pid;
    live.add(this);
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (text: string) => {
      const parts = (this.partial + text).split('\n');
      this.partial = parts.pop() ?? '';
      for (const line of parts) {
        this.lines.push(line);
        for (const listener of this.lineListeners) listener(line);
      }
      this.notify();
    });
    this.child.stderr.on('data', (text: string) => {
      // keep the tail only: a misbehaving child cannot grow this without bound
      this.stderr = (this.stderr + text).slice(-16384);
    });
    this.child.stdin.on('error', () => {});
    this.exited = new Promise<void>((resolve) => {
      this.child.on('close', (code, signal) => {
        if (this.partial !== '') {
          this.lines.push(this.partial);
          for (const listener of this.lineListeners) listener(this.partial);
          this.partial = '';
        }
        this.exitCode = code;
        this.exitSignal = signal;
        this.running = false;
        live.delete(this);
        this.notify();
        resolve();
      });
    });
  }

  /** Called synchronously for every stdout line, as it arrives. */
  onLine(listener: (line: string) => void): void {
    this.lineListeners.push(listener);
  }

  private notify(): void {
    for (const listener of [...this.changeListeners]) listener();
  }

  /** Resolves with the first stdout line matching `pred`; rejects if the process exits or time runs out. */
  waitForLine(pred: (line: string) => boolean, timeoutMs: number, what: string): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      let seen = 0;
      const check = (): void => {
        for (; seen < this.lines.length; seen++) {
          const line = this.lines[seen]!;
          if (pred(line)) {
            done();
            resolve(line);
            return;
          }
        }
        if (!this.running) {
          done();
          reject(new Error(`${what}: process exited (${this.describeExit()}) ${this.stderrTail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`${what}: timed out after ${timeoutMs} ms ${this.stderrTail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.changeListeners.delete(check);
      };
      this.changeListeners.add(check);
      check();
    });
  }

  /** Waits for exit at most `timeoutMs`; returns whether it exited. */
  async waitExit(timeoutMs: number): Promise<boolean> {
    if (!this.running) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([this.exited, timeout]);
    clearTimeout(timer);
    return !this.running;
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(this.pid, signal); // by PID, only our own child
    } catch {
      // already gone
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.kill('SIGTERM');
    if (await this.waitExit(graceMs)) return;
    this.kill('SIGKILL');
    await this.waitExit(5000);
  }

  writeLine(line: string): void {
    if (this.running && this.child.stdin.writable) this.child.stdin.write(`${line}\n`);
  }

  describeExit(): string {
    return this.exitSignal !== null ? `signal ${this.exitSignal}` : `code ${String(this.exitCode)}`;
  }

  stderrTail(): string {
    const tail = this.stderr.trim().split('\n').slice(-5).join(' | ');
    return tail === '' ? '' : `[stderr: ${tail}]`;
  }
}

let clockTicks: number | undefined;
/** USER_HZ for /proc/<pid>/stat times. */
export function clockTicksPerSecond(): number {
  if (clockTicks === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    const n = Number.parseInt(r.stdout ?? '', 10);
    clockTicks = Number.isFinite(n) && n > 0 ? n : 100;
  }
  return clockTicks;
}

/** utime + stime of a process in seconds, or null when it is gone. */
export function readCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after "(comm)": state is field 3; utime and stime are fields 14 and 15
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(rest[11]) + Number(rest[12]);
    return Number.isFinite(ticks) ? ticks / clockTicksPerSecond() : null;
  } catch {
    return null;
  }
}

/** A field of /proc/<pid>/status in KiB (VmRSS, VmHWM), or null. */
export function readStatusKiB(pid: number, field: 'VmRSS' | 'VmHWM'): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
    return m === null ? null : Number(m[1]);
  } catch {
    return null;
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Hard open-file limit of this shell environment (what `ulimit -Hn` gives a child). */
export function hardFileLimit(): number {
  const r = spawnSync('sh', ['-c', 'ulimit -Hn'], { encoding: 'utf8' });
  const text = (r.stdout ?? '').trim();
  if (text === 'unlimited') return 1 << 20;
  const n = Number.parseInt(text, 10);
  return Number.isFinite(n) ? n : 1024;
}

/**
 * Scheduler statistics of a process's main thread: time on CPU and time spent runnable but waiting for a
 * CPU (run-queue wait), in seconds. A pinned process that waits a lot shares its CPU with someone else: the
 * run was disturbed by other load on the machine.
 */
export function readSchedstat(pid: number): { run: number; wait: number } | null {
  try {
    const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/).map(Number);
    return run === undefined || wait === undefined || !Number.isFinite(run) || !Number.isFinite(wait)
      ? null
      : { run: run / 1e9, wait: wait / 1e9 };
  } catch {
    return null;
  }
}

export interface CpuTimes {
  busy: number;
  total: number;
  /** irq + softirq: on loopback mostly the TCP input path of packets sent from this CPU */
  irq: number;
}

/** /proc/stat times (in USER_HZ ticks): index 0 is the whole machine, then `cpu0`, `cpu1`, ... at 1, 2, ... */
export function readCpuTimes(): CpuTimes[] | null {
  try {
    const out: CpuTimes[] = [];
    for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
      if (!line.startsWith('cpu')) continue;
      const f = line.trim().split(/\s+/).slice(1).map(Number);
      // user nice system idle iowait irq softirq steal (guest time is already in user)
      const total = f.slice(0, 8).reduce((a, b) => a + b, 0);
      const idle = (f[3] ?? 0) + (f[4] ?? 0);
      out.push({ busy: total - idle, total, irq: (f[5] ?? 0) + (f[6] ?? 0) });
    }
    return out.length > 0 ? out : null;
  } catch {
    return null;
  }
}

/** Busy and irq fractions of CPU `cpu` (0-based) between two readings. */
export function cpuBusyBetween(a: CpuTimes[], b: CpuTimes[], cpu: number): { busy: number; irq: number } | null {
  const x = a[cpu + 1];
  const y = b[cpu + 1];
  if (x === undefined || y === undefined || y.total === x.total) return null;
  const dt = y.total - x.total;
  return { busy: (y.busy - x.busy) / dt, irq: (y.irq - x.irq) / dt };
}

function readCpuTotals(): CpuTimes | null {
  return readCpuTimes()?.[0] ?? null;
}

/** Fraction of the machine's CPU time (all CPUs) that was busy over the next `ms` milliseconds. */
export async function machineBusy(ms: number): Promise<number> {
  const a = readCpuTotals();
  await sleep(ms);
  const b = readCpuTotals();
  if (a === null || b === null || b.total === a.total) return 0;
  return (b.busy - a.busy) / (b.total - a.total);
}

const PF_KTHREAD = 0x00200000;

/**
 * CPU seconds used so far by every user-space process except `exclude` (our server, loadgen and runner):
 * utime + stime + cutime + cstime, so children that a live parent reaped in between are counted too.
 * The difference over a window is the other load that shared the machine with the benchmark. Kernel threads
 * are left out: on loopback they mostly do the benchmark's own network work (ksoftirqd).
 */
export function readForeignCpuSeconds(exclude: ReadonlySet<number>): number {
  let ticks = 0;
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return 0;
  }
  for (const name of entries) {
    const c = name.charCodeAt(0);
    if (c < 48 || c > 57) continue;
    const pid = Number(name);
    if (exclude.has(pid)) continue;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // rest[k] is field k + 3: flags 9, utime 14, stime 15, cutime 16, cstime 17
      if ((Number(rest[6]) & PF_KTHREAD) !== 0) continue;
      ticks += Number(rest[11]) + Number(rest[12]) + Number(rest[13]) + Number(rest[14]);
    } catch {
      // exited meanwhile
    }
  }
  return ticks / clockTicksPerSecond();
}

/** Whether `taskset` can pin a process to a CPU here (a machine without util-linux's taskset runs unpinned). */
export const canPin: boolean = spawnSync('taskset', ['-c', '0', 'true']).status === 0;

/** The command line for `node args` pinned to `cpu` with taskset, where it can be. */
export function pinnedNode(cpu: number, args: readonly string[]): [string, string[]] {
  return canPin ? ['taskset', ['-c', String(cpu), process.execPath, ...args]] : [process.execPath, [...args]];
}
