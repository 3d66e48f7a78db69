import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createPublicDataChanges, type PublicDataChanges } from '../src/cache/public-data-changes';
import { loadConfig } from '../src/config';
import { papers, similarPapers, users } from '../src/db/schema';
import { runJob } from '../jobs/registry';
import { hashPassword } from '../src/modules/accounts/passwords';
import { createHttpServer } from '../src/http-server';
import { createLogger } from '../src/logger';
import { recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { TEST_PASSWORD_HASH_COST, paperRecord, redisTestConfig, savePaperRecords, testRedisUrl as redisUrl, userWithToken } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/**
 * The test settings with the response cache on, as it is by default in production, except that lists of papers
 * live a minute rather than a second: long enough that no test sees one end by itself.
 */
const cachingConfig = loadConfig({
  LOG_LEVEL: 'silent',
  PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
  MUTATION_RATE_LIMIT_PER_MINUTE: '1000000',
  RESPONSE_CACHE_TTL_SECONDS: '120',
  RESPONSE_CACHE_LIST_MAX_AGE_SECONDS: '60',
  // A session is read by a reader's first request only (the counts below), however slow the machine.
  SESSION_CACHE_SECONDS: '600',
});

/** A paper page: no list of papers in it, so a vote on the paper ends it at once. */
const PAPER_PAGE = `query($arxivId: String!) { paper(arxivId: $arxivId) { id upvotes trendingScore commentCount } }`;
const UPVOTE = `mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`;

const TRENDING = `{ trendingPapers(first: 5) { edges { node { id arxivId upvotes viewerHasUpvoted } } } }`;

interface TrendingData {
  trendingPapers: { edges: { node: { id: string; arxivId: string; upvotes: number; viewerHasUpvoted: boolean } }[] };
}

let database: TestDatabase;
let apps: ReturnType<typeof createTestApp>[] = [];
let changes: PublicDataChanges[] = [];

function cachingApp(publicDataChanges?: PublicDataChanges, responseCache = cachingConfig.responseCache, config = cachingConfig) {
  const app = createTestApp(database.db, { config: { ...config, responseCache }, publicDataChanges });
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

  it('ends the answers that show a voted paper at once, and leaves lists to end within their maximum age', async () => {
    const { request } = cachingApp();
    const { token } = await userWithToken(database.db, 'voter');
    const before = await request<TrendingData>(TRENDING);
    const third = before.data!.trendingPapers.edges[2]!.node;
    expect(third.upvotes).toBe(10);
    await request(PAPER_PAGE, { arxivId: third.arxivId });
    await request(PAPER_PAGE, { arxivId: '2511.20001' });

    const voted = await request(UPVOTE, { id: third.id }, token);
    expect(voted.errors).toBeUndefined();

    // The voted paper's page is computed again, and shows the vote.
    let page: { data?: { paper: { upvotes: number } } | null } | undefined;
    expect(await statementsOf(async () => (page = await request(PAPER_PAGE, { arxivId: third.arxivId })))).toBeGreaterThan(0);
    expect(page!.data!.paper.upvotes).toBe(11);
    // Another paper's page, and the list (which may lag a vote by RESPONSE_CACHE_LIST_MAX_AGE_SECONDS), are still served.
    expect(await statementsOf(() => request(PAPER_PAGE, { arxivId: '2511.20001' }))).toBe(0);
    expect(await statementsOf(() => request(TRENDING))).toBe(0);
    // The voter sees their vote at once: a signed-in request never reads the cache.
    const own = await request<TrendingData>(TRENDING, {}, token);
    expect(own.data!.trendingPapers.edges.find((edge) => edge.node.id === third.id)!.node).toMatchObject({ upvotes: 11, viewerHasUpvoted: true });
  });

  it('serves a list at most RESPONSE_CACHE_LIST_MAX_AGE_SECONDS after a vote', async () => {
    const { request } = cachingApp(undefined, { ...cachingConfig.responseCache, listMaxAgeMs: 300 });
    const { token } = await userWithToken(database.db, 'list_voter');
    const third = (await request<TrendingData>(TRENDING)).data!.trendingPapers.edges[2]!.node;
    await request(UPVOTE, { id: third.id }, token);
    const upvotesOfThird = async () =>
      (await request<TrendingData>(TRENDING)).data!.trendingPapers.edges.find((edge) => edge.node.id === third.id)!.node.upvotes;
    await expect.poll(upvotesOfThird, { timeout: 5_000, interval: 20 }).toBe(11);
  });

  it('ends the answers that show what the reconcile job repaired', async () => {
    const { request, idle, jobs } = cachingApp();
    await request(TRENDING);
    // Drift the stored order behind the cache's back; only the reconcile job knows the truth.
    await database.db.execute(sql`update papers set trending_key = trending_key + 100 where arxiv_id = '2511.20003'`);
    const stale = await request<TrendingData>(TRENDING);
    expect(stale.data!.trendingPapers.edges[0]!.node.arxivId).toBe('2511.20001');

    await request(PAPER_PAGE, { arxivId: '2511.20003' });
    await request(PAPER_PAGE, { arxivId: '2511.20001' });

    await jobs.enqueue('reconcile-trending', {});
    await idle();

    // The repaired paper's page ends; the other paper's, which showed nothing repaired, does not.
    expect(await statementsOf(() => request(PAPER_PAGE, { arxivId: '2511.20003' }))).toBeGreaterThan(0);
    expect(await statementsOf(() => request(PAPER_PAGE, { arxivId: '2511.20001' }))).toBe(0);
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
          body: JSON.stringify({ query: PAPER_PAGE, variables: { arxivId: '2511.20001' } }),
        }),
      );
    const etag = (await send()).headers.get('etag');
    expect(etag).toBeTruthy();
    const notModified = await send({ 'if-none-match': etag! });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get('etag')).toBe(etag);

    const { token } = await userWithToken(database.db, 'etag_voter');
    const { data } = await request(PAPER_PAGE, { arxivId: '2511.20001' });
    await request(UPVOTE, { id: data!.paper.id }, token);
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
    // The paper's count is read from the database; the malformed node ID fails the request.
    const query = `{ paper(arxivId: "2511.20001") { id upvotes } node(id: "not-an-id") { id } }`;
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
    await readerApp.request(PAPER_PAGE, { arxivId: third.arxivId });
    await writerApp.request(UPVOTE, { id: third.id }, token);

    // Pub/sub is asynchronous: the reader's cached page ends within moments, not at once.
    const upvotesOfThird = async () => (await readerApp.request(PAPER_PAGE, { arxivId: third.arxivId })).data!.paper.upvotes;
    await expect.poll(upvotesOfThird, { timeout: 10_000, interval: 20 }).toBe(third.upvotes + 1);
  });

  it('is not emptied by mutations that change nothing anyone else sees', async () => {
    const { request, idle } = cachingApp();
    const { token } = await userWithToken(database.db, 'quiet_voter');
    const { data } = await request(PAPER_PAGE, { arxivId: '2511.20002' });
    await request(UPVOTE, { id: data!.paper.id }, token);
    await request(TRENDING);
    await request(PAPER_PAGE, { arxivId: '2511.20002' });
    const cachedReads = () => Promise.all([request(TRENDING), request(PAPER_PAGE, { arxivId: '2511.20002' })]);

    // A repeated upvote, a sign-in, a digest subscription, a dismissed recommendation, a sign-out.
    const repeated = await request(UPVOTE, { id: data!.paper.id }, token);
    expect(repeated.errors).toBeUndefined();
    await database.db
      .insert(users)
      .values({ username: 'regular', email: 'regular@example.org', passwordHash: await hashPassword('correct horse battery', TEST_PASSWORD_HASH_COST) });
    const loggedIn = await request(`mutation { logIn(usernameOrEmail: "regular", password: "correct horse battery") { token } }`);
    expect(loggedIn.errors).toBeUndefined();
    expect((await request(`mutation { subscribeToDigest(email: "reader@example.org") }`)).errors).toBeUndefined();
    expect((await request(`mutation($id: ID!) { dismissRecommendation(paperId: $id) { id } }`, { id: data!.paper.id }, token)).errors).toBeUndefined();
    expect((await request('mutation { logOut }', {}, token)).errors).toBeUndefined();
    await idle();
    expect(await statementsOf(cachedReads)).toBe(0);
  });

  it('ends what a sign-up and a comment change: the page of a new username, the commented paper', async () => {
    const { request } = cachingApp();
    const USER = `query($username: String!) { user(username: $username) { username } }`;
    expect((await request(USER, { username: 'newcomer' })).data).toEqual({ user: null });
    await request(PAPER_PAGE, { arxivId: '2511.20001' });
    await request(PAPER_PAGE, { arxivId: '2511.20002' });

    const signedUp = await request<{ signUp: { token: string } }>(
      `mutation { signUp(username: "newcomer", email: "newcomer@example.org", password: "correct horse battery") { token } }`,
    );
    expect((await request(USER, { username: 'newcomer' })).data).toEqual({ user: { username: 'newcomer' } });

    const { data } = await request(PAPER_PAGE, { arxivId: '2511.20001' });
    const commented = await request(
      `mutation($id: ID!) { addComment(paperId: $id, body: "Nice.") { id } }`,
      { id: data!.paper.id },
      signedUp.data!.signUp.token,
    );
    expect(commented.errors).toBeUndefined();
    expect((await request(PAPER_PAGE, { arxivId: '2511.20001' })).data!.paper.commentCount).toBe(1);
    expect(await statementsOf(() => request(PAPER_PAGE, { arxivId: '2511.20002' }))).toBe(0);
  });

  it('sends a hit as stored bytes before the GraphQL pipeline, to GET and POST alike, with the usual headers', async () => {
    const { app } = cachingApp();
    const variables = { arxivId: '2511.20001' };
    const post = (accept?: string) =>
      app.fetch(
        new Request('http://test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...(accept ? { accept } : {}) },
          body: JSON.stringify({ query: PAPER_PAGE, variables }),
        }),
      );
    const getUrl = `http://test/graphql?query=${encodeURIComponent(PAPER_PAGE)}&variables=${encodeURIComponent(JSON.stringify(variables))}`;
    const get = (headers: Record<string, string> = {}) => app.fetch(new Request(getUrl, { headers: { 'x-graphql-yoga-csrf': '1', ...headers } }));

    const computed = await post();
    const body = await computed.text();
    let hit: Response | undefined;
    expect(await statementsOf(async () => (hit = await get()))).toBe(0);
    expect(hit!.status).toBe(200);
    expect(await hit!.text()).toBe(body);
    expect(hit!.headers.get('etag')).toBe(computed.headers.get('etag'));
    expect(hit!.headers.get('content-type')).toBe('application/json; charset=utf-8');
    // The headers every answer carries are on a hit too.
    expect(hit!.headers.get('x-content-type-options')).toBe('nosniff');
    expect(hit!.headers.get('x-request-id')).toBeTruthy();
    expect((await post('application/graphql-response+json')).headers.get('content-type')).toBe('application/graphql-response+json; charset=utf-8');
    expect((await get({ 'if-none-match': computed.headers.get('etag')! })).status).toBe(304);
    // A GET without the CSRF header is still refused, hit or not.
    expect((await app.fetch(new Request(getUrl))).status).toBe(403);
  });

  it('is sent by the HTTP listener itself, as the app sends it; a miss and every other request go on to the app', async () => {
    const config = {
      ...cachingConfig,
      http: { ...cachingConfig.http, corsOrigins: ['https://reader.example'] },
      metricsToken: 'a-metrics-token-for-the-test',
    };
    const { app } = cachingApp(undefined, cachingConfig.responseCache, config);
    const reader = await userWithToken(database.db, 'listener_reader');
    let reachedApp = 0;
    // The app as the listener sees it, counting the requests the listener hands it.
    const counted = new Proxy(app, {
      get(target, property) {
        if (property !== 'handleNodeRequestAndResponse') return Reflect.get(target, property);
        return (...args: Parameters<typeof app.handleNodeRequestAndResponse>) => {
          reachedApp += 1;
          return target.handleNodeRequestAndResponse(...args);
        };
      },
    });
    const listener = createHttpServer(counted, { maxRequestBytes: config.http.maxRequestBytes });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
    const body = JSON.stringify({ query: PAPER_PAGE, variables: { arxivId: '2511.20001' } });
    const common = { origin: 'https://reader.example', 'x-request-id': 'listener-test-1' };
    const post = (headers: Record<string, string> = {}, sent = body) =>
      fetch(`${base}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...common, ...headers }, body: sent });
    const getUrl = `${base}/graphql?query=${encodeURIComponent(PAPER_PAGE)}&variables=${encodeURIComponent(JSON.stringify({ arxivId: '2511.20001' }))}`;
    /** The request's answer and whether the app saw it. */
    const sent = async (request: () => Promise<Response>) => {
      const before = reachedApp;
      const response = await request();
      return { response, text: await response.text(), byApp: reachedApp > before };
    };
    const headersOf = (response: Response) =>
      Object.fromEntries([...response.headers].filter(([name]) => !['date', 'keep-alive', 'connection'].includes(name)));
    try {
      const miss = await sent(() => post());
      expect(miss.byApp).toBe(true);
      expect(JSON.parse(miss.text).data.paper.upvotes).toBeGreaterThan(0);

      let hit: Awaited<ReturnType<typeof sent>> | undefined;
      expect(await statementsOf(async () => (hit = await sent(() => post())))).toBe(0);
      expect(hit!.byApp).toBe(false);
      expect(hit!.text).toBe(miss.text);
      // The app's own hit, for the same request: the same bytes and the same headers, CORS and security headers included.
      const fromApp = await app.fetch(
        new Request('http://test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...common }, body }),
      );
      expect(await fromApp.text()).toBe(hit!.text);
      expect(headersOf(hit!.response)).toEqual(headersOf(fromApp));
      expect(hit!.response.headers.get('access-control-allow-origin')).toBe('https://reader.example');
      expect(hit!.response.headers.get('x-request-id')).toBe('listener-test-1');

      const byGet = await sent(() => fetch(getUrl, { headers: { 'x-graphql-yoga-csrf': '1' } }));
      expect([byGet.byApp, byGet.text]).toEqual([false, miss.text]);
      // As a browser revalidates (fetch() would add Cache-Control: no-cache to an If-None-Match of its caller's).
      const revalidation = { 'x-graphql-yoga-csrf': '1', 'cache-control': 'max-age=0', 'if-none-match': hit!.response.headers.get('etag')! };
      const current = await sent(() => fetch(getUrl, { headers: revalidation }));
      expect([current.byApp, current.response.status, current.text]).toEqual([false, 304, '']);

      // What the cache does not answer, or the app refuses, is the app's to answer: and it does, as usual.
      const withoutCsrf = await sent(() => fetch(getUrl));
      expect([withoutCsrf.byApp, withoutCsrf.response.status]).toEqual([true, 403]);
      const simpleContentType = await sent(() => post({ 'content-type': 'text/plain' }));
      expect([simpleContentType.byApp, simpleContentType.response.status]).toEqual([true, 403]);
      const signedIn = await sent(() => post({ authorization: `Bearer ${reader.token}` }));
      expect([signedIn.byApp, JSON.parse(signedIn.text).data.paper.upvotes]).toEqual([true, JSON.parse(miss.text).data.paper.upvotes]);
      const fresh = await sent(() => post({ 'cache-control': 'no-cache' }));
      expect([fresh.byApp, JSON.parse(fresh.text).data.paper.id]).toEqual([true, JSON.parse(miss.text).data.paper.id]);
      const malformed = await sent(() => post({}, '{"query": '));
      expect([malformed.byApp, malformed.response.status]).toEqual([true, 400]);
      const otherPaper = await sent(() => post({}, JSON.stringify({ query: PAPER_PAGE, variables: { arxivId: '2511.20002' } })));
      expect([otherPaper.byApp, JSON.parse(otherPaper.text).data.paper.id]).toEqual([true, expect.any(String)]);

      // A hit the listener sent is counted in the app's metrics like any answer.
      const scraped = await (await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${config.metricsToken}` } })).text();
      const hits = /^http_request_duration_seconds_count\{method="GET",route="\/graphql",status="304"\} (\d+)$/m.exec(scraped)?.[1];
      expect(hits).toBe('1');
    } finally {
      listener.closeAllConnections();
      await new Promise((resolve) => listener.close(resolve));
    }
  });

  it("never serves one reader's private fields to another: anonymous, signed in, user A, user B, GET or POST", async () => {
    const { app, request } = cachingApp();
    const a = await userWithToken(database.db, 'reader_a');
    const b = await userWithToken(database.db, 'reader_b');
    const [first] = (await request<TrendingData>(TRENDING)).data!.trendingPapers.edges;
    expect((await request(UPVOTE, { id: first!.node.id }, a.token)).errors).toBeUndefined();
    const PRIVATE = `query($username: String!) {
      viewer { username emailVerified }
      trendingPapers(first: 5) { edges { node { id viewerHasUpvoted } } }
      user(username: $username) { username recommendedPapers { id } }
    }`;
    const variables = { username: 'reader_a' };
    const upvotedFirst = (data: any) => data.trendingPapers.edges.find((edge: any) => edge.node.id === first!.node.id).node.viewerHasUpvoted;
    const viaGet = async (token?: string) => {
      const url = `http://test/graphql?query=${encodeURIComponent(PRIVATE)}&variables=${encodeURIComponent(JSON.stringify(variables))}`;
      const headers: Record<string, string> = { 'x-graphql-yoga-csrf': '1', accept: 'application/json' };
      if (token) headers.authorization = `Bearer ${token}`;
      return (await (await app.fetch(new Request(url, { headers }))).json()) as { data?: any; errors?: any[] };
    };
    const WITHOUT_FEED = PRIVATE.replace('recommendedPapers { id }', '');
    // Each reader twice, in turns, by POST and by GET: whatever one left in a cache, the next must not get.
    for (let round = 0; round < 2; round += 1) {
      const ownA = await request(PRIVATE, variables, a.token);
      expect(ownA.errors).toBeUndefined();
      expect(ownA.data!.viewer.username).toBe('reader_a');
      expect(upvotedFirst(ownA.data)).toBe(true);
      expect(Array.isArray(ownA.data!.user.recommendedPapers)).toBe(true);

      for (const answer of [await request(PRIVATE, variables), await viaGet()]) {
        // A's feed is FORBIDDEN to anyone else: such an answer has errors, and is never cached.
        expect(answer.errors?.map((error: any) => error.extensions.code)).toEqual(['FORBIDDEN']);
      }
      for (const anonymous of [await request(WITHOUT_FEED, variables), await request(WITHOUT_FEED, variables)]) {
        expect(anonymous.data!.viewer).toBeNull();
        expect(upvotedFirst(anonymous.data)).toBe(false);
      }
      for (const ofB of [await request(WITHOUT_FEED, variables, b.token), await viaGet(b.token)]) {
        expect(ofB.data!.viewer).toEqual({ username: 'reader_b', emailVerified: expect.anything() });
        expect(upvotedFirst(ofB.data)).toBe(false);
      }
      expect((await request(PRIVATE, variables, b.token)).errors?.map((error: any) => error.extensions.code)).toEqual(['FORBIDDEN']);
      const ownAByGet = await viaGet(a.token);
      expect(ownAByGet.data!.viewer.username).toBe('reader_a');
      expect(upvotedFirst(ownAByGet.data)).toBe(true);
    }
  });

  it("reads a paper's authors once for every reader, signed in or not, until a change to the paper is announced", async () => {
    const publicDataChanges = createPublicDataChanges({ redisUrl: undefined, redisPrefix: 'unused' }, createLogger('silent'));
    const { request } = cachingApp(publicDataChanges);
    const { token } = await userWithToken(database.db, 'author_reader');
    const page = `{ trendingPapers(first: 5) { edges { node { id authors { name } viewerHasUpvoted } } } }`;
    // The session, the page, the authors and the viewer's upvotes.
    const first = await statementsOf(() => request(page, {}, token));
    expect(first).toBe(4);
    // The same page again: the page's live fields (counts and the viewer's upvotes); the session, the page and its authors are kept.
    expect(await statementsOf(() => request(page, {}, token))).toBe(1);
    const { data } = await request<TrendingData>(TRENDING, {}, token);
    await publicDataChanges.announce({
      kind: 'entities',
      entities: [{ typename: 'Paper', id: Number(atob(data!.trendingPapers.edges[0]!.node.id).split(':')[1]) }],
    });
    // All but the session again.
    expect(await statementsOf(() => request(page, {}, token))).toBe(first - 1);
    // Votes leave the authors and the kept page be.
    await publicDataChanges.announce({ kind: 'votes', paperIds: [Number(atob(data!.trendingPapers.edges[1]!.node.id).split(':')[1])] });
    expect(await statementsOf(() => request(page, {}, token))).toBe(1);
  });

  it("shares a signed-in page's order and rows across readers, never a reader's own fields, with the counts fresh", async () => {
    const { request } = cachingApp();
    const a = await userWithToken(database.db, 'sharing_a');
    const b = await userWithToken(database.db, 'sharing_b');
    const nodeOf = (data: TrendingData | null | undefined, id: string) => data!.trendingPapers.edges.find((edge) => edge.node.id === id)!.node;
    const first = await request<TrendingData>(TRENDING, {}, b.token);
    const third = first.data!.trendingPapers.edges[2]!.node;
    expect(third).toMatchObject({ upvotes: 10, viewerHasUpvoted: false });
    // Kept for every signed-in reader: A's first read sends the session and the live fields, not the page.
    let ofA: Awaited<ReturnType<typeof request<TrendingData>>> | undefined;
    expect(await statementsOf(async () => (ofA = await request<TrendingData>(TRENDING, {}, a.token)))).toBe(2);
    expect(ofA!.data).toEqual(first.data);

    expect((await request(UPVOTE, { id: third.id }, a.token)).errors).toBeUndefined();
    for (let round = 0; round < 2; round += 1) {
      // The voter at once: their vote and the count (one statement: A's session is kept); the other reader at once: the count, and their own (false) vote.
      let ownA: typeof ofA;
      expect(await statementsOf(async () => (ownA = await request<TrendingData>(TRENDING, {}, a.token)))).toBe(1);
      expect(nodeOf(ownA!.data, third.id)).toMatchObject({ upvotes: 11, viewerHasUpvoted: true });
      const ofB = await request<TrendingData>(TRENDING, {}, b.token);
      expect(nodeOf(ofB.data, third.id)).toMatchObject({ upvotes: 11, viewerHasUpvoted: false });
      // Anonymous readers keep the cached list within its bound, and never see a viewer's vote.
      expect(nodeOf((await request<TrendingData>(TRENDING)).data, third.id)).toMatchObject({ viewerHasUpvoted: false });
    }
  });

  it('shows a signed-in reader a reordered list within RESPONSE_CACHE_LIST_MAX_AGE_SECONDS, and a new paper at once', async () => {
    const publicDataChanges = createPublicDataChanges({ redisUrl: undefined, redisPrefix: 'unused' }, createLogger('silent'));
    const { request } = cachingApp(publicDataChanges, { ...cachingConfig.responseCache, listMaxAgeMs: 300 });
    const { token } = await userWithToken(database.db, 'order_reader');
    const order = async () => (await request<TrendingData>(TRENDING, {}, token)).data!.trendingPapers.edges.map((edge) => edge.node.arxivId);
    expect(await order()).toEqual(['2511.20001', '2511.20002', '2511.20003']);
    // Votes written elsewhere (as a reconcile repairs them): the count shows at once, the order within the bound.
    await database.db.execute(sql`update papers set upvote_count = 100, trending_key = trending_key + 100 where arxiv_id = '2511.20003'`);
    await publicDataChanges.announce({ kind: 'votes', paperIds: [] });
    const upvotesOfLast = (await request<TrendingData>(TRENDING, {}, token)).data!.trendingPapers.edges.find(
      (edge) => edge.node.arxivId === '2511.20003',
    )!.node.upvotes;
    expect(upvotesOfLast).toBe(100);
    await expect.poll(order, { timeout: 5_000, interval: 20 }).toEqual(['2511.20003', '2511.20001', '2511.20002']);
    // A change to an object (here a new paper) ends every kept page at once.
    await savePaperRecords(database.db, [paperRecord({ arxivId: '2511.20004', upvoteBaseline: 500 })]);
    await recomputeKeysAndCounts(database.db, cachingConfig.trending);
    await publicDataChanges.announce({ kind: 'entities', entities: [{ typename: 'Paper' }] });
    expect((await order())[0]).toBe('2511.20004');
  });

  it('reads an organization once for every reader until a change may have touched it', async () => {
    const publicDataChanges = createPublicDataChanges({ redisUrl: undefined, redisPrefix: 'unused' }, createLogger('silent'));
    const { request } = cachingApp(publicDataChanges);
    await savePaperRecords(database.db, [
      paperRecord({ arxivId: '2511.20005', upvoteBaseline: 5, organization: { name: 'kept-org', fullName: 'Kept Org' } }),
    ]);
    const { token } = await userWithToken(database.db, 'organization_reader');
    const QUERY = `{ paper(arxivId: "2511.20005") { organization { name fullName } } }`;
    // The session, the paper and the organization; then all three are kept.
    expect(await statementsOf(() => request(QUERY, {}, token))).toBe(3);
    expect(await statementsOf(() => request(QUERY, {}, token))).toBe(0);
    await database.db.execute(sql`update organizations set full_name = 'Renamed Org' where name = 'kept-org'`);
    // A submission (an unnamed paper) may bring new details of its organization: kept ones end.
    await publicDataChanges.announce({ kind: 'entities', entities: [{ typename: 'Paper' }] });
    const renamed = await request<{ paper: { organization: { fullName: string } } }>(QUERY, {}, token);
    expect(renamed.data!.paper.organization.fullName).toBe('Renamed Org');
    // Votes and changes to named papers leave it be.
    await publicDataChanges.announce({ kind: 'votes', paperIds: [1] });
    await publicDataChanges.announce({ kind: 'entities', entities: [{ typename: 'Paper', id: 1 }] });
    expect(await statementsOf(() => request(QUERY, {}, token))).toBe(0);
  });
});

