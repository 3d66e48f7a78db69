import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paperRecord, savePaperRecords } from './support/fixtures';
import { createTestApp } from './support/test-app';
import type { graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let request: ReturnType<typeof graphqlClient>;
let app: ReturnType<typeof createTestApp>['app'];

const FRONT_PAGE = `query($first: Int) {
  trendingPapers(first: $first) {
    totalCount
    edges { node {
      id arxivId title upvotes trendingScore authorCount
      authors { name position author { id name } }
      organization { name fullName avatarUrl }
      submittedBy { username displayName avatarUrl }
    } }
    pageInfo { hasNextPage endCursor }
  }
}`;

beforeAll(async () => {
  database = await createTestDatabase();
  await savePaperRecords(
    database.db,
    Array.from({ length: 60 }, (_, index) =>
      paperRecord({
        authors: [{ name: `Author ${index}` }, { name: `Author ${index + 1}` }, { name: 'Shared Author' }],
        organization: { name: `org-${index % 7}` },
        submittedBy: { username: `submitter${index % 9}` },
        upvoteBaseline: index,
      }),
    ),
  );
  ({ request, app } = createTestApp(database.db));
});

afterAll(async () => {
  await database.close();
});

async function statementsFor(first: number) {
  database.queries.length = 0;
  const response = await request(FRONT_PAGE, { first });
  expect(response.errors).toBeUndefined();
  expect(response.data!.trendingPapers.edges).toHaveLength(first);
  for (const { node } of response.data!.trendingPapers.edges) {
    expect(node.authors).toHaveLength(3);
    expect(node.organization.name).toMatch(/^org-/);
    expect(node.submittedBy.username).toMatch(/^submitter/);
  }
  return [...database.queries];
}

describe('a page of papers with authors, organization and submitter', () => {
  it('costs the same fixed number of SQL statements for 5 or 50 papers', async () => {
    const small = await statementsFor(5);
    const large = await statementsFor(50);
    // The page, its count, the authors of all papers, the organizations, the submitters.
    expect(large).toHaveLength(5);
    expect(small).toHaveLength(large.length);
    expect(large.filter((query) => /from "paper_authors"/.test(query))).toHaveLength(1);
    expect(large.filter((query) => /from "organizations"/.test(query))).toHaveLength(1);
    expect(large.filter((query) => /from "users"/.test(query))).toHaveLength(1);
  });

  it('reads the page with a keyset condition, never OFFSET', async () => {
    const first = await request(FRONT_PAGE, { first: 10 });
    database.queries.length = 0;
    const response = await request(`query($after: String) { trendingPapers(first: 10, after: $after) { edges { node { arxivId } } } }`, {
      after: first.data!.trendingPapers.pageInfo.endCursor,
    });
    expect(response.data!.trendingPapers.edges).toHaveLength(10);
    expect(database.queries).toHaveLength(1);
    expect(database.queries[0]).not.toMatch(/offset/i);
    expect(database.queries[0]).toMatch(/\("papers"\."trending_key", "papers"\."id"\) < \(/);
  });
});

describe('the Hugging Face REST paths', () => {
  /** The statements one GET sends, after checking that the page holds `size` papers with their relations. */
  async function statementsForGet(path: string, size: number) {
    database.queries.length = 0;
    const response = await app.fetch(new Request(`http://test${path}`));
    expect(response.status).toBe(200);
    const body = (await response.json()) as unknown;
    const items = (Array.isArray(body) ? body : [body]) as Record<string, any>[];
    expect(items).toHaveLength(size);
    for (const item of items) {
      const paper = item.paper ?? item;
      expect(paper.authors).toHaveLength(3);
      expect(paper.organization.name).toMatch(/^org-/);
      expect(paper.submittedOnDailyBy.user).toMatch(/^submitter/);
    }
    return [...database.queries];
  }

  it.each([
    '/api/daily_papers?date=2025-11-12&sort=upvotes',
    '/api/daily_papers?sort=trending',
    '/api/papers?sort=publishedAt',
    '/api/papers/search?q=paper',
  ])('%s costs the same four statements for 5 or 50 papers', async (path) => {
    const small = await statementsForGet(`${path}&limit=5`, 5);
    const large = await statementsForGet(`${path}&limit=50`, 50);
    // The page, the authors of all papers, the organizations, the submitters.
    expect(large).toHaveLength(4);
    expect(small).toHaveLength(large.length);
    expect(large.filter((query) => /from "paper_authors"/.test(query))).toHaveLength(1);
    expect(large.filter((query) => /from "organizations"/.test(query))).toHaveLength(1);
    expect(large.filter((query) => /from "users"/.test(query))).toHaveLength(1);
  });

  it('costs the same for a numbered page deep in the list as for the first', async () => {
    const first = await statementsForGet('/api/daily_papers?limit=10&p=0', 10);
    const deeper = await statementsForGet('/api/daily_papers?limit=10&p=4', 10);
    expect(deeper).toHaveLength(first.length);
  });

  it('reads one paper in four statements', async () => {
    const [paper] = (await (await app.fetch(new Request('http://test/api/papers?limit=1'))).json()) as { id: string }[];
    expect(await statementsForGet(`/api/papers/${paper!.id}`, 1)).toHaveLength(4);
  });
});
