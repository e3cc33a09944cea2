/**
 * The memory budget for unsent data (decision: maxTotalBackpressure, default a quarter of V8's
 * heap limit): connections whose peers do not read hold what they are sent; past the server's
 * budget the one whose socket has taken nothing for longest is dropped first (1008,
 * WSF_ERR_BUFFERED_AMOUNT_EXCEEDED), and the others are kept; a frame shared by a broadcast is
 * counted once, not once per holder.
 * Over loopback: the kernel's socket buffers absorb some MiB per connection before the server
 * holds anything, so the amounts below are well above that.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { defaultTotalBackpressure, type WebSocket } from '../../src/index.js';
import { getHeapStatistics } from 'node:v8';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw, type RawPeer } from '../helpers/raw-peer.js';
import { startServer, type RunningServer } from '../helpers/server-fixture.js';
import { nextEvent } from '../helpers/timing.js';

guardProcess();

const MiB = 1024 * 1024;

async function nonReadingPeers(t: TestContext, server: RunningServer, count: number): Promise<Array<{ peer: RawPeer; ws: WebSocket }>> {
  const peers: Array<{ peer: RawPeer; ws: WebSocket }> = [];
  for (let i = 0; i < count; i++) {
    const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 2000);
    const { peer } = await openRaw(server.port);
    t.after(() => peer.destroy());
    peer.pauseReading();
    peers.push({ peer, ws: (await connection)[0] });
  }
  return peers;
}

/** Let the event loop run (flushes, drains) without waiting on time. */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

describe('backpressure budget (decision)', () => {
  test('decision: the default budget is a quarter of the heap limit', () => {
    assert.equal(defaultTotalBackpressure(), Math.floor(getHeapStatistics().heap_size_limit / 4));
  });

  test('decision: over the budget, the connection stalled longest is dropped first (1008), before one that holds more but began to hold just now; that one is kept and gets everything', async (t) => {
    const server = await startServer({ maxTotalBackpressure: 8 * MiB, maxBackpressure: 512 * MiB });
    t.after(() => server.stop());
    const [stalled, fresh] = await nonReadingPeers(t, server, 2);
    const stalledClosed = nextEvent<[number]>(stalled!.ws, 'close', 20_000);
    const chunk = Buffer.alloc(256 * 1024, 5);
    // The stalled one holds 3 MiB past its kernel buffers, then takes nothing for over a second.
    for (let i = 0; i < 400 && stalled!.ws.bufferedAmount < 3 * MiB; i++) {
      stalled!.ws.send(chunk);
      await turn();
    }
    assert.ok(stalled!.ws.bufferedAmount >= 3 * MiB, `the stalled one holds ${stalled!.ws.bufferedAmount} bytes`);
    await new Promise((resolve) => setTimeout(resolve, 1200));
    // The fresh one is sent what its kernel buffers take and then up to 5.5 MiB more, as fast as
    // it can be: the total passes 8 MiB while it holds more than the stalled one.
    let sentToFresh = 0;
    for (let i = 0; i < 400 && stalled!.ws.readyState === 1 && fresh!.ws.bufferedAmount < 5.5 * MiB; i++) {
      fresh!.ws.send(chunk);
      sentToFresh++;
      await turn();
    }
    assert.equal((await stalledClosed)[0], 1008, 'the stalled one is dropped as a slow consumer');
    assert.equal(fresh!.ws.readyState, 1, 'the one that holds more, but only since now, is kept');
    const before = fresh!.peer.bytesReceived;
    fresh!.peer.discard();
    fresh!.peer.resumeReading();
    await fresh!.peer.waitFor(() => (fresh!.peer.bytesReceived - before >= sentToFresh * 256 * 1024 ? true : undefined), 20_000, 'everything sent to it');
  });

  test('decision: frames shared by a broadcast count once: three non-reading peers holding the same frames stay under a budget they would pass three times over', async (t) => {
    const server = await startServer({ maxTotalBackpressure: 48 * MiB, maxBackpressure: 512 * MiB });
    t.after(() => server.stop());
    const peers = await nonReadingPeers(t, server, 3);
    const chunk = Buffer.alloc(64 * 1024, 3);
    // 40 MiB to each: each holds ~30 MiB past its kernel buffers (90 MiB counted per holder,
    // ~30 MiB counted once).
    for (let i = 0; i < 640; i++) {
      assert.equal(server.wss.broadcast(chunk), 3, `message ${i} reached all three`);
      if (i % 16 === 15) await turn();
    }
    for (const { ws } of peers) assert.equal(ws.readyState, 1);
    const held = peers.map(({ ws }) => ws.bufferedAmount);
    assert.ok(held.every((bytes) => bytes > 16 * MiB), `each holds more than a third of the budget: ${held.join(', ')}`);
  });
});
