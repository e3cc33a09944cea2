/**
 * The node-redis clients behind the adapter, behind one small interface: publish, subscribe and
 * unsubscribe a channel, classic or sharded, on a single Redis or a Redis Cluster, and what the
 * connection's state is. node-redis is loaded here, on first use, so `wsforge/redis` names the
 * missing peer dependency instead of failing at import.
 *
 * A single Redis gets two connections: one publishes, one subscribes (a RESP2 connection in
 * subscribed state takes no other command). A cluster client keeps its own connections per node
 * (and a sharded subscriber per master). Commands are never queued while Redis is unreachable
 * (`disableOfflineQueue`): the adapter decides what happens to them.
 */
import type { RedisClientOptions, RedisClusterOptions } from 'redis';

export type ChannelListener = (message: Buffer, channel: Buffer | string) => void;

export interface RedisConnection {
  /** Whether publishes can be sent now. */
  readonly canPublish: boolean;
  publish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: ChannelListener): Promise<void>;
  unsubscribe(channel: string, listener: ChannelListener): Promise<void>;
  close(): Promise<void>;
}

/** What the connection tells its owner. */
export interface ConnectionObserver {
  /** Everything is connected (at start and after each reconnect): subscriptions may be (re)checked. */
  ready(): void;
  /** A connection was lost or failed to come back. */
  lost(error: Error): void;
}

export interface ConnectionSettings {
  url: string;
  cluster: readonly string[] | null;
  sharded: boolean;
  reconnectStrategy: (retries: number) => number;
  clientOptions: Omit<RedisClientOptions, 'url'> | undefined;
  clusterOptions: Omit<RedisClusterOptions, 'rootNodes'> | undefined;
}

/** The subset of a node-redis client or cluster client the adapter uses. */
interface PubSubCommands {
  publish(channel: string, message: Buffer): Promise<unknown>;
  sPublish(channel: string, message: Buffer): Promise<unknown>;
  subscribe(channel: string, listener: ChannelListener, bufferMode: true): Promise<void>;
  sSubscribe(channel: string, listener: ChannelListener, bufferMode: true): Promise<void>;
  unsubscribe(channel: string, listener: ChannelListener, bufferMode: true): Promise<void>;
  sUnsubscribe(channel: string, listener: ChannelListener, bufferMode: true): Promise<void>;
  connect(): Promise<unknown>;
  close(): Promise<void>;
  destroy(): void;
  on(event: string, listener: (...args: never[]) => void): unknown;
  readonly isReady?: boolean;
}

type RedisModule = typeof import('redis');

async function loadRedis(): Promise<RedisModule> {
  try {
    return await import('redis');
  } catch (error) {
    throw new Error(`wsforge/redis needs the redis package (node-redis), an optional peer dependency: npm install redis (${(error as Error).message})`);
  }
}

export async function openRedisConnection(settings: ConnectionSettings, observer: ConnectionObserver): Promise<RedisConnection> {
  const redis = await loadRedis();
  return settings.cluster === null ? openSingle(redis, settings, observer) : openCluster(redis, settings, observer);
}

/** Publish and subscribe for a sharded or classic channel. */
function channelCommands(sharded: boolean, publisher: PubSubCommands, subscriber: PubSubCommands) {
  return sharded
    ? {
        publish: (channel: string, message: Buffer) => publisher.sPublish(channel, message),
        subscribe: (channel: string, listener: ChannelListener) => subscriber.sSubscribe(channel, listener, true),
        unsubscribe: (channel: string, listener: ChannelListener) => subscriber.sUnsubscribe(channel, listener, true),
      }
    : {
        publish: (channel: string, message: Buffer) => publisher.publish(channel, message),
        subscribe: (channel: string, listener: ChannelListener) => subscriber.subscribe(channel, listener, true),
        unsubscribe: (channel: string, listener: ChannelListener) => subscriber.unsubscribe(channel, listener, true),
      };
}

