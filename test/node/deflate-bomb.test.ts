/**
 * Decompression bombs (the key safety property of permessage-deflate, RFC 7692 §8.1 and
 * ws#1202): about 2 MiB of compressed data that inflates to 2 GiB of zeros, sent to a server
 * (and to a client) with the default maxPayload of 16 MiB. The connection must close with 1009
 * within a few seconds, the process's memory must stay flat (measured in this process, where
 * the server runs), and another connection must be served normally meanwhile.
 *
 * Its own file: node --test runs each file in its own process, so the memory figures are this
 * test's alone. Memory is sampled every few milliseconds for the peak, with a forced GC before
 * the baseline and the final figure (--expose-gc turned on at run time).
 *
 * DEFLATE cannot do better than about 1032:1, so "gigabytes" take a couple of MiB: the bomb is
 * built from one 1 MiB block of zeros compressed once (A) and the same block compressed with a
 * window of zeros behind it (B, about 1 KiB), repeated: A + B × 2047 inflates to 2 GiB.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { constants, deflateRawSync, inflateRawSync } from 'node:zlib';
import { describe, test, type TestContext } from 'node:test';
import { connect, type WebSocket } from '../../src/index.js';
import { DEFAULT_MAX_PAYLOAD, type PerMessageDeflateOptions } from '../../src/protocol/index.js';
import { startFakeServer, switchingProtocols } from '../helpers/fake-server.js';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw, type RawPeer } from '../helpers/raw-peer.js';
import { echo, startServer } from '../helpers/server-fixture.js';
import { delay, nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';
import { encodeWireFrame, OP } from '../helpers/wire-frames.js';

guardProcess();

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const MiB = 1024 * 1024;
const TRAILER = Buffer.from([0x00, 0x00, 0xff, 0xff]);
/** Growth allowed over the baseline, peak included: the 16 MiB limit plus zlib and GC slack. */
const MEMORY_BUDGET = 64 * MiB;
/** "Quickly": the library stops at 16 MiB of output; a few seconds is generous on a busy machine. */
const CLOSE_WITHIN_MS = 5000;

/** The compressed payload (tail removed, RFC 7692 §7.2.1) of `blocks` MiB of zeros. */
function buildBomb(blocks: number): Buffer {
  const zeros = Buffer.alloc(MiB);
  const flush = { finishFlush: constants.Z_SYNC_FLUSH, level: 9, memLevel: 9 };
  const first = deflateRawSync(zeros, flush);
  // The same block with 32 KiB of zeros already in the window: it is all back-references.
  const next = deflateRawSync(zeros, { ...flush, dictionary: Buffer.alloc(32 * 1024) });
  assert.ok(first.subarray(-4).equals(TRAILER) && next.subarray(-4).equals(TRAILER));
  // Self-check on a small bomb: A + B + B inflates to 3 MiB of zeros.
  const sample = inflateRawSync(Buffer.concat([first, next, next]), { finishFlush: constants.Z_SYNC_FLUSH });
  assert.equal(sample.length, 3 * MiB);
  assert.ok(sample.every((byte) => byte === 0));
  const bomb = Buffer.concat([first, ...new Array<Buffer>(blocks - 1).fill(next)]);
  return bomb.subarray(0, bomb.length - 4);
}

const BOMB = buildBomb(2048);

interface MemoryFigures {
  rss: number;
  arrayBuffers: number;
}

/** Samples memory every few ms until stopped; returns the peaks. */
function memorySampler(): { stop(): MemoryFigures } {
  const peak: MemoryFigures = { rss: 0, arrayBuffers: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peak.rss = Math.max(peak.rss, m.rss);
    peak.arrayBuffers = Math.max(peak.arrayBuffers, m.arrayBuffers);
  };
  sample();
  const timer = setInterval(sample, 2);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return peak;
    },
  };
}

function settledMemory(): MemoryFigures {
  gc();
  gc();
  const m = process.memoryUsage();
  return { rss: m.rss, arrayBuffers: m.arrayBuffers };
}

const mib = (bytes: number): string => `${(bytes / MiB).toFixed(1)} MiB`;

