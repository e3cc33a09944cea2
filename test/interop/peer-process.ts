// A peer that runs in its own process (a Python script, a Node 24 script, the wsforge CLI):
// stdout is read line by line, JSON lines are taken in order, and every wait is bounded.
// The process is stopped by its own PID (SIGTERM, then SIGKILL), never by name.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../helpers/timing.js';
import { Deferred, markHandled } from './bounded-wait.js';

/** The repository root (the tests run from build/test/interop/, the sources live in test/interop/). */
export const repoRoot: string = findRepoRoot(dirname(fileURLToPath(import.meta.url)));

function findRepoRoot(start: string): string {
  let dir = start;
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      try {
        if ((JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'wsforge') return dir;
      } catch {
        // not ours; keep going up
      }
    }
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the wsforge package.json above ${start}`);
    dir = parent;
  }
}

/** Fixture sources that tsc does not copy (the Python peers). */
export const peersSourceDir = join(repoRoot, 'test', 'interop', 'peers');
/** Compiled TypeScript peers. */
export const peersBuildDir = resolve(dirname(fileURLToPath(import.meta.url)), 'peers');

/** Fail (never skip) when a peer is missing, saying how to install it. */
export function requirePath(path: string, what: string, install: string): void {
  if (!existsSync(path)) {
    throw new Error(`${what} not found at ${path}. Install it: ${install}`);
  }
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class PeerProcess {
  readonly child: ChildProcess;
  /** Every stdout line so far. */
  readonly lines: string[] = [];
  stderr = '';
  private partial = '';
  private jsonCursor = 0;
  private readonly lineWaiters = new Set<() => void>();
  private readonly exit = new Deferred<Exit>();
  private spawnError: Error | null = null;

  constructor(
    readonly name: string,
    command: string,
    args: readonly string[],
    options: { cwd?: string; env?: NodeJS.ProcessEnv } = {},
  ) {
    this.child = spawn(command, args, {
      cwd: options.cwd ?? repoRoot,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.setEncoding('utf8');
    this.child.stderr!.setEncoding('utf8');
    this.child.stdout!.on('data', (chunk: string) => {
      const parts = (this.partial + chunk).split('\n');
      this.partial = parts.pop()!;
      for (const line of parts) this.lines.push(line.replace(/\r$/, ''));
      this.wake();
    });
    this.child.stderr!.on('data', (chunk: string) => {
      // Keep the tail only: enough for a failure message.
      this.stderr = (this.stderr + chunk).slice(-8000);
    });
    this.child.stdin!.on('error', () => {});
    this.child.on('error', (error) => {
      this.spawnError = new Error(`${name}: cannot start ${command}: ${error.message}`);
      this.exit.resolve({ code: null, signal: null });
      this.wake();
    });
    this.child.on('close', (code, signal) => {
      if (this.partial !== '') {
        this.lines.push(this.partial);
        this.partial = '';
      }
      this.exit.resolve({ code, signal });
      this.wake();
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get exited(): boolean {
    return this.exit.settled;
  }

  private wake(): void {
    for (const waiter of [...this.lineWaiters]) waiter();
  }

  /** What to show when a wait fails. */
  describe(): string {
    const exit = this.exit.settled ? ' (exited)' : '';
    return `${this.name}${exit}; stdout:\n${this.lines.slice(-30).join('\n')}\nstderr:\n${this.stderr.slice(-3000)}`;
  }

  /**
   * Wait until some stdout line (any seen so far, or a later one) satisfies `match`; resolves
   * with it. Fails early if the process exits without printing it.
   */
  waitForLine(match: RegExp | ((line: string) => boolean), ms: number, what = String(match)): Promise<string> {
    const test = typeof match === 'function' ? match : (line: string) => match.test(line);
    return this.waitFor(() => this.lines.find(test), ms, `a line matching ${what}`);
  }

  /**
   * The first JSON object printed on stdout (so far or later) that satisfies `match`; does
   * not move the cursor of `nextJson`.
   */
  waitForJson<T = Record<string, unknown>>(match: (record: T) => boolean, ms: number, what = 'a matching JSON line'): Promise<T> {
    return this.waitFor(() => {
      for (const line of this.lines) {
        const record = parseJsonLine<T>(line);
        if (record !== undefined && match(record)) return record;
      }
      return undefined;
    }, ms, what);
  }

  /** The next JSON object printed on stdout (non-JSON lines are skipped). */
  nextJson<T = Record<string, unknown>>(ms: number, what = 'a JSON line'): Promise<T> {
    return this.waitFor(() => {
      while (this.jsonCursor < this.lines.length) {
        const record = parseJsonLine<T>(this.lines[this.jsonCursor++]!);
        if (record !== undefined) return record;
      }
      return undefined;
    }, ms, what);
  }

  private waitFor<T>(find: () => T | undefined, ms: number, what: string): Promise<T> {
    let waiter: (() => void) | undefined;
    const found = new Promise<T>((resolve, reject) => {
      waiter = () => {
        if (this.spawnError !== null) return reject(this.spawnError);
        const value = find();
        if (value !== undefined) return resolve(value);
        if (this.exit.settled) reject(new Error(`${this.name} exited before printing ${what}\n${this.describe()}`));
      };
      this.lineWaiters.add(waiter);
      waiter();
    });
    return markHandled(
      withTimeout(found, ms, `${this.name} to print ${what}`)
        .catch((error: Error) => {
          throw error.message.includes('stdout:') ? error : new Error(`${error.message}\n${this.describe()}`);
        })
        .finally(() => {
          if (waiter !== undefined) this.lineWaiters.delete(waiter);
        }),
    );
  }

  /** Wait for the process to exit by itself. */
  waitForExit(ms: number): Promise<Exit> {
    return markHandled(
      withTimeout(this.exit.promise, ms, `${this.name} to exit`).catch((error: Error) => {
        throw new Error(`${error.message}\n${this.describe()}`);
      }),
    );
  }

  /** Stop the process (by its PID): SIGTERM, then SIGKILL after `graceMs`. Safe to call twice. */
  async stop(graceMs = 3000): Promise<Exit> {
    if (!this.exit.settled && this.child.pid !== undefined) {
      this.child.kill('SIGTERM');
      try {
        return await withTimeout(this.exit.promise, graceMs, `${this.name} to exit after SIGTERM`);
      } catch {
        this.child.kill('SIGKILL');
      }
    }
    return withTimeout(this.exit.promise, 5000, `${this.name} to exit after SIGKILL`);
  }
}

function parseJsonLine<T>(line: string): T | undefined {
  const text = line.trim();
  if (!text.startsWith('{')) return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}

/** Python with the `websockets` package: Debian's /usr/bin/python3 (the pyenv python3 on PATH lacks it). */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Fail with install instructions unless /usr/bin/python3 can import websockets; returns its version. */
export function requirePythonWebsockets(): string {
  const install = 'apt-get install -y python3-websockets (Debian 12 ships websockets 10.4 for /usr/bin/python3)';
  requirePath(SYSTEM_PYTHON, 'Python 3', `apt-get install -y python3 python3-websockets`);
  const probe = spawnSync(SYSTEM_PYTHON, ['-c', 'import websockets; print(websockets.__version__)'], { encoding: 'utf8', timeout: 10_000 });
  if (probe.status !== 0) {
    throw new Error(`${SYSTEM_PYTHON} cannot import websockets (${(probe.stderr || String(probe.error ?? '')).trim()}). Install it: ${install}`);
  }
  return probe.stdout.trim();
}
