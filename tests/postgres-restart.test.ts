import { DrizzleQueryError } from 'drizzle-orm/errors';
import { GraphQLError } from 'graphql';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isDatabaseUnavailable } from '../src/db/unavailable';
import { createOwnPostgres, onOwnPostgres, type OwnPostgres } from './support/own-postgres';
import { PROCESS_TEST_TIMEOUT_MS, startServer, type ServerProcess } from './support/server-process';

// A Postgres server of this test's own, stopped and started again for real
// under a running API process.

let instance: OwnPostgres;
let server: ServerProcess;
let databaseUrl: string;

beforeAll(async () => {
  instance = await createOwnPostgres();
  await instance.start();
  await onOwnPostgres(instance, ['create database app']);
  databaseUrl = instance.urlFor('app');
  // No REDIS_URL: jobs in-process, rate limits in memory; the server migrates and seeds at start.
  // Lists stay cached long enough for the first test to read one after Postgres stopped, however slow the machine.
  server = await startServer({ DATABASE_URL: databaseUrl, DEMO_DATA: 'true', DEMO_PAPERS: '20', RESPONSE_CACHE_LIST_MAX_AGE_SECONDS: '600' });
  // The fit of the semantic search model queued at start ends every cached answer when done (search results
  // change): wait for it, so that it cannot empty the cache between the first test's read and its cached read.
  await server.waitForOutput(/semantic search model fitted/);
  // initdb, a Postgres start and a server start.
}, PROCESS_TEST_TIMEOUT_MS);

afterAll(async () => {
  await server?.stop();
  await instance?.cleanup();
});

interface Answer {
  status: number;
  headers: Headers;
  body: { data?: any; errors?: { message: string; extensions?: Record<string, any> }[] };
  /** Milliseconds from sending to the whole answer. */
  ms: number;
}

/**
 * A GraphQL request that is given up on after 20 s, so a hanging request fails the test rather than stalling it.
 * It asks for a fresh answer (the database's, not the response cache's) unless `cached` is set.
 */
async function graphql(query: string, variables?: Record<string, unknown>, token?: string, cached = false): Promise<Answer> {
  const started = performance.now();
  const response = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(cached ? {} : { 'cache-control': 'no-cache' }),
      ...(token ? { authorization: `Bearer ${token}` } : {}),
    },
    body: JSON.stringify({ query, variables }),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await response.json()) as Answer['body'];
  return { status: response.status, headers: response.headers, body, ms: performance.now() - started };
}

async function ready(): Promise<{ status: number; body: unknown; ms: number }> {
  const started = performance.now();
  const response = await fetch(`${server.url}/ready`, { signal: AbortSignal.timeout(20_000) });
  return { status: response.status, body: await response.json(), ms: performance.now() - started };
}

const trending = '{ trendingPapers(first: 3) { totalCount edges { node { id title upvotes } } } }';
const paperQuery = 'query($id: ID!) { node(id: $id) { ... on Paper { upvotes viewerHasUpvoted } } }';
const upvote = 'mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes viewerHasUpvoted } }';

/** The upvote rows of `username`, read straight from Postgres. */
async function upvoteRowsOf(username: string): Promise<number> {
  const client = postgres(databaseUrl, { max: 1, onnotice: () => {} });
  try {
    const [row] = await client`select count(*)::int as count from upvotes join users on users.id = upvotes.user_id where users.username = ${username}`;
    return row!.count as number;
  } finally {
    await client.end();
  }
}

/** How many of the server's sessions wait on a lock. */
async function sessionsWaitingOnALock(client: postgres.Sql): Promise<number> {
  const [row] = await client`select count(*)::int as count from pg_stat_activity where application_name = 'daily-papers' and wait_event_type = 'Lock'`;
  return row!.count as number;
}

/** The error of a request that found Postgres down: clear, retryable, with the request's id, and fast. */
function expectUnavailable(answer: Answer) {
  expect(answer.status).toBe(503);
  expect(answer.headers.get('retry-after')).toBe('5');
  expect(answer.body.errors).toHaveLength(1);
  const [error] = answer.body.errors!;
  expect(error!.message).toBe('The database is unavailable right now; try again in a few seconds.');
  expect(error!.extensions).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryAfter: 5 });
  expect(error!.extensions!.requestId).toBe(answer.headers.get('x-request-id'));
  expect(JSON.stringify(answer.body)).not.toMatch(/ECONNREFUSED|CONNECTION_|127\.0\.0\.1|postgres/i);
  expect(answer.ms).toBeLessThan(5_000);
}

