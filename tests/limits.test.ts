import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { papers } from '../src/db/schema';
import { paperRecord, savePaperRecords, testConfig } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { clientAddressOf } from '../src/http/client-address';
import { createHttpServer } from '../src/http-server';
import { createRateLimiter } from '../src/rate-limit';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

/** What the front page of the site asks for: a page of papers with authors, comments and similar papers. */
const TRENDING_PAGE = `query TrendingPage($first: Int, $after: String) {
  viewer { username avatarUrl }
  trendingPapers(first: $first, after: $after) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node {
      id arxivId title abstract publishedAt submittedAt upvotes viewerHasUpvoted trendingScore commentCount
      thumbnailUrl githubRepo githubStars projectPage aiSummary keywords authorCount
      authors { name position author { id name } }
      organization { name fullName avatarUrl }
      submittedBy { username displayName avatarUrl }
      comments(first: 3) { totalCount edges { node { id body createdAt author { username avatarUrl }
        replies(first: 2) { totalCount edges { node { id body createdAt author { username } } } } } } }
      similarPapers(first: 5) { id arxivId title upvotes authors { name } }
    } }
  }
}`;

beforeAll(async () => {
  database = await createTestDatabase();
  await savePaperRecords(
    database.db,
    Array.from({ length: 5 }, () => paperRecord()),
  );
  testApp = createTestApp(database.db);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

async function post(body: string, headers: Record<string, string> = {}) {
  const response = await testApp.app.fetch(
    new Request('http://test/graphql', { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body }),
  );
  return { status: response.status, text: await response.text() };
}

/** `text` as a stream of 16 KiB chunks: a body sent without a Content-Length. */
function streamOf(text: string) {
  return new ReadableStream({
    start(controller) {
      for (let at = 0; at < text.length; at += 16_384) controller.enqueue(new TextEncoder().encode(text.slice(at, at + 16_384)));
      controller.close();
    },
  });
}

describe('request limits', () => {
  it('let the real front-page query through', async () => {
    const response = await testApp.request(TRENDING_PAGE, { first: 50 });
    expect(response.errors).toBeUndefined();
    expect(response.data!.trendingPapers.edges).toHaveLength(5);
  });

  it('reject deep nesting', async () => {
    let nested = 'name';
    for (let level = 0; level < 4; level += 1) nested = `papers { edges { node { authors { author { ${nested} } } } } }`;
    const query = `{ paper(arxivId: "2511.00001") { authors { author { ${nested} } } } }`;
    const response = await testApp.request(query);
    expect(response.data ?? null).toBeNull();
    expect(response.errors![0]!.message).toMatch(/depth limit of 12 exceeded/i);
    expect(response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'DEPTH_LIMIT' });
    // Without a depth limit, the cost limit refuses it.
    const deep = createTestApp(database.db, {
      config: { ...testConfig, queryLimits: { ...testConfig.queryLimits, maxDepth: 1_000 } },
    });
    try {
      const refused = await deep.request(query);
      expect(refused.data ?? null).toBeNull();
      expect(refused.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'COST_LIMIT' });
    } finally {
      await deep.close();
    }
  });

  it('reject 1,000 aliases', async () => {
    const aliases = Array.from({ length: 1000 }, (_, index) => `a${index}: trendingPapers(first: 1) { totalCount }`).join('\n');
    const response = await testApp.request(`{ ${aliases} }`);
    expect(response.data ?? null).toBeNull();
    expect(response.errors![0]!.message).toMatch(/(aliases|token) limit of \d+ exceeded/i);
    expect(response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: expect.stringMatching(/ALIAS_LIMIT|TOKEN_LIMIT/) });
  });

  it('reject a query too costly to run', async () => {
    const fields = 'id arxivId title abstract upvotes authors { name author { name paperCount } } organization { name }';
    const wide = Array.from({ length: 40 }, (_, index) => `p${index}: trendingPapers(first: 100) { edges { node { ${fields} } } }`);
    const response = await testApp.request(`{ ${wide.slice(0, 28).join('\n')} }`);
    expect(response.data ?? null).toBeNull();
    expect(response.errors![0]!.message).toMatch(/cost limit of 25000 exceeded/i);
    expect(response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'COST_LIMIT' });
  });

  it('reject a page above 100', async () => {
    const response = await testApp.request('{ trendingPapers(first: 1000) { totalCount } }');
    expect(response.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
  });

  it('reject an oversized body before reading it', async () => {
    // Over real HTTP, where the client sends a Content-Length.
    const server = createServer(testApp.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ query: `{ __typename } # ${'x'.repeat(200_000)}` }),
      });
      expect(response.status).toBe(413);
      expect(await response.text()).toMatch(/at most 100000 bytes/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('count a body without a length given to the app directly: a small one is served, a large one refused with 413', async () => {
    const streamed = (text: string) =>
      testApp.app.fetch(
        new Request('http://test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: streamOf(text),
          duplex: 'half',
        } as RequestInit),
      );
    const small = await streamed(JSON.stringify({ query: '{ __typename }' }));
    expect(small.status).toBe(200);
    expect(await small.json()).toEqual({ data: { __typename: 'Query' } });
    const large = await streamed(JSON.stringify({ query: `{ __typename } # ${'x'.repeat(200_000)}` }));
    expect(large.status).toBe(413);
    const body = (await large.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]).toMatchObject({ message: expect.stringMatching(/at most 100000 bytes/), extensions: { code: 'BAD_USER_INPUT' } });
  });

  it('count a chunked body as it arrives: a small one is served, a large one refused with 413', async () => {
    const server = createHttpServer(testApp.app, { maxRequestBytes: testConfig.http.maxRequestBytes });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      // A ReadableStream body is sent chunked, without a Content-Length.
      const chunked = (text: string) =>
        fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: streamOf(text),
          duplex: 'half',
        } as RequestInit);
      const small = await chunked(JSON.stringify({ query: '{ __typename }' }));
      expect(small.status).toBe(200);
      expect(await small.json()).toEqual({ data: { __typename: 'Query' } });
      const large = await chunked(JSON.stringify({ query: `{ __typename } # ${'x'.repeat(200_000)}` })).catch((error: unknown) => error);
      // The server answers 413 and closes without reading the rest; the client may see the answer or the closed socket.
      if (large instanceof Response) {
        expect(large.status).toBe(413);
        expect(await large.text()).toMatch(/at most 100000 bytes/);
      } else {
        expect(String((large as Error).cause ?? large)).toMatch(/socket|closed|reset|EPIPE/i);
      }
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reject a batch of operations', async () => {
    const response = await post(JSON.stringify([{ query: '{ __typename }' }, { query: '{ __typename }' }]));
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.text).not.toContain('"__typename":"Query"');
  });

  it('refuse a GET without a CSRF header, and serve it with one', async () => {
    const url = `http://test/graphql?query=${encodeURIComponent('{ __typename }')}`;
    const bare = await testApp.app.fetch(new Request(url, { headers: { accept: 'application/json' } }));
    expect(bare.status).toBe(403);
    const marked = await testApp.app.fetch(new Request(url, { headers: { accept: 'application/json', 'x-graphql-yoga-csrf': '1' } }));
    expect(await marked.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('answer introspection by default, and refuse it when configured off', async () => {
    expect((await testApp.request('{ __schema { queryType { name } } }')).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const closed = createTestApp(database.db, { config: { ...testConfig, http: { ...testConfig.http, introspection: false } } });
    try {
      const response = await closed.request('{ __schema { queryType { name } } }');
      expect(response.errors![0]!.message).toMatch(/introspection/i);
    } finally {
      await closed.close();
    }
  });

  it('send CORS headers for the configured origins only', async () => {
    const restricted = createTestApp(database.db, {
      config: { ...testConfig, http: { ...testConfig.http, corsOrigins: ['https://papers.example.org'] } },
    });
    try {
      const preflight = (origin: string) =>
        restricted.app.fetch(
          new Request('http://test/graphql', {
            method: 'OPTIONS',
            headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' },
          }),
        );
      expect((await preflight('https://papers.example.org')).headers.get('access-control-allow-origin')).toBe('https://papers.example.org');
      expect((await preflight('https://evil.example.com')).headers.get('access-control-allow-origin')).not.toBe('https://evil.example.com');
    } finally {
      await restricted.close();
    }
  });
});

/** The chain of similar papers from the attack report: its page size comes in a variable. */
const SIMILAR_CHAIN = `query($n: Int) { paper(arxivId: "2511.00001") {
  similarPapers(first: $n) { similarPapers(first: $n) { similarPapers(first: $n) { similarPapers(first: $n) { arxivId } } } } } }`;

describe('the cost limit', () => {
  /** The response to `query`, and how many SQL statements it sent. */
  async function costOf(app: ReturnType<typeof createTestApp>, query: string, variables?: Record<string, unknown>) {
    const before = database.queries.length;
    const response = await app.request(query, variables);
    return { response, statements: database.queries.length - before };
  }

  it('counts page sizes given in variables: the similar-papers chain is refused before any SQL, a hundred times over', async () => {
    for (let attempt = 0; attempt < 100; attempt += 1) {
      const { response, statements } = await costOf(testApp, SIMILAR_CHAIN, { n: 30 });
      expect(response.data ?? null).toBeNull();
      expect(response.errors).toHaveLength(1);
      expect(response.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'COST_LIMIT' });
      expect(response.errors![0]!.message).toMatch(/cost limit of 25000 exceeded: this query could cost \d+/i);
      expect(statements).toBe(0);
    }
    // The same chain, short enough, runs.
    const { response } = await costOf(testApp, SIMILAR_CHAIN, { n: 2 });
    expect(response.errors).toBeUndefined();
  });

  it('counts the fields a variable includes or skips, and the same document with other ids alike', async () => {
    const chain = SIMILAR_CHAIN.replace('query($n: Int) {', 'query($n: Int, $deep: Boolean!, $arxivId: String!) {').replace(
      '{ paper(arxivId: "2511.00001") {',
      '{ other: paper(arxivId: $arxivId) { id } paper(arxivId: "2511.00001") @include(if: $deep) {',
    );
    expect(chain).toContain('@include(if: $deep)');
    for (const arxivId of ['a', 'b']) {
      const deep = await costOf(testApp, chain, { n: 30, deep: true, arxivId });
      expect(deep.response.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'COST_LIMIT' });
      expect(deep.statements).toBe(0);
      const skipped = await costOf(testApp, chain, { n: 30, deep: false, arxivId });
      expect(skipped.response.errors).toBeUndefined();
    }
  });

  it('answers a refusal with 400 to a client that accepts application/graphql-response+json, 200 to one that accepts JSON', async () => {
    const send = (accept: string) =>
      testApp.app.fetch(
        new Request('http://test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept },
          body: JSON.stringify({ query: SIMILAR_CHAIN, variables: { n: 30 } }),
        }),
      );
    const modern = await send('application/graphql-response+json');
    expect(modern.status).toBe(400);
    expect(((await modern.json()) as { errors: { extensions: unknown }[] }).errors[0]!.extensions).toEqual({
      code: 'BAD_USER_INPUT',
      reason: 'COST_LIMIT',
    });
    expect((await send('application/json')).status).toBe(200);
  });

  it('counts nested connections by their variables, and an absent `first` as 20', async () => {
    const nested = `query($n: Int) { papers { edges { node { upvoters { edges { node {
      upvotedPapers(first: $n) { edges { node { arxivId title abstract } } } } } } } } } }`;
    const wide = await costOf(testApp, nested, { n: 100 });
    expect(wide.response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'COST_LIMIT' });
    expect(wide.statements).toBe(0);
    // No `first` anywhere: each level counts 20.
    const defaults = await costOf(
      testApp,
      `{ papers { edges { node { upvoters { edges { node {
      upvotedPapers { edges { node { arxivId title } } } } } } } } } }`,
    );
    expect(defaults.response.errors![0]!.extensions).toMatchObject({ code: 'BAD_USER_INPUT', reason: 'COST_LIMIT' });
    expect(defaults.statements).toBe(0);
  });

  it('counts a variable `first` above 100 as 100, so the page-size message answers it', async () => {
    const response = await testApp.request('query($n: Int) { trendingPapers(first: $n) { edges { node { title abstract } } } }', { n: 5000 });
    expect(response.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(response.errors![0]!.message).toMatch(/`first` must be between 0 and 100, got 5000/);
  });
});

