import { mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { unaccent } from '@electric-sql/pglite/contrib/unaccent';
import { sql, type ExtractTablesWithRelations, type Logger as DrizzleLogger } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { fileURLToPath } from 'node:url';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import { lockDataFolder } from './data-folder-lock';
import { preparingStatements } from './prepared-statements';
import * as schema from './schema';

/** The database as the domain code sees it: a Drizzle handle or a transaction of one, whichever driver is behind it. */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

/**
 * What `db.transaction(work)` hands to `work`. It is a Database too, so code
 * taking a Database runs inside it as is; a parameter typed Transaction says
 * the function relies on running inside one (locks, all-or-nothing writes).
 */
export type Transaction = PgTransaction<PgQueryResultHKT, typeof schema, ExtractTablesWithRelations<typeof schema>>;

export type DatabaseKind = 'postgres' | 'pglite';

export interface DatabaseHandle {
  db: Database;
  kind: DatabaseKind;
  /** Where the data is: the Postgres host or the PGlite folder (never credentials). */
  location: string;
  /**
   * Applies the pending migrations under a Postgres advisory lock, then runs
   * `afterMigrations` (e.g. loading demo data) while still holding it, so
   * instances starting together neither race the migrations nor seed twice.
   */
  migrate(afterMigrations?: (db: Database) => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

// From src/db/ here, and from dist/bin/ in the bundles of `npm run build`: both two levels below the root.
const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

/** Arbitrary, fixed: the key of the advisory lock that serializes migrations across processes. */
const MIGRATION_LOCK_KEY = 4_720_261_126;

const lockSql = sql`select pg_advisory_lock(${MIGRATION_LOCK_KEY})`;
const unlockSql = sql`select pg_advisory_unlock(${MIGRATION_LOCK_KEY})`;

export interface DatabaseOptions {
  /** Postgres connection string; undefined selects embedded PGlite under dataDir. */
  url: string | undefined;
  dataDir: string;
  poolSize?: number;
  /** Seconds a new Postgres connection may take before the queries waiting on it fail (CONNECT_TIMEOUT). */
  connectTimeoutSeconds?: number;
  /** Called with every SQL statement sent (tests count them). */
  onQuery?: (query: string) => void;
}

export function openDatabase(options: DatabaseOptions): DatabaseHandle {
  const logger: DrizzleLogger | undefined = options.onQuery ? { logQuery: (query) => options.onQuery?.(query) } : undefined;

  const { url } = options;
  if (url) {
    const client = postgres(url, {
      max: options.poolSize ?? 10,
      onnotice: () => {},
      // JIT off: the personal ranking's and reconcile's cost estimates cross jit_above_cost, and compiling took
      // 670 ms of a 1,030 ms feed refresh at the bench scale; no statement here runs long enough to repay it.
      connection: { application_name: 'daily-papers', jit: 'off' },
      ...outageSettings(options.connectTimeoutSeconds),
    });
    return {
      db: drizzlePostgres(preparingStatements(client), { schema, logger }),
      kind: 'postgres',
      location: describePostgresUrl(url),
      async migrate(afterMigrations) {
        // One dedicated connection: a session-level advisory lock belongs to the connection that took it.
        const lockClient = postgres(url, { max: 1, onnotice: () => {} });
        const lockDb = drizzlePostgres(lockClient, { schema });
        try {
          await lockDb.execute(lockSql);
          await migratePostgres(lockDb, { migrationsFolder });
          await afterMigrations?.(lockDb);
          await lockDb.execute(unlockSql);
        } finally {
          await lockClient.end({ timeout: 5 });
        }
      },
      close: () => client.end({ timeout: 5 }),
    };
  }

  mkdirSync(path.resolve(options.dataDir, 'pglite'), { recursive: true });
  const directory = realpathSync(path.resolve(options.dataDir, 'pglite'));
  // One process per folder: the server and every CLI open it here. Throws DataFolderLockedError naming the holder.
  const releaseFolder = lockDataFolder(directory);
  const client = new PGlite(directory, { extensions: { pg_trgm, unaccent } });
  const db = drizzlePglite(client, { schema, logger });
  return {
    db,
    kind: 'pglite',
    location: directory,
    async migrate(afterMigrations) {
      // PGlite is one connection in this process; the lock still guards against concurrent callers here.
      await db.execute(lockSql);
      try {
        await migratePglite(db, { migrationsFolder });
        await afterMigrations?.(db);
      } finally {
        await db.execute(unlockSql);
      }
    },
    async close() {
      try {
        await client.close();
      } finally {
        releaseFolder();
      }
    },
  };
}

/**
 * How the pool behaves while Postgres is down or restarting. A connection
 * attempt gives up after `connectTimeoutSeconds` (postgres.js waits 30 by
 * default). And no backoff: postgres.js only reconnects when a query needs a
 * connection, and its default backoff (growing to 20 s) makes that query, and
 * every one queued behind it, wait before the attempt even starts; with 10
 * connections, 300 requests at once during an outage took 22 s to fail even
 * with the backoff capped at 1 s, and 0.2 s without it. So a request during
 * an outage fails as soon as the connection is refused, and the first one
 * after Postgres is back reconnects, without restarting the process.
 */
function outageSettings(connectTimeoutSeconds = 5) {
  return { connect_timeout: connectTimeoutSeconds, backoff: () => 0 };
}

function describePostgresUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}:${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return 'postgres';
  }
}
