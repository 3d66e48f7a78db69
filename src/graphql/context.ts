import type { JobQueue } from '../job-queue';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import type { Logger } from '../logger';
import type { Viewer } from '../modules/accounts/sessions';
import type { RateLimiters } from '../rate-limit';
import type { Loaders } from './loaders';

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
}