/** The paper page as the bench reads it (src/bench/bench.ts), with what a voter and an edit change. */
const KEPT_PAPER_PAGE = `query($arxivId: String!) { paper(arxivId: $arxivId) {
  id title upvotes trendingScore githubRepo viewerHasUpvoted authors { name author { id name } }
  similarPapers(first: 2) { id title upvotes viewerHasUpvoted } } }`;

interface KeptPaperPage {
  paper: {
    id: string;
    title: string;
    upvotes: number;
    trendingScore: number;
    githubRepo: string | null;
    viewerHasUpvoted: boolean;
    authors: { name: string; author: { id: string; name: string } }[];
    similarPapers: { id: string; title: string; upvotes: number; viewerHasUpvoted: boolean }[];
  } | null;
}

describe('a paper page kept across requests (paper, authors, similar papers)', () => {
  /** Paper ids by arXiv id; 2511.20001's similar papers are 2511.20002 and 2511.20003, in that order. */
  let ids: Record<string, number>;
  const A = '2511.20001';
  const idOf = (globalId: string) => Number(atob(globalId).split(':')[1]);
  /** The same page read later: its trending score decays with the clock. */
  const sameAs = (page: KeptPaperPage['paper'] | undefined) => ({ ...page, trendingScore: expect.any(Number) });

  beforeEach(async () => {
    const rows = await database.db.select({ id: papers.id, arxivId: papers.arxivId }).from(papers);
    ids = Object.fromEntries(rows.map((row) => [row.arxivId, row.id]));
    await database.db.insert(similarPapers).values([
      { paperId: ids[A]!, rank: 0, similarPaperId: ids['2511.20002']!, score: 0.9 },
      { paperId: ids[A]!, rank: 1, similarPaperId: ids['2511.20003']!, score: 0.8 },
    ]);
  });

  /** The page as a reader asking for a fresh answer (Cache-Control: no-cache) gets it: never from the response cache. */
  async function freshPage(app: ReturnType<typeof cachingApp>['app'], token?: string, arxivId = A) {
    const response = await app.fetch(
      new Request('http://test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'cache-control': 'no-cache', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        body: JSON.stringify({ query: KEPT_PAPER_PAGE, variables: { arxivId } }),
      }),
    );
    const body = (await response.json()) as { data?: KeptPaperPage; errors?: unknown };
    expect(body.errors).toBeUndefined();
    return body.data!.paper;
  }

  it("is read once for every reader, with upvote counts fresh and each viewer's own votes", async () => {
    const { app, request } = cachingApp();
    const voter = await userWithToken(database.db, 'page_voter');
    const other = await userWithToken(database.db, 'page_other');
    let first: KeptPaperPage['paper'] | undefined;
    // The paper, its authors and its similar papers; then only what a vote changes, in one statement.
    expect(await statementsOf(async () => (first = await freshPage(app)))).toBe(3);
    expect(first!.similarPapers.map((paper) => idOf(paper.id))).toEqual([ids['2511.20002'], ids['2511.20003']]);
    let again: KeptPaperPage['paper'] | undefined;
    expect(await statementsOf(async () => (again = await freshPage(app)))).toBe(1);
    expect(again).toEqual(sameAs(first));
    // Signed in: the session and the same one statement, with the viewer's votes.
    expect(await statementsOf(() => freshPage(app, voter.token))).toBe(2);

    const similar = first!.similarPapers[0]!;
    expect((await request(UPVOTE, { id: similar.id }, voter.token)).errors).toBeUndefined();
    expect((await request(UPVOTE, { id: first!.id }, voter.token)).errors).toBeUndefined();
    let anonymous: KeptPaperPage['paper'] | undefined;
    // A vote leaves the page kept; its counts show at once, to everyone.
    expect(await statementsOf(async () => (anonymous = await freshPage(app)))).toBe(1);
    expect(anonymous!.upvotes).toBe(first!.upvotes + 1);
    expect(anonymous!.trendingScore).toBeGreaterThan(first!.trendingScore);
    expect(anonymous!.similarPapers[0]).toMatchObject({ id: similar.id, upvotes: similar.upvotes + 1, viewerHasUpvoted: false });
    const ofVoter = await freshPage(app, voter.token);
    expect(ofVoter).toMatchObject({ upvotes: first!.upvotes + 1, viewerHasUpvoted: true });
    expect(ofVoter!.similarPapers.map((paper) => paper.viewerHasUpvoted)).toEqual([true, false]);
    const ofOther = await freshPage(app, other.token);
    expect(ofOther).toMatchObject({ upvotes: first!.upvotes + 1, viewerHasUpvoted: false });
    expect(ofOther!.similarPapers.map((paper) => paper.viewerHasUpvoted)).toEqual([false, false]);
  });

  it('ends at a change to the paper, to a listed paper, to its similar papers or to everything', async () => {
    const publicDataChanges = createPublicDataChanges({ redisUrl: undefined, redisPrefix: 'unused' }, createLogger('silent'));
    const { app } = cachingApp(publicDataChanges);
    const paperChanged = (arxivId: string) => publicDataChanges.announce({ kind: 'entities', entities: [{ typename: 'Paper', id: ids[arxivId]! }] });
    const before = await freshPage(app);
    expect(await statementsOf(() => freshPage(app))).toBe(1);

    // The paper edited (as updatePaperLinks announces it).
    await database.db.execute(sql`update papers set github_repo = 'https://github.com/kept/edited' where id = ${ids[A]!}`);
    expect((await freshPage(app))!.githubRepo).toBeNull();
    await paperChanged(A);
    expect((await freshPage(app))!.githubRepo).toBe('https://github.com/kept/edited');

    // A listed paper retitled, then withdrawn: lists of similar papers leave withdrawn papers out.
    await database.db.execute(sql`update papers set title = 'Retitled' where arxiv_id = '2511.20003'`);
    await paperChanged('2511.20003');
    expect((await freshPage(app))!.similarPapers.map((paper) => paper.title)).toEqual([before!.similarPapers[0]!.title, 'Retitled']);
    await database.db.execute(sql`update papers set withdrawn_at = now() where arxiv_id = '2511.20002'`);
    await paperChanged('2511.20002');
    expect((await freshPage(app))!.similarPapers.map((paper) => paper.title)).not.toContain(before!.similarPapers[0]!.title);
    await database.db.execute(sql`update papers set withdrawn_at = null where arxiv_id = '2511.20002'`);
    await paperChanged('2511.20002');

    // Its similar papers recomputed by the job, which announces its paper: the page shows what is stored now.
    const kept = await freshPage(app);
    await database.db.delete(similarPapers);
    expect(await freshPage(app)).toEqual(sameAs(kept));
    await runJob(
      'refresh-similar-papers',
      { paperId: ids[A]! },
      { db: database.db, config: cachingConfig, logger: createLogger('silent'), publicDataChanges },
    );
    const stored = await database.db
      .select({ id: similarPapers.similarPaperId })
      .from(similarPapers)
      .where(sql`${similarPapers.paperId} = ${ids[A]!} and ${similarPapers.rank} < 2`)
      .orderBy(similarPapers.rank);
    expect(stored).toHaveLength(2);
    let recomputed: KeptPaperPage['paper'] | undefined;
    // The paper, its authors and its similar papers read again.
    expect(await statementsOf(async () => (recomputed = await freshPage(app)))).toBe(3);
    expect(recomputed!.similarPapers.map((paper) => idOf(paper.id))).toEqual(stored.map((row) => row.id));

    // An author renamed (as an approved claim announces: everything).
    await database.db.execute(sql`update authors set name = 'Renamed Author' where id = ${idOf(before!.authors[0]!.author.id)}`);
    expect((await freshPage(app))!.authors[0]!.author.name).not.toBe('Renamed Author');
    await publicDataChanges.announce({ kind: 'everything' });
    expect((await freshPage(app))!.authors[0]!.author.name).toBe('Renamed Author');
  });

  it('keeps no unknown paper: one added later is found at once', async () => {
    const { app } = cachingApp();
    expect(await freshPage(app, undefined, '2511.20008')).toBeNull();
    await savePaperRecords(database.db, [paperRecord({ arxivId: '2511.20008' })]);
    expect((await freshPage(app, undefined, '2511.20008'))!.title).toEqual(expect.any(String));
  });

  it('ends in another process at a change announced there', async () => {
    const logger = createLogger('silent');
    const redisConfig = redisTestConfig('kept-paper-page', redisUrl);
    const reader = createPublicDataChanges(redisConfig, logger);
    const writer = createPublicDataChanges(redisConfig, logger);
    changes.push(reader, writer);
    const { app } = cachingApp(reader);
    // Kept once the subscription is ready (which ends everything kept, as what was announced meanwhile is lost).
    await expect.poll(async () => statementsOf(() => freshPage(app)), { timeout: 10_000, interval: 20 }).toBe(1);
    await database.db.execute(sql`update papers set title = 'Edited elsewhere' where id = ${ids[A]!}`);
    await database.db.execute(
      sql`update similar_papers set similar_paper_id = case rank when 0 then ${ids['2511.20003']!}::int else ${ids['2511.20002']!}::int end where paper_id = ${ids[A]!}`,
    );
    await writer.announce({ kind: 'entities', entities: [{ typename: 'Paper', id: ids[A]! }] });
    // Pub/sub is asynchronous: the kept page ends within moments, not at once.
    await expect.poll(async () => (await freshPage(app))!.title, { timeout: 10_000, interval: 20 }).toBe('Edited elsewhere');
    // Its similar papers, reordered there, too.
    expect((await freshPage(app))!.similarPapers.map((paper) => idOf(paper.id))).toEqual([ids['2511.20003'], ids['2511.20002']]);
  });
});
