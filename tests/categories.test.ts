import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runJob } from '../jobs/registry';
import { loadConfig } from '../src/config';
import { jobLeases, papers } from '../src/db/schema';
import { createLogger } from '../src/logger';
import { fillArxivCategories, type CategoriesFillSettings } from '../src/modules/papers/arxiv-categories';
import { paperRecord, savePaperRecords } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

// A fake arXiv on a local port: it answers any id_list with an entry for each id it knows, as arXiv does.

/** The categories the fake arXiv lists for each paper it knows, primary first. */
const known: Record<string, { primary: string; others: string[] }> = {
  '2511.20001': { primary: 'cs.LG', others: ['cs.CV', 'stat.ML'] },
  '2511.20002': { primary: 'hep-th', others: ['gr-qc'] },
  '2511.20003': { primary: 'math.AG', others: [] },
  '2511.20004': { primary: 'cs.CV', others: ['cs.LG'] },
};

function feedOf(ids: readonly string[]): string {
  const entries = ids
    .filter((id) => known[id])
    .map((id) => {
      const { primary, others } = known[id]!;
      // arXiv lists every category (primary included) as <category>, with ACM/MSC classes mixed in.
      const listed = [...others, primary, 'I.2.6', '68T05'].map((term) => `<category term="${term}" scheme="http://arxiv.org/schemas/atom"/>`);
      return `<entry>
    <id>http://arxiv.org/abs/${id}v2</id>
    <published>2025-11-10T00:00:00Z</published>
    <title>Paper ${id}</title>
    <summary>Abstract.</summary>
    <author><name>Grace Hopper</name></author>
    ${listed.join('\n    ')}
    <arxiv:primary_category xmlns:arxiv="http://arxiv.org/schemas/atom" term="${primary}" scheme="http://arxiv.org/schemas/atom"/>
  </entry>`;
    });
  return `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>http://arxiv.org/api/generated</id>
  ${entries.join('\n  ')}
</feed>`;
}

let arxiv: Server;
let apiUrl: string;
/** The id_list of every request, split into ids, in order. */
let requests: string[][];
/** Requests (1-based) the fake answers 503, as arXiv does when overloaded. */
let failing: Set<number>;

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

beforeAll(async () => {
  arxiv = createServer((request, response) => {
    const url = new URL(request.url!, 'http://arxiv.test');
    const ids = (url.searchParams.get('id_list') ?? '').split(',');
    requests.push(ids);
    if (failing.has(requests.length)) {
      response.writeHead(503, { 'retry-after': '30' });
      response.end();
      return;
    }
    response.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8' });
    response.end(feedOf(ids));
  });
  arxiv.listen(0, '127.0.0.1');
  await once(arxiv, 'listening');
  apiUrl = `http://127.0.0.1:${(arxiv.address() as AddressInfo).port}/api/query`;
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
});

afterAll(async () => {
  await testApp?.close();
  await database?.close();
  arxiv?.closeAllConnections();
  arxiv?.close();
});

beforeEach(() => {
  requests = [];
  failing = new Set();
});

