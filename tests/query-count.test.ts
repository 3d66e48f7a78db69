import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq } from 'drizzle-orm';
import { authors, collectionPapers, collections, follows, notifications, papers, users } from '../src/db/schema';
import { paperRecord, savePaperRecords, testConfig, userWithToken } from './support/fixtures';
import { createTestApp } from './support/test-app';
import type { graphqlClient } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let request: ReturnType<typeof graphqlClient>;
let app: ReturnType<typeof createTestApp>['app'];

// Filtered by what no paper here has, so every page is full: a filter adds conditions, never statements.
const FRONT_PAGE = `query($first: Int) {
  trendingPapers(first: $first, filter: { excludeCategories: ["cs.RO"], excludeKeywords: ["survey"] }) {
    totalCount
    edges { node {
      id arxivId title upvotes trendingScore authorCount categories
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
  // Each submitter has a public and a private collection of four of the ten least upvoted papers (on no page below).
  const paperRows = await database.db.select({ id: papers.id }).from(papers).orderBy(papers.upvoteCount);
  const submitters = await database.db.select({ id: users.id }).from(users);
  for (const [index, submitter] of submitters.entries()) {
    const made = await database.db
      .insert(collections)
      .values([
        { ownerId: submitter.id, name: `Public ${index}`, isPublic: true },
        { ownerId: submitter.id, name: `Private ${index}`, isPublic: false },
      ])
      .returning({ id: collections.id });
    await database.db
      .insert(collectionPapers)
      .values(
        made.flatMap((collection) =>
          [0, 1, 2, 3].map((position) => ({ collectionId: collection.id, paperId: paperRows[(index + position) % 10]!.id, position })),
        ),
      );
  }
  // Sessions kept for as long as the file runs: a signed-in request's statements are its own (the session is read by the first only).
  ({ request, app } = createTestApp(database.db, { config: { ...testConfig, sessionCacheMs: 600_000 } }));
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

  it('searchPapers costs the same fixed number of statements for 5 or 50 papers', async () => {
    const search = async (first: number) => {
      database.queries.length = 0;
      const response = await request(
        `query($first: Int) { searchPapers(query: "paper", first: $first) { totalCount edges { snippet node { arxivId authors { name } organization { name } submittedBy { username } } } } }`,
        { first },
      );
      expect(response.errors).toBeUndefined();
      expect(response.data!.searchPapers.edges).toHaveLength(first);
      return [...database.queries];
    };
    const small = await search(5);
    const large = await search(50);
    // The semantic model's version (tests/semantic-search.test.ts: the same with a model), the page, the snippets,
    // the count, the authors, the organizations, the submitters.
    expect(large).toHaveLength(7);
    expect(small).toHaveLength(large.length);
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
  ])('%s costs the same four statements for 5 or 50 papers (search: five)', async (path) => {
    const small = await statementsForGet(`${path}&limit=5`, 5);
    const large = await statementsForGet(`${path}&limit=50`, 50);
    // The page, the authors of all papers, the organizations, the submitters; a search first asks for the semantic model's version.
    expect(large).toHaveLength(path.includes('/search') ? 5 : 4);
    if (path.includes('/search')) expect(large[0]).toMatch(/from search_models/);
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

const WITH_COLLECTIONS = `query($first: Int) {
  trendingPapers(first: $first) {
    edges { node {
      arxivId collectionCount
      submittedBy { username collections(first: 3) { totalCount edges { node {
        name paperCount
        papers(first: 3) { totalCount edges { note position node { arxivId collectionCount authors { name } } } }
      } } } }
    } }
  }
}`;

describe("a page of papers with their submitters' collections and the collections' papers", () => {
  it('costs the same fixed number of SQL statements for 5 or 50 papers', async () => {
    const statements = async (first: number) => {
      database.queries.length = 0;
      const response = await request(WITH_COLLECTIONS, { first });
      expect(response.errors).toBeUndefined();
      const edges = response.data!.trendingPapers.edges as any[];
      expect(edges).toHaveLength(first);
      for (const { node } of edges) {
        // Anonymous: the public collection only.
        expect(node.submittedBy.collections.totalCount).toBe(1);
        const [collection] = node.submittedBy.collections.edges;
        expect(collection.node.paperCount).toBe(4);
        expect(collection.node.papers.edges).toHaveLength(3);
        expect(collection.node.papers.edges.every((edge: any) => edge.node.collectionCount > 0)).toBe(true);
      }
      return [...database.queries];
    };
    const small = await statements(5);
    const large = await statements(50);
    // The page and its papers' collection counts; the submitters; their collections and how many; the
    // collections' papers and how many; those papers' authors and collection counts.
    expect(large).toHaveLength(9);
    expect(small).toHaveLength(large.length);
    expect(large.filter((query) => /from "collection_papers"/.test(query))).toHaveLength(4);
  });
});

describe('viewer.followingFeed', () => {
  it('costs the same fixed number of SQL statements for 5 or 50 papers, whatever is followed', async () => {
    const { token } = await userWithToken(database.db, 'follower');
    const [shared] = await database.db.select({ id: authors.id }).from(authors).where(eq(authors.name, 'Shared Author'));
    const follow = `mutation($input: FollowInput!) { follow(input: $input) { id } }`;
    for (const input of [
      { authorId: Buffer.from(`Author:${shared!.id}`).toString('base64') },
      { keyword: 'diffusion' },
      { category: 'cs.LG' },
      { search: { query: 'paper number' } },
      { search: { query: 'paper', filter: { organization: 'org-1', excludeCategories: ['cs.RO'] } } },
    ]) {
      expect((await request(follow, { input }, token)).errors).toBeUndefined();
    }
    const feed = `query($first: Int) { viewer { followingFeed(first: $first, filter: { excludeKeywords: ["survey"] }) {
      totalCount
      edges { node { arxivId authors { name author { id } } organization { name } submittedBy { username } } }
      pageInfo { hasNextPage endCursor } } } }`;
    const statementsOf = async (first: number) => {
      database.queries.length = 0;
      const response = await request(feed, { first }, token);
      expect(response.errors).toBeUndefined();
      expect(response.data!.viewer.followingFeed.edges).toHaveLength(first);
      expect(response.data!.viewer.followingFeed.totalCount).toBe(60);
      return [...database.queries];
    };
    const small = await statementsOf(5);
    const large = await statementsOf(50);
    expect(small).toHaveLength(large.length);
    // The follows, the page, its count, then authors, organizations and submitters once each (the session is kept since the follows).
    expect(large).toHaveLength(6);
    expect(large.filter((query) => /from "follows"/.test(query) && !/"papers"/.test(query))).toHaveLength(1);
    expect(large.filter((query) => /from "paper_authors" inner join "authors"/.test(query))).toHaveLength(1);
  });
});

describe('viewer.notifications and viewer.follows', () => {
  it('cost the same fixed number of SQL statements for 5 or 50 items, with their papers and follows', async () => {
    const { user, token } = await userWithToken(database.db, 'inbox_reader');
    const paperRows = await database.db.select({ id: papers.id }).from(papers).limit(60);
    const followRows = await database.db
      .insert(follows)
      .values(paperRows.map((_, i) => ({ userId: user.id, kind: 'KEYWORD' as const, subjectKey: `KEYWORD:topic-${i}`, value: `topic-${i}` })))
      .returning({ id: follows.id });
    await database.db.insert(notifications).values(
      paperRows.map((paper, i) => ({
        userId: user.id,
        kind: 'NEW_PAPER' as const,
        subjectId: paper.id,
        paperId: paper.id,
        followId: followRows[i]!.id,
      })),
    );
    const inbox = `query($first: Int) { viewer {
      unreadNotificationCount
      notifications(first: $first) { totalCount edges { node { id kind readAt
        paper { arxivId authors { name author { id } } organization { name } }
        follow { id kind keyword } } } pageInfo { hasNextPage endCursor } }
      follows(first: $first) { totalCount edges { node { id kind keyword } } pageInfo { hasNextPage } } } }`;
    // The session is read here, then kept.
    expect((await request('{ viewer { id } }', {}, token)).errors).toBeUndefined();
    const statementsOf = async (first: number) => {
      database.queries.length = 0;
      const response = await request(inbox, { first }, token);
      expect(response.errors).toBeUndefined();
      expect(response.data!.viewer.notifications.edges).toHaveLength(first);
      expect(response.data!.viewer.follows.edges).toHaveLength(first);
      expect(response.data!.viewer.unreadNotificationCount).toBe(60);
      return [...database.queries];
    };
    const small = await statementsOf(5);
    const large = await statementsOf(50);
    expect(small).toHaveLength(large.length);
    expect(large.filter((query) => /from "paper_authors" inner join "authors"/.test(query))).toHaveLength(1);
  });
});
