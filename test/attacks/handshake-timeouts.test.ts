/**
 * Attack: slowloris. Connections that send their request head a byte at a time must be dropped once
 * `handshakeTimeout` has passed, whoever reads the head: wsforge itself (listen) or node:http
 * (attach, and the CLI, which serves through attach). The issue: through attach(http.Server), where
 * `wsforge serve` runs, the documented 10 s did not apply; slowloris connections were dropped only
 * after 80 s, by node:http's own timers.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { runCli } from '../helpers/cli-process.js';
import { guardProcess } from '../helpers/process-guard.js';
import { Attacker } from './attacker-process.js';
import { describeLatencies, EchoProbe } from './good-clients.js';
import { startServerUnderAttack } from './server-under-attack.js';

guardProcess();

interface RequestResult {
  status: number;
  answeredAtMs: number;
  endedAtMs: number;
  closedAtMs: number;
  gaveUp: boolean;
}

/** When the server dropped the connection (answered, sent FIN, or closed it), ms after `go`; Infinity if it never did. */
function droppedAt(r: RequestResult): number {
  const times = [r.answeredAtMs, r.endedAtMs, r.gaveUp ? -1 : r.closedAtMs].filter((ms) => ms >= 0);
  return times.length === 0 ? Infinity : Math.min(...times);
}

/** Handshake deadlines are swept every quarter of the timeout (at most 1 s): a drop may come that late. Plus 500 ms for the test's own timing. */
const sweepSlack = (timeoutMs: number): number => Math.min(1000, timeoutMs / 4) + 500;

/** Slowloris connections against `port` while a good client echoes; every connection must be gone within `boundMs` of its opening. */
async function slowloris(t: TestContext, port: number, connections: number, timeoutMs: number): Promise<void> {
  const probe = await EchoProbe.start(port);
  t.after(() => probe.stop());
  const boundMs = timeoutMs + sweepSlack(timeoutMs);
  // The attack lasts longer than the bound: a connection still open at its end was never dropped.
  const attacker = await Attacker.start(t, 'slowloris', port, { conns: connections, intervalMs: Math.max(100, timeoutMs / 20), durationMs: boundMs + 2000 });
  attacker.go();
  const report = await attacker.finished(boundMs + 15_000);
  const rtt = await probe.stop();
  const results = report.results as RequestResult[];
  // measured from `go`, plus the time the connections were open before it: no connection is older
  const ages = results.map((r) => droppedAt(r) + Number(report.openedBeforeGoMs));
  const statuses = [...new Set(results.map((r) => r.status))];
  t.diagnostic(
    `${connections} slowloris connections: all gone after ${Math.max(...ages)} ms at most (handshakeTimeout ${timeoutMs} ms, bound ${boundMs} ms); ` +
      `answers ${JSON.stringify(statuses)}; good client meanwhile: ${describeLatencies(rtt)}`,
  );
  assert.equal(results.length, connections);
  const oldest = Math.max(...ages);
  assert.ok(
    oldest <= boundMs,
    oldest === Infinity
      ? `a slowloris connection was never dropped (the attack lasted ${boundMs + 2000} ms; handshakeTimeout ${timeoutMs} ms)`
      : `a slowloris connection was still open ${oldest} ms after it opened (handshakeTimeout ${timeoutMs} ms)`,
  );
  // Dropped with an answer (408) or without one (a bare close); nothing else.
  for (const status of statuses) assert.ok(status === 408 || status === 0, `a slowloris connection was answered ${status}`);
  assert.deepEqual(probe.errors, [], 'the good client was served meanwhile');
  assert.ok(rtt.count > 0);
}

describe('attack: slowloris', () => {
  for (const entry of ['listen', 'attach'] as const) {
    test(`${entry === 'listen' ? 'listen()' : 'attach(http.Server)'}: 50 connections that send their head a byte at a time are dropped after handshakeTimeout (1 s)`, { timeout: 30_000 }, async (t) => {
      const TIMEOUT = 1000;
      const server = await startServerUnderAttack(t, { mode: 'echo', entry, options: { handshakeTimeout: TIMEOUT } });
      await slowloris(t, server.port, 50, TIMEOUT);
    });
  }

  test('wsforge serve (attach mode, the documented 10 s default): 20 slowloris connections are dropped after 10 s', { timeout: 40_000 }, async (t) => {
    const cli = runCli(t, ['serve', '--port', '0', '--quiet']);
    const [, port] = await cli.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)$/, 10_000);
    await slowloris(t, Number(port), 20, 10_000);
  });
});
