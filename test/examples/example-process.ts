/**
 * Run one program of examples/ as its user would (`node examples/<name>.js`), on a free port
 * (PORT=0: the example prints the port it got), and stop it by its PID with SIGTERM.
 */
import { spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { withTimeout } from '../helpers/timing.js';

const EXAMPLES = fileURLToPath(new URL('../../../examples/', import.meta.url));

export interface RunningExample {
  port: number;
  /** Everything the example printed on stdout so far. */
  stdout(): string;
  /** Wait until stdout has a match of `pattern` (printed at or after character `from`); returns the match. */
  waitForOutput(pattern: RegExp, ms: number, from?: number): Promise<RegExpExecArray>;
  /** Send SIGTERM to the example's PID; resolves with its exit code (or the signal that ended it). */
  stop(ms?: number): Promise<number | string>;
}

/** Start examples/<name> with PORT=0 (and `env`); resolves once it prints its `listening on http://host:port/` line. */
export async function startExample(t: TestContext, name: string, env: Record<string, string> = {}, ms = 10_000): Promise<RunningExample> {
  const child = spawn(process.execPath, [EXAMPLES + name], {
    cwd: EXAMPLES,
    env: { ...process.env, ...env, PORT: '0', HOST: '127.0.0.1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  const waiters = new Set<() => void>();
  const wake = (): void => waiters.forEach((waiter) => waiter());
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    out += chunk;
    wake();
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (err += chunk));
  let exitValue: number | string | null = null;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      exitValue = code ?? signal ?? -1;
      resolve(exitValue);
      wake();
    });
  });
  t.after(() => {
    if (exitValue === null) child.kill('SIGKILL');
  });

  const waitForOutput = (pattern: RegExp, waitMs: number, from = 0): Promise<RegExpExecArray> => {
    let check = (): void => {};
    const found = new Promise<RegExpExecArray>((resolve, reject) => {
      check = () => {
        const match = pattern.exec(out.slice(from));
        if (match !== null) resolve(match);
        else if (exitValue !== null) reject(new Error(`examples/${name} exited (${exitValue}) without printing ${pattern}; stdout: ${out} stderr: ${err}`));
      };
      waiters.add(check);
      check();
    });
    return withTimeout(found, waitMs, `examples/${name} to print ${pattern} (stdout: ${JSON.stringify(out.slice(-500))}, stderr: ${JSON.stringify(err.slice(-500))})`).finally(() =>
      waiters.delete(check),
    );
  };

  const listening = await waitForOutput(/listening on http:\/\/127\.0\.0\.1:(\d+)\//, ms);
  return {
    port: Number(listening[1]),
    stdout: () => out,
    waitForOutput,
    stop(stopMs = 10_000) {
      if (exitValue === null) child.kill('SIGTERM');
      return withTimeout(exited, stopMs, `examples/${name} to exit after SIGTERM (stderr: ${JSON.stringify(err.slice(-500))})`);
    },
  };
}
