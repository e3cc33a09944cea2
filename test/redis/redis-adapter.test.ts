/**
 * The Redis adapter (wsforge/redis) against real redis-server instances, driven as a server
 * drives it (attach, subscribe on a topic's first local subscriber, publish, unsubscribe on the
 * last): a single Redis with classic pub/sub, a three-master Redis Cluster with sharded pub/sub,
 * and Redis killed and restarted in the middle.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test, type TestContext } from 'node:test';
import { createClient } from 'redis';
import { redisPubSub, type RedisPubSub, type RedisPubSubOptions } from '../../src/redis/index.js';
import { guardProcess } from '../helpers/process-guard.js';
import { delay, waitUntil, withTimeout } from '../helpers/timing.js';
import { startRedis, startRedisCluster, subscribedChannels } from './redis-server.js';

guardProcess();

interface Delivery {
  topic: string;
  payload: Buffer;
  isBinary: boolean;
}

/** An adapter attached as a server would attach it, recording what it delivers. */
function attached(t: TestContext, options: RedisPubSubOptions): { adapter: RedisPubSub; got: Delivery[] } {
  const adapter = redisPubSub({ reconnect: { firstDelay: 20, maxDelay: 200 }, ...options });
  const got: Delivery[] = [];
  adapter.attach((topic, payload, isBinary) => got.push({ topic, payload: Buffer.from(payload), isBinary }));
  t.after(() => adapter.close());
  return { adapter, got };
}

async function publishRaw(url: string, channel: string, message: Buffer | string, sharded = false): Promise<void> {
  const client = createClient({ url });
  client.on('error', () => {});
  await client.connect();
  try {
    if (sharded) await client.sPublish(channel, message);
    else await client.publish(channel, message);
  } finally {
    client.destroy();
  }
}

