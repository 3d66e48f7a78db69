import type { EventEmitter } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from './logger';

/** What a connection is for; it decides the connection's options below and names it in logs and CLIENT LIST. */
export type RedisPurpose = 'jobs-producer' | 'jobs-worker' | 'rate-limits' | 'cache-announcements' | 'cache-invalidation';

/** Where a deployment's Redis data is: the server, and REDIS_PREFIX, which starts its every key and channel. */
export interface RedisTarget {
  redisUrl: string;
  redisPrefix: string;
}

/**
 * The options of each purpose. The prefix: only the rate-limit connection has
 * ioredis add it (keyPrefix) to every key; BullMQ refuses keyPrefix and takes
 * REDIS_PREFIX as its own prefix option instead, and pub/sub channels are not
 * keys, so public-data-changes names its channel with the prefix itself.
 */
const optionsByPurpose: Record<RedisPurpose, (redisPrefix: string) => RedisOptions> = {
  // Enqueueing must not hold up a request: no offline queue, one retry, then fail (the reconcile catches up).
  'jobs-producer': () => ({ enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
  // BullMQ's worker blocks on Redis and must wait out any outage: it requires maxRetriesPerRequest null.
  'jobs-worker': () => ({ maxRetriesPerRequest: null }),
  // A limit check must not wait for Redis (the limiter falls back to memory), nor /ready's PING.
  'rate-limits': (redisPrefix) => ({ keyPrefix: `${redisPrefix}:`, enableOfflineQueue: false, maxRetriesPerRequest: 1 }),
  // An announcement may wait out one reconnection; one lost beyond leaves a cached page until its TTL ends.
  'cache-announcements': () => ({ maxRetriesPerRequest: 1 }),
  // ioredis's defaults: its one command, SUBSCRIBE, is sent again after every reconnection.
  'cache-invalidation': () => ({}),
};

/** The one way to open a Redis connection: named `<REDIS_PREFIX>:<purpose>`, with that purpose's options. */
export function connectRedis({ redisUrl, redisPrefix }: RedisTarget, purpose: RedisPurpose): Redis {
  return new Redis(redisUrl, { ...optionsByPurpose[purpose](redisPrefix), connectionName: `${redisPrefix}:${purpose}` });
}

/** A command refused at once because its connection is down: the outage was already logged, once. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export interface RedisOutageReport {
  /** Which connection this is, in its log lines. */
  role: RedisPurpose;
  /** What the process does while it is down, for the operator reading the warning. */
  meanwhile: string;
  /** Where its errors are emitted: the connection itself, or what re-emits them (BullMQ's queue and worker). */
  emitters?: EventEmitter[];
}

/**
 * Logs a Redis connection's outages once each: one warning when it goes down
 * and one info when it is back, however many reconnection attempts (ioredis
 * emits an 'error' for each) and failed requests come between. An error while
 * the connection is up is unexpected and logged as it comes.
 */
export function reportRedisOutages(connection: Redis, logger: Logger, { role, meanwhile, emitters = [connection] }: RedisOutageReport): void {
  let down = false;
  connection.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info({ role }, 'Redis reachable again');
  });
  const report = (error: Error) => {
    // A socket error (ECONNRESET...) can come before the connection knows it is down.
    const connectionLost = connection.status !== 'ready' || 'syscall' in error;
    if (!connectionLost) {
      logger.error({ err: error, role }, 'Redis error');
    } else if (!down) {
      down = true;
      logger.warn({ err: error, role, meanwhile }, 'Redis unreachable; reconnecting in the background');
    }
  };
  for (const emitter of emitters) emitter.on('error', report);
}