describe('fill-arxiv-categories', () => {
  const settings = (): CategoriesFillSettings => ({ apiUrl, timeoutMs: 5_000, batchSize: 2, requestIntervalMs: 3_000 });
  const ids = ['2511.20001', '2511.20002', '2511.20003', '2511.20004', '2511.29999'];

  beforeAll(async () => {
    await database.db.execute(sql`truncate papers cascade`);
    // 2511.29999 is unknown to arXiv.
    await savePaperRecords(
      database.db,
      ids.map((arxivId) => paperRecord({ arxivId })),
    );
  });

  const stored = async () =>
    Object.fromEntries(
      (await database.db.select({ arxivId: papers.arxivId, categories: papers.categories, checkedAt: papers.categoriesCheckedAt }).from(papers)).map(
        (row) => [row.arxivId, { categories: row.categories, checked: row.checkedAt !== null }],
      ),
    );

  it('stops at an arXiv outage, keeping the batches answered before it', async () => {
    failing = new Set([2]);
    const pauses: number[] = [];
    const fill = await fillArxivCategories(database.db, settings(), async (ms) => pauses.push(ms));
    expect(fill).toMatchObject({ requests: 2, filled: 2, unknownToArxiv: 0, stoppedBy: 'arXiv answered HTTP 503' });
    expect(requests).toEqual([ids.slice(0, 2), ids.slice(2, 4)]);
    expect(pauses).toEqual([3_000]);
    const after = await stored();
    expect(after['2511.20001']).toEqual({ categories: ['cs.LG', 'cs.CV', 'stat.ML'], checked: true });
    expect(after['2511.20003']).toEqual({ categories: [], checked: false });
  });

  it('goes on with the papers left, in batches, pausing after each request; then sends nothing', async () => {
    const pauses: number[] = [];
    const fill = await fillArxivCategories(database.db, settings(), async (ms) => pauses.push(ms));
    expect(fill).toEqual({ requests: 2, filled: 2, unknownToArxiv: 1 });
    // Only the unchecked papers, batchSize ids per request, one pause between requests.
    expect(requests).toEqual([ids.slice(2, 4), ids.slice(4)]);
    expect(pauses).toEqual([3_000]);
    expect(await stored()).toEqual({
      '2511.20001': { categories: ['cs.LG', 'cs.CV', 'stat.ML'], checked: true },
      '2511.20002': { categories: ['hep-th', 'gr-qc'], checked: true },
      '2511.20003': { categories: ['math.AG'], checked: true },
      // Primary first even when arXiv lists it after the others; ACM and MSC classes left out.
      '2511.20004': { categories: ['cs.CV', 'cs.LG'], checked: true },
      // Not on arXiv: checked, with none, so it is not asked about again.
      '2511.29999': { categories: [], checked: true },
    });

    requests = [];
    expect(await fillArxivCategories(database.db, settings(), async (ms) => pauses.push(ms))).toEqual({ requests: 0, filled: 0, unknownToArxiv: 0 });
    expect(requests).toEqual([]);
  });

  it('survives a re-import: the import carries no categories and keeps those arXiv gave', async () => {
    const result = await savePaperRecords(
      database.db,
      ids.map((arxivId) => paperRecord({ arxivId, title: `Renamed ${arxivId}` })),
    );
    expect(result.written).toBe(ids.length);
    expect((await stored())['2511.20002']).toEqual({ categories: ['hep-th', 'gr-qc'], checked: true });
  });

  it('runs one at a time across processes: a run that finds another under way sends nothing', async () => {
    await database.db.update(papers).set({ categoriesCheckedAt: null });
    // The first run is held at its first pause (after one request); its later pauses pass at once.
    let firstPaused!: () => void;
    let resumeFirst!: () => void;
    const paused = new Promise<void>((resolve) => {
      firstPaused = resolve;
    });
    let pauses = 0;
    const first = fillArxivCategories(database.db, settings(), () => {
      pauses += 1;
      if (pauses > 1) return Promise.resolve();
      firstPaused();
      return new Promise<void>((resume) => {
        resumeFirst = resume;
      });
    });
    await paused;
    expect(requests).toHaveLength(1);

    const second = await fillArxivCategories(database.db, settings(), async () => {});
    expect(second).toEqual({ requests: 0, filled: 0, unknownToArxiv: 0, skipped: 'another run is under way' });
    expect(requests).toHaveLength(1);

    resumeFirst();
    expect(await first).toEqual({ requests: 3, filled: 4, unknownToArxiv: 1 });
    // Given back: the next run may start.
    expect(await database.db.select().from(jobLeases)).toEqual([]);
  });

  it('takes over the lease of a run that died, and stops when its own lease was taken over', async () => {
    await database.db.update(papers).set({ categoriesCheckedAt: null });
    await database.db.insert(jobLeases).values({ name: 'fill-arxiv-categories', holder: 'a process that died', expiresAt: new Date(Date.now() - 1_000) });
    const takenOver = await fillArxivCategories(database.db, settings(), async () => {
      // Meanwhile this run stalls past its lease and another takes it over.
      await database.db.update(jobLeases).set({ holder: 'the next run' });
    });
    expect(takenOver).toMatchObject({ requests: 1, filled: 2, stoppedBy: 'the lease expired and another run took over' });
    expect(requests).toEqual([ids.slice(0, 2)]);
    // The other run's lease is left alone.
    expect(await database.db.select({ holder: jobLeases.holder }).from(jobLeases)).toEqual([{ holder: 'the next run' }]);
    await database.db.delete(jobLeases);
  });

  it('runs as the registered job with the configured arXiv, batch size and pause', async () => {
    await database.db.update(papers).set({ categoriesCheckedAt: new Date() });
    await savePaperRecords(database.db, [paperRecord({ arxivId: '2511.20001' }), paperRecord({ arxivId: '2511.30001' })]);
    await database.db.update(papers).set({ categoriesCheckedAt: null }).where(eq(papers.arxivId, '2511.20001'));
    const config = loadConfig({ LOG_LEVEL: 'silent', ARXIV_API_URL: apiUrl, ARXIV_BATCH_SIZE: '50', ARXIV_REQUEST_INTERVAL_MS: '0' });
    const fill = await runJob('fill-arxiv-categories', {}, { db: database.db, config, logger: createLogger('silent') });
    expect(fill).toEqual({ requests: 1, filled: 1, unknownToArxiv: 1 });
    expect(requests).toEqual([['2511.20001', '2511.30001']]);
  });
});

