/**
 * wsforge/redis: servers on many machines share their publishes through Redis. Each topic is
 * a Redis channel (prefix + topic); a server subscribes to a channel only while it has local
 * subscribers of the topic (the server calls `subscribe` on the first and `unsubscribe` on the
 * last), and publishes every message of its own to it. Classic pub/sub on a single Redis,
 * sharded pub/sub (Redis 7 SPUBLISH/SSUBSCRIBE) on a Redis Cluster.
 *
 * Order: one server's publishes go over one connection (to the one node owning the channel on
 * a cluster), and Redis delivers a channel's messages in the order it received them, so the
 * messages of one publisher on one topic arrive in order on every server.
 *
 * Redis going away: node-redis reconnects with the backoff given here; subscriptions are made
 * again on reconnect (node-redis restores its own, and the adapter checks every topic it wants
 * against what is subscribed each time the connection is ready, so a subscription asked for
 * during the outage is made too). Meanwhile local delivery goes on; a publish made while Redis
 * is unreachable reaches this server's subscribers only (counted in `stats.dropped`), and what
 * other servers publish meanwhile is not seen here: Redis pub/sub keeps no history.
 */
import { EventEmitter } from 'node:events';
import type { PubSubAdapter } from '../pubsub/adapter.js';
import { newOrigin, openEnvelope, sealEnvelope } from './envelope.js';
import {
  DEFAULT_PREFIX,
  DEFAULT_RECONNECT_FIRST_DELAY,
  DEFAULT_RECONNECT_MAX_DELAY,
  DEFAULT_REDIS_URL,
  type RedisPubSubEvents,
  type RedisPubSubOptions,
  type RedisPubSubStats,
  type RedisPubSubStatus,
} from './options.js';
import { type ChannelListener, openRedisConnection, type RedisConnection } from './redis-connection.js';

type Deliver = (topic: string, payload: Buffer, isBinary: boolean) => void;

export class RedisPubSub extends EventEmitter<RedisPubSubEvents> implements PubSubAdapter {
  /** Whether classic or sharded pub/sub is used. */
  readonly sharded: boolean;
  readonly prefix: string;
  private readonly origin = newOrigin();
  private readonly options: RedisPubSubOptions;
  private deliver: Deliver | null = null;
  private connection: RedisConnection | null = null;
  private opening: Promise<void> | null = null;
  private currentStatus: RedisPubSubStatus = 'connecting';
  /** Why the adapter closed by itself (the redis package is missing, bad options). */
  private failure: Error | null = null;
  private readonly counters: RedisPubSubStats = { published: 0, delivered: 0, dropped: 0 };
  /** Topics this server has local subscribers of. */
  private readonly wanted = new Set<string>();
  /** Topics subscribed on Redis (node-redis confirmed, and keeps them across reconnects). */
  private readonly active = new Set<string>();
  /** Topics with a subscribe or unsubscribe on its way: one at a time per topic. */
  private readonly changing = new Set<string>();
  private readonly onMessage: ChannelListener = (message, channel) => this.received(message, channel);

  constructor(options: RedisPubSubOptions = {}) {
    super();
    this.options = options;
    this.sharded = options.sharded ?? options.cluster !== undefined;
    this.prefix = options.prefix ?? DEFAULT_PREFIX;
  }

  get status(): RedisPubSubStatus {
    return this.currentStatus;
  }

  /** Counts since the start (a copy). */
  get stats(): RedisPubSubStats {
    return { ...this.counters };
  }

  /** Topics subscribed on Redis now. */
  get subscribedTopics(): ReadonlySet<string> {
    return new Set(this.active);
  }

  /**
   * Resolves once connected to Redis (the server calls `attach` itself; this only waits).
   * Rejects when the redis package is missing (the error says how to install it) or the adapter
   * was closed first.
   */
  whenReady(): Promise<void> {
    if (this.currentStatus === 'ready') return Promise.resolve();
    if (this.currentStatus === 'closed') return Promise.reject(this.failure ?? new Error('the Redis adapter was closed'));
    return new Promise((resolve, reject) => {
      const onStatus = (status: RedisPubSubStatus, error: Error | undefined): void => {
        if (status === 'ready') resolve();
        else if (status === 'closed') reject(error ?? new Error('the Redis adapter was closed'));
        else return;
        this.off('status', onStatus);
      };
      this.on('status', onStatus);
    });
  }

  attach(deliver: Deliver): void {
    if (this.deliver !== null) throw new Error('this adapter already serves a server: one WebSocketServer per adapter');
    this.deliver = deliver;
    this.opening = this.open();
  }

  subscribe(topic: string): void {
    this.wanted.add(topic);
    this.reconcile(topic);
  }

