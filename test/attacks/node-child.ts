/**
 * Start a compiled script of test/attacks/peers/ as a child process with the open-file limit raised
 * to the hard limit (a server or an attacker holding thousands of sockets), as bench/run.ts starts
 * its servers. `exec` keeps the PID: the PID the test holds is node's, and the child is stopped by it.
 */
import { dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { PeerProcess } from '../interop/peer-process.js';

const PEERS_DIR = join(dirname(fileURLToPath(import.meta.url)), 'peers');

export function startNodeChild(t: TestContext, name: string, script: string, args: readonly string[]): PeerProcess {
  const child = new PeerProcess(name, 'sh', [
    '-c',
    'ulimit -n "$(ulimit -Hn)" && exec "$0" "$@"',
    process.execPath,
    join(PEERS_DIR, script),
    ...args,
  ]);
  t.after(async () => {
    await child.stop(2000);
  });
  return child;
}