/** A well-behaved client that echoes compressed messages through the server while the bomb goes off. */
async function wellBehavedTraffic(ws: WebSocket, until: () => boolean): Promise<{ roundTrips: number; slowestMs: number }> {
  let roundTrips = 0;
  let slowestMs = 0;
  const message = JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, name: `user-${i}` })));
  do {
    const started = performance.now();
    const reply = nextEvent<[string]>(ws, 'message', 3000);
    ws.send(message);
    const [data] = await reply;
    assert.equal(data, message);
    slowestMs = Math.max(slowestMs, performance.now() - started);
    roundTrips++;
    await delay(5);
  } while (!until());
  return { roundTrips, slowestMs };
}

/** The bomb as one masked client frame, or as fragments of `fragmentSize` compressed bytes. */
function bombFrames(fragmentSize?: number): Buffer {
  if (fragmentSize === undefined) return encodeWireFrame({ opcode: OP.BINARY, rsv1: true, payload: BOMB, mask: randomBytes(4) });
  const frames: Buffer[] = [];
  for (let at = 0; at < BOMB.length; at += fragmentSize) {
    frames.push(
      encodeWireFrame({
        opcode: at === 0 ? OP.BINARY : OP.CONTINUATION,
        rsv1: at === 0,
        fin: at + fragmentSize >= BOMB.length,
        payload: BOMB.subarray(at, at + fragmentSize),
        mask: randomBytes(4),
      }),
    );
  }
  return Buffer.concat(frames);
}

async function serverBomb(t: TestContext, options: boolean | PerMessageDeflateOptions, offer: string, frames: Buffer): Promise<void> {
  assert.ok(frames.length < 3 * MiB, 'a couple of MiB on the wire');
  const server = await startServer({ perMessageDeflate: options });
  t.after(() => server.stop());
  echo(server.wss);
  const serverErrors: string[] = [];
  server.wss.on('connection', (ws) => ws.on('error', (error: Error & { code?: string }) => serverErrors.push(error.code ?? error.message)));

  // The well-behaved neighbour: a wsforge client with compression, warmed up first.
  const good = await connect(`ws://127.0.0.1:${server.port}/`, { perMessageDeflate: true });
  t.after(() => good.terminate());
  await wellBehavedTraffic(good, () => true);

  const { peer } = await openRaw(server.port, { extra: [`Sec-WebSocket-Extensions: ${offer}`] });
  t.after(() => peer.destroy());

  const before = settledMemory();
  const sampler = memorySampler();
  const started = performance.now();
  let closedAt = 0;
  const bombed = (async (bomber: RawPeer) => {
    bomber.write(frames);
    const close = await bomber.closeFrame(CLOSE_WITHIN_MS);
    closedAt = performance.now() - started;
    await bomber.waitEnd(CLOSE_WITHIN_MS);
    return close;
  })(peer);
  const traffic = wellBehavedTraffic(good, () => closedAt > 0);
  const close = await bombed;
  const { roundTrips, slowestMs } = await traffic;
  const peak = sampler.stop();
  // Released once the failed connection is gone (the server closes it at once after its 1009).
  await waitUntil(() => server.wss.clients.size === 1, 3000, 'the bombed connection to be gone');
  let afterwards = settledMemory();
  for (let i = 0; i < 20 && afterwards.arrayBuffers - before.arrayBuffers >= 16 * MiB; i++) {
    await delay(50);
    afterwards = settledMemory();
  }

  assert.equal(close.code, 1009, `close ${close.code} ${close.reason}`);
  assert.ok(closedAt < CLOSE_WITHIN_MS, `closed after ${closedAt.toFixed(0)} ms`);
  assert.deepEqual(serverErrors, ['WSF_ERR_MESSAGE_TOO_BIG']);
  const report = `baseline rss ${mib(before.rss)} arrayBuffers ${mib(before.arrayBuffers)}; peak rss ${mib(peak.rss)} arrayBuffers ${mib(peak.arrayBuffers)}; after GC rss ${mib(afterwards.rss)} arrayBuffers ${mib(afterwards.arrayBuffers)}; closed in ${closedAt.toFixed(0)} ms`;
  assert.ok(peak.rss - before.rss < MEMORY_BUDGET, `rss grew too much: ${report}`);
  assert.ok(peak.arrayBuffers - before.arrayBuffers < MEMORY_BUDGET, `arrayBuffers grew too much: ${report}`);
  assert.ok(afterwards.arrayBuffers - before.arrayBuffers < 16 * MiB, `memory kept after the bomb: ${report}`);
  // The neighbour was served while the bomb went off, and still is.
  assert.ok(roundTrips >= 1, 'the well-behaved connection exchanged messages meanwhile');
  assert.ok(slowestMs < 2000, `slowest round trip of the well-behaved connection: ${slowestMs.toFixed(0)} ms (${report})`);
  assert.equal(good.readyState, 1);
  await wellBehavedTraffic(good, () => true);
  t.diagnostic(report);
}

