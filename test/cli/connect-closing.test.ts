/**
 * How `wsforge connect` ends, through real child processes: stdin EOF from a real pipe
 * (`printf 'a\nb\n' | wsforge connect URL`) and a real SIGINT (`kill -INT <pid>`). Both send close
 * 1000, print what is still arriving until the closing handshake completes, and exit 0.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, test, type TestContext } from 'node:test';
import type { WebSocket } from '../../src/index.js';
import { runCli, type CliRun } from '../helpers/cli-process.js';
import { startFakeServer, switchingProtocols } from '../helpers/fake-server.js';
import { guardProcess } from '../helpers/process-guard.js';
import type { RawPeer } from '../helpers/raw-peer.js';
import { startServer } from '../helpers/server-fixture.js';
import { delay, nextEvent, withTimeout } from '../helpers/timing.js';
import { closePayload, OP, readClose, serverFrame } from '../helpers/wire-frames.js';

guardProcess();

/** `printf <text> | wsforge connect <args>`: printf's stdout is the CLI's stdin (a real pipe). */
function pipeIntoCli(t: TestContext, text: string, args: string[]): CliRun {
  const printf = spawn('printf', [text], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    if (printf.exitCode === null) printf.kill('SIGKILL');
  });
  return runCli(t, args, { stdin: printf.stdout });
}

/** The data frames a hand-written server receives until the client's close frame, and that close. */
async function readUntilClose(peer: RawPeer): Promise<{ messages: string[]; close: { code: number; reason: string } }> {
  const messages: string[] = [];
  for (let i = 0; i < 100; i++) {
    const frame = await peer.nextFrame(5000);
    if (frame.opcode === OP.CLOSE) return { messages, close: readClose(frame) };
    messages.push(frame.payload.toString('utf8'));
  }
  throw new Error('no close frame after 100 frames');
}

describe('wsforge connect: stdin EOF', () => {
  test('printf "a\\nb\\n" | connect: a server that replies 150 ms after the close arrived (delaying its own close, RFC 6455 §5.5.1) → both replies printed, close 1000, exit 0', async (t) => {
    let seen: { messages: string[]; close: { code: number; reason: string } } | null = null;
    const fake = await startFakeServer(async (peer) => {
      peer.write(switchingProtocols(await peer.readHead()));
      peer.startFrames();
      seen = await readUntilClose(peer);
      await delay(150);
      for (const message of seen.messages) peer.write(serverFrame({ opcode: OP.TEXT, payload: `reply ${message}` }));
      peer.write(serverFrame({ opcode: OP.CLOSE, payload: closePayload(1000) }));
      peer.socket.end();
    });
    t.after(() => fake.close());
    const cli = pipeIntoCli(t, 'a\\nb\\n', ['connect', `ws://127.0.0.1:${fake.port}/`]);
    assert.equal(await cli.exited(5000), 0);
    assert.equal(cli.stdout(), 'reply a\nreply b\n');
    assert.deepEqual(seen, { messages: ['a', 'b'], close: { code: 1000, reason: '' } });
    assert.equal(cli.stderr(), 'closed: 1000\n');
  });

  test('printf "a\\nb\\n" | connect to `wsforge serve` (echo): the echoes that arrive after the client\'s close are printed, exit 0', async (t) => {
    const server = runCli(t, ['serve', '--port', '0', '--quiet']);
    const port = Number((await server.waitForLine(/^listening on ws:\/\/127\.0\.0\.1:(\d+)$/))[1]);
    const cli = pipeIntoCli(t, 'a\\nb\\n', ['connect', `ws://127.0.0.1:${port}/`]);
    assert.equal(await cli.exited(5000), 0);
    assert.equal(cli.stdout(), 'a\nb\n');
  });

  test('an empty stdin (EOF at once) → close 1000 seen by the server, exit 0', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const closed = new Promise<number>((resolve) => server.wss.on('connection', (ws: WebSocket) => ws.on('close', (code) => resolve(code))));
    const cli = pipeIntoCli(t, '', ['connect', `ws://127.0.0.1:${server.port}/`]);
    assert.equal(await withTimeout(closed, 5000, 'the server close event'), 1000);
    assert.equal(await cli.exited(5000), 0);
  });
});

describe('wsforge connect: SIGINT (Ctrl-C)', () => {
  /** A CLI connected to `server` and known to be running its handlers (it printed "ready"). */
  async function connectedCli(t: TestContext, port: number, connection: Promise<WebSocket>): Promise<{ cli: CliRun; ws: WebSocket }> {
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${port}/`]);
    const ws = await withTimeout(connection, 5000, 'the CLI to connect');
    ws.send('ready');
    await cli.waitForLine(/^ready$/);
    return { cli, ws };
  }

  test('kill -INT <pid> → the server receives close 1000, the CLI exits 0', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 5000).then(([ws]) => ws);
    const { cli, ws } = await connectedCli(t, server.port, connection);
    const closed = nextEvent<[number, string]>(ws, 'close', 5000);
    assert.equal(cli.child.kill('SIGINT'), true);
    assert.deepEqual(await closed, [1000, '']);
    assert.equal(ws.wasClean, true);
    assert.equal(await cli.exited(5000), 0);
    assert.equal(cli.stderr(), 'closed: 1000\n');
  });

  test('--reconnect: kill -INT <pid> → the server receives close 1000 (no reconnect), the CLI exits 0', async (t) => {
    const server = await startServer();
    t.after(() => server.stop());
    const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 5000).then(([ws]) => ws);
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${server.port}/`, '--reconnect']);
    const ws = await withTimeout(connection, 5000, 'the CLI to connect');
    ws.send('ready');
    await cli.waitForLine(/^ready$/);
    const closed = nextEvent<[number, string]>(ws, 'close', 5000);
    cli.child.kill('SIGINT');
    assert.deepEqual(await closed, [1000, '']);
    assert.equal(await cli.exited(5000), 0);
    assert.doesNotMatch(cli.stderr(), /reconnecting/);
  });

  test('kill -INT while the server has not answered the close yet → exit 130 at once (no wait for closeTimeout)', async (t) => {
    let peer: RawPeer | null = null;
    const fake = await startFakeServer(async (p) => {
      p.write(switchingProtocols(await p.readHead()));
      p.startFrames();
      peer = p;
    });
    t.after(() => fake.close());
    const cli = runCli(t, ['connect', `ws://127.0.0.1:${fake.port}/`]);
    await withTimeout((async () => { while (peer === null) await delay(5); })(), 5000, 'the CLI to connect');
    peer!.write(serverFrame({ opcode: OP.TEXT, payload: 'ready' }));
    await cli.waitForLine(/^ready$/);
    cli.child.kill('SIGINT');
    // The server never answers this close.
    assert.equal((await peer!.nextClose(5000)).code, 1000);
    const started = performance.now();
    cli.child.kill('SIGINT');
    assert.equal(await cli.exited(3000), 130);
    assert.ok(performance.now() - started < 2000, 'exited without waiting for the close timeout (5 s)');
  });
});
