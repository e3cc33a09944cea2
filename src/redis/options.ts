/** What `redisPubSub()` takes. */
import type { RedisClientOptions, RedisClusterOptions } from 'redis';

export interface RedisPubSubOptions {
  /** A single Redis: `redis[s]://[[user][:password]@]host[:port][/db]`. Default `redis://127.0.0.1:6379`. */
  url?: string;
  /**
   * A Redis Cluster instead: the URLs of some of its nodes (the others are discovered). The
   * adapter then uses sharded pub/sub (Redis 7 `SPUBLISH`/`SSUBSCRIBE`) unless `sharded: false`.
   */
  cluster?: readonly string[];
  /**
   * Sharded pub/sub: a topic's messages go through the one node that owns its channel's slot,
   * instead of every node of a cluster. Default: true with `cluster`, false with a single Redis
   * (where classic `PUBLISH`/`SUBSCRIBE` is used; sharded works there too, on Redis >= 7).
   */
  sharded?: boolean;
  /** Prepended to a topic to name its Redis channel. Default `'wsforge:'`. */
  prefix?: string;
  /** Reconnect backoff after Redis goes away: first delay and ceiling, ms (each try doubles, with ±20% jitter). Default 50 and 2000. */
  reconnect?: { firstDelay?: number; maxDelay?: number };
  /** More options for node-redis's `createClient` (credentials, TLS, ...); `url` and the reconnect strategy are the adapter's. */
  clientOptions?: Omit<RedisClientOptions, 'url'>;
  /** More options for node-redis's `createCluster`; `rootNodes` comes from `cluster`. */
  clusterOptions?: Omit<RedisClusterOptions, 'rootNodes'>;
}

export type RedisPubSubStatus = 'connecting' | 'ready' | 'reconnecting' | 'closed';

export interface RedisPubSubStats {
  /** Publishes handed to Redis. */
  published: number;
  /** Messages from other servers handed to this server's subscribers. */
  delivered: number;
  /** Publishes not sent because Redis was unreachable (they reached this server's own subscribers only). */
  dropped: number;
}

export interface RedisPubSubEvents {
  /**
   * The connection to Redis changed: `ready` (publishes and subscriptions flow), `reconnecting`
   * (Redis went away; `error` says why; local delivery goes on), `closed`.
   */
  status: [status: RedisPubSubStatus, error: Error | undefined];
}

export const DEFAULT_PREFIX = 'wsforge:';
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';
export const DEFAULT_RECONNECT_FIRST_DELAY = 50;
export const DEFAULT_RECONNECT_MAX_DELAY = 2000;
