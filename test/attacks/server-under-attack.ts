/**
 * The server of an attack test, in its own process (peers/attack-server.ts), measured from outside:
 * its memory from /proc/<pid>/status (VmRSS now, VmHWM the peak), its CPU time from /proc/<pid>/stat,
 * and what happened to its connections from its own bookkeeping (`stats`).
 */
import type { TestContext } from 'node:test';
import { readCpuSeconds, readStatusKiB } from '../../bench/proc.js';
import type { PeerProcess } from '../interop/peer-process.js';
import { startNodeChild } from './node-child.js';

export interface ServerSpec {
  mode: 'echo' | 'broadcast';
  /** listen(): raw TCP, wsforge reads the request head; attach(http.Server): node:http reads it. Default listen. */
  entry?: 'listen' | 'attach';
  /** Passed to `new WebSocketServer()` as JSON. */
  options?: Record<string, unknown>;
  /** The message code throws for this text message. */
  throwOn?: string;
  /** Per-connection listeners instead of server-wide handlers. */
  listeners?: boolean;
}

/** The server's own account (peers/attack-server.ts). */
export interface ServerStats {
  clients: number;
  opened: number;
  closed: number;
  closeCodes: Record<string, number>;
  errorCodes: Record<string, number>;
  messages: number;
  thrown: number;
  thrownReported: number;
  otherUncaught: string[];
  /** HTTP status -> handshakes refused with it, as the server's 'rejected' event reports them. */
  rejected: Record<string, number>;
  /** The first ten connections opened (the good clients a test opens before its attack) that closed. */
  firstTenClosed: Array<{ opened: number; code: number; error: string | null }>;
  /** process.memoryUsage() of the server when the stats were taken, MiB. */
  memory: { heapUsedMiB: number; externalMiB: number; arrayBuffersMiB: number };
}

export const KiB = 1024;
export const MiB = 1024 * 1024;

export class ServerUnderAttack {
  private statsRequests = 0;

  constructor(
    private readonly child: PeerProcess,
    readonly port: number,
    readonly pid: number,
  ) {}

  /** VmRSS now, KiB. */
  rssKiB(): number {
    return this.read('VmRSS');
  }

  /** VmHWM: the highest VmRSS the process has had, KiB. */
  peakRssKiB(): number {
    return this.read('VmHWM');
  }

  /** User + system CPU time so far, seconds. */
  cpuSeconds(): number {
    const seconds = readCpuSeconds(this.pid);
    if (seconds === null) throw new Error(`the server (pid ${this.pid}) is gone\n${this.child.describe()}`);
    return seconds;
  }

  private read(field: 'VmRSS' | 'VmHWM'): number {
    const kib = readStatusKiB(this.pid, field);
    if (kib === null) throw new Error(`cannot read ${field} of the server (pid ${this.pid}): it is gone\n${this.child.describe()}`);
    return kib;
  }

  async stats(ms = 30_000): Promise<ServerStats> {
    const id = ++this.statsRequests;
    this.child.child.stdin!.write(`stats ${id}\n`);
    const line = await this.child.waitForLine((l) => l.startsWith(`STATS ${id} `), ms, `STATS ${id}`);
    return JSON.parse(line.slice(`STATS ${id} `.length)) as ServerStats;
  }

  /** Poll the server's stats until `done` holds; resolves with them. */
  async waitForStats(done: (stats: ServerStats) => boolean, ms: number, what: string, everyMs = 100): Promise<ServerStats> {
    const deadline = Date.now() + ms;
    for (;;) {
      const stats = await this.stats();
      if (done(stats)) return stats;
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}; server stats: ${JSON.stringify(stats)}`);
      await new Promise((resolve) => setTimeout(resolve, everyMs));
    }
  }

  /**
   * Sample VmRSS every `everyMs` until stopped; `exceeded` rejects as soon as a sample passes
   * `ceilingKiB`, so an attack that blows the bound stops at once (and the machine is spared the
   * rest of the growth).
   */
  watchCeiling(ceilingKiB: number, what: string, everyMs = 100): MemoryWatch {
    return new MemoryWatch(this, ceilingKiB, what, everyMs);
  }
}

export class MemoryWatch {
  /** Highest VmRSS sampled, KiB. */
  maxSampledKiB = 0;
  readonly exceeded: Promise<never>;
  private readonly timer: NodeJS.Timeout;
  private readonly started = performance.now();

  constructor(server: ServerUnderAttack, ceilingKiB: number, what: string, everyMs: number) {
    let fail!: (error: Error) => void;
    this.exceeded = new Promise<never>((_, reject) => (fail = reject));
    this.exceeded.catch(() => {});
    this.timer = setInterval(() => {
      let rss: number;
      try {
        rss = server.rssKiB();
      } catch (error) {
        clearInterval(this.timer);
        fail(error as Error);
        return;
      }
      this.maxSampledKiB = Math.max(this.maxSampledKiB, rss);
      if (rss > ceilingKiB) {
        clearInterval(this.timer);
        const after = ((performance.now() - this.started) / 1000).toFixed(1);
        fail(new Error(`server RSS ${(rss / 1024).toFixed(0)} MiB passed the ceiling of ${(ceilingKiB / 1024).toFixed(0)} MiB (${what}) ${after} s into the attack`));
      }
    }, everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** Start the server child and wait until it listens. */
export async function startServerUnderAttack(t: TestContext, spec: ServerSpec): Promise<ServerUnderAttack> {
  const args = ['--mode', spec.mode, '--entry', spec.entry ?? 'listen', '--options', JSON.stringify(spec.options ?? {})];
  if (spec.throwOn !== undefined) args.push('--throw-on', spec.throwOn);
  if (spec.listeners === true) args.push('--listeners');
  const child = startNodeChild(t, 'attack-server', 'attack-server.js', args);
  const line = await child.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:\d+$/, 15_000, 'listening on ws://...');
  const pid = child.pid;
  if (pid === undefined) throw new Error('the server process has no pid');
  return new ServerUnderAttack(child, Number(line.slice(line.lastIndexOf(':') + 1)), pid);
}

export function mib(kib: number): string {
  return `${(kib / 1024).toFixed(1)} MiB`;
}
