import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryRows } from '../src/db/rows';
import { searchPageQuery, TITLE_TYPO_TOLERANCE_BELOW } from '../src/modules/search/search.queries';
import { paperRecord, savePaperRecords } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * Search over more matches than one page and than the typo-tolerance limit:
 * where each kind of candidate comes from, and that pages stay consistent.
 */

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

/** More papers with the word "diffusion" than TITLE_TYPO_TOLERANCE_BELOW, upvotes repeating so that scores tie. */
const COMMON_WORD_PAPERS = TITLE_TYPO_TOLERANCE_BELOW + 20;

const SEARCH = `query($q: String!, $first: Int, $after: String) {
  searchPapers(query: $q, first: $first, after: $after) { totalCount edges { node { arxivId title } } pageInfo { hasNextPage endCursor } }
}`;

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
  await savePaperRecords(database.db, [
    ...Array.from({ length: COMMON_WORD_PAPERS }, (_, index) =>
      paperRecord({ title: `Diffusion topic ${index}`, abstract: 'A diffusion paper.', upvoteBaseline: index % 5 }),
    ),
    // Misspelt in the paper itself: a different word to full-text search.
    paperRecord({ arxivId: '2601.00001', title: 'Difusion Without Spellcheck', abstract: 'Nothing else to match.' }),
    paperRecord({
      arxivId: '2601.00002',
      title: 'Dynamic Routing Between Capsules',
      abstract: 'A capsule is a group of neurons whose activity vector represents an entity.',
      authors: [{ name: 'Sara Sabour' }, { name: 'Nicholas Frosst' }, { name: 'Geoffrey Hinton' }],
    }),
    paperRecord({
      arxivId: '2601.00003',
      title: 'Distilling the Knowledge in a Neural Network',
      abstract: 'Ensembles of models can be compressed into a single model: diffusion of knowledge.',
      authors: [{ name: 'Geoffrey Hinton' }, { name: 'Oriol Vinyals' }],
      upvoteBaseline: 40,
    }),
    // Nothing but stop words: no full-text match at all, yet its exact title finds it.
    paperRecord({ arxivId: '2601.00004', title: 'What Is It For', abstract: 'Only stop words in the title.' }),
  ]);
  await database.db.execute(sql`analyze`);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

async function search(q: string, first = 20, after: string | null = null) {
  const response = await testApp.request(SEARCH, { q, first, after });
  expect(response.errors).toBeUndefined();
  return response.data!.searchPapers;
}
const titles = (connection: any): string[] => connection.edges.map((edge: any) => edge.node.title);

/** Every result of `q`, `pageSize` at a time, following endCursor. */
async function allPages(q: string, pageSize: number): Promise<string[]> {
  const seen: string[] = [];
  let after: string | null = null;
  for (;;) {
    const connection = await search(q, pageSize, after);
    seen.push(...connection.edges.map((edge: any) => edge.node.arxivId));
    if (!connection.pageInfo.hasNextPage) return seen;
    after = connection.pageInfo.endCursor;
  }
}

describe('searchPapers candidates', () => {
  it('finds a misspelt title when the words match too few papers', async () => {
    expect(titles(await search('Dynamc Routng Betwen Capsules'))[0]).toBe('Dynamic Routing Between Capsules');
    // "difusion" matches one paper by its words: too few, so titles near it come too, the common-word papers among them.
    const fuzzy = await search('difusion', 100);
    expect(titles(fuzzy)[0]).toBe('Difusion Without Spellcheck');
    expect(fuzzy.totalCount).toBeGreaterThan(COMMON_WORD_PAPERS);
  });

  it('leaves typo tolerance for titles out when the words match enough papers', async () => {
    const common = await search('diffusion', 100);
    // Every paper with the word (the topics and the distillation paper), not the misspelt title.
    expect(common.totalCount).toBe(COMMON_WORD_PAPERS + 1);
    expect(titles(common)).not.toContain('Difusion Without Spellcheck');
  });

  it("finds an author's papers by a misspelt name", async () => {
    expect(titles(await search('Geofrey Hintn')).sort()).toEqual(['Distilling the Knowledge in a Neural Network', 'Dynamic Routing Between Capsules']);
    expect(titles(await search('Sara Sabor'))).toEqual(['Dynamic Routing Between Capsules']);
  });

  it('ranks an exact title first even when it has no searchable word', async () => {
    expect(titles(await search('what is it for'))[0]).toBe('What Is It For');
    expect(titles(await search('DIFFUSION TOPIC 7'))[0]).toBe('Diffusion topic 7');
  });

  it.each([
    ['words only, with tied scores', 'diffusion'],
    ['words, misspelt titles and exact title', 'difusion'],
    ['exact title among word matches', 'Diffusion topic 7'],
    ['author names and words', 'Geoffrey Hinton diffusion'],
  ])('pages through %s consistently: no repeats, no gaps, totalCount of them', async (_case, q) => {
    const whole = await search(q, 100);
    for (const pageSize of [1, 7, 30]) {
      const paged = await allPages(q, pageSize);
      expect(paged).toHaveLength(new Set(paged).size);
      expect(paged).toHaveLength(whole.totalCount);
      expect(paged.slice(0, 100)).toEqual(whole.edges.map((edge: any) => edge.node.arxivId));
    }
  });
});

describe('the search statement', () => {
  /** Its plan with sequential scans priced out: a scan left in it is a condition no index can serve. */
  async function planOf(q: string): Promise<string> {
    return database.db.transaction(async (db) => {
      await db.execute(sql`set local enable_seqscan = off`);
      const statement = searchPageQuery(db, q, { direction: 'forward', size: 20, cursor: null });
      const rows = await queryRows<{ 'QUERY PLAN': string }>(db, sql`explain ${statement}`);
      return rows.map((row) => row['QUERY PLAN']).join('\n');
    });
  }

  it('reads every candidate through an index, never scoring the whole table', async () => {
    const plan = await planOf('difusion hinton');
    for (const index of [
      'papers_search_idx',
      'papers_title_lower_idx',
      'papers_title_trigram_idx',
      'authors_name_trigram_idx',
      'paper_authors_author_idx',
    ]) {
      expect(plan).toContain(index);
    }
    expect(plan).not.toContain('Seq Scan');
    // No per-row subquery (the author similarity of every candidate used to be one).
    expect(plan).not.toMatch(/SubPlan/);
  });
});
