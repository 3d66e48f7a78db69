import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { papers } from '../src/db/schema';
import { paperRecord, savePaperRecords } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

const SEARCH = `query($q: String!, $first: Int, $after: String) {
  searchPapers(query: $q, first: $first, after: $after) {
    totalCount
    edges { cursor snippet node { arxivId title } }
    pageInfo { hasNextPage endCursor }
  }
}`;

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
  await savePaperRecords(database.db, [
    paperRecord({
      arxivId: '1706.03762',
      title: 'Attention Is All You Need',
      abstract:
        'The dominant sequence transduction models are based on recurrent networks. We propose the Transformer, based solely on attention mechanisms.',
      authors: [{ name: 'Ashish Vaswani' }, { name: 'Noam Shazeer' }],
      keywords: ['transformer', 'attention'],
    }),
    paperRecord({
      arxivId: '2006.11239',
      title: 'Denoising Diffusion Probabilistic Models',
      abstract: 'We present high quality image synthesis results using diffusion probabilistic models, a class of latent variable models.',
      authors: [{ name: 'Jonathan Ho' }, { name: 'Ajay Jain' }, { name: 'Pieter Abbeel' }],
      keywords: ['diffusion', 'image generation'],
      upvoteBaseline: 3,
    }),
    paperRecord({
      arxivId: '2105.05233',
      title: 'Diffusion Models Beat GANs on Image Synthesis',
      abstract:
        'We show that diffusion models can achieve image sample quality superior to the current state-of-the-art generative models <b>&</b> GANs.',
      authors: [{ name: 'Prafulla Dhariwal' }, { name: 'Alex Nichol' }],
      keywords: ['diffusion'],
      upvoteBaseline: 400,
    }),
    paperRecord({
      arxivId: '2005.14165',
      title: 'Language Models are Few-Shot Learners',
      abstract: 'Scaling up language models greatly improves task-agnostic, few-shot performance.',
      authors: [{ name: 'Tom Brown' }],
      upvoteBaseline: 50,
    }),
    paperRecord({ title: 'Diffusion Models', abstract: 'A survey.' }),
    ...Array.from({ length: 12 }, (_, index) =>
      paperRecord({ title: `Diffusion study number ${index}`, abstract: 'Yet another diffusion paper about denoising.', upvoteBaseline: index }),
    ),
  ]);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

async function search(q: string, first = 10) {
  const response = await testApp.request(SEARCH, { q, first });
  expect(response.errors).toBeUndefined();
  return response.data!.searchPapers;
}
const titles = (connection: any) => connection.edges.map((edge: any) => edge.node.title);

describe('searchPapers ranking', () => {
  it('ranks an exact title match first, above more popular papers', async () => {
    const results = await search('diffusion models');
    expect(titles(results)[0]).toBe('Diffusion Models');
    expect(titles(results)).toContain('Diffusion Models Beat GANs on Image Synthesis');
  });

  it('finds a title through typos', async () => {
    expect(titles(await search('atention is al you ned'))[0]).toBe('Attention Is All You Need');
    expect(titles(await search('Difusion Modles Beat GANs'))[0]).toBe('Diffusion Models Beat GANs on Image Synthesis');
  });

  it("finds an author's papers by name, also misspelled", async () => {
    expect(titles(await search('Jonathan Ho'))).toEqual(['Denoising Diffusion Probabilistic Models']);
    expect(titles(await search('Ashish Vaswanni'))).toEqual(['Attention Is All You Need']);
  });

  it('matches stemmed words in abstracts and keywords, and blends in popularity', async () => {
    const results = titles(await search('image synthesis'));
    expect(results.slice(0, 2).sort()).toEqual(['Denoising Diffusion Probabilistic Models', 'Diffusion Models Beat GANs on Image Synthesis']);
    // Same words, far more upvotes: the popular paper wins among equals.
    expect(results[0]).toBe('Diffusion Models Beat GANs on Image Synthesis');
  });

  it('highlights the matched words in an HTML-escaped snippet', async () => {
    const results = await search('GANs quality');
    const edge = results.edges.find((candidate: any) => candidate.node.arxivId === '2105.05233');
    expect(edge.snippet).toContain('<mark>quality</mark>');
    // The abstract's own markup is not passed through: "<b>&</b>" arrives as an escaped "&".
    expect(edge.snippet).toContain('&#38;');
    expect(edge.snippet).not.toMatch(/<b>|<\/b>/);
    const browse = await testApp.request('{ papers(first: 1) { edges { snippet } } }');
    expect(browse.data!.papers.edges[0].snippet).toBeNull();
  });

  it('pages through results with cursors, without repeats', async () => {
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const response: any = await testApp.request(SEARCH, { q: 'diffusion', first: 4, after });
      const connection = response.data.searchPapers;
      seen.push(...connection.edges.map((edge: any) => edge.node.arxivId));
      if (!connection.pageInfo.hasNextPage) break;
      after = connection.pageInfo.endCursor;
    }
    expect(seen).toHaveLength(new Set(seen).size);
    expect(seen).toHaveLength((await search('diffusion')).totalCount);
    expect(seen.length).toBeGreaterThan(12);
  });
});

describe('searchPapers input', () => {
  it.each([
    ['quotes', '"diffusion'],
    ['operators', 'diffusion & | ! <-> :* or -'],
    ['backslashes', 'diff\\usion \\\\'],
    ['unicode', '扩散模型 diffusion ünïcödé 🚀'],
    ['an SQL fragment', "'; drop table papers; --"],
    ['a boolean trick', "x' OR '1'='1"],
    ['tsquery syntax', "diffusion:* & !(gan | 'x')"],
    ['only stop words', 'the of and'],
    ['250 characters', 'a'.repeat(250)],
  ])('takes %s safely', async (_case, query) => {
    const response = await testApp.request(SEARCH, { q: query, first: 5 });
    expect(response.errors).toBeUndefined();
    expect(Array.isArray(response.data!.searchPapers.edges)).toBe(true);
  });

  it.each([
    ['an empty query', ''],
    ['only spaces (250 of them)', ' '.repeat(250)],
    ['only control characters', '\u0001\u0002\u0007\t\n'],
    ['251 characters', 'a'.repeat(251)],
  ])('rejects %s with BAD_USER_INPUT', async (_case, query) => {
    const response = await testApp.request(SEARCH, { q: query });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.message).toMatch(/search query/);
  });

  it('leaves the data alone whatever was searched', async () => {
    expect(await database.db.$count(papers)).toBe(17);
  });
});
