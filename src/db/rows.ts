import type { SQL } from 'drizzle-orm';
import type { Database } from './client';

/**
 * Runs a raw statement and returns its rows. postgres.js answers with an
 * array and PGlite with `{ rows }`; callers should not care which.
 */
export async function queryRows<Row extends Record<string, unknown>>(db: Database, statement: SQL): Promise<Row[]> {
  const result = (await db.execute(statement)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: Row[] }).rows) as Row[];
}
