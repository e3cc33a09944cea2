/**
 * Attack: slow consumers. Peers that let the server's writes pile up (they never read) must cost
 * the server no more than its backpressure budget, be closed with 1008 ("slow consumer") once they
 * pass it, and leave well-behaved clients served. The issue: 5,000 non-reading connections on a
 * broadcasting server grew it past 3 GiB in 49 s (dead at 4.26 GiB) while good clients waited 16 s;
 * 20 non-reading echo clients, 1.34 GiB.
 *
 * The server runs in its own process; its memory is read from /proc/<pid>/status: VmRSS sampled
 * during the attack (to stop at once when a bound is passed), VmHWM (the true peak) at the end.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { guardProcess } from '../helpers/process-guard.js';
import { delay, waitUntil } from '../helpers/timing.js';
import { Attacker } from './attacker-process.js';
import { BroadcastProbe, describeLatencies, EchoProbe } from './good-clients.js';
import { KiB, mib, MiB, startServerUnderAttack } from './server-under-attack.js';

guardProcess();

/**
 * What the server may hold beyond the live unsent bytes a limit counts: the held output of
 * connections it has just dropped, and the read buffers of the flood, are garbage that V8 frees at
 * its own pace (the same echo flood from clients that do read costs +26 MiB); malloc keeps freed
 * arenas; prepared broadcast frames. Measured: 80-100 MiB over the live bytes in the echo floods.
 */
const SLACK = 128 * MiB;

