import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import { createLoaders, type Loaders } from './loaders';

/** What every resolver gets: the database is injected, never imported. */
export interface Context {
  db: Database;
  config: AppConfig;
  /** The request's clock, so every score in one response is taken at the same moment. */
  now: Date;
  /** Per-request batching of relations, so a page costs a fixed number of queries. */
  loaders: Loaders;
}

export function createContext(db: Database, config: AppConfig): Context {
  return { db, config, now: new Date(), loaders: createLoaders(db) };
}
