/**
 * wsforge/redis: share publishes between servers through Redis (node-redis, the `redis`
 * package, is an optional peer dependency). See README "Scaling".
 */
export { RedisPubSub, redisPubSub } from './redis-pubsub.js';
export {
  DEFAULT_PREFIX,
  DEFAULT_RECONNECT_FIRST_DELAY,
  DEFAULT_RECONNECT_MAX_DELAY,
  DEFAULT_REDIS_URL,
  type RedisPubSubEvents,
  type RedisPubSubOptions,
  type RedisPubSubStats,
  type RedisPubSubStatus,
} from './options.js';
