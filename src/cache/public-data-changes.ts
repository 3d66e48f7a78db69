import { Redis } from 'ioredis';
import type { Logger } from '../logger';

/** The Redis channel on which every process announces that public data changed. */
const CHANNEL = 'daily-papers:public-data-changed';

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

export function createPublicDataChanges(redisUrl: string | undefined, logger: Logger): PublicDataChanges {
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
  // An announcement waits for at most one reconnection: one lost while Redis is down leaves a cached page until its TTL ends.
  const publisher = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  publisher.on('error', (error) => logger.warn({ err: error }, 'redis (cache invalidation) unavailable'));
  let subscriber: Redis | undefined;
  return {
    async announce() {
      notifyListeners();
      await publisher.publish(CHANNEL, '1').catch((error: unknown) => logger.warn({ err: error }, 'could not announce a data change'));
    },
    subscribe(listener) {
      listeners.push(listener);
      if (subscriber) return;
      subscriber = new Redis(redisUrl);
      subscriber.on('error', (error) => logger.warn({ err: error }, 'redis (cache invalidation) unavailable'));
      subscriber.on('message', notifyListeners);
      // Messages published while the subscription was down are lost: start over with an empty cache.
      subscriber.on('ready', notifyListeners);
      void subscriber.subscribe(CHANNEL).catch(() => {});
    },
    async close() {
      publisher.disconnect();
      subscriber?.disconnect();
    },
  };
}
