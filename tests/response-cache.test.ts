import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPublicDataChanges, type PublicDataChanges } from '../src/cache/public-data-changes';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { TEST_PASSWORD_HASH_COST, paperRecord, redisTestConfig, savePaperRecords, testRedisUrl as redisUrl, userWithToken } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** The test settings with the response cache on, as it is by default in production. */
const cachingConfig = loadConfig({
  LOG_LEVEL: 'silent',
  PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
  MUTATION_RATE_LIMIT_PER_MINUTE: '1000000',
  RESPONSE_CACHE_TTL_SECONDS: '60',
});

const TRENDING = `{ trendingPapers(first: 5) { edges { node { id arxivId upvotes viewerHasUpvoted } } } }`;

interface TrendingData {
  trendingPapers: { edges: { node: { id: string; arxivId: string; upvotes: number; viewerHasUpvoted: boolean } }[] };
}

let database: TestDatabase;
let apps: ReturnType<typeof createTestApp>[] = [];
let changes: PublicDataChanges[] = [];

function cachingApp(publicDataChanges?: PublicDataChanges, responseCache = cachingConfig.responseCache) {
  const app = createTestApp(database.db, { config: { ...cachingConfig, responseCache }, publicDataChanges });
  apps.push(app);
  return app;
}

/** How many statements `work` sends to the database. */
async function statementsOf(work: () => Promise<unknown>) {
  const before = database.queries.length;
  await work();
  return database.queries.length - before;
}

beforeAll(async () => {
  database = await createTestDatabase();
});

beforeEach(async () => {
  await database.truncate();
  await savePaperRecords(database.db, [
    paperRecord({ arxivId: '2511.20001', upvoteBaseline: 30 }),
    paperRecord({ arxivId: '2511.20002', upvoteBaseline: 20 }),
    paperRecord({ arxivId: '2511.20003', upvoteBaseline: 10 }),
  ]);
});

afterEach(async () => {
  for (const app of apps) {
    await app.idle();
    await app.close();
  }
  for (const change of changes) await change.close();
  apps = [];
  changes = [];
});

afterAll(async () => {
  await database.close();
});

