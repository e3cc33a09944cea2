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
import { delay } from '../helpers/timing.js';
import { Attacker } from './attacker-process.js';
import { BroadcastProbe, describeLatencies, EchoProbe } from './good-clients.js';
import { KiB, mib, MiB, startServerUnderAttack } from './server-under-attack.js';

guardProcess();

/**
 * What the server may hold beyond the live unsent bytes a limit counts: the held output of
 * connections it has just dropped, and the read buffers of the flood, are garbage that V8 frees at
 * its own pace (the same echo flood from clients that do read costs +26 MiB); malloc keeps freed
 * arenas; prepared broadcast frames. Measured: 80-100 MiB over the live bytes in the echo floods on
 * Node 20; on Node 24 up to 129 MiB (its peaks run higher, see BROADCAST_SLACK).
 */
const SLACK = 192 * MiB;

/**
 * The same for 5,000 sockets written to at once, where what a socket's write queue and its dropped
 * output leave behind grows with the connections. Measured over the 5,000-peer attack, peak RSS above
 * the baseline (budget 64 MiB included): Node 20 +64 MiB, Node 26 +93 to +125 MiB, Node 24 +238 to
 * +241 MiB, of which ~65 MiB are the dropped connections' ArrayBuffers still awaiting V8's GC once all
 * were closed (process.memoryUsage().arrayBuffers, printed in the diagnostic). Before the fix: 3 GiB.
 */
const BROADCAST_SLACK = 256 * MiB;

describe('attack: slow consumers', () => {
  test('5,000 connections that never read, broadcast 1 KiB messages: RSS stays within maxTotalBackpressure, every one is closed (1008 by the budget, 1011 by keepalive), good clients get every message', { timeout: 120_000 }, async (t) => {
    const CONNECTIONS = 5000;
    // A smaller budget than a production server would use, so that 5,000 peers reach it within seconds.
    const BUDGET = 64 * MiB;
    // Keepalive shorter than its default (20 s + 20 s), so that the whole attack fits in the test.
    const server = await startServerUnderAttack(t, {
      mode: 'broadcast',
      options: { maxTotalBackpressure: BUDGET, pingInterval: 5000, pingTimeout: 5000 },
    });
    const probe = await BroadcastProbe.start(server.port, 4);
    t.after(() => probe.close());
    // The peers reach the server as over a network (Attacker.startSmallWindowReaders: small receive
    // buffers, an Ethernet MSS). Over loopback as it is, 5,000 non-readers fill this kernel's TCP
    // memory (dmesg "TCP: out of memory", TcpExtTCPAbortOnMemory): the kernel, not the server, then
    // stalls the good clients for seconds and resets their connections.
    const attacker = await Attacker.startSmallWindowReaders(t, server.port, CONNECTIONS);
    assert.equal(attacker.ready.opened, CONNECTIONS, `the attacker opened ${String(attacker.ready.opened)} connections (${String(attacker.ready.firstFailure)})`);
    await delay(1000);
    // The idle connections are part of the baseline: what is bounded is what the attack adds.
    const baseline = server.rssKiB();
    const baselineMemory = (await server.stats()).memory;
    const ceiling = baseline + (BUDGET + BROADCAST_SLACK) / KiB;
    const watch = server.watchCeiling(ceiling, `baseline ${mib(baseline)} + budget ${mib(BUDGET / KiB)} + slack ${mib(BROADCAST_SLACK / KiB)}`);
    t.after(() => watch.stop());

    const started = performance.now();
    probe.startPublishing(2);
    // The budget (closeOnBackpressureLimit: 1008) closes a slow consumer once its socket refuses
    // more and the process's total passes the budget: measured, all 5,000 within 2 s. Keepalive
    // (1011: they answer no ping) is the backstop for a peer whose kernel buffers keep taking what
    // it is sent; most must go by the budget.
    const allClosed = await Promise.race([
      server.waitForStats((s) => s.closed >= CONNECTIONS, 30_000, `the ${CONNECTIONS} slow consumers are closed`, 250).catch((error: unknown) => {
        throw new Error(`${(error as Error).message}; the good clients: ${probe.errors.join('; ') || 'no error'}`);
      }),
      watch.exceeded,
    ]);
    const timeToDropMs = performance.now() - started;
    const goodClientsClosed = allClosed.firstTenClosed.filter((closed) => closed.opened <= probe.connectionCount);
    assert.deepEqual(goodClientsClosed, [], `no good client is closed by the server (good clients: ${probe.errors.join('; ') || 'no error'})`);
    // Go on publishing with the slow consumers gone: delivery must be back to normal.
    const afterDrop = probe.publishedCount;
    await Promise.race([delay(3000), watch.exceeded]);
    probe.stopPublishing();
    await Promise.race([probe.waitForAllDelivered(20_000), watch.exceeded]);
    watch.stop();
    const peak = server.peakRssKiB();
    const during = probe.summary();
    const steady = probe.summaryFrom(afterDrop);
    t.diagnostic(
      `baseline ${mib(baseline)} with ${CONNECTIONS} idle connections; peak ${mib(peak)} (VmHWM; ceiling ${mib(ceiling)}); ` +
        `all slow consumers closed after ${(timeToDropMs / 1000).toFixed(1)} s (${JSON.stringify(allClosed.closeCodes)}); ${probe.publishedCount} messages published; ` +
        `good clients, whole run: ${describeLatencies(during)}; after the drop: ${describeLatencies(steady)}; ` +
        `server memory (MiB) at the baseline ${JSON.stringify(baselineMemory)}, once all were closed ${JSON.stringify(allClosed.memory)}`,
    );
    assert.deepEqual(probe.errors, [], 'the good clients saw no error, gap or reordering');
    assert.ok(peak <= ceiling, `server peak RSS ${mib(peak)} is over the ceiling ${mib(ceiling)}`);
    const byBudget = allClosed.closeCodes['1008'] ?? 0;
    const byKeepalive = allClosed.closeCodes['1011'] ?? 0;
    assert.equal(byBudget + byKeepalive, CONNECTIONS, `every slow consumer is closed with 1008 or 1011: ${JSON.stringify(allClosed.closeCodes)}`);
    assert.ok(byBudget >= CONNECTIONS * 0.8, `${byBudget} of ${CONNECTIONS} were closed by the budget (1008)`);
    // Before the fix good clients waited 16 s, and longer the longer it ran (measured now: under
    // 1 s). The bound leaves room for the first second or two, in which the server writes to 5,000
    // sockets until their buffers are full and only then can tell that they do not read.
    assert.ok(during.max <= 4000, `a good client waited ${during.max.toFixed(0)} ms for a message`);
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