describe('with Postgres restarting under the running server', () => {
  // Both stop and start a Postgres server (pg_ctl, and its start-up).
  it('requests fail fast with SERVICE_UNAVAILABLE, /ready says 503, and the pool recovers by itself', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    const before = await graphql(trending, undefined, undefined, true);
    expect(before.status).toBe(200);
    expect(before.body.errors).toBeUndefined();
    expect(before.body.data.trendingPapers.edges).toHaveLength(3);
    const paperId: string = before.body.data.trendingPapers.edges[0].node.id;
    const upvotesBefore: number = before.body.data.trendingPapers.edges[0].node.upvotes;
    const signUp = await graphql('mutation { signUp(username: "ada", email: "ada@example.org", password: "correct horse battery") { token } }');
    const token: string = signUp.body.data.signUp.token;
    expect((await ready()).status).toBe(200);

    await instance.stop('fast');

    // What the response cache holds is still served to anonymous readers.
    const fromCache = await graphql(trending, undefined, undefined, true);
    expect(fromCache.status).toBe(200);
    expect(fromCache.body).toEqual(before.body);

    // A read, again and again (no growing reconnect delay), and at once from many clients.
    const reads: Answer[] = [];
    for (let attempt = 0; attempt < 8; attempt += 1) reads.push(await graphql(trending));
    reads.push(...(await Promise.all(Array.from({ length: 100 }, () => graphql(trending)))));
    for (const answer of reads) expectUnavailable(answer);
    // Signed in, a mutation fails the same way (the session lookup is the first thing to reach Postgres).
    const vote = await graphql(upvote, { id: paperId }, token);
    expectUnavailable(vote);
    expect(vote.body.data ?? null).toBeNull();
    const unready = await ready();
    expect(unready).toMatchObject({ status: 503, body: { status: 'unavailable', checks: { postgres: false } } });
    expect(unready.ms).toBeLessThan(5_000);
    const slowest = (answers: Answer[]) => Math.round(Math.max(...answers.map((answer) => answer.ms)));

    await instance.start();

    // The same process, not restarted, serves again once its pool reconnects.
    const restarted = performance.now();
    await expect.poll(async () => (await graphql(trending)).status, { timeout: 10_000, interval: 100 }).toBe(200);
    const recoveryMs = performance.now() - restarted;
    const after = await graphql(trending);
    expect(after.body.errors).toBeUndefined();
    expect(after.body.data.trendingPapers.totalCount).toBe(before.body.data.trendingPapers.totalCount);
    expect((await ready()).status).toBe(200);

    // The upvote tried during the outage wrote nothing; tried again, it counts once.
    const untouched = await graphql(paperQuery, { id: paperId }, token);
    expect(untouched.body.data.node).toEqual({ upvotes: upvotesBefore, viewerHasUpvoted: false });
    expect(await upvoteRowsOf('ada')).toBe(0);
    const voted = await graphql(upvote, { id: paperId }, token);
    expect(voted.body.errors).toBeUndefined();
    expect(voted.body.data.upvotePaper).toEqual({ upvotes: upvotesBefore + 1, viewerHasUpvoted: true });
    expect(await upvoteRowsOf('ada')).toBe(1);

    expect(server.process.exitCode).toBeNull();
    console.info(
      `postgres-restart: slowest failure ${slowest(reads.slice(0, 8))} ms one at a time, ${slowest(reads.slice(8))} ms 100 at once, ${Math.round(vote.ms)} ms the upvote, /ready ${Math.round(unready.ms)} ms; recovered ${Math.round(recoveryMs)} ms after Postgres started`,
    );
  });

  it('requests in flight when Postgres stops fail with the same error', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    // Requests held on a table lock are mid-query on their connections when the server goes.
    const locker = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    const transaction = await locker.reserve();
    await transaction`begin`;
    await transaction`lock table papers in access exclusive mode`;
    let settled = 0;
    const inFlight = Array.from({ length: 5 }, () => graphql(trending).finally(() => (settled += 1)));
    const observer = postgres(databaseUrl, { max: 1, onnotice: () => {} });
    try {
      await expect.poll(() => sessionsWaitingOnALock(observer), { timeout: 20_000, interval: 50 }).toBeGreaterThanOrEqual(5);
    } finally {
      await observer.end();
    }
    expect(settled).toBe(0);

    await instance.stop('fast');
    const answers = await Promise.all(inFlight);
    transaction.release();
    await locker.end({ timeout: 0 }).catch(() => undefined);
    for (const answer of answers) expectUnavailable(answer);

    await instance.start();
    await expect.poll(async () => (await graphql(trending)).status, { timeout: 10_000, interval: 100 }).toBe(200);
  });
});

describe('isDatabaseUnavailable', () => {
  const withCode = (code: string) => Object.assign(new Error(code), { code });

  it.each(['ECONNREFUSED', 'ECONNRESET', 'CONNECT_TIMEOUT', 'CONNECTION_CLOSED', '57P01', '57P02', '57P03', '08006', '08001'])(
    'says yes to %s, however wrapped',
    (code) => {
      const driverError = withCode(code);
      expect(isDatabaseUnavailable(driverError)).toBe(true);
      const query = new DrizzleQueryError('select 1', [], driverError);
      expect(isDatabaseUnavailable(query)).toBe(true);
      expect(isDatabaseUnavailable(new GraphQLError('x', { originalError: query }))).toBe(true);
      expect(isDatabaseUnavailable(new AggregateError([driverError]))).toBe(true);
    },
  );

  it.each(['CONNECTION_ENDED', 'CONNECTION_DESTROYED', '23505', '42601', '57014', '40001', 'ENOENT'])('says no to %s', (code) => {
    expect(isDatabaseUnavailable(new DrizzleQueryError('select 1', [], withCode(code)))).toBe(false);
  });

  it('says no to anything else', () => {
    expect(isDatabaseUnavailable(new Error('boom'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
    const cyclic: { code: string; cause?: unknown } = { code: 'nope' };
    cyclic.cause = { cause: cyclic };
    expect(isDatabaseUnavailable(cyclic)).toBe(false);
  });
});
