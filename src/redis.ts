import type { EventEmitter } from 'node:events';
import type { Redis } from 'ioredis';
import type { Logger } from './logger';

/** A command refused at once because its connection is down: the outage was already logged, once. */
export class RedisUnavailableError extends Error {
  override name = 'RedisUnavailableError';
}

export interface RedisOutageReport {
  /** Which connection this is, in its log lines: "rate-limits", "jobs-producer"... */
  role: string;
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
export function reportRedisOutages(
  connection: Redis,
  logger: Logger,
  { role, meanwhile, emitters = [connection] }: RedisOutageReport,
): void {
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
