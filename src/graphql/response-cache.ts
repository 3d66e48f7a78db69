import { useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { defaultBuildResponseCacheKey } from '@envelop/response-cache';
import { randomUUID } from 'node:crypto';
import { getOperationAST, Kind, type ExecutionResult } from 'graphql';
import { LRUCache } from 'lru-cache';
import type { Plugin } from 'graphql-yoga';
import type { PublicDataChanges } from '../cache/public-data-changes';

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
 * Caches the answers to anonymous queries: what everyone sees (the trending
 * page, a day's papers, a paper) is computed once, not once per reader.
 * A signed-in request is never cached nor served from the cache, nor is one
 * that asks for a fresh answer with Cache-Control: no-cache (or no-store).
 *
 * Any change to public data makes every cached answer stale at once: each
 * cache key (also the ETag) starts with a generation that each change
 * advances, and only keys of the current generation are read or written.
 * So a request that read the old data and stores its answer after the change
 * stores nothing, and an old ETag never earns a 304; the old entries are dropped.
 * The TTL bounds what a missed announcement (Redis down between processes)
 * can leave stale.
 *
 * The cache holds at most `maxEntries` answers and `maxBytes` of them (as
 * JSON), the least recently used leaving first; an answer over
 * `maxEntryBytes` is never stored.
 */
export function responseCache(settings: ResponseCacheSettings, changes: PublicDataChanges): Plugin[] {
  if (settings.ttlMs === 0) return [];
  // The process's own prefix keeps keys (and ETags) from repeating across restarts and replicas.
  const processPrefix = randomUUID().slice(0, 8);
  let generation = `${processPrefix}.0`;
  let changesSeen = 0;
  const entries = new LRUCache<string, ExecutionResult>({
    max: settings.maxEntries,
    maxSize: settings.maxBytes,
    maxEntrySize: settings.maxEntryBytes,
    sizeCalculation: (result) => Buffer.byteLength(JSON.stringify(result)),
  });
  changes.subscribe(() => {
    changesSeen += 1;
    generation = `${processPrefix}.${changesSeen}`;
    // The answers of older generations are never read again: let them go at once.
    entries.clear();
  });
  const isCurrent = (key: string) => key.startsWith(`${generation}-`);
  const cache: Cache = {
    get: (key) => (isCurrent(key) ? entries.get(key) : undefined),
    set: (key, result, _entities, ttl) => {
      if (isCurrent(key)) entries.set(key, result, { ttl });
    },
    // Every change to public data is announced and ends every answer (above): nothing is left to end per entity.
    invalidate: () => {},
  };
  return [
    useResponseCache({
      cache,
      ttl: settings.ttlMs,
      session: () => null,
      enabled: (request) => isCacheable(request),
      // The plugin asks for a key before it asks whether to cache: spare the other requests the hashing.
      buildResponseCacheKey: async ({ request, context: _context, ...params }) =>
        isCacheable(request) ? `${generation}-${await defaultBuildResponseCacheKey(params)}` : 'not cached',
      // On: with it off the plugin caches a mutation's answer like a query's (a repeat of an anonymous
      // logIn could be answered without running). The entities it would invalidate are ended with
      // everything else by announceMutations.
      invalidateViaMutation: true,
    }),
  ];
}

/** Anonymous, and not asking for a fresh answer (Cache-Control: no-cache or no-store, as a browser's reload sends). */
const isCacheable = (request: Request) => !request.headers.has('authorization') && !/no-cache|no-store/i.test(request.headers.get('cache-control') ?? '');

/**
 * A mutation that did something may have changed what readers see: announce
 * it once it has run. One that did nothing (refused, rate limited, or only
 * `__typename`) announces nothing, so no one can empty the caches for free.
 */
export function announceMutations(changes: PublicDataChanges): Plugin {
  return {
    onExecute({ args }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (operation?.operation !== 'mutation') return;
      // The answers of the root fields that are not __typename, by response key (alias or name); a fragment counts as one.
      const changingKeys = operation.selectionSet.selections.flatMap((selection) =>
        selection.kind !== Kind.FIELD ? [null] : selection.name.value === '__typename' ? [] : [(selection.alias ?? selection.name).value],
      );
      return {
        onExecuteDone: ({ result }) => {
          const data = 'data' in result ? (result.data as Record<string, unknown> | null | undefined) : undefined;
          if (!data) return;
          const didSomething = changingKeys.some((key) => (key === null ? Object.values(data).some((value) => value !== null) : data[key] != null));
          if (didSomething) void changes.announce();
        },
      };
    },
  };
}