describe('decompression bombs (RFC 7692 §8.1; decision: maxPayload counts inflated bytes)', () => {
  test(`decision: ~${(BOMB.length / MiB).toFixed(1)} MiB inflating to 2 GiB, one frame, default maxPayload (16 MiB) → 1009 within ${CLOSE_WITHIN_MS} ms, memory flat, a neighbour served meanwhile`, async (t) => {
    assert.equal(DEFAULT_MAX_PAYLOAD, 16 * MiB);
    await serverBomb(t, true, 'permessage-deflate', bombFrames());
  });

  test('decision: the same bomb in 64 KiB compressed fragments → 1009, memory flat', async (t) => {
    await serverBomb(t, true, 'permessage-deflate', bombFrames(64 * 1024));
  });

  test('decision: the same bomb on a server with context takeover (a per-connection inflater) → 1009, memory flat', async (t) => {
    await serverBomb(t, { serverNoContextTakeover: false, clientNoContextTakeover: false }, 'permessage-deflate', bombFrames());
  });

  test('decision: three bombs in a row leave no memory behind', async (t) => {
    const frames = bombFrames();
    const before = settledMemory();
    for (let i = 0; i < 3; i++) await serverBomb(t, true, 'permessage-deflate', frames);
    const afterwards = settledMemory();
    assert.ok(afterwards.arrayBuffers - before.arrayBuffers < 16 * MiB, `arrayBuffers ${mib(before.arrayBuffers)} → ${mib(afterwards.arrayBuffers)}`);
  });

  test('decision: a client receiving the bomb from a server closes with 1009 quickly, memory flat', async (t) => {
    const fake = await startFakeServer();
    t.after(() => fake.close());
    const connecting = connect(`ws://127.0.0.1:${fake.port}/`, { perMessageDeflate: true });
    connecting.catch(() => {});
    const peer = await fake.nextPeer();
    const request = await peer.readHead();
    peer.write(switchingProtocols(request, { lines: ['Sec-WebSocket-Extensions: permessage-deflate; server_no_context_takeover; client_no_context_takeover'] }));
    const ws = await withTimeout(connecting, 3000, 'connect()');
    t.after(() => ws.terminate());
    ws.on('error', () => {});
    peer.startFrames();
    const frame = encodeWireFrame({ opcode: OP.BINARY, rsv1: true, payload: BOMB, mask: null });
    const closed = nextEvent<[number]>(ws, 'close', CLOSE_WITHIN_MS + 3000);
    const before = settledMemory();
    const sampler = memorySampler();
    const started = performance.now();
    peer.write(frame);
    const close = await peer.closeFrame(CLOSE_WITHIN_MS);
    const elapsed = performance.now() - started;
    peer.destroy();
    const [code] = await closed;
    const peak = sampler.stop();
    assert.equal(close.code, 1009);
    assert.equal(code, 1009);
    assert.ok(elapsed < CLOSE_WITHIN_MS, `closed after ${elapsed.toFixed(0)} ms`);
    assert.ok(peak.rss - before.rss < MEMORY_BUDGET, `rss ${mib(before.rss)} → peak ${mib(peak.rss)}`);
    assert.ok(peak.arrayBuffers - before.arrayBuffers < MEMORY_BUDGET, `arrayBuffers ${mib(before.arrayBuffers)} → peak ${mib(peak.arrayBuffers)}`);
  });
});