describe('the response cache', () => {
  it('answers a repeated anonymous query without touching the database, with the same data', async () => {
    const { request } = cachingApp();
    let first: Awaited<ReturnType<typeof request<TrendingData>>> | undefined;
    expect(await statementsOf(async () => (first = await request<TrendingData>(TRENDING)))).toBeGreaterThan(0);
    let second: typeof first;
    expect(await statementsOf(async () => (second = await request<TrendingData>(TRENDING)))).toBe(0);
    expect(second!.data).toEqual(first!.data);
    expect(first!.data!.trendingPapers.edges.map((edge) => edge.node.arxivId)).toEqual(['2511.20001', '2511.20002', '2511.20003']);
  });

  it('never serves or stores a signed-in request', async () => {
    const { request } = cachingApp();
    const { token } = await userWithToken(database.db, 'reader');
    await request(TRENDING);
    expect(await statementsOf(() => request(TRENDING, {}, token))).toBeGreaterThan(0);
    expect(await statementsOf(() => request(TRENDING, {}, token))).toBeGreaterThan(0);
  });

  it('computes a fresh answer for Cache-Control: no-cache, without storing it', async () => {
    const { app, request } = cachingApp();
    const fresh = async () =>
      app.fetch(
        new Request('http://test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'cache-control': 'no-cache' },
          body: JSON.stringify({ query: TRENDING }),
        }),
      );
    await request(TRENDING);
    expect(await statementsOf(fresh)).toBeGreaterThan(0);
    expect(await statementsOf(fresh)).toBeGreaterThan(0);
    expect(await statementsOf(() => request(TRENDING))).toBe(0);
  });

  it('ends every cached answer when an upvote changes the ranking', async () => {
    const { request } = cachingApp();
    const { token } = await userWithToken(database.db, 'voter');
    const before = await request<TrendingData>(TRENDING);
    const third = before.data!.trendingPapers.edges[2]!.node;
    expect(third.upvotes).toBe(10);

    const voted = await request(`mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`, { id: third.id }, token);
    expect(voted.errors).toBeUndefined();

    const after = await request<TrendingData>(TRENDING);
    expect(after.data!.trendingPapers.edges.find((edge) => edge.node.id === third.id)!.node.upvotes).toBe(11);
    // The anonymous reader still gets false: the signed-in answer was not cached for them.
    expect(after.data!.trendingPapers.edges.every((edge) => !edge.node.viewerHasUpvoted)).toBe(true);
  });

  it('ends every cached answer when the reconcile job repairs the ranking', async () => {
    const { request, idle, jobs } = cachingApp();
    await request(TRENDING);
    // Drift the stored order behind the cache's back; only the reconcile job knows the truth.
    await database.db.execute(sql`update papers set trending_key = trending_key + 100 where arxiv_id = '2511.20003'`);
    const stale = await request<TrendingData>(TRENDING);
    expect(stale.data!.trendingPapers.edges[0]!.node.arxivId).toBe('2511.20001');

    await jobs.enqueue('reconcile-trending', {});
    await idle();

    const repaired = await request<TrendingData>(TRENDING);
    expect(repaired.data!.trendingPapers.edges.map((edge) => edge.node.arxivId)).toEqual(['2511.20001', '2511.20002', '2511.20003']);
    expect(await statementsOf(() => request(TRENDING))).toBe(0);
  });

  it('is not emptied by a reconcile that repaired nothing', async () => {
    const { request, idle, jobs } = cachingApp();
    // Keys and counts match the rows: the reconcile finds nothing to repair.
    expect(await recomputeKeysAndCounts(database.db, cachingConfig.trending)).toEqual({ keyIds: [], countIds: [] });
    await request(TRENDING);
    await jobs.enqueue('reconcile-trending', {});
    await idle();
    expect(await statementsOf(() => request(TRENDING))).toBe(0);
  });

  it('answers 304 to a reader whose copy is current, and 200 once data changed', async () => {
    const { app, request } = cachingApp();
    const send = (headers: Record<string, string> = {}) =>
      app.fetch(
        new Request('http://test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', ...headers },
          body: JSON.stringify({ query: TRENDING }),
        }),
      );
    const etag = (await send()).headers.get('etag');
    expect(etag).toBeTruthy();
    expect((await send({ 'if-none-match': etag! })).status).toBe(304);

    const { token } = await userWithToken(database.db, 'etag_voter');
    const [paper] = (await request<TrendingData>(TRENDING)).data!.trendingPapers.edges;
    await request(`mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`, { id: paper!.node.id }, token);
    const changed = await send({ 'if-none-match': etag! });
    expect(changed.status).toBe(200);
    expect(changed.headers.get('etag')).not.toBe(etag);
  });

  it('is not emptied by a mutation that did nothing: refused, or only __typename', async () => {
    const { request } = cachingApp();
    await request(TRENDING);
    // logOut without a session is refused; __typename (aliased or not) changes nothing.
    expect((await request('mutation { logOut }')).errors).toBeDefined();
    expect((await request('mutation { __typename renamed: __typename }')).data).toEqual({ __typename: 'Mutation', renamed: 'Mutation' });
    expect(await statementsOf(() => request(TRENDING))).toBe(0);
  });

  it('never repeats an ETag across processes, so a reader of another replica gets no stale 304', async () => {
    const send = (app: ReturnType<typeof cachingApp>['app'], headers: Record<string, string> = {}) =>
      app.fetch(
        new Request('http://test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ query: TRENDING }),
        }),
      );
    const first = cachingApp();
    const etag = (await send(first.app)).headers.get('etag')!;
    // Another process (a replica, or this one restarted) that has seen no change yet.
    const second = cachingApp();
    await send(second.app);
    expect((await send(second.app, { 'if-none-match': etag })).status).toBe(200);
  });

  it('runs every anonymous mutation, even one that announces no change', async () => {
    // A process that never hears of changes: nothing but the plugin's own rule keeps mutations out of the cache.
    const { request } = cachingApp({ announce: async () => {}, subscribe: () => {}, close: async () => {} });
    const signedUp = await request(
      `mutation { signUp(username: "returning", email: "returning@example.org", password: "correct horse battery") { token } }`,
    );
    // Exactly what was asked for: the plugin's bookkeeping fields (__typename, ids) do not show.
    expect(signedUp.data).toEqual({ signUp: { token: expect.any(String) } });
    const logIn = `mutation { logIn(usernameOrEmail: "returning", password: "correct horse battery") { token } }`;
    const first = await request(logIn);
    const second = await request(logIn);
    expect(first.errors).toBeUndefined();
    expect(second.data!.logIn.token).not.toBe(first.data!.logIn.token);
  });

  it('does not cache an answer with errors', async () => {
    const { request } = cachingApp();
    // The paper is read from the database; the malformed node ID fails the request.
    const query = `{ paper(arxivId: "2511.20001") { id } node(id: "not-an-id") { id } }`;
    expect((await request(query)).errors).toBeDefined();
    expect(await statementsOf(() => request(query))).toBeGreaterThan(0);
  });

  it('never stores an answer over its per-entry cap', async () => {
    const { request } = cachingApp(undefined, { ...cachingConfig.responseCache, maxEntryBytes: 1_000 });
    // Three papers with their abstracts and authors, asked four times over: well over 1,000 bytes.
    const large = `{ ${['a', 'b', 'c', 'd'].map((alias) => `${alias}: trendingPapers(first: 5) { edges { node { id arxivId title abstract authors { name } } } }`).join(' ')} }`;
    expect(JSON.stringify((await request(large)).data).length).toBeGreaterThan(1_000);
    expect(await statementsOf(() => request(large))).toBeGreaterThan(0);
    // A small answer is still cached.
    const small = '{ trendingPapers(first: 1) { edges { node { arxivId } } } }';
    await request(small);
    expect(await statementsOf(() => request(small))).toBe(0);
  });

  it('holds at most its byte budget, the least recently used answer leaving first', async () => {
    await savePaperRecords(
      database.db,
      Array.from({ length: 5 }, (_, index) => paperRecord({ arxivId: `2511.2010${index}`, abstract: `${'A long abstract. '.repeat(200)}${index}` })),
    );
    const page = 'query($n: Int) { trendingPapers(first: $n) { edges { node { arxivId abstract } } } }';
    // Each page holds all eight papers (about 17 KB); room for two such answers, not three.
    const uncached = createTestApp(database.db);
    apps.push(uncached);
    const answerBytes = JSON.stringify((await uncached.request(page, { n: 10 })).data).length;
    expect(answerBytes).toBeGreaterThan(15_000);
    const { request } = cachingApp(undefined, { ...cachingConfig.responseCache, maxBytes: Math.floor(answerBytes * 2.5) });
    for (const n of [10, 11, 12]) await request(page, { n });
    expect(await statementsOf(() => request(page, { n: 12 }))).toBe(0);
    expect(await statementsOf(() => request(page, { n: 11 }))).toBe(0);
    expect(await statementsOf(() => request(page, { n: 10 }))).toBeGreaterThan(0);
  });

  it('hears a change announced by another process through Redis', async () => {
    const logger = createLogger('silent');
    const redisConfig = redisTestConfig('response-cache', redisUrl);
    const reader = createPublicDataChanges(redisConfig, logger);
    const writer = createPublicDataChanges(redisConfig, logger);
    changes.push(reader, writer);
    const readerApp = cachingApp(reader);
    const writerApp = cachingApp(writer);
    const { token } = await userWithToken(database.db, 'remote_voter');

    const before = await readerApp.request<TrendingData>(TRENDING);
    const third = before.data!.trendingPapers.edges[2]!.node;
    await writerApp.request(`mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`, { id: third.id }, token);

    // Pub/sub is asynchronous: the reader's cache ends within moments, not at once.
    const upvotesOfThird = async () =>
      (await readerApp.request<TrendingData>(TRENDING)).data!.trendingPapers.edges.find((edge) => edge.node.id === third.id)!.node.upvotes;
    await expect.poll(upvotesOfThird, { timeout: 10_000, interval: 20 }).toBe(third.upvotes + 1);
  });
});
