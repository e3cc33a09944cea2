/**
 * Attack: a ping flood from a peer that never reads. Every ping asks for a pong (RFC 6455 §5.5.2),
 * and a peer that does not read its pongs must not make the server queue them without bound. The
 * issue: a million pings, never read, made the server queue 64 MiB of pongs before dropping it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { guardProcess } from '../helpers/process-guard.js';
import { delay } from '../helpers/timing.js';
import { Attacker } from './attacker-process.js';
import { describeLatencies, EchoProbe, summarize } from './good-clients.js';
import { KiB, mib, MiB, startServerUnderAttack } from './server-under-attack.js';

guardProcess();

describe('attack: ping flood', () => {
  test('a peer sends 1,000,000 pings of 125 bytes and never reads: the pongs the server holds stay bounded (RSS + 24 MiB at most)', { timeout: 60_000 }, async (t) => {
    const PINGS = 1_000_000;
    const server = await startServerUnderAttack(t, { mode: 'echo' });
    const probe = await EchoProbe.start(server.port);
    t.after(() => probe.stop());
    const attacker = await Attacker.start(t, 'ping-flood', server.port, { conns: 1, pings: PINGS, durationMs: 30_000 });
    await delay(500);
    const baseline = server.rssKiB();
    // Pongs waiting for a peer that does not read: at most 64 KiB (README, limits), the rest are not
    // answered. Slack for the 64 KiB reads of 131 MB of pings, V8 and malloc: 24 MiB.
    const SLACK = 24 * MiB;
    const ceiling = baseline + (64 * KiB + SLACK) / KiB;
    const watch = server.watchCeiling(ceiling, `baseline ${mib(baseline)} + 64 KiB of pongs + slack ${mib(SLACK / KiB)}`);
    t.after(() => watch.stop());
    const before = probe.rtts.length;
    const cpu0 = server.cpuSeconds();

    attacker.go();
    const report = await Promise.race([attacker.finished(45_000), watch.exceeded]);
    watch.stop();
    const cpu = server.cpuSeconds() - cpu0;
    const during = summarize(probe.rtts.slice(before));
    await probe.stop();
    const peak = server.peakRssKiB();
    const accepted = (report.pingsAccepted as number[])[0]!;
    const doneAt = (report.doneAtMs as number[])[0]!;
    const stats = await server.stats();
    t.diagnostic(
      `baseline ${mib(baseline)}; peak ${mib(peak)} (VmHWM; ceiling ${mib(ceiling)}); ${accepted} pings taken by the kernel in ${doneAt} ms; ` +
        `server CPU ${cpu.toFixed(2)} s; server close codes ${JSON.stringify(stats.closeCodes)}; good client during the flood: ${describeLatencies(during)}`,
    );
    assert.deepEqual(probe.errors, [], 'the good client saw no error');
    assert.ok(peak <= ceiling, `server peak RSS ${mib(peak)} is over the ceiling ${mib(ceiling)}`);
    assert.ok(during.count > 0, 'the good client made round trips during the flood');
  });
});