describe('PaperFilter categories, excludeCategories, excludeKeywords', () => {
  beforeAll(async () => {
    await database.db.execute(sql`truncate papers, authors, organizations cascade`);
    const shared = { organization: { name: 'OPPO' }, authors: [{ name: 'Ada Lovelace' }] };
    await savePaperRecords(database.db, [
      paperRecord({ ...shared, arxivId: '2511.40001', title: 'Sparse diffusion', keywords: ['diffusion'], categories: ['cs.LG', 'cs.CV'] }),
      paperRecord({ ...shared, arxivId: '2511.40002', title: 'Sparse strings', keywords: ['strings'], categories: ['hep-th'] }),
      paperRecord({ ...shared, arxivId: '2511.40003', title: 'Sparse robots', keywords: ['survey', 'robotics'], categories: ['cs.RO', 'cs.LG'] }),
      // Imported, not yet checked: no categories.
      paperRecord({ ...shared, arxivId: '2511.40004', title: 'Sparse unknowns', keywords: [] }),
    ]);
  });

  const cases: [string, Record<string, unknown>, string[]][] = [
    ['any of the categories', { categories: ['cs.CV', 'hep-th'] }, ['2511.40001', '2511.40002']],
    ['a cross-listed category counts', { categories: ['cs.LG'] }, ['2511.40001', '2511.40003']],
    ['excluded categories, primary or not (unchecked papers stay)', { excludeCategories: ['cs.LG'] }, ['2511.40002', '2511.40004']],
    ['excluded keywords, case-insensitive', { excludeKeywords: ['SURVEY', 'strings'] }, ['2511.40001', '2511.40004']],
    ['all together', { categories: ['cs.LG'], excludeCategories: ['cs.RO'], excludeKeywords: ['strings'] }, ['2511.40001']],
    ['an empty list is no condition', { categories: [] }, ['2511.40001', '2511.40002', '2511.40003', '2511.40004']],
  ];

  const LISTS = `query ($filter: PaperFilter) {
    papers(filter: $filter, first: 20) { totalCount edges { node { arxivId } } }
    trendingPapers(filter: $filter, first: 20) { totalCount edges { node { arxivId } } }
    dailyPapers(date: "2025-11-12", filter: $filter, first: 20) { totalCount edges { node { arxivId } } }
    searchPapers(query: "sparse", filter: $filter, first: 20) { totalCount edges { node { arxivId } } }
    organization(name: "OPPO") { papers(filter: $filter, first: 20) { totalCount edges { node { arxivId } } } }
  }`;
  type List = { totalCount: number; edges: { node: { arxivId: string } }[] };
  type Lists = { papers: List; trendingPapers: List; dailyPapers: List; searchPapers: List; organization: { papers: List } };

  it.each(cases)('%s: every list of papers agrees', async (_case, filter, expected) => {
    const response = await testApp.request<Lists>(LISTS, { filter });
    expect(response.errors).toBeUndefined();
    const data = response.data!;
    for (const list of [data.papers, data.trendingPapers, data.dailyPapers, data.searchPapers, data.organization.papers]) {
      expect(list.edges.map((edge) => edge.node.arxivId).sort()).toEqual(expected);
      expect(list.totalCount).toBe(expected.length);
    }
  });

  it("an author's papers take the filter too", async () => {
    const response = await testApp.request<{ paper: { authors: { author: { papers: List } }[] } }>(
      `{ paper(arxivId: "2511.40001") { authors { author { papers(filter: { categories: ["hep-th"] }) { edges { node { arxivId } } } } } } }`,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.paper.authors[0]!.author.papers.edges.map((edge) => edge.node.arxivId)).toEqual(['2511.40002']);
  });

  it('Paper.categories lists them, primary first', async () => {
    const response = await testApp.request<{ paper: { categories: string[] } }>(`{ paper(arxivId: "2511.40003") { categories } }`);
    expect(response.data!.paper.categories).toEqual(['cs.RO', 'cs.LG']);
  });

  it.each([
    ['a malformed category', { categories: ['cs LG'] }, 'categories', /"cs LG" is not an arXiv category \(such as cs\.LG/],
    ['an ACM class as a category', { excludeCategories: ['I.2.7'] }, 'excludeCategories', /"I\.2\.7" is not an arXiv category/],
    ['too many categories', { categories: Array.from({ length: 21 }, () => 'cs.LG') }, 'categories', /at most 20 entries/],
    ['an empty keyword', { excludeKeywords: [' '] }, 'excludeKeywords', /a keyword is 1 to 100 characters/],
  ])('refuses %s with BAD_USER_INPUT on every list', async (_case, filter, field, message) => {
    for (const query of [
      `query ($filter: PaperFilter) { papers(filter: $filter) { totalCount } }`,
      `query ($filter: PaperFilter) { searchPapers(query: "sparse", filter: $filter) { totalCount } }`,
      `query ($filter: PaperFilter) { dailyPapers(date: "2025-11-12", filter: $filter) { totalCount } }`,
    ]) {
      const response = await testApp.request(query, { filter });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message).toMatch(message);
      expect(response.errors![0]!.extensions?.field).toBe(field);
    }
  });

  it('the papers feed takes them as comma-separated parameters, and refuses a malformed one with 400', async () => {
    const feed = await testApp.app.fetch(new Request('http://test/feeds/papers.atom?categories=cs.LG,hep-th&excludeKeywords=survey'));
    expect(feed.status).toBe(200);
    const body = await feed.text();
    expect(body).toContain('Sparse diffusion');
    expect(body).toContain('Sparse strings');
    expect(body).not.toContain('Sparse robots');
    expect(body).not.toContain('Sparse unknowns');

    const bad = await testApp.app.fetch(new Request('http://test/feeds/papers.atom?excludeCategories=cs.LG,not%20one'));
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/"not one" is not an arXiv category/);
  });
});
