/**
 * Attack: silent peers. Connections that complete the handshake and then go silent (a peer that
 * vanished without a FIN, or one that holds sockets to exhaust the server) must not be kept
 * forever. The issue: 500 such clients were kept with no ping, no idle timeout, no TCP keepalive.
 *
 * The timeouts are shortened from their documented defaults (pingInterval 20 s, pingTimeout 20 s)
 * so that the tests take seconds; the silent peers never read and never write (their kernel still
 * acknowledges TCP segments, as a process that stopped reading would).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { connect } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { waitUntil } from '../helpers/timing.js';
import { Attacker } from './attacker-process.js';
import { describeLatencies, EchoProbe } from './good-clients.js';
import { startServerUnderAttack, type ServerStats, type ServerUnderAttack } from './server-under-attack.js';

guardProcess();

/** How late a timer sweep may close a connection, and how often the test polls: together, 1.5 s. */
const SLACK_MS = 1500;

/**
 * Poll until the server has only `remaining` clients. `youngestMs`: the last poll that still saw
 * all the silent peers, counted from `allOpen` (every peer was accepted before it): less than any
 * peer's age when it was closed. `lastGoneMs`: the poll that saw them all gone, counted from
 * `allOpen` too: the age of the last peer to open when it was closed, or more.
 */
async function watchDrops(
  server: ServerUnderAttack,
  times: { openingStarted: number; allOpen: number },
  from: number,
  remaining: number,
  deadlineMs: number,
): Promise<{ youngestMs: number; lastGoneMs: number; openingMs: number; stats: ServerStats }> {
  let lastAllThere = times.allOpen;
  const stats = await server.waitForStats(
    (s) => {
      if (s.clients === from) lastAllThere = performance.now();
      return s.clients <= remaining;
    },
    deadlineMs,
    `the silent peers are closed (${from - remaining} of them)`,
    50,
  );
  return { youngestMs: lastAllThere - times.allOpen, lastGoneMs: performance.now() - times.allOpen, openingMs: times.allOpen - times.openingStarted, stats };
}

describe('attack: silent peers', () => {
  test('keepalive: 500 silent peers are closed after pingInterval + pingTimeout; a client that answers pings stays open', { timeout: 60_000 }, async (t) => {
    const SILENT = 500;
    const PING_INTERVAL = 1000;
    const PING_TIMEOUT = 1000;
    const CLOSE_TIMEOUT = 500;
    const server = await startServerUnderAttack(t, {
      mode: 'echo',
      options: { pingInterval: PING_INTERVAL, pingTimeout: PING_TIMEOUT, closeTimeout: CLOSE_TIMEOUT },
    });
    // A good client that sends nothing at all: only its automatic pongs keep it alive.
    const good = await connect(`ws://127.0.0.1:${server.port}/`);
    t.after(() => good.terminate());
    let pings = 0;
    good.on('ping', () => pings++);
    const goodClosed: number[] = [];
    good.on('close', (code) => goodClosed.push(code));
    const openingStarted = performance.now();
    const attacker = await Attacker.start(t, 'non-reading', server.port, { conns: SILENT });
    const allOpen = performance.now();
    assert.equal(attacker.ready.opened, SILENT);

    // A silent peer is pinged within pingInterval and dropped pingTimeout later (its close frame
    // is never read, so at most closeTimeout more).
    const bound = PING_INTERVAL + PING_TIMEOUT + CLOSE_TIMEOUT + SLACK_MS;
    const drops = await watchDrops(server, { openingStarted, allOpen }, SILENT + 1, 1, bound + 2000);
    t.diagnostic(
      `silent peers (opened within ${drops.openingMs.toFixed(0)} ms) closed between ${drops.youngestMs.toFixed(0)} and ${drops.lastGoneMs.toFixed(0)} ms after the last opened ` +
        `(bound ${bound} ms); server close codes ${JSON.stringify(drops.stats.closeCodes)}`,
    );
    assert.ok(drops.lastGoneMs <= bound, `a silent peer was still open ${drops.lastGoneMs.toFixed(0)} ms after the last one opened`);
    // Not dropped before being given the chance to answer a ping (the measure is on the low side by
    // the polling interval, hence pingTimeout rather than pingInterval + pingTimeout).
    assert.ok(drops.youngestMs >= PING_TIMEOUT, `a silent peer was closed ${drops.youngestMs.toFixed(0)} ms after it opened`);
    // The good client was pinged, answered, and is still open, two full intervals later.
    await waitUntil(() => pings >= 2 || goodClosed.length > 0, 2 * (PING_INTERVAL + PING_TIMEOUT) + SLACK_MS, 'the good client is pinged twice');
    assert.deepEqual(goodClosed, [], 'the good client was not closed');
    assert.ok(pings >= 2, `the good client got ${pings} pings`);
    assert.equal((await server.stats()).clients, 1, 'the good client is still connected');
  });

  test('idleTimeout: 200 silent peers are closed after idleTimeout (pings off); a client that keeps talking stays open', { timeout: 60_000 }, async (t) => {
    const SILENT = 200;
    const IDLE_TIMEOUT = 1000;
    const CLOSE_TIMEOUT = 500;
    const server = await startServerUnderAttack(t, {
      mode: 'echo',
      options: { idleTimeout: IDLE_TIMEOUT, pingInterval: 0, closeTimeout: CLOSE_TIMEOUT },
    });
    const probe = await EchoProbe.start(server.port);
    t.after(() => probe.stop());
    const openingStarted = performance.now();
    const attacker = await Attacker.start(t, 'non-reading', server.port, { conns: SILENT });
    const allOpen = performance.now();
    assert.equal(attacker.ready.opened, SILENT);

    const bound = IDLE_TIMEOUT + CLOSE_TIMEOUT + SLACK_MS;
    const drops = await watchDrops(server, { openingStarted, allOpen }, SILENT + 1, 1, bound + 2000);
    const rtt = await probe.stop();
    t.diagnostic(
      `silent peers (opened within ${drops.openingMs.toFixed(0)} ms) closed between ${drops.youngestMs.toFixed(0)} and ${drops.lastGoneMs.toFixed(0)} ms after the last opened ` +
        `(bound ${bound} ms); server close codes ${JSON.stringify(drops.stats.closeCodes)}; good client: ${describeLatencies(rtt)}`,
    );
    assert.ok(drops.lastGoneMs <= bound, `a silent peer was still open ${drops.lastGoneMs.toFixed(0)} ms after the last one opened`);
    // The measure is on the low side by the polling interval and the time the peers took to open.
    assert.ok(drops.youngestMs >= IDLE_TIMEOUT / 2, `a silent peer was closed ${drops.youngestMs.toFixed(0)} ms after it opened`);
    assert.deepEqual(probe.errors, [], 'the talking client was never closed and got every echo');
    assert.ok(rtt.count > 0);
  });
});