async function openSingle(redis: RedisModule, settings: ConnectionSettings, observer: ConnectionObserver): Promise<RedisConnection> {
  const options = {
    ...settings.clientOptions,
    url: settings.url,
    disableOfflineQueue: true,
    socket: { ...settings.clientOptions?.socket, reconnectStrategy: settings.reconnectStrategy },
  } as RedisClientOptions;
  const publisher = redis.createClient(options) as unknown as PubSubCommands;
  const subscriber = redis.createClient(options) as unknown as PubSubCommands;
  let publisherReady = false;
  let subscriberReady = false;
  let lostReported = false;
  const track = (client: PubSubCommands, set: (ready: boolean) => void): void => {
    // node-redis emits 'error' for every failed attempt; without a listener it would crash the process.
    client.on('error', (error: Error) => {
      set(false);
      if (!lostReported) {
        lostReported = true;
        observer.lost(error);
      }
    });
    client.on('end', () => set(false));
    client.on('ready', () => {
      set(true);
      if (publisherReady && subscriberReady) {
        lostReported = false;
        observer.ready();
      }
    });
  };
  track(publisher, (ready) => (publisherReady = ready));
  track(subscriber, (ready) => (subscriberReady = ready));
  // connect() resolves on the first ready; until then node-redis keeps trying (reconnectStrategy).
  await Promise.all([publisher.connect(), subscriber.connect()]);
  return {
    get canPublish() {
      return publisherReady;
    },
    ...channelCommands(settings.sharded, publisher, subscriber),
    async close() {
      await Promise.all([closeClient(publisher), closeClient(subscriber)]);
    },
  };
}

async function openCluster(redis: RedisModule, settings: ConnectionSettings, observer: ConnectionObserver): Promise<RedisConnection> {
  const defaults = settings.clusterOptions?.defaults;
  const cluster = redis.createCluster({
    ...settings.clusterOptions,
    rootNodes: settings.cluster!.map((url) => ({ url })),
    defaults: {
      ...defaults,
      disableOfflineQueue: true,
      socket: { ...defaults?.socket, reconnectStrategy: settings.reconnectStrategy },
    },
  } as RedisClusterOptions) as unknown as PubSubCommands;
  // Nodes that are not ready, by address: a loss is reported once per node.
  const down = new Set<string>();
  let connected = false;
  const key = (info: { host?: string; port?: number } | undefined): string => `${info?.host ?? '?'}:${info?.port ?? '?'}`;
  cluster.on('error', (error: Error) => observer.lost(error));
  cluster.on('node-error', (error: Error, info: { host?: string; port?: number }) => {
    const wasUp = !down.has(key(info));
    down.add(key(info));
    if (wasUp && connected) observer.lost(error);
  });
  cluster.on('node-ready', (info: { host?: string; port?: number }) => {
    down.delete(key(info));
    // A node that never comes back (its slots failed over to a replica) must not keep the adapter
    // from checking its subscriptions: any node that is ready again is a reason to look.
    if (connected) observer.ready();
  });
  await cluster.connect();
  connected = true;
  down.clear();
  observer.ready();
  return {
    // A node that is down fails the publishes of its slots only: those are counted when they fail.
    canPublish: true,
    ...channelCommands(settings.sharded, cluster, cluster),
    close: () => closeClient(cluster),
  };
}

/** How long a graceful close may wait for Redis to answer before the sockets are dropped. */
const CLOSE_TIMEOUT = 1000;

async function closeClient(client: PubSubCommands): Promise<void> {
  // node-redis's close() waits for the commands on their way; with Redis away they never settle.
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), CLOSE_TIMEOUT);
  });
  try {
    if ((await Promise.race([client.close(), late])) === 'late') client.destroy();
  } catch {
    // Not connected: drop the socket instead.
    client.destroy();
  } finally {
    clearTimeout(timer);
  }
}
