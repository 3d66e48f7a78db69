import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor, type PageRequest } from '../src/db/keyset';
import { queryRows } from '../src/db/rows';
import { papers } from '../src/db/schema';
import { paperOrders, type PaperOrder } from '../src/modules/papers/paper-order';
import { selectPaperPage, type PaperCriteria } from '../src/modules/papers/papers.queries';
import { paperRecord, savePaperRecords } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await savePaperRecords(
    database.db,
    Array.from({ length: 30 }, (_, index) =>
      paperRecord({ organization: { name: 'OPPO' }, submittedBy: { username: 'ak' }, keywords: ['diffusion'], upvoteBaseline: index }),
    ),
  );
  await database.db.execute(sql`analyze`);
});

afterAll(async () => {
  await database.close();
});

/** The plan of a feed's page query, with sequential scans priced out so only a missing index shows. */
async function planOf(criteria: PaperCriteria, order: PaperOrder, withCursor: boolean): Promise<string> {
  const [anyPaper] = await database.db.select().from(papers).limit(1);
  const request: PageRequest = {
    direction: 'forward',
    size: 50,
    cursor: withCursor ? encodeCursor(paperOrders[order], anyPaper!) : null,
  };
  return database.db.transaction(async (db) => {
    await db.execute(sql`set local enable_seqscan = off`);
    const rows = await queryRows<{ 'QUERY PLAN': string }>(db, sql`explain ${selectPaperPage(db, criteria, order, request)}`);
    return rows.map((row) => row['QUERY PLAN']).join('\n');
  });
}

describe('every feed is served by an index', () => {
  it.each([
    ['trending', {}, 'TRENDING', 'papers_trending_idx'],
    ['most upvoted', {}, 'UPVOTES', 'papers_upvotes_idx'],
    ['newest on arXiv', {}, 'PUBLISHED_AT', 'papers_published_idx'],
    ['newest submissions', {}, 'SUBMITTED_AT', 'papers_submitted_idx'],
    ["an organization's papers", { organizationId: 1 }, 'PUBLISHED_AT', 'papers_organization_idx'],
    ["a user's submissions", { submittedById: 1 }, 'SUBMITTED_AT', 'papers_submitter_idx'],
  ] as const)('%s: an ordered index scan, no sort, on every page', async (_feed, criteria, order, index) => {
    for (const withCursor of [false, true]) {
      const plan = await planOf(criteria, order, withCursor);
      expect(plan).toContain(`Index Scan using ${index}`);
      expect(plan).not.toMatch(/Seq Scan|Sort/);
    }
  });

  it.each([
    ['a day of Daily Papers', { submittedFrom: new Date('2025-11-12'), submittedUntil: new Date('2025-11-13') }, 'UPVOTES', 'papers_submitted_range_idx'],
    ["an author's papers", { authorId: 1 }, 'PUBLISHED_AT', 'paper_authors_author_idx'],
    ['a keyword', { keyword: 'diffusion' }, 'TRENDING', 'papers_keywords_idx'],
  ] as const)('%s: read through an index, never a sequential scan', async (_feed, criteria, order, index) => {
    // The planner may walk the order's index or look the filter up in its own (`index`); both avoid a scan.
    const plan = await planOf(criteria, order, false);
    expect(plan).toMatch(new RegExp(`Index Scan (Backward )?(using|on) (${index}|papers_\\w+_idx)`));
    expect(plan).not.toContain('Seq Scan');
  });
});
