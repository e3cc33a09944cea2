/**
 * Isolation (decision): a misbehaving client (bad frames, half a handshake left open, a ping
 * flood, a data flood without reading) must not disturb a well-behaved client served by the same
 * server at the same time: its echoes keep arriving, correct, with reasonable latency.
 * The misbehaving client runs in a child process, so only the server shares the test's event loop.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test, type TestContext } from 'node:test';
import { connect, type WebSocket } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { echo, startServer } from '../helpers/server-fixture.js';
import { delay, withTimeout } from '../helpers/timing.js';

guardProcess();

const PEER_SCRIPT = fileURLToPath(new URL('../helpers/misbehaving-peer.js', import.meta.url));

interface PeerReport {
  mode: string;
  connections: number;
  bytesSent: number;
  closesSeen: number;
  timeouts408: number;
  error?: string;
}

function runMisbehaving(t: TestContext, mode: string, port: number, durationMs: number): Promise<PeerReport> {
  const child = spawn(process.execPath, [PEER_SCRIPT, mode, String(port), String(durationMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk) => (out += chunk));
  child.stderr.on('data', (chunk) => (err += chunk));
  const done = new Promise<PeerReport>((resolve, reject) => {
    child.on('exit', (code) => {
      try {
        const report = JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as PeerReport;
        if (code !== 0) reject(new Error(`misbehaving peer (${mode}) exited ${code}: ${report.error ?? err}`));
        else resolve(report);
      } catch {
        reject(new Error(`misbehaving peer (${mode}) printed no report; stderr: ${err}`));
      }
    });
  });
  return withTimeout(done, durationMs + 10_000, `the ${mode} peer`);
}

/** Echo round trips from a good client for `durationMs`: every reply checked, latencies kept. */
async function goodClientTraffic(client: WebSocket, durationMs: number): Promise<number[]> {
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  let n = 0;
  while (performance.now() < end) {
    const text = `message ${n} ${'·'.repeat(n % 50)}`;
    const binary = Buffer.alloc(1 + (n % 300), n & 0xff);
    const started = performance.now();
    const replies = withTimeout(
      new Promise<Array<[string | Buffer, boolean]>>((resolve) => {
        const got: Array<[string | Buffer, boolean]> = [];
        const onMessage = (data: string | Buffer, isBinary: boolean) => {
          got.push([data, isBinary]);
          if (got.length === 2) {
            client.off('message', onMessage);
            resolve(got);
          }
        };
        client.on('message', onMessage);
      }),
      3000,
      `echo of message ${n}`,
    );
    client.send(text);
    client.send(binary);
    const got = await replies;
    latencies.push(performance.now() - started);
    assert.deepEqual(got, [[text, false], [binary, true]], `echo ${n} intact and in order`);
    n++;
    await delay(5);
  }
  return latencies;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

const MODES = ['bad-frames', 'half-handshake', 'ping-flood', 'data-flood'] as const;

describe('isolation between clients (decision)', () => {
  for (const mode of MODES) {
    test(`decision (isolation): a ${mode} client does not disturb a good client's echoes`, { timeout: 25_000 }, async (t) => {
      const server = await startServer();
      echo(server.wss);
      t.after(() => server.stop());
      const client = await connect(`ws://127.0.0.1:${server.port}/`);
      t.after(() => client.terminate());
      const closes: number[] = [];
      client.on('close', (code) => closes.push(code));

      const baseline = await goodClientTraffic(client, 200);
      const misbehaving = runMisbehaving(t, mode, server.port, 1500);
      await delay(200); // let the misbehaviour start
      const during = await goodClientTraffic(client, 1200);
      const report = await misbehaving;

      assert.deepEqual(closes, [], 'the good client stays connected');
      assert.equal(client.readyState, 1);
      assert.ok(during.length >= 20, `only ${during.length} round trips in 1.2 s`);
      const p95 = percentile(during, 95);
      const max = Math.max(...during);
      assert.ok(p95 < 250, `p95 echo latency ${p95.toFixed(1)} ms during ${mode} (baseline p95 ${percentile(baseline, 95).toFixed(1)} ms)`);
      assert.ok(max < 1000, `max echo latency ${max.toFixed(1)} ms during ${mode}`);
      t.diagnostic(`${mode}: ${during.length} round trips, p95 ${p95.toFixed(1)} ms, max ${max.toFixed(1)} ms; peer ${JSON.stringify(report)}`);
      assert.ok(report.connections >= 1);
      if (mode === 'bad-frames') assert.ok(report.closesSeen >= 5, `the server closed only ${report.closesSeen} bad connections`);
      if (mode === 'ping-flood' || mode === 'data-flood') assert.ok(report.bytesSent > 1024 * 1024, `flood sent only ${report.bytesSent} bytes`);
    });
  }

  test('decision (isolation): half-open handshakes are dropped with 408 after handshakeTimeout while others connect', { timeout: 15_000 }, async (t) => {
    const server = await startServer({ handshakeTimeout: 300 });
    echo(server.wss);
    t.after(() => server.stop());
    const misbehaving = runMisbehaving(t, 'half-handshake', server.port, 1000);
    await delay(100);
    const client = await connect(`ws://127.0.0.1:${server.port}/`);
    t.after(() => client.terminate());
    const latencies = await goodClientTraffic(client, 600);
    assert.ok(latencies.length > 10);
    const report = await misbehaving;
    assert.equal(report.timeouts408, 50, 'every half-open handshake got 408');
    assert.equal(server.wss.clients.size, 1, 'only the good client is a connection');
  });
});
