import { sql, type SQL } from 'drizzle-orm';
import type { TrendingSettings } from '../config';
import type { Database, Transaction } from '../db/client';
import { queryRows } from '../db/rows';
import { papers, upvotes, users } from '../db/schema';
import { savePapers } from '../modules/papers/save-papers';
import { refreshSimilarPapers } from '../modules/recommendations/similar-papers';
import { recomputeKeysAndCounts } from '../modules/trending/recompute';
import { generateDemoDataset, type DemoDataset, type DemoDatasetOptions } from './demo-dataset';

/** Rows this load added; what was already stored counts 0, so a second identical load reports zeros. */
export interface DemoLoadResult {
  /** Papers created or changed. */
  papers: number;
  users: number;
  upvotes: number;
}

/** Three parameters a row: far below Postgres's 65,535 parameters a statement. */
const UPVOTE_BATCH_SIZE = 5000;
const USER_BATCH_SIZE = 5000;

export async function isDatabaseEmpty(db: Database): Promise<boolean> {
  const [anyPaper] = await db.select({ id: papers.id }).from(papers).limit(1);
  return anyPaper === undefined;
}

/**
 * Generates the demo data set and writes it in one transaction, so a failed
 * load leaves no half-seeded database behind. Safe to run on top of existing
 * data: papers are keyed by arXiv id, users by username, votes by (paper, user).
 */
export async function loadDemoData(db: Database, settings: TrendingSettings, options: DemoDatasetOptions): Promise<DemoLoadResult> {
  const dataset = generateDemoDataset(options);
  return db.transaction((tx) => writeDataset(tx, settings, dataset));
}

async function writeDataset(db: Transaction, settings: TrendingSettings, dataset: DemoDataset): Promise<DemoLoadResult> {
  // Every user up front, submitters included: savePapers then finds the submitters and this count is exact.
  const createdUsers = await insertUsers(db, dataset);
  const saved = await savePapers(db, settings, dataset.papers);
  const createdUpvotes = await insertUpvotes(db, dataset);
  await recomputeKeysAndCounts(db, settings);
  await refreshSimilarPapers(db, 'all');
  return { papers: saved.written, users: createdUsers, upvotes: createdUpvotes };
}

async function insertUsers(db: Database, dataset: DemoDataset): Promise<number> {
  let created = 0;
  for (let offset = 0; offset < dataset.users.length; offset += USER_BATCH_SIZE) {
    const inserted = await db
      .insert(users)
      .values(dataset.users.slice(offset, offset + USER_BATCH_SIZE))
      .onConflictDoNothing()
      .returning({ id: users.id });
    created += inserted.length;
  }
  return created;
}

async function insertUpvotes(db: Database, dataset: DemoDataset): Promise<number> {
  const userIds = await idsBy(
    db,
    sql`select id, lower(username) as key from users where lower(username) = any(${sql.param(dataset.users.map((user) => user.username.toLowerCase()))}::text[])`,
  );
  const paperIds = await idsBy(
    db,
    sql`select id, arxiv_id as key from papers where arxiv_id = any(${sql.param(dataset.papers.map((paper) => paper.arxivId))}::text[])`,
  );
  let created = 0;
  for (let offset = 0; offset < dataset.upvotes.length; offset += UPVOTE_BATCH_SIZE) {
    const rows = dataset.upvotes.slice(offset, offset + UPVOTE_BATCH_SIZE).map((upvote) => ({
      paperId: lookUp(paperIds, upvote.arxivId),
      userId: lookUp(userIds, upvote.username.toLowerCase()),
      createdAt: upvote.createdAt,
    }));
    const inserted = await db.insert(upvotes).values(rows).onConflictDoNothing().returning({ paperId: upvotes.paperId });
    created += inserted.length;
  }
  return created;
}

async function idsBy(db: Database, statement: SQL): Promise<Map<string, number>> {
  const rows = await queryRows<{ id: number; key: string }>(db, statement);
  return new Map(rows.map((row) => [row.key, row.id]));
}

function lookUp(ids: Map<string, number>, key: string): number {
  const id = ids.get(key);
  if (id === undefined) throw new Error(`Demo data refers to ${key}, which was not stored`);
  return id;
}
