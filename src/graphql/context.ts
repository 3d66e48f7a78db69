import type DataLoader from 'dataloader';
import type { PublicDataChanges } from '../cache/public-data-changes';
import type { JobQueue } from '../job-queue';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import type { Viewer } from '../modules/accounts/sessions';
import type { SharedReads } from './shared-reads';
import type { VoterRefreshes } from '../modules/recommendations/voter-refreshes';
import type { RateLimiters } from '../rate-limit';

/** What every resolver gets: the database and services are injected, never imported. */
export interface Context {
  db: Database;
  config: AppConfig;
  logger: Logger;
  /** The request's clock, so every score and write in one request uses the same moment. */
  now: Date;
  /** The signed-in user and their session; null when anonymous. */
  viewer: Viewer | null;
  /** Per-request batching of relations, so a page costs a fixed number of queries. */
  loaders: Loaders;
  jobs: JobQueue;
  limiters: RateLimiters;
  /** The client's network address, for per-address limits. */
  clientAddress: string;
  /** Where a mutation announces what it changed of what anonymous readers see (cached answers showing it end). */
  publicDataChanges: PublicDataChanges;
  /** What every reader sees the same (a paper's authors), kept across requests. */
  sharedReads: SharedReads;
  /** Voters whose personal feeds follow their changes, handed to the queue together. */
  voterRefreshes: VoterRefreshes;
  /** Which papers the viewer upvoted, as this request already read them (by paper id); the others go through the loader. */
  viewerUpvotes: Map<number, boolean>;
}

/**
 * The request's DataLoaders by key, each made on first use, so nothing is
 * cached across requests. For relations that are not objects by id (those
 * are Pothos loadable nodes, src/graphql/node-refs.ts).
 */
export type Loaders = Map<string, DataLoader<any, any, any>>;

/** The request's loader under `key`, made by `create` the first time it is asked for. */
export function loader<K, V, C = K>(context: Context, key: string, create: () => DataLoader<K, V, C>): DataLoader<K, V, C> {
  let found: DataLoader<K, V, C> | undefined = context.loaders.get(key);
  if (!found) {
    found = create();
    context.loaders.set(key, found);
  }
  return found;
}
