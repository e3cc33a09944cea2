import { after, afterEach } from 'node:test';

/**
 * Fail the test run on any unhandled rejection or uncaught exception in this file's process
 * (node --test runs each file in its own process). The problem is reported by the test that
 * was running (or the next one to finish) and by the file's final hook.
 */
export function guardProcess(): void {
  const problems: unknown[] = [];
  process.on('unhandledRejection', (reason) => problems.push(reason));
  process.on('uncaughtException', (error) => problems.push(error));
  const check = (): void => {
    if (problems.length === 0) return;
    const found = problems.splice(0);
    const text = found.map((p) => (p instanceof Error ? (p.stack ?? p.message) : String(p))).join('\n---\n');
    throw new Error(`unhandled rejection or uncaught exception:\n${text}`);
  };
  afterEach(check);
  after(check);
}
