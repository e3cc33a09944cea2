/** Run the built CLI (dist/cli/main.js) as a child process, with bounded waits. */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { withTimeout } from './timing.js';

export const CLI_PATH = fileURLToPath(new URL('../../../dist/cli/main.js', import.meta.url));

export interface CliRun {
  child: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Wait for a stdout line matching `pattern`; returns the match. */
  waitForLine(pattern: RegExp, ms?: number): Promise<RegExpMatchArray>;
  /** Wait for the process to exit; returns its exit code (or the signal name). */
  exited(ms?: number): Promise<number | string>;
}

export interface CliOptions {
  /** The CLI's stdin: by default a pipe the test writes to (`child.stdin`); or another process's stdout (a shell pipeline). */
  stdin?: Readable;
}

export function runCli(t: TestContext, args: string[], options: CliOptions = {}): CliRun {
  const child = spawn(process.execPath, [CLI_PATH, ...args], { stdio: [options.stdin ?? 'pipe', 'pipe', 'pipe'] }) as ChildProcessWithoutNullStreams;
  let out = '';
  let err = '';
  const waiters: Array<() => void> = [];
  const wake = () => waiters.splice(0).forEach((w) => w());
  child.stdout.on('data', (chunk) => {
    out += chunk;
    wake();
  });
  child.stderr.on('data', (chunk) => {
    err += chunk;
    wake();
  });
  // null when stdin is another process's output
  (child.stdin as ChildProcessWithoutNullStreams['stdin'] | null)?.on('error', () => {});
  let exitValue: number | string | null = null;
  const exit = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      exitValue = code ?? signal ?? -1;
      resolve(exitValue);
      wake();
    }),
  );
  t.after(() => {
    if (exitValue === null) child.kill('SIGKILL');
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    waitForLine(pattern, ms = 5000) {
      return withTimeout(
        new Promise<RegExpMatchArray>((resolve, reject) => {
          const check = () => {
            for (const line of out.split('\n')) {
              const match = line.match(pattern);
              if (match !== null) return resolve(match);
            }
            if (exitValue !== null) return reject(new Error(`CLI exited (${exitValue}) without printing ${pattern}; stdout: ${out} stderr: ${err}`));
            waiters.push(check);
          };
          check();
        }),
        ms,
        `CLI output ${pattern} (stdout so far: ${JSON.stringify(out.slice(-300))}, stderr: ${JSON.stringify(err.slice(-300))})`,
      );
    },
    exited(ms = 5000) {
      return withTimeout(exit, ms, `the CLI to exit (stderr: ${JSON.stringify(err.slice(-300))})`);
    },
  };
}