describe('the time and size budget of a request', () => {
  const budgeted = (limits: Partial<typeof testConfig.queryLimits>) =>
    createTestApp(database.db, { config: { ...testConfig, queryLimits: { ...testConfig.queryLimits, ...limits } } });

  it('stops an operation past its deadline with one error, before it sends any SQL', async () => {
    // A deadline already passed when the operation starts: no field may resolve.
    const late = budgeted({ timeoutMs: -1 });
    try {
      const before = database.queries.length;
      const response = await late.request('{ trendingPapers(first: 5) { edges { node { title } } } }');
      expect(database.queries.length - before).toBe(0);
      expect(response.data ?? null).toBeNull();
      expect(response.errors).toHaveLength(1);
      expect(response.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'TIME_LIMIT' });
      expect(response.errors![0]!.message).toMatch(/time limit of -1 ms/);
      // A mutation runs to its end: one that has done its work must not answer with an error.
      expect((await late.request('mutation { logOut }')).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    } finally {
      await late.close();
    }
  });

  it('counts the fields without a resolver of their own (read from their paper) before the fields below them resolve', async () => {
    const long = paperRecord({ abstract: 'A long abstract. '.repeat(1_000) });
    const [id] = (await savePaperRecords(database.db, [long])).paperIds;
    const small = budgeted({ maxResponseBytes: 10_000 });
    try {
      const query = (fields: string) => `{ paper(arxivId: "${long.arxivId}") { ${fields} } }`;
      expect((await small.request(query('title abstract'))).errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'RESPONSE_SIZE_LIMIT' });
      const before = database.queries.length;
      const response = await small.request(query('abstract similarPapers(first: 5) { title }'));
      expect(response.data ?? null).toBeNull();
      expect(response.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'RESPONSE_SIZE_LIMIT' });
      expect(database.queries.slice(before).some((statement) => /similar_papers/.test(statement))).toBe(false);
      expect((await small.request(query('title'))).data).toEqual({ paper: { title: expect.any(String) } });
    } finally {
      await small.close();
      await database.db.delete(papers).where(eq(papers.id, id!));
    }
  });

  it('stops an answer past its size with one error, before it asks for more', async () => {
    const small = budgeted({ maxResponseBytes: 50 });
    try {
      const before = database.queries.length;
      const response = await small.request('{ trendingPapers(first: 5) { edges { node { title abstract similarPapers(first: 30) { title } } } } }');
      const sent = database.queries.slice(before);
      expect(response.data ?? null).toBeNull();
      expect(response.errors).toHaveLength(1);
      expect(response.errors![0]!.extensions).toEqual({ code: 'BAD_USER_INPUT', reason: 'RESPONSE_SIZE_LIMIT' });
      expect(response.errors![0]!.message).toMatch(/size limit of 50 bytes/);
      // The page was read; the similar papers of its papers were never asked for.
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.some((statement) => /similar_papers/.test(statement))).toBe(false);
      // The same query within the default budget is answered.
      expect(
        (await testApp.request('{ trendingPapers(first: 5) { edges { node { title abstract similarPapers(first: 30) { title } } } } }')).errors,
      ).toBeUndefined();
    } finally {
      await small.close();
    }
  });
});

