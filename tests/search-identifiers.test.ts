import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { papers } from '../src/db/schema';
import { arxivIdInQuery } from '../src/modules/papers/arxiv-id';
import { paperRecord, savePaperRecords } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

const SEARCH = `query($q: String!, $first: Int, $after: String) {
  searchPapers(query: $q, first: $first, after: $after) {
    totalCount
    searchHint { arxivId found message }
    edges { snippet node { arxivId title } }
    pageInfo { hasNextPage endCursor }
  }
}`;

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
  await savePaperRecords(database.db, [
    paperRecord({ arxivId: '2306.10000', title: 'Sparse Mixtures at Scale', abstract: 'Cites 2306.10001 once.' }),
    // Another paper whose text holds the id: the id query still answers only the paper it names.
    paperRecord({ arxivId: '2306.10001', title: 'A Follow-up', abstract: 'We extend 2306.10000 (arXiv:2306.10000) further.' }),
    paperRecord({ arxivId: '1412.6980', title: 'Adam: A Method for Stochastic Optimization', abstract: 'First-order gradient-based optimization.' }),
  ]);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

async function search(q: string, first = 10, after: string | null = null) {
  const response = await testApp.request(SEARCH, { q, first, after });
  expect(response.errors).toBeUndefined();
  return response.data!.searchPapers;
}
const arxivIds = (connection: any): string[] => connection.edges.map((edge: any) => edge.node.arxivId);

describe('arxivIdInQuery', () => {
  it.each([
    ['2306.10000', '2306.10000'],
    ['  2306.10000v2 ', '2306.10000'],
    ['arXiv:2306.10000', '2306.10000'],
    ['ARXIV: 2306.10000v11', '2306.10000'],
    ['https://arxiv.org/abs/2306.10000v2', '2306.10000'],
    ['http://www.arxiv.org/pdf/2306.10000v2.pdf', '2306.10000'],
    ['arxiv.org/pdf/2306.10000', '2306.10000'],
    ['https://export.arxiv.org/abs/2306.10000?context=cs', '2306.10000'],
    ['https://arxiv.org/html/2306.10000v1/', '2306.10000'],
    ['https://huggingface.co/papers/2306.10000', '2306.10000'],
    ['https://doi.org/10.48550/arXiv.2306.10000', '2306.10000'],
    ['10.48550/arXiv.2306.10000', '2306.10000'],
    ['<1412.6980>', '1412.6980'],
  ])('reads %s as new-style %s', (query, id) => {
    expect(arxivIdInQuery(query)).toEqual({ id, newStyle: true });
  });

  it.each([
    ['hep-th/9901001', 'hep-th/9901001'],
    ['arXiv:hep-th/9901001v3', 'hep-th/9901001'],
    ['https://arxiv.org/abs/math.GT/0309136', 'math/0309136'],
    ['cond-mat/0211034', 'cond-mat/0211034'],
  ])('reads %s as old-style %s', (query, id) => {
    expect(arxivIdInQuery(query)).toEqual({ id, newStyle: false });
  });

  it.each([
    ['a month that does not exist', '2313.10000'],
    ['four digits after 2015', '2306.1000'],
    ['five digits before 2015', '1412.69801'],
    ['an id among words', '2306.10000 diffusion'],
    ['words', 'attention is all you need'],
    ['another site', 'https://example.org/abs/2306.10000'],
    ['a version alone', 'v2'],
  ])('reads %s as no id', (_case, query) => {
    expect(arxivIdInQuery(query)).toBeNull();
  });
});

describe('searchPapers with an arXiv id', () => {
  it.each(['2306.10000', '2306.10000v2', 'arXiv:2306.10000', 'https://arxiv.org/abs/2306.10000v2', 'https://arxiv.org/pdf/2306.10000v1.pdf'])(
    'answers the paper %s names, first and alone, with a hint',
    async (query) => {
      const results = await search(query);
      expect(arxivIds(results)).toEqual(['2306.10000']);
      expect(results.totalCount).toBe(1);
      expect(results.searchHint).toEqual({ arxivId: '2306.10000', found: true, message: expect.stringContaining('2306.10000') });
    },
  );

  it('says so when the paper is not here, and how to add it', async () => {
    const results = await search('https://arxiv.org/abs/2401.99999v3');
    expect(results.edges).toEqual([]);
    expect(results.totalCount).toBe(0);
    expect(results.searchHint).toMatchObject({ arxivId: '2401.99999', found: false });
    expect(results.searchHint.message).toMatch(/submitPaper/);
  });

  it('says an old-style id cannot be here', async () => {
    const results = await search('hep-th/9901001');
    expect(results.edges).toEqual([]);
    expect(results.searchHint).toMatchObject({ arxivId: 'hep-th/9901001', found: false });
    expect(results.searchHint.message).toMatch(/old-style/);
  });

  it('pages past the one result', async () => {
    const first = await search('1412.6980', 1);
    expect(arxivIds(first)).toEqual(['1412.6980']);
    expect(first.pageInfo.hasNextPage).toBe(false);
    const rest = await search('1412.6980', 1, first.pageInfo.endCursor);
    expect(rest.edges).toEqual([]);
  });

  it('gives no hint for other queries, nor on other lists', async () => {
    const results = await search('stochastic optimization');
    expect(arxivIds(results)).toEqual(['1412.6980']);
    expect(results.searchHint).toBeNull();
    const browse = await testApp.request('{ papers(first: 1) { searchHint { found } } }');
    expect(browse.errors).toBeUndefined();
    expect(browse.data!.papers.searchHint).toBeNull();
  });

  it.each([
    ['an id with SQL after it', "2306.10000'; drop table papers; --"],
    ['a URL with quotes', 'https://arxiv.org/abs/2306.10000"\'`'],
    ['an unterminated old-style id', 'hep-th/'],
  ])('takes %s safely', async (_case, query) => {
    const response = await testApp.request(SEARCH, { q: query, first: 5 });
    expect(response.errors).toBeUndefined();
    expect(Array.isArray(response.data!.searchPapers.edges)).toBe(true);
  });

  it('rejects an empty query with BAD_USER_INPUT before reading it as an id', async () => {
    const response = await testApp.request(SEARCH, { q: ' \u0000 ' });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(await database.db.$count(papers)).toBe(3);
  });
});
