/**
 * User code cannot corrupt the protocol (decision): an exception thrown by a handler or listener
 * never drops the other messages of the same read, never desynchronises the parser and never
 * closes the connection with a code that blames the peer. With an `error` handler it is
 * reported there (WSF_ERR_LISTENER_THREW, the exception as `cause`); without one it reaches
 * process 'uncaughtException', as an EventEmitter listener's does.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import type { WebSocketError } from '../../src/protocol/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw } from '../helpers/raw-peer.js';
import { startServer } from '../helpers/server-fixture.js';
import { waitUntil } from '../helpers/timing.js';
import { clientFrame, OP } from '../helpers/wire-frames.js';

guardProcess();

/** Three text messages in one write, the middle one split mid-frame across two writes too. */
function burst(): Buffer[] {
  const all = Buffer.concat([
    clientFrame({ opcode: OP.TEXT, payload: 'a' }),
    clientFrame({ opcode: OP.TEXT, payload: 'boom' }),
    clientFrame({ opcode: OP.TEXT, payload: 'c' }),
    clientFrame({ opcode: OP.TEXT, payload: 'd'.repeat(300) }),
  ]);
  return [all.subarray(0, 20), all.subarray(20)];
}

describe('exceptions in user code (decision)', () => {
  test('with an error handler: the throw is reported as WSF_ERR_LISTENER_THREW; the other messages of the read are delivered; no close', async (t) => {
    const errors: WebSocketError[] = [];
    const server = await startServer({
      handlers: {
        message(ws, data) {
          if (data === 'boom') throw new Error('handler failed');
          ws.send(data);
        },
        error: (_ws, error) => errors.push(error),
      },
    });
    t.after(() => server.stop());
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    for (const piece of burst()) peer.write(piece);
    const echoes = [await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame()];
    assert.deepEqual(
      echoes.map((f) => [f.opcode, f.payload.toString()]),
      [
        [OP.TEXT, 'a'],
        [OP.TEXT, 'c'],
        [OP.TEXT, 'd'.repeat(300)],
      ],
    );
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'WSF_ERR_LISTENER_THREW');
    assert.equal((errors[0]!.cause as Error).message, 'handler failed');
    // Still open and in step: a ping is answered.
    peer.sendClientFrame({ opcode: OP.PING, payload: 'still' });
    const pong = await peer.nextFrame();
    assert.deepEqual([pong.opcode, pong.payload.toString()], [OP.PONG, 'still']);
  });

  test('a throwing ping, pong, close or drain handler does not break the connection either', async (t) => {
    const errors: string[] = [];
    let closes = 0;
    const server = await startServer({
      handlers: {
        ping() {
          throw new Error('ping');
        },
        pong() {
          throw new Error('pong');
        },
        close() {
          closes++;
          throw new Error('close');
        },
        error: (_ws, error) => errors.push((error.cause as Error | undefined)?.message ?? error.code),
      },
    });
    t.after(() => server.stop());
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    peer.sendClientFrame({ opcode: OP.PING, payload: 'p' });
    peer.sendClientFrame({ opcode: OP.PONG, payload: 'q' });
    assert.equal((await peer.nextFrame()).opcode, OP.PONG, 'the ping is still answered');
    peer.sendClose(1000);
    assert.equal((await peer.nextClose()).code, 1000, 'the close handshake completes');
    await waitUntil(() => closes === 1, 2000, 'the close handler');
    assert.deepEqual(errors, ['ping', 'pong', 'close']);
    assert.equal(server.wss.clients.size, 0, 'the server forgot the connection');
  });

  test('without an error handler: the throw reaches uncaughtException and the connection goes on (a real process)', async (t) => {
    const script = fileURLToPath(new URL('./fixtures/throwing-listener-server.js', import.meta.url));
    const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] });
    t.after(() => child.kill('SIGTERM'));
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await waitUntil(() => /listening \d+/.test(output), 10_000, 'the server to listen');
    const port = Number(/listening (\d+)/.exec(output)![1]);
    const { peer } = await openRaw(port);
    t.after(() => peer.destroy());
    for (const piece of burst()) peer.write(piece);
    const echoes = [await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame()];
    assert.deepEqual(
      echoes.map((f) => f.payload.toString()),
      ['a', 'c', 'd'.repeat(300)],
    );
    await waitUntil(() => output.includes('uncaught listener failed on boom'), 5000, 'the exception at uncaughtException');
    assert.equal(child.exitCode, null, 'the process is still running');
  });

  test('a throwing connection listener does not lose the frames that came with the handshake', async (t) => {
    const errors: string[] = [];
    const server = await startServer({ handlers: { message: (ws, data) => ws.send(data), error: (_ws, e) => errors.push(e.code) } });
    t.after(() => server.stop());
    server.wss.on('connection', () => {
      throw new Error('connection listener');
    });
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    peer.sendClientFrame({ opcode: OP.TEXT, payload: 'after' });
    assert.equal((await peer.nextFrame()).payload.toString(), 'after');
    assert.deepEqual(errors, ['WSF_ERR_LISTENER_THREW']);
  });
});
