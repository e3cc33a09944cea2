/**
 * One of ws's README examples (test/ws/readme-examples/, test/ws/readme-client-examples/) in a process of
 * its own, with a loopback harness preloaded (`--import`): what it prints, line by line, and its stderr.
 * Killed (by PID) after the test.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { EventQueue } from '../interop/bounded-wait.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

export interface ExampleProcess {
  process: ChildProcess;
  /** Lines the example prints (console.log). */
  lines: EventQueue<string>;
  stderr: () => string;
}

export function startExample(t: TestContext, script: URL, harness: URL, env: NodeJS.ProcessEnv = {}): ExampleProcess {
  const child = spawn(process.execPath, ['--import', harness.href, fileURLToPath(script)], {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const name = fileURLToPath(script).split('/').pop() ?? 'example';
  const lines = new EventQueue<string>(`${name} output line`);
  let stderr = '';
  let buffered = '';
  child.stdout!.setEncoding('utf8').on('data', (text: string) => {
    buffered += text;
    let end: number;
    while ((end = buffered.indexOf('\n')) !== -1) {
      lines.push(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
    }
  });
  child.stderr!.setEncoding('utf8').on('data', (text: string) => {
    stderr += text;
  });
  return { process: child, lines, stderr: () => stderr };
}
