/**
 * Write callbacks: `send(data, options, onWritten)`, `ping(data, onWritten)`, `pong(data,
 * onWritten)` tell when the bytes have been written to the network (what ws's send callback
 * promises, and what engine.io waits for before it sends more). Over loopback, with a raw
 * client whose reading the test controls.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw } from '../helpers/raw-peer.js';
import { connectedPair, startServer } from '../helpers/server-fixture.js';
import { nextEvent, withTimeout } from '../helpers/timing.js';
import { OP } from '../helpers/wire-frames.js';
import type { WebSocket } from '../../src/index.js';

guardProcess();

/**
 * The most bytes the kernel can hold for one loopback connection that is not read: the
 * sender's and the receiver's socket buffers at their largest (tcp_wmem and tcp_rmem maxima).
 */
function kernelBufferBound(): number {
  const max = (file: string): number => Number(readFileSync(file, 'utf8').trim().split(/\s+/)[2]);
  return max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem');
}

/** A callback that records when it ran, and with what. */
function recorder(): { called: Promise<Error | null | undefined>; callback: (error?: Error | null) => void } {
  let callback!: (error?: Error | null) => void;
  const called = new Promise<Error | null | undefined>((resolve) => {
    callback = (error) => resolve(error);
  });
  return { called, callback };
}

describe('write callbacks (ws-compatible send callback)', () => {
  test('API: callbacks of send, ping and pong run in call order, without error, once their bytes are written', async (t) => {
    const { peer, ws } = await connectedPair(t);
    const order: string[] = [];
    const all = new Promise<void>((resolve) => {
      ws.send('one', undefined, (error) => order.push(`one ${String(error ?? null)} ${ws.bufferedAmount}`));
      ws.send(Buffer.from([2]), { binary: true }, (error) => order.push(`two ${String(error ?? null)}`));
      ws.ping('p', (error) => order.push(`ping ${String(error ?? null)}`));
      ws.pong('q', (error) => {
        order.push(`pong ${String(error ?? null)}`);
        resolve();
      });
    });
    await withTimeout(all, 2000, 'the four write callbacks');
    assert.deepEqual(order, ['one null 0', 'two null', 'ping null', 'pong null']);
    const frames = [await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame(), await peer.nextFrame()];
    assert.deepEqual(
      frames.map((f) => [f.opcode, f.payload.toString('latin1')]),
      [
        [OP.TEXT, 'one'],
        [OP.BINARY, '\u0002'],
        [OP.PING, 'p'],
        [OP.PONG, 'q'],
      ],
    );
  });

  test('API: the callback of a message larger than the kernel buffers runs only after the peer has read most of it', async (t) => {
    const bound = kernelBufferBound();
    const size = bound + 8 * 1024 * 1024;
    const { peer, ws } = await connectedPair(t);
    peer.discard();
    peer.pauseReading();
    const { called, callback } = recorder();
    let receivedAtCallback = -1;
    ws.send(Buffer.alloc(size, 7), { binary: true }, (error) => {
      receivedAtCallback = peer.bytesReceived;
      callback(error);
    });
    // The message cannot have been written yet: the peer reads nothing.
    await new Promise((resolve) => setTimeout(resolve, 100));
    peer.resumeReading();
    const error = await withTimeout(called, 10_000, 'the send callback');
    assert.equal(error ?? null, null);
    assert.ok(
      receivedAtCallback >= size - bound,
      `the callback ran when the peer had read ${receivedAtCallback} of ${size} bytes; the kernel holds at most ${bound}`,
    );
  });

  test('RFC 7692: with permessage-deflate the callback waits for the compressed frame, not the call', async (t) => {
    const bound = kernelBufferBound();
    const server = await startServer({ perMessageDeflate: true, maxPayload: 256 * 1024 * 1024 });
    t.after(() => server.stop());
    const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 2000);
    const { peer, head } = await openRaw(server.port, { extra: ['Sec-WebSocket-Extensions: permessage-deflate'] });
    t.after(() => peer.destroy());
    assert.match(head.raw, /permessage-deflate/i);
    const [ws] = await connection;
    peer.discard();
    peer.pauseReading();
    // Random bytes do not compress: the frame is as large as the message, which is larger than
    // the kernel buffers, and it exists only once zlib is done with it.
    const size = bound + 8 * 1024 * 1024;
    const { called, callback } = recorder();
    let receivedAtCallback = -1;
    ws.send(randomBytes(size), { binary: true }, (error) => {
      receivedAtCallback = peer.bytesReceived;
      callback(error);
    });
    // A control frame goes out while zlib works (RFC 6455 §5.4): its write must not complete
    // the message's callback.
    ws.ping('while compressing');
    await new Promise((resolve) => setTimeout(resolve, 100));
    peer.resumeReading();
    const error = await withTimeout(called, 20_000, 'the send callback of a compressed message');
    assert.equal(error ?? null, null);
    assert.ok(receivedAtCallback >= size - bound, `the callback ran when the peer had read ${receivedAtCallback} of ~${size} bytes`);
  });

  test('API: a connection that goes away before the bytes are written calls the callback with an error', async (t) => {
    const bound = kernelBufferBound();
    const { peer, ws, closed } = await connectedPair(t);
    peer.discard();
    peer.pauseReading();
    const { called, callback } = recorder();
    ws.send(Buffer.alloc(bound + 8 * 1024 * 1024), { binary: true }, callback);
    await new Promise((resolve) => setTimeout(resolve, 50));
    ws.terminate();
    const error = await withTimeout(called, 2000, 'the send callback after terminate()');
    assert.ok(error instanceof Error, `expected an Error, got ${String(error)}`);
    assert.equal((await closed)[0], 1006);
  });
});
