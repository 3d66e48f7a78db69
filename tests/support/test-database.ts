import postgres from 'postgres';
import { inject } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../../src/db/client';

/** The server the tests run against; the admin database is used to create the others. */
export const adminUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export function urlFor(database: string): string {
  const url = new URL(adminUrl);
  url.pathname = `/${database}`;
  return url.toString();
}

async function asAdmin(statements: string[]): Promise<void> {
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    for (const statement of statements) await admin.unsafe(statement);
  } finally {
    await admin.end();
  }
}

/** Drops and recreates `name`, optionally as a copy of `template`. */
export async function recreateDatabase(name: string, template?: string): Promise<void> {
  await asAdmin([`drop database if exists "${name}" with (force)`, `create database "${name}"${template ? ` template "${template}"` : ''}`]);
}

export async function dropDatabase(name: string): Promise<void> {
  await asAdmin([`drop database if exists "${name}" with (force)`]);
}

export interface TestDatabase extends DatabaseHandle {
  url: string;
  /** SQL statements sent since the last reset of the counter. */
  queries: string[];
  /** Empties every table (identities restart), for tests that need a clean slate. */
  truncate(): Promise<void>;
}

/**
 * A fresh database for this test file: a copy of the migrated template, named
 * after it and the Vitest worker so parallel files never share one. Closing
 * it drops it.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const template = inject('templateDatabase');
  const name = `${template}_w${process.env.VITEST_POOL_ID ?? '0'}`;
  await recreateDatabase(name, template);
  const url = urlFor(name);
  const queries: string[] = [];
  const handle = openDatabase({ url, dataDir: '', poolSize: 4, onQuery: (query) => queries.push(query) });
  return {
    ...handle,
    url,
    queries,
    async close() {
      await handle.close();
      await dropDatabase(name);
    },
    async truncate() {
      await handle.db.execute(
        sql`truncate table upvotes, paper_authors, papers, authors, organizations, users, sessions, comments, authorship_claims, digest_subscriptions, digest_deliveries, similar_papers, recommendations, ranking_models restart identity cascade`,
      );
    },
  };
}
