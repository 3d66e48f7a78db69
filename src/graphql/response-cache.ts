import { useResponseCache, type Cache } from '@graphql-yoga/plugin-response-cache';
import { defaultBuildResponseCacheKey } from '@envelop/response-cache';
import { getOperationAST, Kind, type ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { isCacheable, type CachedAnswers } from '../cache/cached-answers';
import type { PublicDataChanges } from '../cache/public-data-changes';

/**
 * Caches the answers to anonymous queries in `answers` (src/cache/cached-answers.ts:
 * generations, TTL, size bounds), so what everyone sees (the trending page, a
 * day's papers, a paper) is computed once, not once per reader. A signed-in
 * request is never cached nor served from the cache, nor is one that asks for
 * a fresh answer with Cache-Control: no-cache (or no-store).
 */
export function responseCache(answers: CachedAnswers | null): Plugin[] {
  if (!answers) return [];
  const cache: Cache = {
    get: (key) => answers.get(key) as ExecutionResult | undefined,
    set: (key, result, _entities, ttl) => answers.set(key, result, ttl),
    // Every change to public data is announced and ends every answer: nothing is left to end per entity.
    invalidate: () => {},
  };
  return [
    useResponseCache({
      cache,
      ttl: answers.ttlMs,
      session: () => null,
      enabled: (request) => isCacheable(request),
      // The plugin asks for a key before it asks whether to cache: spare the other requests the hashing.
      buildResponseCacheKey: async ({ request, context: _context, ...params }) =>
        isCacheable(request) ? answers.keyOf(await defaultBuildResponseCacheKey(params)) : 'not cached',
      // On: with it off the plugin caches a mutation's answer like a query's (a repeat of an anonymous
      // logIn could be answered without running). The entities it would invalidate are ended with
      // everything else by announceMutations.
      invalidateViaMutation: true,
    }),
  ];
}

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
