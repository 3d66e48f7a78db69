import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../jobs/registry';
import type { AppConfig } from '../src/config';
import { queryRows } from '../src/db/rows';
import { paperEmbeddings, papers, searchModels } from '../src/db/schema';
import { createLogger } from '../src/logger';
import { SEMANTIC_LIST_BELOW, searchPapers, semanticSearchFor } from '../src/modules/search/search.queries';
import { currentSearchModel } from '../src/modules/search/semantic-index';
import { foldText, termsOf } from '../src/modules/search/semantic-model';
import { paperRecord, savePaperRecords, testConfig } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

// Three small topics, each paper written with four of its topic's eight words: words of a topic keep each other's company.
const TOPICS = {
  vision: ['image', 'picture', 'photo', 'pixel', 'diffusion', 'denoising', 'synthesis', 'render'],
  robotics: ['robot', 'grasping', 'manipulation', 'gripper', 'locomotion', 'arm', 'embodied', 'dexterous'],
  speech: ['speech', 'audio', 'voice', 'spoken', 'transcription', 'acoustic', 'speaker', 'prosody'],
};
/** Three latent dimensions for three topics (the default, 96, is for real corpora; this one has 24 words). */
const config: AppConfig = { ...testConfig, search: { ...testConfig.search, modelDimensions: 3 } };
const dependencies = () => ({ db: database.db, config, logger: createLogger('silent') });

/** A vision paper that says neither "picture" nor "photo". */
const TARGET = { arxivId: '2511.20001', title: 'Pixel Diffusion Denoising', abstract: 'We study denoising diffusion over pixel grids.' };
/** The paraphrase: vision words, none of them in TARGET. */
const PARAPHRASE = 'picture photo';

const SEARCH = `query($q: String!, $first: Int) {
  searchPapers(query: $q, first: $first) { totalCount searchHint { found } edges { node { arxivId title } } }
}`;
const ids = (response: any): string[] => response.data.searchPapers.edges.map((edge: any) => edge.node.arxivId);

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db, { config });
  const records = Object.entries(TOPICS).flatMap(([topic, words], topicIndex) =>
    Array.from({ length: 6 }, (_, index) => {
      const chosen = Array.from({ length: 4 }, (_, offset) => words[(index + offset) % words.length]!);
      return paperRecord({
        arxivId: `2511.1${topicIndex}00${index}`,
        title: `${chosen.slice(0, 2).join(' ')} ${topic} study ${index}`,
        abstract: `We relate ${chosen.join(' and ')}.`,
      });
    }),
  );
  await savePaperRecords(database.db, [
    ...records,
    paperRecord(TARGET),
    paperRecord({
      arxivId: '2511.20002',
      title: 'Schrödinger Bridge Matching',
      abstract: 'Entropic transport between Gaussians, after Erwin Schrödinger.',
      authors: [{ name: 'Sébastien Bubeck' }],
    }),
  ]);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

