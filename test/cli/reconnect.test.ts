/**
 * `wsforge connect --reconnect` (dist/cli/main.js in a child process) against a real server
 * that is stopped and restarted on the same port: the CLI says on stderr that it reconnects,
 * keeps printing what the new connection sends, delivers a line typed while disconnected, and
 * exits 0 with a 1000 close when stdin ends.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { WebSocketServer, type WebSocket } from '../../src/index.js';
import { runCli } from '../helpers/cli-process.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';

guardProcess();

/** A server that greets each connection with `greeting` and records messages and closes. */
async function greetingServer(port: number, greeting: string, received: string[], closes: number[]): Promise<WebSocketServer> {
  const wss = new WebSocketServer({ closeTimeout: 200 });
  wss.on('connection', (ws: WebSocket) => {
    ws.send(greeting);
    ws.on('message', (data) => received.push(String(data)));
    ws.on('close', (code) => closes.push(code));
  });
  await wss.listen({ host: '127.0.0.1', port });
  return wss;
}

describe('wsforge connect --reconnect', () => {
  test('CLI: survives a server restart, sends a line typed while down, exits 0 when stdin ends', async (t) => {
    const received: string[] = [];
    const closes: number[] = [];
    let wss = await greetingServer(0, 'first server', received, closes);
    const { port } = wss.address() as { port: number };
    t.after(() => withTimeout(wss.close(), 3000, 'server close'));
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${port}/`, '--reconnect']);
    await cli.waitForLine(/^first server$/);

    await withTimeout(wss.close(), 3000, 'the first server to close');
    await waitUntil(() => /closed: 1001 "server shutting down"/.test(cli.stderr()), 5000, 'the CLI to report the 1001 close');
    await waitUntil(() => /reconnecting in \d+ ms \(attempt 1\)/.test(cli.stderr()), 5000, 'the CLI to schedule a reconnect');
    cli.child.stdin.write('typed while down\n');

    wss = await greetingServer(port, 'second server', received, closes);
    const secondConnection = nextEvent(wss, 'connection', 10_000);
    await cli.waitForLine(/^second server$/, 10_000);
    await secondConnection;
    await waitUntil(() => received.includes('typed while down'), 3000, 'the queued line at the second server');
    assert.match(cli.stderr(), /reconnected/);

    cli.child.stdin.end();
    assert.equal(await cli.exited(5000), 0);
    await waitUntil(() => closes.length === 2, 3000, 'the second connection to close');
    assert.deepEqual(closes, [1001, 1000]);
  });

  test('CLI: --reconnect gives up on a 403 with one stderr line and exit 1', async (t) => {
    const wss = new WebSocketServer({ onHandshake: () => false });
    const { port } = await wss.listen({ host: '127.0.0.1' });
    t.after(() => withTimeout(wss.close(), 3000, 'server close'));
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${port}/`, '--reconnect']);
    assert.equal(await cli.exited(5000), 1);
    assert.match(cli.stderr(), /^wsforge: .*403/m);
    assert.doesNotMatch(cli.stderr(), /reconnecting/);
  });
});
