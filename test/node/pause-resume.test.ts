/**
 * `pause()` / `resume()` / `isPaused` on a connection: reading stops, TCP flow control holds
 * the peer back, and everything arrives in order after `resume()`. Over loopback with a raw
 * client that writes more than the kernel buffers can hold.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { guardProcess } from '../helpers/process-guard.js';
import { connectedPair } from '../helpers/server-fixture.js';
import { delay, waitUntil } from '../helpers/timing.js';
import { clientFrame, OP } from '../helpers/wire-frames.js';

guardProcess();

function kernelBufferBound(): number {
  const max = (file: string): number => Number(readFileSync(file, 'utf8').trim().split(/\s+/)[2]);
  return max('/proc/sys/net/ipv4/tcp_wmem') + max('/proc/sys/net/ipv4/tcp_rmem');
}

describe('pause() and resume() (TCP flow control)', () => {
  test('API: while paused the peer backs up (its writes do not drain); after resume() every message arrives, in order', async (t) => {
    const { peer, ws } = await connectedPair(t);
    const received: number[] = [];
    ws.on('message', (data) => received.push((data as Buffer).readUInt32BE(0)));
    ws.pause();
    assert.equal(ws.isPaused, true);
    // Wait until the server has stopped reading before the peer writes.
    await delay(20);
    const size = 16 * 1024;
    const count = Math.ceil((kernelBufferBound() + 8 * 1024 * 1024) / size);
    const frames: Buffer[] = [];
    for (let i = 0; i < count; i++) {
      const payload = Buffer.alloc(size);
      payload.writeUInt32BE(i, 0);
      frames.push(clientFrame({ opcode: OP.BINARY, payload }));
    }
    const order: string[] = [];
    const drained = once(peer.socket, 'drain').then(() => order.push('peer drained'));
    const accepted = peer.socket.write(Buffer.concat(frames));
    assert.equal(accepted, false, 'the peer wrote more than its socket buffer holds');
    await delay(300);
    const whilePaused = received.length;
    order.push('resume');
    ws.resume();
    assert.equal(ws.isPaused, false);
    await drained;
    await waitUntil(() => received.length === count, 10_000, `all ${count} messages after resume()`);
    assert.deepEqual(order, ['resume', 'peer drained']);
    assert.ok(whilePaused < count, `only messages read before pause() may arrive while paused (${whilePaused} of ${count})`);
    assert.deepEqual(received, Array.from({ length: count }, (_, i) => i));
  });

  test('API: pause() after the connection closed does nothing; resume() without pause() does nothing', async (t) => {
    const { peer, ws, closed } = await connectedPair(t);
    ws.resume();
    assert.equal(ws.isPaused, false);
    peer.sendClose(1000);
    await closed;
    ws.pause();
    assert.equal(ws.isPaused, false);
  });
});