describe('semantic search', () => {
  it('is lexical only while no model was fitted', async () => {
    expect(await currentSearchModel(database.db)).toBeNull();
    expect(await semanticSearchFor(database.db, PARAPHRASE)).toBeNull();
    const response = await testApp.request(SEARCH, { q: PARAPHRASE, first: 20 });
    expect(response.errors).toBeUndefined();
    expect(ids(response)).not.toContain(TARGET.arxivId);
    expect(ids(response).length).toBeGreaterThan(0);
    const bad = await testApp.request(SEARCH, { q: ' \u0000 ' });
    expect(errorCodes(bad)).toEqual(['BAD_USER_INPUT']);
  });

  it('fits a model by its job: every paper gets a vector of that version in a bucket', async () => {
    const fit = (await runJob('fit-search-model', {}, dependencies())) as { modelId: number; papers: number; dimensions: number };
    expect(fit.dimensions).toBe(3);
    const [count] = await queryRows<{ papers: number; vectors: number; models: number; dimensions: number }>(
      database.db,
      sql`select (select count(*)::int from papers) as papers,
            (select count(*)::int from paper_embeddings where model_id = ${fit.modelId}) as vectors,
            (select count(*)::int from search_models) as models,
            (select min(array_length(vector, 1)) from paper_embeddings) as dimensions`,
    );
    // Every paper with a word of the vocabulary: the Schrödinger paper shares none with another paper.
    expect(count).toEqual({ papers: 20, vectors: 19, models: 1, dimensions: 3 });
    expect((await currentSearchModel(database.db))!.id).toBe(fit.modelId);
  });

  it('finds by a paraphrase the paper the lexical search misses', async () => {
    const lexical = await searchPapers(database.db, PARAPHRASE, { direction: 'forward', size: 30, cursor: null });
    expect(lexical.rows.map((row) => row.arxivId)).not.toContain(TARGET.arxivId);
    const response = await testApp.request(SEARCH, { q: PARAPHRASE, first: 30 });
    expect(response.errors).toBeUndefined();
    const found = ids(response);
    expect(found).toContain(TARGET.arxivId);
    // Every lexical match is still there, and the count counts what is paged through.
    for (const row of lexical.rows) expect(found).toContain(row.arxivId);
    expect(response.data!.searchPapers.totalCount).toBe(found.length);
    // The semantic list reads the topic: no robotics or speech paper.
    expect(found.some((id) => id.startsWith('2511.11') || id.startsWith('2511.12'))).toBe(false);
  });

  it('keeps the lexical matches in their lexical order, ties included, and adds the semantic ones after them', async () => {
    for (const q of ['picture', 'diffusion', 'vision study', 'robot']) {
      const lexical = (await searchPapers(database.db, q, { direction: 'forward', size: 30, cursor: null })).rows.map((row) => row.arxivId);
      const fused = ids(await testApp.request(SEARCH, { q, first: 30 }));
      expect(lexical.length).toBeGreaterThan(1);
      expect(fused.slice(0, lexical.length)).toEqual(lexical);
    }
  });

  it('still puts the paper an identifier names first, alone, and an exact title first', async () => {
    const byId = await testApp.request(SEARCH, { q: `arXiv:${TARGET.arxivId}v2` });
    expect(ids(byId)).toEqual([TARGET.arxivId]);
    expect(byId.data!.searchPapers.searchHint).toEqual({ found: true });
    const byTitle = await testApp.request(SEARCH, { q: TARGET.title });
    expect(ids(byTitle)[0]).toBe(TARGET.arxivId);
  });

  it('costs the same statements for a short or a long page', async () => {
    const statements = async (first: number) => {
      database.queries.length = 0;
      const response = await testApp.request(SEARCH, { q: PARAPHRASE, first });
      expect(ids(response)).toHaveLength(first);
      return database.queries.length;
    };
    await statements(1); // the model is cached by then
    // The model's version, the page, the count: no snippets unless asked for.
    expect(await statements(2)).toBe(3);
    expect(await statements(5)).toBe(3);
    expect(database.queries.some((query) => query.includes('ts_headline'))).toBe(false);
    // Asked for: one statement for the page's snippets.
    database.queries.length = 0;
    const withSnippets = await testApp.request(`query($q: String!) { searchPapers(query: $q, first: 5) { edges { snippet node { arxivId } } } }`, {
      q: PARAPHRASE,
    });
    expect(withSnippets.data!.searchPapers.edges.filter((edge: any) => edge.snippet !== null)).toHaveLength(5);
    expect(database.queries.filter((query) => query.includes('ts_headline'))).toHaveLength(1);
  });

  it('folds a newly saved paper in through the job that handles it', async () => {
    const {
      paperIds: [paperId],
    } = await savePaperRecords(database.db, [
      paperRecord({ arxivId: '2511.20003', title: 'Denoising Synthesis Render', abstract: 'We relate render and synthesis.' }),
    ]);
    expect(await database.db.select().from(paperEmbeddings).where(eq(paperEmbeddings.paperId, paperId!))).toEqual([]);
    const result = (await runJob('refresh-similar-papers', { paperId: paperId! }, dependencies())) as { embedded: number };
    expect(result.embedded).toBe(1);
    const [row] = await database.db.select().from(paperEmbeddings).where(eq(paperEmbeddings.paperId, paperId!));
    const model = await currentSearchModel(database.db);
    expect(row!.modelId).toBe(model!.id);
    expect(row!.vector).toHaveLength(3);
    expect(ids(await testApp.request(SEARCH, { q: PARAPHRASE, first: 30 }))).toContain('2511.20003');
  });

  it('refits to a new version; every vector moves to it and the API reads the new model', async () => {
    const before = (await currentSearchModel(database.db))!.id;
    const fit = (await runJob('fit-search-model', {}, dependencies())) as { modelId: number };
    expect(fit.modelId).toBeGreaterThan(before);
    const models = await database.db.select({ id: searchModels.id }).from(searchModels);
    expect(models).toEqual([{ id: fit.modelId }]);
    const [stale] = await queryRows<{ count: number }>(
      database.db,
      sql`select count(*)::int as count from paper_embeddings where model_id <> ${fit.modelId}`,
    );
    expect(stale!.count).toBe(0);
    const response = await testApp.request(SEARCH, { q: PARAPHRASE, first: 30 });
    expect(ids(response)).toContain(TARGET.arxivId);
    expect((await semanticSearchFor(database.db, PARAPHRASE))!.query.modelId).toBe(fit.modelId);
  });

  it('leaves withdrawn papers and -excluded words out of the semantic list', async () => {
    const excluded = await testApp.request(SEARCH, { q: `${PARAPHRASE} -grids`, first: 30 });
    expect(ids(excluded)).not.toContain(TARGET.arxivId);
    await database.db.update(papers).set({ withdrawnAt: new Date() }).where(eq(papers.arxivId, TARGET.arxivId));
    try {
      expect(ids(await testApp.request(SEARCH, { q: PARAPHRASE, first: 30 }))).not.toContain(TARGET.arxivId);
    } finally {
      await database.db.update(papers).set({ withdrawnAt: null }).where(eq(papers.arxivId, TARGET.arxivId));
    }
  });

  it('reads no semantic list for a query matching SEMANTIC_LIST_BELOW papers or more: the lexical order, paged to the end', async () => {
    const crowd = Array.from({ length: SEMANTIC_LIST_BELOW + 5 }, (_, index) =>
      paperRecord({ arxivId: `2511.3${String(index).padStart(4, '0')}`, title: `Crowded picture ${index}`, abstract: 'A crowded picture.' }),
    );
    await savePaperRecords(database.db, crowd);
    const q = 'crowded picture';
    expect(await semanticSearchFor(database.db, q)).not.toBeNull();
    const lexical = (await searchPapers(database.db, q, { direction: 'forward', size: 200, cursor: null })).rows.map((row) => row.arxivId);
    expect(lexical).toHaveLength(crowd.length);
    const paged: string[] = [];
    let after: string | null = null;
    for (let page = 0; page < 10; page++) {
      const response: { data?: any; errors?: unknown } = await testApp.request(
        `query($q: String!, $after: String) { searchPapers(query: $q, first: 40, after: $after) {
          totalCount pageInfo { hasNextPage endCursor } edges { node { arxivId } } } }`,
        { q, after },
      );
      expect(response.errors).toBeUndefined();
      const result: any = response.data!.searchPapers;
      expect(result.totalCount).toBe(crowd.length);
      paged.push(...result.edges.map((edge: any) => edge.node.arxivId));
      if (!result.pageInfo.hasNextPage) break;
      after = result.pageInfo.endCursor;
    }
    // Every page in the lexical order: nothing the semantic list holds (TARGET is a picture paper) joins.
    expect(paged).toEqual(lexical);
  });

  it('takes any string safely', async () => {
    for (const q of ["'; drop table papers; --", '{1,2}', '\\', '"unclosed', '-', 'ö ä ü', '🙂 picture']) {
      const response = await testApp.request(SEARCH, { q });
      expect(response.errors).toBeUndefined();
    }
  });
});

describe('accent folding', () => {
  it('folds accents in the semantic terms as NFKD without combining marks', () => {
    expect(foldText('Schrödinger Sébastien ﬁne')).toBe('schrodinger sebastien fine');
    expect(termsOf('Schrödinger bridges')).toEqual(['schrodinger', 'bridge']);
  });

  it.each([
    ['Schrodinger', 'text without the accent'],
    ['Schrödinger bridge', 'text with it'],
    ['Sebastien Bubeck', 'a name without it'],
    ['Sébastien', 'a name with it'],
  ])('finds "Schrödinger" and "Sébastien" by %s (%s)', async (q) => {
    const response = await testApp.request(SEARCH, { q });
    expect(response.errors).toBeUndefined();
    expect(ids(response)[0]).toBe('2511.20002');
  });
});
