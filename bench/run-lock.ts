// The lock that keeps two benchmark runs on one machine apart: they would pin to the same CPUs and
// ruin each other. `bench/run.js` and `bench/cli-logging.js` both take it.
import { readFileSync, readdirSync, unlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { sleep } from './proc.js';

/** Scripts that take the lock (older runners did not: they are found by their command line). */
const RUNNERS = ['bench/run.js', 'bench/cli-logging.js'];

const LOCK = join(os.tmpdir(), `wsforge-bench-${process.getuid?.() ?? 0}.lock`);

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Other live benchmark runners (older ones do not take the lock), excluding our own ancestors. */
function otherRunners(): number[] {
  const ancestors = new Set<number>();
  for (let pid = process.pid; pid > 1 && !ancestors.has(pid); ) {
    ancestors.add(pid);
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      pid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      break;
    }
  }
  const found: number[] = [];
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const name of entries) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || ancestors.has(pid)) continue;
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.some((a) => RUNNERS.some((runner) => a.endsWith(runner)))) found.push(pid);
    } catch {
      // gone
    }
  }
  return found;
}

/**
 * Two benchmark runs at once would pin to the same CPUs and ruin each other: take a lock file (PID inside),
 * waiting at most `limitS` seconds for a live holder; a stale lock (dead PID) is replaced.
 */
export async function acquireLock(limitS: number, log: (text: string) => void): Promise<string | null> {
  const deadline = Date.now() + limitS * 1000;
  let told = false;
  for (;;) {
    try {
      writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      process.on('exit', () => {
        try {
          if (readFileSync(LOCK, 'utf8') === String(process.pid)) unlinkSync(LOCK);
        } catch {
          // already gone
        }
      });
      // runners from before the lock existed do not take it
      for (let others = otherRunners(); others.length > 0; others = otherRunners()) {
        if (Date.now() >= deadline) return `ran while another benchmark run (pid ${others.join(', ')}) was still running: results are disturbed`;
        if (!told) {
          log(`bench: another benchmark run (pid ${others.join(', ')}) is running; waiting up to ${limitS} s`);
          told = true;
        }
        await sleep(2000);
      }
      return null;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') return `no lock (${(err as Error).message})`;
    }
    let holder = Number.NaN;
    try {
      holder = Number.parseInt(readFileSync(LOCK, 'utf8'), 10);
    } catch {
      continue; // released meanwhile
    }
    if (!Number.isFinite(holder) || !alive(holder)) {
      try {
        unlinkSync(LOCK);
      } catch {
        // someone else removed it
      }
      continue;
    }
    if (Date.now() >= deadline) return `ran while another benchmark run (pid ${holder}) was still running: results are disturbed`;
    if (!told) {
      log(`bench: another benchmark run (pid ${holder}) holds ${LOCK}; waiting up to ${limitS} s`);
      told = true;
    }
    await sleep(2000);
  }
}
