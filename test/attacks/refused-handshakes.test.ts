/**
 * Attack: a request head that never ends. The server answers 431 once the head passes maxHeaderSize
 * (16 KiB) and must then stop reading and close, so a peer cannot make it swallow more. The issue:
 * in listen() mode, after the 431 the socket kept reading for up to a second (4.7 MB swallowed from
 * one connection), and 200 such connections at once made a good client's round trips 8 times slower.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { guardProcess } from '../helpers/process-guard.js';
import { delay } from '../helpers/timing.js';
import { Attacker } from './attacker-process.js';
import { describeLatencies, EchoProbe, type Latencies, summarize } from './good-clients.js';
import { startServerUnderAttack } from './server-under-attack.js';

guardProcess();

interface RequestResult {
  status: number;
  answeredAtMs: number;
  acceptedAtAnswer: number;
  accepted: number;
  endedAtMs: number;
  closedAtMs: number;
  closeError: string;
}

/**
 * What the kernel may still take from a peer once the server stops reading: its socket buffers
 * (the attacker's send buffer and the server's receive window, autotuned by Linux). A server that
 * reads on takes hundreds of MB in the same time (measured before the fix: 315-537 MB in a second).
 */
const KERNEL_BUFFERS = 8 * 1024 * 1024;

/**
 * "Closed soon": before the fix the server read on for up to a second after its answer. Now it reads
 * nothing more and drops the socket 250 ms after the answer (time for the client to read it before
 * the reset: src/node/server/http1-upgrade.ts), which the attacker sees a little later when busy.
 */
const CLOSE_AFTER_ANSWER_MS = 500;

interface EndlessHeadOutcome {
  results: RequestResult[];
  /** HTTP status -> refusals, as the server reports them. */
  refusedByServer: Record<string, number>;
  cpuSeconds: number;
  quiet: Latencies;
  during: Latencies;
  probeErrors: string[];
}

/** Run `connections` endless-head attackers for `attackMs` against a listen() server, with a good client. */
async function endlessHeads(t: TestContext, connections: number, attackMs: number): Promise<EndlessHeadOutcome> {
  const server = await startServerUnderAttack(t, { mode: 'echo' });
  const probe = await EchoProbe.start(server.port);
  t.after(() => probe.stop());
  await delay(300);
  const quiet = summarize(probe.rtts);
  const attacker = await Attacker.start(t, 'endless-header', server.port, { conns: connections, durationMs: attackMs });
  const before = probe.rtts.length;
  const cpu0 = server.cpuSeconds();
  attacker.go();
  const report = await attacker.finished(attackMs + 15_000);
  const cpuSeconds = server.cpuSeconds() - cpu0;
  const during = summarize(probe.rtts.slice(before));
  await probe.stop();
  const results = report.results as RequestResult[];
  assert.equal(results.length, connections);
  const refusedByServer = (await server.stats()).rejected;
  return { results, refusedByServer, cpuSeconds, quiet, during, probeErrors: probe.errors };
}

/**
 * Every connection was answered 431 (the server's count), closed soon after, and the kernel took
 * little more from it. The attacker itself may miss a few answers: it writes on as fast as it can,
 * and when it reads its 431 later than the 250 ms linger, the reset that ends the linger makes its
 * TCP discard what it had not read (RFC 9112 §9.6). Measured: 0 to 2 of 200 on a busy machine; such a
 * connection must show the reset (EPIPE or ECONNRESET), not a silent stall.
 */
function assertRefusedAndClosed(t: TestContext, outcome: EndlessHeadOutcome): void {
  const { results } = outcome;
  const statuses = new Map<number, number>();
  for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
  const read = results.filter((r) => r.status === 431);
  // After the answer: how long until the connection was gone (reset, or FIN and close), and how much
  // more the kernel took from the attacker meanwhile.
  const closeDelays = read.map((r) => (r.closedAtMs === -1 ? Infinity : r.closedAtMs - r.answeredAtMs));
  const afterAnswer = read.map((r) => r.accepted - Math.max(0, r.acceptedAtAnswer));
  const slowestClose = Math.max(...closeDelays);
  const mostAfter = Math.max(...afterAnswer);
  t.diagnostic(
    `server refusals ${JSON.stringify(outcome.refusedByServer)}; statuses the attacker read ${JSON.stringify([...statuses])}; slowest close after the 431: ${slowestClose} ms; ` +
      `most bytes taken after the 431: ${mostAfter}; server CPU during the attack ${outcome.cpuSeconds.toFixed(2)} s; ` +
      `good client: quiet ${describeLatencies(outcome.quiet)}; during ${describeLatencies(outcome.during)}`,
  );
  assert.deepEqual(outcome.refusedByServer, { 431: results.length }, 'the server answered every connection 431');
  const missed = results.filter((r) => r.status !== 431);
  assert.ok(missed.length <= Math.floor(results.length / 50), `the attacker missed ${missed.length} answers: ${JSON.stringify(missed.slice(0, 3))}`);
  for (const r of missed) {
    assert.ok(r.status === 0 && (r.closeError === 'EPIPE' || r.closeError === 'ECONNRESET'), `an answer missed without a reset: ${JSON.stringify(r)}`);
  }
  assert.ok(mostAfter <= KERNEL_BUFFERS, `the server took ${mostAfter} bytes from a connection after answering it`);
  assert.ok(slowestClose <= CLOSE_AFTER_ANSWER_MS, `a refused connection was still open ${slowestClose} ms after its 431`);
  assert.deepEqual(outcome.probeErrors, [], 'the good client saw no error');
}

describe('attack: endless request heads (listen mode)', () => {
  test('one connection sends an endless header line and writes on as fast as it can after the answer: 431, closed at once, nothing more read', { timeout: 30_000 }, async (t) => {
    const outcome = await endlessHeads(t, 1, 2000);
    assertRefusedAndClosed(t, outcome);
  });

  test('200 connections send endless header lines: the server answers each 431 and drops it soon after; a good client is not slowed down', { timeout: 60_000 }, async (t) => {
    const outcome = await endlessHeads(t, 200, 3000);
    assertRefusedAndClosed(t, outcome);
    assert.ok(outcome.during.count > 0, 'the good client made round trips during the attack');
    // Before the fix the good client's median round trip went from 0.4 ms to 13-35 ms (the issue: 8 times slower).
    assert.ok(outcome.during.p50 <= 5, `the good client's median round trip during the attack is ${outcome.during.p50.toFixed(1)} ms`);
  });
});
