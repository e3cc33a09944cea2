/**
 * Two wsforge servers attached to one Redis (and to one Redis Cluster): a client's publish on
 * one server reaches the subscribers on both, in order and byte for byte; while Redis is down
 * each server still serves its own subscribers, and cross-server delivery comes back with Redis.
 */
import assert from 'node:assert/strict';
import { describe, test, type TestContext } from 'node:test';
import { connect, WebSocketServer, type WebSocket } from '../../src/index.js';
import { redisPubSub, type RedisPubSub, type RedisPubSubOptions } from '../../src/redis/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { nextEvent, waitUntil, withTimeout } from '../helpers/timing.js';
import { startRedis, startRedisCluster } from './redis-server.js';

guardProcess();

interface ChatServer {
  wss: WebSocketServer;
  adapter: RedisPubSub;
  url: string;
}

/** A server whose clients all subscribe to "room" and publish every message they send to it. */
async function chatServer(t: TestContext, options: RedisPubSubOptions): Promise<ChatServer> {
  const adapter = redisPubSub({ reconnect: { firstDelay: 20, maxDelay: 200 }, ...options });
  const wss = new WebSocketServer({
    closeTimeout: 200,
    pubsub: adapter,
    handlers: {
      open: (ws) => ws.subscribe('room'),
      message: (ws, data, isBinary) => ws.publish('room', data, { binary: isBinary }),
    },
  });
  t.after(() => wss.close());
  const { port } = await wss.listen({ port: 0, host: '127.0.0.1' });
  await adapter.whenReady();
  return { wss, adapter, url: `ws://127.0.0.1:${port}/` };
}

interface Client {
  ws: WebSocket;
  got: Array<{ data: string | Buffer; isBinary: boolean }>;
}

async function client(t: TestContext, url: string): Promise<Client> {
  const ws = await connect(url);
  t.after(() => ws.terminate());
  const got: Client['got'] = [];
  ws.on('message', (data, isBinary) => got.push({ data, isBinary }));
  return { ws, got };
}

const BINARY = Buffer.from([0xf5, 0x00, 0xff, 0x80, 0xc3, 0x28]);

describe('two servers on one Redis', () => {
  test("a client's publish on one server reaches the subscribers of both, in order, text and binary byte for byte", async (t) => {
    const redis = await startRedis(t);
    const a = await chatServer(t, { url: redis.url });
    const b = await chatServer(t, { url: redis.url });
    const [sender, neighbour, remote] = [await client(t, a.url), await client(t, a.url), await client(t, b.url)];
    await waitUntil(() => a.adapter.subscribedTopics.has('room') && b.adapter.subscribedTopics.has('room'), 5000, 'both servers subscribed');
    const count = 300;
    for (let i = 0; i < count; i++) sender.ws.send(i % 3 === 2 ? BINARY : `line ${i} — ünïcode`);
    await waitUntil(() => remote.got.length === count && neighbour.got.length === count, 10000, 'every message at both receivers');
    for (const receiver of [neighbour, remote]) {
      receiver.got.forEach((m, i) => assert.deepEqual(m, i % 3 === 2 ? { data: BINARY, isBinary: true } : { data: `line ${i} — ünïcode`, isBinary: false }));
    }
    assert.equal(sender.got.length, 0, 'ws.publish goes to every subscriber but the sender');
  });

  test('the Redis subscription follows the local subscribers: none before the first, none after the last', async (t) => {
    const redis = await startRedis(t);
    const a = await chatServer(t, { url: redis.url });
    assert.equal(a.adapter.subscribedTopics.size, 0);
    const first = await client(t, a.url);
    await waitUntil(() => a.adapter.subscribedTopics.has('room'), 5000, 'subscribed with the first subscriber');
    const second = await client(t, a.url);
    first.ws.close();
    await waitUntil(() => a.wss.subscriberCount('room') === 1, 5000, 'one subscriber left');
    assert.ok(a.adapter.subscribedTopics.has('room'));
    second.ws.close();
    await waitUntil(() => a.adapter.subscribedTopics.size === 0, 5000, 'unsubscribed with the last subscriber');
  });

  test('Redis killed mid-test: each server keeps serving its own subscribers; cross-server delivery resumes after the restart', async (t) => {
    const redis = await startRedis(t);
    const a = await chatServer(t, { url: redis.url });
    const b = await chatServer(t, { url: redis.url });
    const [sender, neighbour, remote] = [await client(t, a.url), await client(t, a.url), await client(t, b.url)];
    await waitUntil(() => b.adapter.subscribedTopics.has('room'), 5000, 'b subscribed');
    sender.ws.send('before');
    await waitUntil(() => remote.got.length === 1, 5000, 'before, across');

    await redis.kill();
    await waitUntil(() => a.adapter.status === 'reconnecting' && b.adapter.status === 'reconnecting', 5000, 'both servers to see Redis gone');
    sender.ws.send('during');
    await waitUntil(() => neighbour.got.length === 2, 5000, 'during, locally');
    assert.equal(neighbour.got[1]!.data, 'during');

    await redis.restart();
    await withTimeout(Promise.all([a.adapter.whenReady(), b.adapter.whenReady()]), 10000, 'both adapters ready again');
    await waitUntil(() => b.adapter.subscribedTopics.has('room'), 5000, 'b subscribed again');
    // The restarted Redis has b's subscription once b's subscriber has re-sent it; publish until one arrives.
    for (let i = 0; i < 50 && remote.got.length < 2; i++) {
      sender.ws.send(`after ${i}`);
      await waitUntil(() => remote.got.length >= 2, 100, 'after, across').catch(() => {});
    }
    assert.match(String(remote.got[1]?.data), /^after \d+$/);
    assert.equal(remote.got[0]!.data, 'before');
    assert.ok(!remote.got.some((m) => m.data === 'during'), 'what was published during the outage never reaches the other server');
    assert.equal(a.adapter.stats.dropped, 1);
  });
});

test('a server closes promptly while Redis is down (its last subscriber leaves during the outage)', async (t) => {
  const redis = await startRedis(t);
  const a = await chatServer(t, { url: redis.url });
  const subscriber = await client(t, a.url);
  await waitUntil(() => a.adapter.subscribedTopics.has('room'), 5000, 'subscribed');
  await redis.kill();
  await waitUntil(() => a.adapter.status === 'reconnecting', 5000, 'Redis gone');
  const closed = nextEvent<[number, string]>(subscriber.ws, 'close', 5000);
  await withTimeout(a.wss.close(), 5000, 'the server to close with Redis down');
  assert.equal((await closed)[0], 1001);
  assert.equal(a.adapter.status, 'closed');
});

test('two servers on a three-master Redis Cluster, sharded pub/sub', async (t) => {
  const cluster = await startRedisCluster(t);
  const a = await chatServer(t, { cluster: cluster.urls });
  const b = await chatServer(t, { cluster: cluster.urls });
  assert.equal(a.adapter.sharded, true);
  const [sender, remote] = [await client(t, a.url), await client(t, b.url)];
  await waitUntil(() => b.adapter.subscribedTopics.has('room'), 5000, 'b subscribed');
  for (let i = 0; i < 100; i++) sender.ws.send(i === 50 ? BINARY : `m${i}`);
  await waitUntil(() => remote.got.length === 100, 10000, 'every message across');
  remote.got.forEach((m, i) => assert.deepEqual(m, i === 50 ? { data: BINARY, isBinary: true } : { data: `m${i}`, isBinary: false }));
});
