/**
 * Attack: tiny fragments. A message sent as hundreds of thousands of one-byte fragments must cost
 * the server memory in proportion to its payload, not a buffer per fragment, and must not stall the
 * other connections while it is parsed. The issue: 20 connections each sending a message as
 * 262,143 one-byte fragments (1.8 MiB on the wire each) took the server to 735 MiB RSS, about
 * 34 MiB per connection; one such connection raised a good client's round trip to 171 ms.
 * (ws's CVE-2026-48779: 131,000 one-byte fragments pinned about 13.5 MB.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { guardProcess } from '../helpers/process-guard.js';
import { delay } from '../helpers/timing.js';
import { Attacker } from './attacker-process.js';
import { describeLatencies, EchoProbe, summarize } from './good-clients.js';
import { KiB, mib, MiB, startServerUnderAttack } from './server-under-attack.js';

guardProcess();

describe('attack: tiny fragments', () => {
  test('20 connections each send a 262,143-byte message as 262,143 one-byte fragments: each is echoed intact, RSS grows by at most 4 × the payload per connection', { timeout: 60_000 }, async (t) => {
    const CONNECTIONS = 20;
    // One fewer than the default maxFragments (262,144): the message is allowed.
    const FRAGMENTS = 262_143;
    const server = await startServerUnderAttack(t, { mode: 'echo' });
    const probe = await EchoProbe.start(server.port);
    t.after(() => probe.stop());
    const attacker = await Attacker.start(t, 'fragments', server.port, { conns: CONNECTIONS, fragments: FRAGMENTS });
    assert.equal(attacker.ready.opened, CONNECTIONS);
    await delay(500);
    const baseline = server.rssKiB();
    // Per connection: the message being assembled (the payload, in buffers grown geometrically: at
    // most 2 × the payload), then the message delivered and its echo queued (2 × the payload), while
    // the next 64 KiB reads come in. Plus slack for V8 and malloc: 32 MiB.
    const perConnection = 4 * FRAGMENTS;
    const SLACK = 32 * MiB;
    const ceiling = baseline + (CONNECTIONS * perConnection + SLACK) / KiB;
    const watch = server.watchCeiling(ceiling, `baseline ${mib(baseline)} + ${CONNECTIONS} × 4 × ${FRAGMENTS} B + slack ${mib(SLACK / KiB)}`);
    t.after(() => watch.stop());
    const before = probe.rtts.length;

    attacker.go();
    const report = await Promise.race([attacker.finished(45_000), watch.exceeded]);
    watch.stop();
    const during = summarize(probe.rtts.slice(before));
    await probe.stop();
    const peak = server.peakRssKiB();
    const results = report.results as Array<{ echoedAtMs: number; length: number; correct: boolean; closeCode: number }>;
    const slowest = Math.max(...results.map((r) => r.echoedAtMs));
    t.diagnostic(
      `baseline ${mib(baseline)}; peak ${mib(peak)} (VmHWM; ceiling ${mib(ceiling)}); ${String(report.wireBytesPerConnection ?? attacker.ready.wireBytesPerConnection)} B on the wire per connection; ` +
        `all echoed after ${slowest} ms; good client during the attack: ${describeLatencies(during)}`,
    );
    for (const [i, r] of results.entries()) {
      assert.equal(r.closeCode, -1, `connection ${i} got a close frame (${r.closeCode})`);
      assert.equal(r.length, FRAGMENTS, `connection ${i}: echo of ${r.length} bytes`);
      assert.ok(r.correct, `connection ${i}: the echo differs from the message`);
    }
    assert.deepEqual(probe.errors, [], 'the good client saw no error');
    assert.ok(peak <= ceiling, `server peak RSS ${mib(peak)} is over the ceiling ${mib(ceiling)}`);
    // One 64 KiB read holds about 9,400 fragments; parsing them takes a millisecond or two, so a good
    // client waits for a few of those reads at most (the issue: 171 ms with one attacker).
    assert.ok(during.count > 0, 'the good client made round trips during the attack');
    assert.ok(during.p99 <= 100, `the good client's p99 round trip during the attack is ${during.p99.toFixed(1)} ms`);
  });
});
