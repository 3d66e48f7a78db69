import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { authors, organizations, papers } from '../src/db/schema';
import { TEST_PASSWORD_HASH_COST, paperRecord, savePaperRecords, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const FOLLOWS_PER_USER = 12;
const config = loadConfig({
  LOG_LEVEL: 'silent',
  PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
  MUTATION_RATE_LIMIT_PER_MINUTE: '1000000',
  FOLLOWS_PER_USER: String(FOLLOWS_PER_USER),
  // On, as in production: signed-in answers must never come out of it.
  RESPONSE_CACHE_TTL_SECONDS: '60',
});

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
let ada: string;
let bob: string;
let authorId: string;
let organizationId: string;
/** arXiv id by name. */
const paper: Record<string, string> = {};

const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');
const day = (n: number) => new Date(Date.UTC(2025, 10, n));

const FOLLOW = `mutation($input: FollowInput!) { follow(input: $input) { id kind category keyword searchQuery author { name } organization { name } } }`;
const UNFOLLOW = `mutation($id: ID, $input: FollowInput) { unfollow(id: $id, input: $input) }`;
const FOLLOWS = `query($first: Int, $after: String) { viewer { follows(first: $first, after: $after) { totalCount edges { node { id kind } } pageInfo { hasNextPage endCursor } } } }`;
const FEED = `query($first: Int, $after: String, $last: Int, $before: String, $filter: PaperFilter) {
  viewer { followingFeed(first: $first, after: $after, last: $last, before: $before, filter: $filter) {
    totalCount edges { node { arxivId } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } } }`;

async function ok(query: string, variables: Record<string, unknown>, token?: string) {
  const response = await testApp.request(query, variables, token);
  expect(response.errors).toBeUndefined();
  return response.data!;
}

async function fails(query: string, variables: Record<string, unknown>, token: string | undefined, code: string, field?: string) {
  const response = await testApp.request(query, variables, token);
  expect(errorCodes(response)).toEqual([code]);
  if (field !== undefined) expect(response.errors![0]!.extensions?.field).toBe(field);
  expect(response.errors![0]!.message.length).toBeGreaterThan(0);
  return response;
}

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db, { config });
  const records = {
    byAuthor: paperRecord({ title: 'Lattice gauge tricks', authors: [{ name: 'Followed Author' }], publishedAt: day(1) }),
    ofOrganization: paperRecord({ title: 'Organization paper', organization: { name: 'deepmind', fullName: 'DeepMind' }, publishedAt: day(2) }),
    inCategory: paperRecord({ title: 'Category paper', categories: ['math.AG', 'cs.LG'], publishedAt: day(3) }),
    withKeyword: paperRecord({ title: 'Keyword paper', keywords: ['diffusion'], publishedAt: day(3) }),
    bySearch: paperRecord({ title: 'Entangled sparrows migrate', keywords: ['physics'], publishedAt: day(5) }),
    bySearchOtherKeyword: paperRecord({ title: 'Entangled sparrows again', keywords: ['biology'], publishedAt: day(6) }),
    withdrawn: paperRecord({ title: 'Withdrawn one', authors: [{ name: 'Followed Author' }], publishedAt: day(7), withdrawnAt: day(8) }),
    unrelated: paperRecord({ title: 'Nothing followed here', keywords: ['robotics'], publishedAt: day(9) }),
  };
  await savePaperRecords(database.db, Object.values(records));
  for (const [name, record] of Object.entries(records)) paper[name] = record.arxivId;
  const [author] = await database.db.select().from(authors).where(eq(authors.name, 'Followed Author'));
  const [organization] = await database.db.select().from(organizations).where(eq(organizations.name, 'deepmind'));
  authorId = globalId('Author', author!.id);
  organizationId = globalId('Organization', organization!.id);
  ada = (await userWithToken(database.db, 'ada')).token;
  bob = (await userWithToken(database.db, 'bob')).token;
});

afterAll(async () => {
  await testApp?.close();
  await database?.close();
});