describe('the client address of a request', () => {
  const request = (peer: string, forwardedFor?: string) =>
    ({ socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as never;

  it('is the socket peer when no proxy is trusted, whatever X-Forwarded-For claims', () => {
    expect(clientAddressOf(request('203.0.113.9', '198.51.100.1'), 0)).toBe('203.0.113.9');
  });

  it('is the entry the trusted proxies appended, not what the client wrote further left', () => {
    // The client forged "1.1.1.1"; the one trusted proxy appended the address it saw.
    expect(clientAddressOf(request('10.0.0.2', '1.1.1.1, 198.51.100.7'), 1)).toBe('198.51.100.7');
    expect(clientAddressOf(request('10.0.0.3', '1.1.1.1, 198.51.100.7, 10.0.0.2'), 2)).toBe('198.51.100.7');
    expect(clientAddressOf(request('10.0.0.2'), 1)).toBe('10.0.0.2');
  });

  it('keys the rate limits: behind one trusted proxy, clients are limited apart', async () => {
    const proxied = createTestApp(database.db, {
      config: { ...testConfig, http: { ...testConfig.http, trustedProxyHops: 1 } },
      limiters: { mutations: createRateLimiter({ name: 'mutations-proxy-test', points: 1, durationSeconds: 60, action: 'changes' }) },
    });
    const server = createServer(proxied.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const logOutAs = async (client: string) => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
          body: JSON.stringify({ query: 'mutation { logOut }' }),
        });
        return ((await response.json()) as { errors: { extensions: { code: string } }[] }).errors[0]!.extensions.code;
      };
      expect(await logOutAs('198.51.100.1')).toBe('UNAUTHENTICATED');
      expect(await logOutAs('198.51.100.1')).toBe('RATE_LIMITED');
      expect(await logOutAs('198.51.100.2')).toBe('UNAUTHENTICATED');
    } finally {
      await new Promise((resolve) => server.close(resolve));
      await proxied.close();
    }
  });
});

describe('the mutation rate limit', () => {
  it('counts every mutation field per client address, aliases included, and refuses past it', async () => {
    const limited = createTestApp(database.db, {
      limiters: { mutations: createRateLimiter({ name: 'mutations-test', points: 3, durationSeconds: 60, action: 'changes' }) },
    });
    try {
      const logOuts = (count: number) => `mutation { ${Array.from({ length: count }, (_, index) => `l${index}: logOut`).join(' ')} }`;
      // Two fields fit (they fail for want of a session, which is not the limit's business)...
      expect((await limited.request(logOuts(2))).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
      // ...two more do not: the allowance of three is spent.
      const refused = await limited.request(logOuts(2));
      expect(refused.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
      // Queries are not mutations.
      expect((await limited.request('{ __typename }')).data).toEqual({ __typename: 'Query' });
    } finally {
      await limited.close();
    }
  });
});