describe('attack: slow consumers', () => {
  test('5,000 connections that never read, broadcast 1 KiB messages: RSS stays within maxTotalBackpressure, those over it are closed with 1008, good clients get every message', { timeout: 90_000 }, async (t) => {
    const CONNECTIONS = 5000;
    // A smaller budget than a production server would use, so that 5,000 peers reach it within seconds.
    const BUDGET = 64 * MiB;
    const server = await startServerUnderAttack(t, { mode: 'broadcast', options: { maxTotalBackpressure: BUDGET } });
    const probe = await BroadcastProbe.start(server.port, 4);
    t.after(() => probe.close());
    const attacker = await Attacker.start(t, 'non-reading', server.port, { conns: CONNECTIONS }, 60_000);
    assert.equal(attacker.ready.opened, CONNECTIONS, `the attacker opened ${String(attacker.ready.opened)} connections (${String(attacker.ready.firstFailure)})`);
    await delay(1000);
    // The idle connections are part of the baseline: what is bounded is what the attack adds.
    const baseline = server.rssKiB();
    const ceiling = baseline + (BUDGET + SLACK) / KiB;
    const watch = server.watchCeiling(ceiling, `baseline ${mib(baseline)} + budget ${mib(BUDGET / KiB)} + slack ${mib(SLACK / KiB)}`);
    t.after(() => watch.stop());

    const started = performance.now();
    probe.startPublishing(2);
    // Slow consumers: closed once the budget is passed (closeOnBackpressureLimit, the default), well
    // before keepalive (20 s + 20 s by default) would close them for not answering pings. The last
    // few may never reach it: once the others are gone, the kernel's freed socket memory lets
    // their own buffers take what they are sent (several MiB each, outside the process and its
    // budget); keepalive closes them later. So: nine in ten within 30 s, all of those with 1008.
    const SHED = Math.ceil(CONNECTIONS * 0.9);
    const dropped = await Promise.race([
      server.waitForStats((s) => s.closed >= SHED, 30_000, `${SHED} of the ${CONNECTIONS} slow consumers are closed`, 250),
      watch.exceeded,
    ]);
    const timeToDropMs = performance.now() - started;
    // Go on publishing with the slow consumers gone: delivery must be back to normal.
    const afterDrop = probe.publishedCount;
    await Promise.race([delay(3000), watch.exceeded]);
    probe.stopPublishing();
    await Promise.race([waitUntil(() => probe.allDelivered(), 20_000, 'every good client has every message'), watch.exceeded]);
    watch.stop();
    const peak = server.peakRssKiB();
    const during = probe.summary();
    const steady = probe.summaryFrom(afterDrop);
    t.diagnostic(
      `baseline ${mib(baseline)} with ${CONNECTIONS} idle connections; peak ${mib(peak)} (VmHWM; ceiling ${mib(ceiling)}); ` +
        `all slow consumers closed after ${(timeToDropMs / 1000).toFixed(1)} s; ${probe.publishedCount} messages published; ` +
        `good clients, whole run: ${describeLatencies(during)}; after the drop: ${describeLatencies(steady)}`,
    );
    assert.deepEqual(probe.errors, [], 'the good clients saw no error, gap or reordering');
    assert.ok(peak <= ceiling, `server peak RSS ${mib(peak)} is over the ceiling ${mib(ceiling)}`);
    assert.equal(dropped.closeCodes['1008'], dropped.closed, `every slow consumer closed is closed with 1008: ${JSON.stringify(dropped.closeCodes)}`);
    assert.ok(dropped.closed >= SHED, `${dropped.closed} of ${CONNECTIONS} closed`);
    // Before the fix good clients waited 16 s, and longer the longer it ran. The bound leaves room
    // for the first seconds, in which the server writes to 5,000 sockets until their kernel buffers
    // are full (about 200 KiB each) and only then can tell that they do not read.
    assert.ok(during.max <= 8000, `a good client waited ${during.max.toFixed(0)} ms for a message`);
    // With the slow consumers gone, five clients at 500 messages/s: delivery within a few event-loop turns.
    assert.ok(steady.p99 <= 100, `after the drop, good clients' p99 is ${steady.p99.toFixed(1)} ms`);
  });

  // The second case. Two limits bound it; each is tested on its own, smaller than its
  // default (maxBackpressure 64 MiB per connection, maxTotalBackpressure a quarter of V8's heap
  // limit) so that it is reached within a second or two and 20 × 64 MiB is not allocated on CI.
  const echoFloodCases = [
    { limit: 'maxBackpressure', options: { maxBackpressure: 8 * MiB }, bound: 20 * 8 * MiB, boundText: '20 × 8 MiB' },
    { limit: 'maxTotalBackpressure', options: { maxTotalBackpressure: 64 * MiB }, bound: 64 * MiB, boundText: '64 MiB' },
  ] as const;
  for (const { limit, options, bound, boundText } of echoFloodCases) {
    test(`20 connections that send and never read their echoes: closed with 1008 by ${limit}; RSS stays within ${boundText}`, { timeout: 60_000 }, async (t) => {
      const CONNECTIONS = 20;
      const server = await startServerUnderAttack(t, { mode: 'echo', options });
      const probe = await EchoProbe.start(server.port);
      t.after(() => probe.stop());
      const attacker = await Attacker.start(t, 'echo-flood', server.port, { conns: CONNECTIONS, size: 1024 });
      assert.equal(attacker.ready.opened, CONNECTIONS);
      await delay(500);
      const baseline = server.rssKiB();
      const ceiling = baseline + (bound + SLACK) / KiB;
      const watch = server.watchCeiling(ceiling, `baseline ${mib(baseline)} + ${boundText} + slack ${mib(SLACK / KiB)}`);
      t.after(() => watch.stop());

      const started = performance.now();
      attacker.go();
      const dropped = await Promise.race([
        server.waitForStats((s) => s.clients <= 1, 30_000, `the ${CONNECTIONS} flooding connections are closed`),
        watch.exceeded,
      ]);
      const timeToDropMs = performance.now() - started;
      watch.stop();
      await attacker.stop();
      const rtt = await probe.stop();
      const peak = server.peakRssKiB();
      t.diagnostic(
        `baseline ${mib(baseline)}; peak ${mib(peak)} (VmHWM; ceiling ${mib(ceiling)}); all ${CONNECTIONS} closed after ` +
          `${(timeToDropMs / 1000).toFixed(1)} s; good client echo: ${describeLatencies(rtt)}`,
      );
      assert.deepEqual(probe.errors, [], 'the good client saw no error');
      assert.ok(peak <= ceiling, `server peak RSS ${mib(peak)} is over the ceiling ${mib(ceiling)}`);
      assert.deepEqual(dropped.closeCodes, { 1008: CONNECTIONS }, 'every flooding connection was closed as a slow consumer');
      assert.ok(rtt.count > 0, 'the good client completed round trips during the attack');
    });
  }
});
