import { randomUUID } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { PublicDataChanges } from './public-data-changes';

export interface ResponseCacheSettings {
  /** Longest a cached response is served, in ms; 0 turns the cache off. */
  ttlMs: number;
  maxEntries: number;
  /** Bytes of JSON all cached answers may hold together. */
  maxBytes: number;
  /** An answer larger than this is never cached. */
  maxEntryBytes: number;
}

/**
 * The answers to anonymous reads, shared by /graphql and the REST paths:
 * what everyone sees is computed once, not once per reader.
 *
 * Any change to public data makes every cached answer stale at once: each
 * key (also the ETag) starts with a generation that each change advances,
 * and only keys of the current generation are read or written. So a request
 * that read the old data and stores its answer after the change stores
 * nothing, and an old ETag never earns a 304; the old entries are dropped.
 * The TTL bounds what a missed announcement (Redis down between processes)
 * can leave stale.
 *
 * At most `maxEntries` answers and `maxBytes` of them (as JSON), the least
 * recently used leaving first; an answer over `maxEntryBytes` is never stored.
 */
export interface CachedAnswers {
  ttlMs: number;
  /** `digest` (a hash of what was asked) as a key of the current generation. */
  keyOf(digest: string): string;
  get(key: string): object | undefined;
  set(key: string, answer: object, ttlMs?: number): void;
}

/** The cache, or null when the settings turn it off. */
export function createCachedAnswers(settings: ResponseCacheSettings, changes: PublicDataChanges): CachedAnswers | null {
  if (settings.ttlMs === 0) return null;
  // The process's own prefix keeps keys (and ETags) from repeating across restarts and replicas.
  const processPrefix = randomUUID().slice(0, 8);
  let generation = `${processPrefix}.0`;
  let changesSeen = 0;
  const entries = new LRUCache<string, object>({
    max: settings.maxEntries,
    maxSize: settings.maxBytes,
    maxEntrySize: settings.maxEntryBytes,
    sizeCalculation: (answer) => Buffer.byteLength(JSON.stringify(answer)),
  });
  changes.subscribe(() => {
    changesSeen += 1;
    generation = `${processPrefix}.${changesSeen}`;
    // The answers of older generations are never read again: let them go at once.
    entries.clear();
  });
  const isCurrent = (key: string) => key.startsWith(`${generation}-`);
  return {
    ttlMs: settings.ttlMs,
    keyOf: (digest) => `${generation}-${digest}`,
    get: (key) => (isCurrent(key) ? entries.get(key) : undefined),
    set: (key, answer, ttlMs = settings.ttlMs) => {
      if (isCurrent(key)) entries.set(key, answer, { ttl: ttlMs });
    },
  };
}

/** Anonymous, and not asking for a fresh answer (Cache-Control: no-cache or no-store, as a browser's reload sends). */
export const isCacheable = (request: Request) =>
  !request.headers.has('authorization') && !/no-cache|no-store/i.test(request.headers.get('cache-control') ?? '');
