import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, type SQL } from 'drizzle-orm';
import { openDatabase, type Database } from '../db/client';
import { queryRows } from '../db/rows';

/**
 * The evaluation's own database: an embedded PGlite in a fresh temporary
 * folder, migrated, deleted on close. Holding votes out and rewriting
 * trending keys, similar papers and recommendations there leaves the
 * configured database untouched, and takes no lock a live site would wait on.
 */
export interface ScratchDatabase {
  db: Database;
  close(): Promise<void>;
}

export async function openScratchDatabase(): Promise<ScratchDatabase> {
  const folder = mkdtempSync(path.join(tmpdir(), 'eval-recs-'));
  const handle = openDatabase({ url: undefined, dataDir: folder });
  try {
    await handle.migrate();
  } catch (error) {
    await handle.close();
    rmSync(folder, { recursive: true, force: true });
    throw error;
  }
  return {
    db: handle.db,
    async close() {
      await handle.close();
      rmSync(folder, { recursive: true, force: true });
    },
  };
}

/** Rows per copy statement: one JSON parameter each. */
const COPY_BATCH_SIZE = 5_000;

interface CopiedTable {
  table: string;
  /** Column name and SQL type, in the source and the scratch database alike. */
  columns: [string, string][];
  /** Identity columns are copied as they are, so the references between tables hold. */
  identity: boolean;
}

/**
 * What the recommenders read: users (id and name only: no emails or password
 * hashes leave the source), papers with their search documents and trending
 * inputs, and the upvotes.
 */
const COPIED_TABLES: CopiedTable[] = [
  {
    table: 'users',
    columns: [
      ['id', 'int'],
      ['username', 'text'],
      ['created_at', 'timestamptz'],
    ],
    identity: true,
  },
  {
    table: 'papers',
    columns: [
      ['id', 'int'],
      ['arxiv_id', 'text'],
      ['title', 'text'],
      ['abstract', 'text'],
      ['published_at', 'timestamptz'],
      ['submitted_at', 'timestamptz'],
      ['submitted_by_id', 'int'],
      ['keywords', 'text[]'],
      ['upvote_baseline', 'int'],
      ['upvote_count', 'int'],
      ['trending_key', 'float8'],
      ['search_vector', 'tsvector'],
    ],
    identity: true,
  },
  {
    table: 'upvotes',
    columns: [
      ['paper_id', 'int'],
      ['user_id', 'int'],
      ['created_at', 'timestamptz'],
    ],
    identity: false,
  },
];

/** Copies the evaluation's tables from `source` (read only) into the scratch database; returns the rows per table. */
export async function copyEvaluationData(source: Database, scratch: Database): Promise<Record<string, number>> {
  const copied: Record<string, number> = {};
  for (const { table, columns, identity } of COPIED_TABLES) {
    const names = sql.raw(columns.map(([name]) => name).join(', '));
    const recordType = sql.raw(columns.map(([name, type]) => `${name} ${type}`).join(', '));
    const order = sql.raw(identity ? 'id' : columns.map(([name]) => name).join(', '));
    copied[table] = 0;
    for (let offset = 0; ; offset += COPY_BATCH_SIZE) {
      const [batch] = await queryRows<{ rows: unknown[] | null }>(
        source,
        sql`select json_agg(t) as rows from (select ${names} from ${sql.raw(table)} order by ${order} limit ${COPY_BATCH_SIZE} offset ${offset}) t`,
      );
      const rows = batch?.rows ?? [];
      if (rows.length === 0) break;
      const overriding: SQL = identity ? sql`overriding system value` : sql``;
      await scratch.execute(sql`
        insert into ${sql.raw(table)} (${names}) ${overriding}
        select ${names} from json_to_recordset(${JSON.stringify(rows)}::json) as r(${recordType})
      `);
      copied[table] += rows.length;
    }
  }
  return copied;
}
