import postgres from 'postgres';
import { inject } from 'vitest';
import { sql } from 'drizzle-orm';
import { openDatabase, type DatabaseHandle } from '../../src/db/client';
import { queryRows } from '../../src/db/rows';

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
      // DELETE under session_replication_role = replica (no foreign-key triggers) empties every
      // table in milliseconds; TRUNCATE rewrites each table's files and takes half a second.
      await handle.db.transaction(async (tx) => {
        const tables = await queryRows<{ name: string }>(tx, sql`select quote_ident(tablename) as name from pg_tables where schemaname = 'public'`);
        const sequences = await queryRows<{ name: string }>(
          tx,
          sql`select quote_ident(sequencename) as name from pg_sequences where schemaname = 'public'`,
        );
        await tx.execute(sql`set local session_replication_role = replica`);
        for (const { name } of tables) await tx.execute(sql.raw(`delete from ${name}`));
        for (const { name } of sequences) await tx.execute(sql.raw(`alter sequence ${name} restart`));
      });
    },
  };
}
