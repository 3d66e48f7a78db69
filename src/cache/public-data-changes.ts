import type { Redis } from 'ioredis';
import type { AppConfig } from '../config';
import type { Logger } from '../logger';
import { connectRedis, reportRedisOutages } from '../redis';

/** The Redis channel on which every process of a deployment announces that public data changed. */
const channelOf = (redisPrefix: string) => `${redisPrefix}:public-data-changed`;

/**
 * "Public data changed" (a vote, a comment, a reconcile, new similar papers...),
 * heard by every process that caches what anonymous readers see. Without
 * Redis there is one process and the news stays in it; with Redis it is also
 * published, so the other API replicas and the worker's writes reach every cache.
 */
export interface PublicDataChanges {
  /** Announces a change, here and to every other process; resolves once published (or given up). */
  announce(): Promise<void>;
  /** Calls `listener` on every change announced here or elsewhere. */
  subscribe(listener: () => void): void;
  close(): Promise<void>;
}

export function createPublicDataChanges({ redisUrl, redisPrefix }: Pick<AppConfig, 'redisUrl' | 'redisPrefix'>, logger: Logger): PublicDataChanges {
  const listeners: (() => void)[] = [];
  const notifyListeners = () => {
    for (const listener of listeners) listener();
  };
  if (!redisUrl) {
    return {
      announce: async () => notifyListeners(),
      subscribe: (listener) => void listeners.push(listener),
      close: async () => {},
    };
  }
  const target = { redisUrl, redisPrefix };
  const channel = channelOf(redisPrefix);
  const publisher = connectRedis(target, 'cache-announcements');
  reportRedisOutages(publisher, logger, {
    role: 'cache-announcements',
    meanwhile: 'changes are not announced to the other processes; their cached answers end with the TTL',
  });
  let subscriber: Redis | undefined;
  return {
    async announce() {
      notifyListeners();
      await publisher.publish(channel, '1').catch((error: unknown) => {
        // A failure during an outage was reported once, with the outage.
        if (publisher.status === 'ready') logger.warn({ err: error }, 'could not announce a data change');
      });
    },
    subscribe(listener) {
      listeners.push(listener);
      if (subscriber) return;
      subscriber = connectRedis(target, 'cache-invalidation');
      reportRedisOutages(subscriber, logger, {
        role: 'cache-invalidation',
        meanwhile: 'changes announced elsewhere are not heard; cached answers end with the TTL, and all of them once it is back',
      });
      subscriber.on('message', notifyListeners);
      // Messages published while the subscription was down are lost: start over with an empty cache.
      subscriber.on('ready', notifyListeners);
      void subscriber.subscribe(channel).catch(() => {});
    },
    async close() {
      publisher.disconnect();
      subscriber?.disconnect();
    },
  };
}