  unsubscribe(topic: string): void {
    this.wanted.delete(topic);
    this.reconcile(topic);
  }

  publish(topic: string, payload: Buffer, isBinary: boolean): void {
    const connection = this.connection;
    // canPublish is the publishing connection's own state (on a cluster, a node that is down fails
    // only the publishes of its slots, counted when they fail).
    if (connection === null || this.currentStatus === 'closed' || !connection.canPublish) {
      this.counters.dropped++;
      return;
    }
    this.counters.published++;
    connection.publish(this.prefix + topic, sealEnvelope(this.origin, payload, isBinary)).catch((error: unknown) => {
      // Lost on the way (the connection dropped): it reached the local subscribers only.
      this.counters.published--;
      this.counters.dropped++;
      this.reportLost(error);
    });
  }

  async close(): Promise<void> {
    if (this.currentStatus === 'closed') return;
    this.setStatus('closed', undefined);
    this.wanted.clear();
    await this.opening?.catch(() => {});
    const connection = this.connection;
    this.connection = null;
    await connection?.close();
  }

  private async open(): Promise<void> {
    const first = this.options.reconnect?.firstDelay ?? DEFAULT_RECONNECT_FIRST_DELAY;
    const max = this.options.reconnect?.maxDelay ?? DEFAULT_RECONNECT_MAX_DELAY;
    try {
      const connection = await openRedisConnection(
        {
          url: this.options.url ?? DEFAULT_REDIS_URL,
          cluster: this.options.cluster ?? null,
          sharded: this.sharded,
          // ±20% jitter, so that many servers do not knock on a restarted Redis at the same instant.
          reconnectStrategy: (retries) => Math.round(Math.min(max, first * 2 ** retries) * (0.8 + Math.random() * 0.4)),
          clientOptions: this.options.clientOptions,
          clusterOptions: this.options.clusterOptions,
        },
        {
          ready: () => {
            if (this.currentStatus === 'closed' || this.connection === null) return;
            this.setStatus('ready', undefined);
            for (const topic of new Set([...this.wanted, ...this.active])) this.reconcile(topic);
          },
          lost: (error) => this.reportLost(error),
        },
      );
      if (this.currentStatus === 'closed') {
        await connection.close();
        return;
      }
      this.connection = connection;
      this.setStatus('ready', undefined);
      for (const topic of this.wanted) this.reconcile(topic);
    } catch (error) {
      // The redis package is missing, or the options are wrong: nothing to retry.
      if (this.currentStatus !== 'closed') this.setStatus('closed', error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Bring one topic's Redis subscription in line with whether it is wanted; one change at a time. */
  private reconcile(topic: string): void {
    const connection = this.connection;
    // Only while connected: node-redis never settles an UNSUBSCRIBE sent while it is offline. Every
    // topic is looked at again on the next 'ready'.
    if (connection === null || this.currentStatus !== 'ready' || this.changing.has(topic)) return;
    const want = this.wanted.has(topic);
    if (want === this.active.has(topic)) return;
    this.changing.add(topic);
    const channel = this.prefix + topic;
    const change = want ? connection.subscribe(channel, this.onMessage) : connection.unsubscribe(channel, this.onMessage);
    change.then(
      () => {
        if (want) this.active.add(topic);
        else this.active.delete(topic);
        this.changing.delete(topic);
        this.reconcile(topic);
      },
      (error: unknown) => {
        // Redis went away meanwhile: the next 'ready' tries again.
        this.changing.delete(topic);
        this.reportLost(error);
      },
    );
  }

  private received(message: Buffer, channel: Buffer | string): void {
    const topic = String(channel).slice(this.prefix.length);
    // A message already on its way when the last local subscriber left.
    if (!this.wanted.has(topic) || this.deliver === null) return;
    const { origin, payload, isBinary } = openEnvelope(message);
    if (origin !== null && origin.equals(this.origin)) return; // our own publish, served locally already
    this.counters.delivered++;
    this.deliver(topic, payload, isBinary);
  }

  private reportLost(error: unknown): void {
    if (this.currentStatus === 'closed' || this.currentStatus === 'connecting') return;
    this.setStatus('reconnecting', error instanceof Error ? error : new Error(String(error)));
  }

  private setStatus(status: RedisPubSubStatus, error: Error | undefined): void {
    if (status === this.currentStatus) return;
    if (status === 'closed' && error !== undefined) this.failure = error;
    this.currentStatus = status;
    this.emit('status', status, error);
  }
}

/** A Redis adapter for `new WebSocketServer({ pubsub: redisPubSub({ url }) })`. */
export function redisPubSub(options: RedisPubSubOptions = {}): RedisPubSub {
  return new RedisPubSub(options);
}
