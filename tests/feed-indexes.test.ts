import { and, asc, count, gt, isNull, sql, type SQL } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor, type PageRequest } from '../src/db/keyset';
import { queryRows } from '../src/db/rows';
import { collectionPapers, collections, papers, users } from '../src/db/schema';
import {
  collectionOrder,
  collectionPaperOrder,
  selectCollectionPagesOfOwners,
  selectPaperPagesOfCollections,
} from '../src/modules/collections/collections.queries';
import { paperOrders, type PaperOrder } from '../src/modules/papers/paper-order';
import { conditionsFor, selectPaperPage, type PaperCriteria } from '../src/modules/papers/papers.queries';
import { paperRecord, savePaperRecords } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
  await savePaperRecords(
    database.db,
    Array.from({ length: 30 }, (_, index) =>
      paperRecord({
        organization: { name: 'OPPO' },
        submittedBy: { username: 'ak' },
        keywords: ['diffusion'],
        categories: index % 2 ? ['cs.LG'] : undefined,
        upvoteBaseline: index,
      }),
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
    ['categories', { categories: ['cs.LG', 'cs.CV'] }, 'TRENDING', 'papers_categories_idx'],
    ['excluded categories and keywords', { excludeCategories: ['cs.RO'], excludeKeywords: ['survey'] }, 'UPVOTES', 'papers_upvotes_idx'],
    [
      'a day, in categories',
      { submittedFrom: new Date('2025-11-12'), submittedUntil: new Date('2025-11-13'), categories: ['cs.LG'] },
      'UPVOTES',
      'papers_categories_idx',
    ],
  ] as const)('%s: read through an index, never a sequential scan', async (_feed, criteria, order, index) => {
    // The planner may walk the order's index or look the filter up in its own (`index`); both avoid a scan.
    const plan = await planOf(criteria, order, false);
    expect(plan).toMatch(new RegExp(`Index Scan (Backward )?(using|on) (${index}|papers_\\w+_idx)`));
    expect(plan).not.toContain('Seq Scan');
  });
});

describe('categories', () => {
  /** The plan of `statement`, with sequential scans priced out. */
  async function planOfStatement(statement: SQL): Promise<string> {
    return database.db.transaction(async (db) => {
      await db.execute(sql`set local enable_seqscan = off`);
      const rows = await queryRows<{ 'QUERY PLAN': string }>(db, sql`explain ${statement}`);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
  }

  it('counting the papers in some categories looks them up in the GIN index', async () => {
    const statement = database.db
      .select({ total: count() })
      .from(papers)
      .where(conditionsFor({ categories: ['cs.LG', 'cs.CV'] }));
    expect(await planOfStatement(statement.getSQL())).toContain('Bitmap Index Scan on papers_categories_idx');
  });

  it('the fill job finds the papers never checked through its partial index', async () => {
    const statement = database.db
      .select({ id: papers.id })
      .from(papers)
      .where(and(isNull(papers.categoriesCheckedAt), gt(papers.id, 0)))
      .orderBy(asc(papers.id))
      .limit(100);
    expect(await planOfStatement(statement.getSQL())).toContain('papers_categories_unchecked_idx');
  });
});

describe('collections are read through their indexes', () => {
  beforeAll(async () => {
    const [owner] = await database.db.insert(users).values({ username: 'collector' }).returning();
    const made = await database.db
      .insert(collections)
      .values(Array.from({ length: 20 }, (_, index) => ({ ownerId: owner!.id, name: `c${index}`, isPublic: index % 2 === 0 })))
      .returning();
    const paperRows = await database.db.select({ id: papers.id }).from(papers);
    await database.db
      .insert(collectionPapers)
      .values(made.flatMap((collection) => paperRows.map((paper, position) => ({ collectionId: collection.id, paperId: paper.id, position }))));
    await database.db.execute(sql`analyze`);
  });

  /** The plan with sequential scans priced out, so only a missing index shows. */
  async function plan(statement: Parameters<typeof sql>[1]): Promise<string> {
    return database.db.transaction(async (db) => {
      await db.execute(sql`set local enable_seqscan = off`);
      const rows = await queryRows<{ 'QUERY PLAN': string }>(db, sql`explain ${statement}`);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
  }

  it("User.collections and Collection.papers: each parent's page by an ordered index scan, no sort inside, on every page", async () => {
    const [collection] = await database.db.select().from(collections).limit(1);
    const [listed] = await selectPaperPagesOfCollections(database.db, [collection!.id], { direction: 'forward', size: 1, cursor: null });
    for (const cursor of [null, encodeCursor(collectionOrder, collection!)]) {
      const text = await plan(selectCollectionPagesOfOwners(database.db, [collection!.ownerId], null, { direction: 'forward', size: 20, cursor }));
      expect(text).toContain('Index Scan using collections_owner_idx');
      expect(text).not.toContain('Seq Scan');
      expect(text).not.toMatch(/->\s+(Incremental )?Sort/);
    }
    for (const cursor of [null, encodeCursor(collectionPaperOrder, { ...(listed as any), id: listed!.id })]) {
      const text = await plan(
        selectPaperPagesOfCollections(database.db, [collection!.id, collection!.id + 1], { direction: 'forward', size: 20, cursor }),
      );
      expect(text).toContain('Index Scan using collection_papers_order_idx');
      expect(text).not.toContain('Seq Scan');
      // The only sort is the outer one, of the few rows the pages return: none under it.
      expect(text).not.toMatch(/->\s+(Incremental )?Sort/);
    }
  });
});
