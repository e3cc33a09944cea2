/**
 * The attacker of a test (peers/attacker.ts) in its own process: open the connections, start the
 * attack on `go()`, and read its report, each step bounded in time.
 */
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { PeerProcess, repoRoot, requirePath, SYSTEM_PYTHON } from '../interop/peer-process.js';
import { startNodeChild } from './node-child.js';

export type AttackMode = 'non-reading' | 'echo-flood' | 'fragments' | 'ping-flood' | 'endless-header' | 'slowloris';

export interface AttackSettings {
  conns?: number;
  size?: number;
  fragments?: number;
  pings?: number;
  durationMs?: number;
  intervalMs?: number;
}

type Json = Record<string, unknown>;

export class Attacker {
  private constructor(
    private readonly child: PeerProcess,
    /** What the attacker said once its connections were open. */
    readonly ready: Json,
  ) {}

  /** Start the attacker and wait (at most `readyMs`) until its connections are open. */
  static async start(t: TestContext, mode: AttackMode, port: number, settings: AttackSettings = {}, readyMs = 30_000): Promise<Attacker> {
    const flags: Record<keyof AttackSettings, string> = {
      conns: '--conns',
      size: '--size',
      fragments: '--fragments',
      pings: '--pings',
      durationMs: '--duration-ms',
      intervalMs: '--interval-ms',
    };
    const args = [mode, '--port', String(port)];
    for (const [key, flag] of Object.entries(flags) as Array<[keyof AttackSettings, string]>) {
      const value = settings[key];
      if (value !== undefined) args.push(flag, String(value));
    }
    const child = startNodeChild(t, `attacker (${mode})`, 'attacker.js', args);
    const ready = await child.waitForJson<Json>((r) => r.event === 'ready' || r.event === 'report', readyMs, 'the attacker to open its connections');
    if (ready.event === 'report') throw new Error(`the attacker failed before the attack: ${String(ready.error)}`);
    return new Attacker(child, ready);
  }

  /**
   * Non-reading peers as they would come over a network (peers/small-window-readers.py): a small
   * receive buffer (SO_RCVBUF `rcvbuf` bytes; the kernel doubles it), as on their own machines, and
   * an Ethernet MSS, so that the server's kernel sizes their sockets as for network peers and not
   * for loopback's 64 KiB segments.
   */
  static async startSmallWindowReaders(t: TestContext, port: number, conns: number, rcvbuf = 4096, readyMs = 60_000): Promise<Attacker> {
    requirePath(SYSTEM_PYTHON, 'Python 3', 'apt-get install -y python3');
    const script = join(repoRoot, 'test', 'attacks', 'peers', 'small-window-readers.py');
    const child = new PeerProcess('attacker (small-window readers)', SYSTEM_PYTHON, [script, '--port', String(port), '--conns', String(conns), '--rcvbuf', String(rcvbuf)]);
    t.after(async () => {
      await child.stop(2000);
    });
    const ready = await child.waitForJson<Json>((r) => r.event === 'ready', readyMs, 'the attacker to open its connections');
    return new Attacker(child, ready);
  }

  /** Start the attack. */
  go(): void {
    this.child.child.stdin!.write('go\n');
  }

  /** The report of an attack that ends by itself, within `ms`. */
  async finished(ms: number): Promise<Json> {
    return this.checked(await this.child.waitForJson<Json>((r) => r.event === 'report', ms, 'the attack to finish'));
  }

  /** End the attack and take its report. */
  async stop(ms = 10_000): Promise<Json> {
    this.child.child.stdin!.write('stop\n');
    return this.finished(ms);
  }

  private checked(report: Json): Json {
    if (typeof report.error === 'string') throw new Error(`the attacker failed: ${report.error}`);
    return report;
  }
}