describe('follow and unfollow', () => {
  it('are idempotent: following twice is one follow, unfollowing twice says false the second time', async () => {
    const first = (await ok(FOLLOW, { input: { authorId } }, bob)).follow;
    const second = (await ok(FOLLOW, { input: { authorId } }, bob)).follow;
    expect(second.id).toBe(first.id);
    expect(first).toMatchObject({ kind: 'AUTHOR', author: { name: 'Followed Author' } });
    expect((await ok(FOLLOWS, {}, bob)).viewer.follows.totalCount).toBe(1);
    // A keyword differing only in case and spaces is the same follow.
    const keyword = (await ok(FOLLOW, { input: { keyword: 'Diffusion' } }, bob)).follow;
    expect((await ok(FOLLOW, { input: { keyword: '  diffusion ' } }, bob)).follow.id).toBe(keyword.id);
    expect(keyword.keyword).toBe('diffusion');
    expect((await ok(FOLLOWS, {}, bob)).viewer.follows.totalCount).toBe(2);

    expect((await ok(UNFOLLOW, { input: { authorId } }, bob)).unfollow).toBe(true);
    expect((await ok(UNFOLLOW, { input: { authorId } }, bob)).unfollow).toBe(false);
    expect((await ok(UNFOLLOW, { id: keyword.id }, bob)).unfollow).toBe(true);
    expect((await ok(UNFOLLOW, { id: keyword.id }, bob)).unfollow).toBe(false);
    expect((await ok(FOLLOWS, {}, bob)).viewer.follows.totalCount).toBe(0);
  });

  it('refuses malformed input with BAD_USER_INPUT naming the field, and unknown authors and organizations with NOT_FOUND', async () => {
    await fails(FOLLOW, { input: { authorId: 'nonsense' } }, ada, 'BAD_USER_INPUT', 'authorId');
    await fails(FOLLOW, { input: { authorId: globalId('Paper', 1) } }, ada, 'BAD_USER_INPUT', 'authorId');
    await fails(FOLLOW, { input: { organizationId: authorId } }, ada, 'BAD_USER_INPUT', 'organizationId');
    await fails(FOLLOW, { input: { authorId: globalId('Author', 999999) } }, ada, 'NOT_FOUND');
    await fails(FOLLOW, { input: { organizationId: globalId('Organization', 999999) } }, ada, 'NOT_FOUND');
    await fails(FOLLOW, { input: { category: 'CS.LG!' } }, ada, 'BAD_USER_INPUT', 'category');
    await fails(FOLLOW, { input: { keyword: '   ' } }, ada, 'BAD_USER_INPUT', 'keyword');
    await fails(FOLLOW, { input: { keyword: 'x'.repeat(101) } }, ada, 'BAD_USER_INPUT', 'keyword');
    await fails(FOLLOW, { input: { search: { query: ' \u0001 ' } } }, ada, 'BAD_USER_INPUT', 'search.query');
    await fails(FOLLOW, { input: { search: { query: 'arXiv:2306.13229' } } }, ada, 'BAD_USER_INPUT', 'search.query');
    await fails(
      FOLLOW,
      { input: { search: { query: 'sparrows', filter: { categories: ['nope!'] } } } },
      ada,
      'BAD_USER_INPUT',
      'search.filter.categories',
    );
    await fails(FOLLOW, { input: { keyword: 'a', category: 'cs.LG' } }, ada, 'BAD_USER_INPUT', 'input');
    await fails(FOLLOW, { input: {} }, ada, 'BAD_USER_INPUT', 'input');
    await fails(UNFOLLOW, {}, ada, 'BAD_USER_INPUT', 'id');
    await fails(UNFOLLOW, { id: 'nonsense' }, ada, 'BAD_USER_INPUT', 'id');
    await fails(FOLLOW, { input: { keyword: 'diffusion' } }, undefined, 'UNAUTHENTICATED');
    expect((await ok(FOLLOWS, {}, ada)).viewer.follows.totalCount).toBe(0);
  });

  it('refuses a saved search with no word to match (it could never match a paper) with BAD_USER_INPUT, storing nothing', async () => {
    const { token } = await userWithToken(database.db, 'wordless');
    // Each is a non-empty query whose words are all punctuation, operators or quotes: its full-text query is empty.
    for (const query of ['!!!', '-', 'or', '""', '"', '\uD800']) {
      const response = await fails(FOLLOW, { input: { search: { query } } }, token, 'BAD_USER_INPUT', 'search.query');
      expect(response.errors![0]!.message).toMatch(/no word/);
    }
    // A query with a word still is one; so is one made only of an excluded word (everything but it), as searchPapers reads it.
    await ok(FOLLOW, { input: { search: { query: 'sparrows!' } } }, token);
    await ok(FOLLOW, { input: { search: { query: '-sparrows' } } }, token);
    expect((await ok(FOLLOWS, {}, token)).viewer.follows.totalCount).toBe(2);
  });

  it('refuses text no encoding can store (a lone surrogate) in a keyword or a saved search filter with BAD_USER_INPUT naming the field', async () => {
    const { token } = await userWithToken(database.db, 'surrogate');
    await fails(FOLLOW, { input: { keyword: 'a\uD800b' } }, token, 'BAD_USER_INPUT', 'keyword');
    for (const [field, value] of [
      ['keyword', 'a\uDC00'],
      ['organization', '\uD800'],
      ['submittedBy', 'x\uD800'],
      ['excludeKeywords', ['fine', '\uD800']],
    ] as const) {
      await fails(FOLLOW, { input: { search: { query: 'sparrows', filter: { [field]: value } } } }, token, 'BAD_USER_INPUT', `search.filter.${field}`);
    }
    expect((await ok(FOLLOWS, {}, token)).viewer.follows.totalCount).toBe(0);
  });

  it("bounds the text of a saved search's filter, which is stored with it (BAD_USER_INPUT naming the field)", async () => {
    const { token } = await userWithToken(database.db, 'verbose');
    for (const field of ['keyword', 'organization', 'submittedBy'] as const) {
      const response = await fails(
        FOLLOW,
        { input: { search: { query: 'sparrows', filter: { [field]: 'x'.repeat(501) } } } },
        token,
        'BAD_USER_INPUT',
        `search.filter.${field}`,
      );
      expect(response.errors![0]!.message).toMatch(/at most 500 characters/);
    }
    expect((await ok(FOLLOWS, {}, token)).viewer.follows.totalCount).toBe(0);
    // At the bound it is a saved search.
    await ok(FOLLOW, { input: { search: { query: 'sparrows', filter: { organization: 'x'.repeat(500) } } } }, token);
    expect((await ok(FOLLOWS, {}, token)).viewer.follows.totalCount).toBe(1);
  });

  it(`caps each user at FOLLOWS_PER_USER (${FOLLOWS_PER_USER}) follows; following one already followed still answers it`, async () => {
    const { token } = await userWithToken(database.db, 'collector');
    for (let index = 0; index < FOLLOWS_PER_USER; index += 1) await ok(FOLLOW, { input: { keyword: `topic-${index}` } }, token);
    const response = await fails(FOLLOW, { input: { keyword: 'one-too-many' } }, token, 'BAD_USER_INPUT');
    expect(response.errors![0]!.extensions?.reason).toBe('FOLLOW_LIMIT');
    expect((await ok(FOLLOW, { input: { keyword: 'topic-0' } }, token)).follow.keyword).toBe('topic-0');
    expect((await ok(FOLLOWS, {}, token)).viewer.follows.totalCount).toBe(FOLLOWS_PER_USER);
  });

  it('counts against the mutation rate limit like every mutation', async () => {
    const limited = createTestApp(database.db, { config: { ...config, mutationRateLimitPerMinute: 2 } });
    try {
      const { token } = await userWithToken(database.db, 'hasty');
      for (const keyword of ['one', 'two']) expect((await limited.request(FOLLOW, { input: { keyword } }, token)).errors).toBeUndefined();
      const refused = await limited.request(FOLLOW, { input: { keyword: 'three' } }, token);
      expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
      expect(refused.errors![0]!.extensions?.retryAfter).toBeGreaterThan(0);
      expect(errorCodes(await limited.request(UNFOLLOW, { input: { keyword: 'one' } }, token))).toEqual(['RATE_LIMITED']);
    } finally {
      await limited.close();
    }
  });

  it('pages viewer.follows newest first', async () => {
    const { token } = await userWithToken(database.db, 'pager');
    const ids: string[] = [];
    for (const keyword of ['a1', 'a2', 'a3', 'a4', 'a5']) ids.push((await ok(FOLLOW, { input: { keyword } }, token)).follow.id);
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { edges: { node: { id: string } }[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = (
        await ok(FOLLOWS, { first: 2, after }, token)
      ).viewer.follows;
      seen.push(...page.edges.map((edge) => edge.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual([...ids].reverse());
  });
});

describe('privacy', () => {
  it("another user cannot read someone's follows or following feed; an anonymous one is told to sign in", async () => {
    await ok(FOLLOW, { input: { category: 'hep-th' } }, ada);
    const other = `{ user(username: "ada") { follows(first: 5) { totalCount } } }`;
    await fails(other, {}, bob, 'FORBIDDEN');
    await fails(`{ user(username: "ada") { followingFeed(first: 5) { totalCount } } }`, {}, bob, 'FORBIDDEN');
    await fails(other, {}, undefined, 'UNAUTHENTICATED');
    // Nor unfollow it by its ID.
    const [follow] = (await ok(FOLLOWS, {}, ada)).viewer.follows.edges;
    expect((await ok(UNFOLLOW, { id: follow.node.id }, bob)).unfollow).toBe(false);
    expect((await ok(FOLLOWS, {}, ada)).viewer.follows.totalCount).toBe(1);
    await ok(UNFOLLOW, { id: follow.node.id }, ada);
  });

  it('signed-in answers never come from the response cache: a follow shows at once', async () => {
    const { token } = await userWithToken(database.db, 'cached');
    expect((await ok(FOLLOWS, {}, token)).viewer.follows.totalCount).toBe(0);
    await ok(FOLLOW, { input: { keyword: 'fresh' } }, token);
    expect((await ok(FOLLOWS, {}, token)).viewer.follows.totalCount).toBe(1);
  });
});

describe('viewer.followingFeed', () => {
  const feedOf = async (token: string, variables: Record<string, unknown> = {}) => (await ok(FEED, variables, token)).viewer.followingFeed;
  const arxivIds = (connection: { edges: { node: { arxivId: string } }[] }) => connection.edges.map((edge) => edge.node.arxivId);

  it('refuses a malformed cursor, or one of another list, with BAD_USER_INPUT, whether or not the user follows anything', async () => {
    const { token } = await userWithToken(database.db, 'cursory');
    const followsCursor = Buffer.from(JSON.stringify(['FOLLOWS', '2025-11-01T00:00:00.000Z', 1])).toString('base64url');
    const check = async () => {
      for (const variables of [
        { first: 2, after: 'abc' },
        { last: 2, before: 'abc' },
        { first: 2, after: followsCursor },
      ]) {
        const response = await fails(FEED, variables, token, 'BAD_USER_INPUT');
        expect(response.errors![0]!.message).toMatch(/^Invalid cursor/);
      }
    };
    await check();
    await ok(FOLLOW, { input: { keyword: 'diffusion' } }, token);
    await check();
  });

  it('lists the papers of every kind of follow, newest published first (id breaking ties), without withdrawn papers', async () => {
    const { token } = await userWithToken(database.db, 'reader');
    expect(arxivIds(await feedOf(token))).toEqual([]);
    await ok(FOLLOW, { input: { authorId } }, token);
    await ok(FOLLOW, { input: { organizationId } }, token);
    await ok(FOLLOW, { input: { category: 'cs.LG' } }, token);
    await ok(FOLLOW, { input: { keyword: 'diffusion' } }, token);
    const search = (await ok(FOLLOW, { input: { search: { query: 'entangled sparrow', filter: { keyword: 'physics' } } } }, token)).follow;
    expect(search.searchQuery).toBe('entangled sparrow');

    const [inCategory, withKeyword] = await Promise.all(
      [paper.inCategory!, paper.withKeyword!].map(async (arxivId) => (await database.db.select().from(papers).where(eq(papers.arxivId, arxivId)))[0]!),
    );
    // Same published date: the higher id first.
    const sameDay = inCategory!.id > withKeyword!.id ? [paper.inCategory, paper.withKeyword] : [paper.withKeyword, paper.inCategory];
    const expected = [paper.bySearch, ...sameDay, paper.ofOrganization, paper.byAuthor];
    const whole = await feedOf(token, { first: 20 });
    expect(arxivIds(whole)).toEqual(expected);
    expect(whole.totalCount).toBe(expected.length);

    // Page by page forward, then backward from the end: the same list.
    const forward: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page = await feedOf(token, { first: 2, after });
      forward.push(...arxivIds(page));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(forward).toEqual(expected);
    const backward: string[] = [];
    let before: string | null = null;
    for (;;) {
      const page = await feedOf(token, { last: 2, before });
      backward.unshift(...arxivIds(page));
      if (!page.pageInfo.hasPreviousPage) break;
      before = page.pageInfo.startCursor;
    }
    expect(backward).toEqual(expected);

    // The PaperFilter narrows it, as on every list.
    expect(arxivIds(await feedOf(token, { filter: { categories: ['cs.LG'] } }))).toEqual([paper.inCategory]);
    await fails(FEED, { filter: { categories: ['nope!'] } }, token, 'BAD_USER_INPUT', 'categories');

    // The same search without its filter finds both sparrow papers.
    await ok(UNFOLLOW, { id: search.id }, token);
    await ok(FOLLOW, { input: { search: { query: 'entangled sparrow' } } }, token);
    expect(arxivIds(await feedOf(token, { first: 2 }))).toEqual([paper.bySearchOtherKeyword, paper.bySearch]);
  });
});