/** Poll an async condition (a query to Redis) until it holds, bounded. */
async function eventually(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting until ${what}`);
    await delay(50);
  }
}

const BINARY = Buffer.from([0x00, 0xff, 0xf5, 0x80, 0xc3, 0x28]);

describe('single Redis, classic pub/sub', () => {
  test('a publish on one server reaches the other, text and binary byte for byte, not the publisher itself', async (t) => {
    const redis = await startRedis(t);
    const a = attached(t, { url: redis.url });
    const b = attached(t, { url: redis.url });
    assert.equal(a.adapter.sharded, false);
    await Promise.all([a.adapter.whenReady(), b.adapter.whenReady()]);
    a.adapter.subscribe('room');
    b.adapter.subscribe('room');
    await waitUntil(() => a.adapter.subscribedTopics.has('room') && b.adapter.subscribedTopics.has('room'), 5000, 'both subscribed');
    b.adapter.publish('room', Buffer.from('héllo ✓'), false);
    b.adapter.publish('room', BINARY, true);
    await waitUntil(() => a.got.length === 2, 5000, 'two deliveries');
    assert.deepEqual(a.got, [
      { topic: 'room', payload: Buffer.from('héllo ✓'), isBinary: false },
      { topic: 'room', payload: BINARY, isBinary: true },
    ]);
    // b's own messages came back from Redis too, and were skipped: it served them locally.
    await publishRaw(redis.url, 'wsforge:room', 'marker');
    await waitUntil(() => b.got.length === 1, 5000, 'the marker at b');
    assert.deepEqual(b.got.map((d) => d.payload.toString()), ['marker']);
    assert.deepEqual(b.adapter.stats, { published: 2, delivered: 1, dropped: 0 });
  });

  test('a server is subscribed to a channel only while it has local subscribers of the topic', async (t) => {
    const redis = await startRedis(t);
    const a = attached(t, { url: redis.url });
    await a.adapter.whenReady();
    assert.deepEqual(await subscribedChannels(redis, false), []);
    a.adapter.subscribe('news');
    a.adapter.subscribe('sport');
    await waitUntil(() => a.adapter.subscribedTopics.size === 2, 5000, 'two subscriptions');
    assert.deepEqual(await subscribedChannels(redis, false), ['wsforge:news', 'wsforge:sport']);
    a.adapter.unsubscribe('news');
    await waitUntil(() => a.adapter.subscribedTopics.size === 1, 5000, 'one subscription');
    assert.deepEqual(await subscribedChannels(redis, false), ['wsforge:sport']);
    // Quick changes converge on the last wish.
    a.adapter.subscribe('news');
    a.adapter.unsubscribe('news');
    a.adapter.subscribe('news');
    a.adapter.unsubscribe('sport');
    await waitUntil(() => a.adapter.subscribedTopics.has('news') && !a.adapter.subscribedTopics.has('sport'), 5000, 'the last wish');
    assert.deepEqual(await subscribedChannels(redis, false), ['wsforge:news']);
    await a.adapter.close();
    await waitUntil(() => a.adapter.status === 'closed', 1000, 'closed');
    assert.deepEqual(await subscribedChannels(redis, false), []);
  });

  test('messages of one publisher on one topic arrive in order', async (t) => {
    const redis = await startRedis(t);
    const a = attached(t, { url: redis.url });
    const b = attached(t, { url: redis.url });
    await Promise.all([a.adapter.whenReady(), b.adapter.whenReady()]);
    a.adapter.subscribe('seq');
    await waitUntil(() => a.adapter.subscribedTopics.has('seq'), 5000, 'subscribed');
    const count = 2000;
    for (let i = 0; i < count; i++) b.adapter.publish('seq', Buffer.from(String(i)), i % 2 === 1);
    await waitUntil(() => a.got.length === count, 10000, `${count} deliveries`);
    a.got.forEach((d, i) => {
      assert.equal(d.payload.toString(), String(i));
      assert.equal(d.isBinary, i % 2 === 1);
    });
  });

  test("another program's publish to a topic's channel is delivered as text when it is UTF-8, as binary otherwise", async (t) => {
    const redis = await startRedis(t);
    const a = attached(t, { url: redis.url });
    await a.adapter.whenReady();
    a.adapter.subscribe('feed');
    await waitUntil(() => a.adapter.subscribedTopics.has('feed'), 5000, 'subscribed');
    await publishRaw(redis.url, 'wsforge:feed', 'from a backend');
    await publishRaw(redis.url, 'wsforge:feed', Buffer.from([0xff, 0xfe, 0x00]));
    await waitUntil(() => a.got.length === 2, 5000, 'two deliveries');
    assert.deepEqual(a.got, [
      { topic: 'feed', payload: Buffer.from('from a backend'), isBinary: false },
      { topic: 'feed', payload: Buffer.from([0xff, 0xfe, 0x00]), isBinary: true },
    ]);
  });

  test('Redis killed and restarted: the adapters reconnect and resubscribe (also to a topic asked for during the outage); publishes meanwhile reach local subscribers only', async (t) => {
    const redis = await startRedis(t);
    const a = attached(t, { url: redis.url });
    const b = attached(t, { url: redis.url });
    const statuses: string[] = [];
    a.adapter.on('status', (status) => statuses.push(status));
    await Promise.all([a.adapter.whenReady(), b.adapter.whenReady()]);
    a.adapter.subscribe('room');
    await waitUntil(() => a.adapter.subscribedTopics.has('room'), 5000, 'subscribed');
    b.adapter.publish('room', Buffer.from('before'), false);
    await waitUntil(() => a.got.length === 1, 5000, 'the first delivery');

    await redis.kill();
    await waitUntil(() => a.adapter.status === 'reconnecting' && b.adapter.status === 'reconnecting', 5000, 'both adapters to see Redis gone');
    b.adapter.publish('room', Buffer.from('during'), false);
    assert.equal(b.adapter.stats.dropped, 1, 'a publish during the outage is dropped (not queued)');
    a.adapter.subscribe('late');

    await redis.restart();
    await withTimeout(Promise.all([a.adapter.whenReady(), b.adapter.whenReady()]), 10000, 'both adapters ready again');
    await waitUntil(() => a.adapter.subscribedTopics.has('late'), 5000, 'the subscription asked for during the outage');
    await eventually(async () => (await subscribedChannels(redis, false)).length === 2, 5000, 'both channels subscribed on the restarted Redis');
    b.adapter.publish('room', Buffer.from('after'), false);
    b.adapter.publish('late', Buffer.from('late one'), false);
    const state = (): string =>
      JSON.stringify({ got: a.got.map((d) => d.payload.toString()), a: [a.adapter.status, a.adapter.stats], b: [b.adapter.status, b.adapter.stats], statuses });
    await waitUntil(() => a.got.length === 3, 5000, 'deliveries after the restart').catch((error: Error) => assert.fail(`${error.message}: ${state()}`));
    assert.deepEqual(a.got.map((d) => `${d.topic}:${d.payload.toString()}`), ['room:before', 'room:after', 'late:late one']);
    assert.deepEqual(statuses, ['ready', 'reconnecting', 'ready']);
  });
});

describe('Redis Cluster (three masters), sharded pub/sub', () => {
  test('topics on different shards: each subscription on the node owning its slot, order and bytes kept', async (t) => {
    const cluster = await startRedisCluster(t);
    const a = attached(t, { cluster: cluster.urls });
    const b = attached(t, { cluster: cluster.urls.slice(1) });
    assert.equal(a.adapter.sharded, true);
    await Promise.all([a.adapter.whenReady(), b.adapter.whenReady()]);
    const topics = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta'];
    const owners = await Promise.all(topics.map((topic) => cluster.ownerOf(`wsforge:${topic}`)));
    assert.ok(new Set(owners.map((o) => o.port)).size >= 2, 'the topics spread over several masters');
    for (const topic of topics) a.adapter.subscribe(topic);
    await waitUntil(() => a.adapter.subscribedTopics.size === topics.length, 5000, 'all subscribed');
    for (const [i, topic] of topics.entries()) {
      assert.ok((await subscribedChannels(owners[i]!, true)).includes(`wsforge:${topic}`), `${topic} is subscribed on its owner`);
    }
    const perTopic = 200;
    for (let i = 0; i < perTopic; i++) for (const topic of topics) b.adapter.publish(topic, i === 7 ? BINARY : Buffer.from(`${topic} ${i}`), i === 7);
    await waitUntil(() => a.got.length === perTopic * topics.length, 10000, 'every delivery');
    for (const topic of topics) {
      const mine = a.got.filter((d) => d.topic === topic);
      mine.forEach((d, i) => assert.deepEqual(d, { topic, payload: i === 7 ? BINARY : Buffer.from(`${topic} ${i}`), isBinary: i === 7 }));
    }
    a.adapter.unsubscribe('alpha');
    await waitUntil(() => !a.adapter.subscribedTopics.has('alpha'), 5000, 'alpha unsubscribed');
    assert.ok(!(await subscribedChannels(owners[0]!, true)).includes('wsforge:alpha'));
  });

  test("the master owning a topic's slot killed and restarted: the sharded subscription comes back", async (t) => {
    const cluster = await startRedisCluster(t);
    const a = attached(t, { cluster: cluster.urls });
    const b = attached(t, { cluster: cluster.urls });
    await Promise.all([a.adapter.whenReady(), b.adapter.whenReady()]);
    a.adapter.subscribe('room');
    await waitUntil(() => a.adapter.subscribedTopics.has('room'), 5000, 'subscribed');
    const owner = await cluster.ownerOf('wsforge:room');
    b.adapter.publish('room', Buffer.from('before'), false);
    await waitUntil(() => a.got.length === 1, 5000, 'the first delivery');
    await owner.kill();
    await waitUntil(() => a.adapter.status === 'reconnecting', 5000, 'the adapter to see its node gone');
    await owner.restart();
    await cluster.waitHealthy();
    await withTimeout(Promise.all([a.adapter.whenReady(), b.adapter.whenReady()]), 15000, 'both adapters ready again');
    await eventually(async () => (await subscribedChannels(owner, true)).includes('wsforge:room'), 10000, 'the subscription on the restarted master');
    // The publisher's connection to that node may still be coming back: publish until one arrives.
    for (let i = 0; i < 100 && a.got.length < 2; i++) {
      b.adapter.publish('room', Buffer.from('after'), false);
      await waitUntil(() => a.got.length >= 2, 100, 'a delivery').catch(() => {});
    }
    assert.equal(a.got[1]?.payload.toString(), 'after');
  });
});

test('without the redis package the adapter says how to install it (status closed, whenReady rejects), and nothing crashes', (t) => {
  // The compiled sources copied where no node_modules can be found: import('redis') fails as it would for a user without it.
  const dir = mkdtempSync(join(tmpdir(), 'wsforge-no-redis-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  cpSync(fileURLToPath(new URL('../../src/', import.meta.url)), join(dir, 'src'), { recursive: true });
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
  const script = `
    const { redisPubSub } = await import('./src/redis/index.js');
    const adapter = redisPubSub({ url: 'redis://127.0.0.1:1' });
    adapter.on('status', (status, error) => console.log('status', status, error?.message));
    adapter.attach(() => {});
    adapter.subscribe('room');
    adapter.publish('room', Buffer.from('x'), false);
    await adapter.whenReady().catch((error) => console.log('whenReady rejected:', error.message));
    console.log('dropped', adapter.stats.dropped);
  `;
  const run = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: dir, encoding: 'utf8', timeout: 10000 });
  assert.equal(run.status, 0, run.stderr);
  assert.match(run.stdout, /^status closed wsforge\/redis needs the redis package \(node-redis\), an optional peer dependency: npm install redis/m);
  assert.match(run.stdout, /^whenReady rejected: wsforge\/redis needs the redis package/m);
  assert.match(run.stdout, /^dropped 1$/m);
});
