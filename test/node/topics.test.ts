/**
 * Topics (in process): subscribe, publish framed once to every subscriber (compressed once per
 * negotiated setting), ws.publish skipping its sender, subscriptions dropped at close, and the
 * backpressure policy applied per subscriber. Raw clients check the bytes on the wire.
 */
import assert from 'node:assert/strict';
import { constants, inflateRawSync } from 'node:zlib';
import { describe, test, type TestContext } from 'node:test';
import { SendStatus, type ServerOptions, type WebSocket } from '../../src/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { openRaw, type RawPeer } from '../helpers/raw-peer.js';
import { startServer, type RunningServer } from '../helpers/server-fixture.js';
import { nextEvent, waitUntil } from '../helpers/timing.js';
import { clientFrame, OP } from '../helpers/wire-frames.js';

guardProcess();

/** A server whose connections subscribe to the topics named in the query (?topics=a,b). */
async function topicServer(t: TestContext, options: ServerOptions = {}): Promise<RunningServer> {
  const server = await startServer({
    ...options,
    handlers: {
      open(ws, request) {
        for (const topic of (request.query.get('topics') ?? '').split(',').filter(Boolean)) ws.subscribe(topic);
      },
      message(ws, data) {
        // "topic|text": publish from this connection (everyone else on the topic gets it).
        const [topic, text] = String(data).split('|');
        ws.publish(topic!, text!);
      },
    },
  });
  t.after(() => server.stop());
  return server;
}

async function join(t: TestContext, server: RunningServer, topics: string, extra: string[] = []): Promise<{ peer: RawPeer; ws: WebSocket }> {
  const connection = nextEvent<[WebSocket]>(server.wss, 'connection', 2000);
  const { peer } = await openRaw(server.port, { path: `/?topics=${topics}`, extra });
  t.after(() => peer.destroy());
  const [ws] = await connection;
  return { peer, ws };
}

