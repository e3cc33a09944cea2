/**
 * The memory budget for unsent data (decision: maxTotalBackpressure, default a quarter of V8's
 * heap limit): connections whose peers do not read hold what they are sent; past the server's
 * budget the one holding the most is dropped first (1008, WSF_ERR_BUFFERED_AMOUNT_EXCEEDED) and
 * the others are kept; a frame shared by a broadcast is counted once, not once per holder.
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

  test('decision: over the budget, the connection holding the most is dropped first (1008); the others stay', async (t) => {
    const server = await startServer({ maxTotalBackpressure: 8 * MiB, maxBackpressure: 512 * MiB });
    t.after(() => server.stop());
    const [big, small] = await nonReadingPeers(t, server, 2);
    const bigError = nextEvent<[{ code: string }]>(big!.ws, 'error', 20_000);
    const bigClosed = nextEvent<[number]>(big!.ws, 'close', 20_000);
    // The small one holds about 1 MiB past what its kernel buffers absorb, then the big one more
    // until the server passes its 8 MiB budget: the big one holds the most then.
    const chunk = Buffer.alloc(256 * 1024, 7);
    let sentToSmall = 0;
    for (let i = 0; i < 400 && small!.ws.bufferedAmount < MiB; i++) {
      small!.ws.send(chunk);
      sentToSmall++;
      await turn();
    }
    for (let i = 0; i < 400 && big!.ws.canSend; i++) {
      big!.ws.send(chunk);
      await turn();
    }
    assert.equal((await bigError)[0].code, 'WSF_ERR_BUFFERED_AMOUNT_EXCEEDED');
    assert.equal((await bigClosed)[0], 1008);
    assert.equal(small!.ws.readyState, 1, 'the smaller holder is kept');
    // The kept one still gets everything once its peer reads.
    const before = small!.peer.bytesReceived;
    small!.peer.discard();
    small!.peer.resumeReading();
    await small!.peer.waitFor(() => (small!.peer.bytesReceived - before >= sentToSmall * 256 * 1024 ? true : undefined), 20_000, 'everything sent to it');
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
