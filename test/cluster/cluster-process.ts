/** Run a cluster (a fixture script or the CLI) as a child process, with bounded waits; killed after the test. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { TestContext } from 'node:test';
import { connect, type WebSocket } from '../../src/index.js';
import { withTimeout } from '../helpers/timing.js';

export interface ClusterProcess {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** The first stdout line matching `pattern` at or after line `from` (default 0). */
  waitForLine(pattern: RegExp, ms?: number, from?: number): Promise<RegExpMatchArray>;
  lineCount(): number;
  exited(ms?: number): Promise<number | string>;
}

export function startClusterProcess(t: TestContext, script: string, args: string[], env: Record<string, string>, node = process.execPath): ClusterProcess {
  const child = spawn(node, [script, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const wake = (): void => waiters.splice(0).forEach((w) => w());
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    wake();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    err += chunk.toString();
    wake();
  });
  let exitValue: number | string | null = null;
  const exit = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      exitValue = code ?? signal ?? -1;
      resolve(exitValue);
      wake();
    }),
  );
  t.after(async () => {
    // SIGTERM lets the primary take its workers down; SIGKILL if it does not go.
    if (exitValue !== null) return;
    child.kill('SIGTERM');
    try {
      await withTimeout(exit, 8000, 'the cluster to stop');
    } catch {
      child.kill('SIGKILL');
    }
  });
  const lines = (): string[] => out.split('\n');
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    lineCount: () => lines().length - 1,
    waitForLine(pattern, ms = 10000, from = 0) {
      return withTimeout(
        new Promise<RegExpMatchArray>((resolve, reject) => {
          const check = (): void => {
            const all = lines();
            // The last element is an unfinished line.
            for (let i = from; i < all.length - 1; i++) {
              const match = all[i]!.match(pattern);
              if (match !== null) return resolve(match);
            }
            if (exitValue !== null) return reject(new Error(`process exited (${exitValue}) without printing ${pattern}; stdout: ${out} stderr: ${err}`));
            waiters.push(check);
          };
          check();
        }),
        ms,
        `output ${pattern} (stdout so far: ${JSON.stringify(out.slice(-400))}, stderr: ${JSON.stringify(err.slice(-400))})`,
      );
    },
    exited(ms = 10000) {
      return withTimeout(exit, ms, `the process to exit (stderr: ${JSON.stringify(err.slice(-300))})`);
    },
  };
}

/** A client of a cluster, with the worker that greeted it. */
export interface WorkerClient {
  ws: WebSocket;
  worker: number;
  pid: number;
  /** Messages after the greeting, in order. */
  received: Array<{ data: string | Buffer; isBinary: boolean }>;
  /** Resolves once `count` messages have arrived. */
  waitForMessages(count: number, ms?: number): Promise<void>;
}

/** Connect and read the "hello <worker> <pid>" greeting. */
export async function connectToWorker(url: string): Promise<WorkerClient> {
  const ws = await connect(url);
  const received: WorkerClient['received'] = [];
  const waiters: Array<() => void> = [];
  const greeting = new Promise<string>((resolve) => {
    let first = true;
    ws.on('message', (data, isBinary) => {
      if (first) {
        first = false;
        resolve(String(data));
        return;
      }
      received.push({ data, isBinary });
      waiters.splice(0).forEach((w) => w());
    });
  });
  const match = /^hello (\d+) (\d+)$/.exec(await withTimeout(greeting, 5000, 'the worker greeting'));
  if (match === null) throw new Error('unexpected greeting');
  return {
    ws,
    worker: Number(match[1]),
    pid: Number(match[2]),
    received,
    waitForMessages(count, ms = 5000) {
      return withTimeout(
        new Promise<void>((resolve) => {
          const check = (): void => (received.length >= count ? resolve() : void waiters.push(check));
          check();
        }),
        ms,
        `${count} messages (got ${received.length})`,
      );
    },
  };
}

/** Connect until a client of every worker in `workers` is found (bounded); the extra clients are closed. */
export async function clientsOfWorkers(url: string, workers: readonly number[], attempts = 80): Promise<Map<number, WorkerClient>> {
  const found = new Map<number, WorkerClient>();
  for (let i = 0; i < attempts && found.size < workers.length; i++) {
    const client = await connectToWorker(url);
    if (workers.includes(client.worker) && !found.has(client.worker)) found.set(client.worker, client);
    else client.ws.terminate();
  }
  if (found.size < workers.length) throw new Error(`after ${attempts} connections only workers ${[...found.keys()].join(',')} of ${workers.join(',')} answered`);
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