describe('topics (decision: uWebSockets semantics)', () => {
  test('API: server.publish reaches every subscriber of the topic and nobody else; returns how many', async (t) => {
    const server = await topicServer(t);
    const a = await join(t, server, 'news');
    const b = await join(t, server, 'news,sport');
    const c = await join(t, server, 'sport');
    assert.equal(server.wss.subscriberCount('news'), 2);
    assert.equal(server.wss.publish('news', 'headline'), 2);
    for (const { peer } of [a, b]) {
      const frame = await peer.nextFrame();
      assert.deepEqual([frame.opcode, frame.payload.toString()], [OP.TEXT, 'headline']);
    }
    assert.equal(server.wss.publish('sport', Buffer.from([1, 2, 3])), 2, 'binary by default for buffers');
    const sport = await c.peer.nextFrame();
    assert.deepEqual([sport.opcode, [...sport.payload]], [OP.BINARY, [1, 2, 3]]);
    // b gets sport next (not a second news): news went to a and b only once.
    const next = await b.peer.nextFrame();
    assert.deepEqual([next.opcode, [...next.payload]], [OP.BINARY, [1, 2, 3]]);
    assert.equal(server.wss.publish('nobody', 'x'), 0);
  });

  test('API: ws.publish goes to every other subscriber, not back to the sender', async (t) => {
    const server = await topicServer(t);
    const a = await join(t, server, 'room');
    const b = await join(t, server, 'room');
    a.peer.write(clientFrame({ opcode: OP.TEXT, payload: 'room|hi from a' }));
    const got = await b.peer.nextFrame();
    assert.equal(got.payload.toString(), 'hi from a');
    // Proof that a got nothing: its next frame is what b publishes afterwards.
    b.peer.write(clientFrame({ opcode: OP.TEXT, payload: 'room|hi from b' }));
    const atA = await a.peer.nextFrame();
    assert.equal(atA.payload.toString(), 'hi from b');
  });

  test('API: subscribe/unsubscribe/isSubscribed/topics, and subscriptions end with the connection', async (t) => {
    const server = await topicServer(t);
    const { peer, ws } = await join(t, server, '');
    assert.equal(ws.subscribe('a'), true);
    assert.equal(ws.subscribe('a'), false, 'already subscribed');
    assert.equal(ws.subscribe('b'), true);
    assert.deepEqual([...ws.topics], ['a', 'b']);
    assert.equal(ws.isSubscribed('b'), true);
    assert.equal(ws.unsubscribe('b'), true);
    assert.equal(ws.unsubscribe('b'), false);
    assert.equal(server.wss.subscriberCount('b'), 0);
    let atClose: [string[], number] = [[], -1];
    const closed = new Promise<void>((resolve) =>
      ws.once('close', () => {
        atClose = [[...ws.topics], server.wss.subscriberCount('a')];
        resolve();
      }),
    );
    peer.destroy();
    await closed;
    assert.deepEqual(atClose, [['a'], 0], "close listeners still see the connection's topics; the server no longer counts it");
    assert.equal(server.wss.subscriberCount('a'), 0, 'a closed connection leaves its topics');
    assert.equal(ws.topics.size, 0);
    assert.throws(() => ws.publish('a', 'x'), { code: 'WSF_ERR_NOT_OPEN' }, 'publish from a closed connection');
  });

  test('API: a publish among 10,000 topics reaches the one subscriber of its topic', async (t) => {
    const server = await topicServer(t);
    const { peer, ws } = await join(t, server, '');
    for (let i = 0; i < 10_000; i++) ws.subscribe(`t${i}`);
    assert.equal(ws.topics.size, 10_000);
    assert.equal(server.wss.publish('t9999', 'last'), 1);
    assert.equal((await peer.nextFrame()).payload.toString(), 'last');
  });

  test('RFC 7692: a publish is compressed once for subscribers with the same no-takeover setting: the same bytes reach both', async (t) => {
    const server = await topicServer(t, { perMessageDeflate: true });
    const offer = ['Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits'];
    const a = await join(t, server, 'z', offer);
    const b = await join(t, server, 'z', offer);
    const text = JSON.stringify({ list: Array.from({ length: 200 }, (_, i) => ({ i, name: `item ${i}` })) });
    assert.equal(server.wss.publish('z', text), 2);
    const fa = await a.peer.nextFrame();
    const fb = await b.peer.nextFrame();
    assert.equal(fa.rsv1, true, 'compressed (RSV1)');
    assert.deepEqual(fa.raw, fb.raw, 'the same frame bytes to both subscribers');
    const inflated = inflateRawSync(Buffer.concat([fa.payload, Buffer.from([0, 0, 0xff, 0xff])]), { finishFlush: constants.Z_SYNC_FLUSH }).toString();
    assert.equal(inflated, text);
  });

  test('decision (closeOnBackpressureLimit false): a subscriber over maxBackpressure is skipped, and publish says so', async (t) => {
    const server = await topicServer(t, { maxBackpressure: 256 * 1024, closeOnBackpressureLimit: false });
    const slow = await join(t, server, 'feed');
    const fast = await join(t, server, 'feed');
    slow.peer.pauseReading();
    fast.peer.discard();
    const chunk = Buffer.alloc(64 * 1024, 1);
    let lastCount = 2;
    // Fill the slow one until the server skips it (its kernel buffers absorb some MiB first);
    // one message per turn, so the reading subscriber keeps up.
    for (let i = 0; i < 2000 && lastCount === 2; i++) {
      lastCount = server.wss.publish('feed', chunk);
      await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal(lastCount, 1, 'the slow subscriber is skipped, the other still served');
    assert.equal(slow.ws.readyState, 1, 'skipped, not closed');
    assert.equal(slow.ws.sendPrepared(server.wss.prepare('x')), SendStatus.DROPPED);
    assert.ok(slow.ws.bufferedAmount <= 256 * 1024 + 64 * 1024 + 64, `held ${slow.ws.bufferedAmount} bytes`);
  });

  test('decision (closeOnBackpressureLimit, the default): a subscriber over maxBackpressure is closed 1008 as a slow consumer', async (t) => {
    const server = await topicServer(t, { maxBackpressure: 256 * 1024 });
    const slow = await join(t, server, 'feed');
    slow.peer.pauseReading();
    const error = nextEvent<[{ code: string }]>(slow.ws, 'error', 20_000);
    const closed = nextEvent<[number]>(slow.ws, 'close', 20_000);
    const chunk = Buffer.alloc(64 * 1024, 1);
    for (let i = 0; i < 2000 && slow.ws.readyState === 1; i++) {
      server.wss.publish('feed', chunk);
      if (i % 32 === 31) await new Promise((resolve) => setImmediate(resolve));
    }
    assert.equal((await error)[0].code, 'WSF_ERR_BUFFERED_AMOUNT_EXCEEDED');
    assert.equal((await closed)[0], 1008);
    await waitUntil(() => server.wss.subscriberCount('feed') === 0, 2000, 'the slow consumer leaves its topic');
  });
});
