import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createBullJobQueue } from '../jobs/bullmq';
import { authors, paperAuthors, papers, upvotes } from '../src/db/schema';
import { recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { createSession } from '../src/modules/accounts/sessions';
import { createRateLimiter } from '../src/rate-limit';
import { paperRecord, savePaperRecords, trending, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { recordingLogger } from './support/recorders';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { expectedKey } from './support/trending-oracle';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
let now = new Date('2025-11-12T12:00:00Z');
let paperId: string;
let paperRowId: number;

const UPVOTE = `mutation($id: ID!) { upvotePaper(paperId: $id) { id upvotes viewerHasUpvoted trendingScore } }`;
const REMOVE = `mutation($id: ID!) { removeUpvote(paperId: $id) { id upvotes viewerHasUpvoted } }`;
const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');

async function storedPaper() {
  const [paper] = await database.db.select().from(papers).where(eq(papers.id, paperRowId));
  return paper!;
}

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db, { clock: () => now });
});

beforeEach(async () => {
  await testApp.idle();
  await database.truncate();
  const saved = await savePaperRecords(database.db, [
    paperRecord({ submittedBy: { username: 'submitter' }, upvoteBaseline: 4, submittedAt: new Date('2025-11-12T08:00:00Z') }),
  ]);
  paperRowId = saved.paperIds[0]!;
  paperId = globalId('Paper', paperRowId);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

describe('upvotePaper and removeUpvote', () => {
  it('adds one upvote however often it is sent, and the voter sees it at once', async () => {
    const { token } = await userWithToken(database.db, 'ada');
    const first = await testApp.request(UPVOTE, { id: paperId }, token);
    expect(first.errors).toBeUndefined();
    expect(first.data!.upvotePaper).toMatchObject({ id: paperId, upvotes: 5, viewerHasUpvoted: true });
    const again = await testApp.request(UPVOTE, { id: paperId }, token);
    expect(again.data!.upvotePaper).toMatchObject({ upvotes: 5, viewerHasUpvoted: true });
    expect(await database.db.$count(upvotes)).toBe(1);
    expect((await storedPaper()).trendingKey).toBeCloseTo(await expectedKey(database.db, trending, paperRowId), 9);

    const read = await testApp.request(`query($id: ID!) { node(id: $id) { ... on Paper { upvotes viewerHasUpvoted } } }`, { id: paperId }, token);
    expect(read.data!.node).toEqual({ upvotes: 5, viewerHasUpvoted: true });
    const anonymous = await testApp.request(`query($id: ID!) { node(id: $id) { ... on Paper { viewerHasUpvoted } } }`, { id: paperId });
    expect(anonymous.data!.node).toEqual({ viewerHasUpvoted: false });
  });

  it('removes the upvote, recomputing the key from the remaining votes; removing again is a no-op', async () => {
    const ada = await userWithToken(database.db, 'ada');
    const grace = await userWithToken(database.db, 'grace');
    await testApp.request(UPVOTE, { id: paperId }, ada.token);
    now = new Date('2025-11-13T12:00:00Z');
    await testApp.request(UPVOTE, { id: paperId }, grace.token);
    const removed = await testApp.request(REMOVE, { id: paperId }, ada.token);
    expect(removed.data!.removeUpvote).toEqual({ id: paperId, upvotes: 5, viewerHasUpvoted: false });
    expect(Math.abs((await storedPaper()).trendingKey - (await expectedKey(database.db, trending, paperRowId)))).toBeLessThan(1e-9);
    const again = await testApp.request(REMOVE, { id: paperId }, ada.token);
    expect(again.data!.removeUpvote).toEqual({ id: paperId, upvotes: 5, viewerHasUpvoted: false });
    expect(await database.db.$count(upvotes)).toBe(1);
  });

  it("counts the submitter's upvote but gives it no weight in trending", async () => {
    const paper = await storedPaper();
    const submitterToken = await createSession(database.db, paper.submittedById!, now, 30);
    const response = await testApp.request(UPVOTE, { id: paperId }, submitterToken);
    expect(response.data!.upvotePaper.upvotes).toBe(5);
    expect((await storedPaper()).trendingKey).toBe(paper.trendingKey);
    const { token } = await userWithToken(database.db, 'ada');
    await testApp.request(UPVOTE, { id: paperId }, token);
    expect((await storedPaper()).trendingKey).toBeGreaterThan(paper.trendingKey);
    expect(await recomputeKeysAndCounts(database.db, trending)).toEqual({ keyIds: [], countIds: [] });
  });

  it("gives no weight to a verified author's upvote, here and in the recompute", async () => {
    const { user, token } = await userWithToken(database.db, 'the-author');
    const [authorship] = await database.db.select().from(paperAuthors).where(eq(paperAuthors.paperId, paperRowId));
    await database.db.update(authors).set({ userId: user.id }).where(eq(authors.id, authorship!.authorId));
    const before = (await storedPaper()).trendingKey;
    const response = await testApp.request(UPVOTE, { id: paperId }, token);
    expect(response.data!.upvotePaper.upvotes).toBe(5);
    expect((await storedPaper()).trendingKey).toBe(before);
    expect(await recomputeKeysAndCounts(database.db, trending)).toEqual({ keyIds: [], countIds: [] });
  });

  it('asks to sign in, rejects foreign and malformed IDs, and answers NOT_FOUND for a missing paper', async () => {
    const { token, user } = await userWithToken(database.db, 'ada');
    expect(errorCodes(await testApp.request(UPVOTE, { id: paperId }))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await testApp.request(REMOVE, { id: paperId }))).toEqual(['UNAUTHENTICATED']);
    const foreign = await testApp.request(UPVOTE, { id: globalId('User', user.id) }, token);
    expect(errorCodes(foreign)).toEqual(['BAD_USER_INPUT']);
    expect(foreign.errors![0]!.message).toMatch(/is not of type: Paper/);
    expect(errorCodes(await testApp.request(UPVOTE, { id: 'garbage' }, token))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await testApp.request(UPVOTE, { id: globalId('Paper', 999_999) }, token))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await testApp.request(REMOVE, { id: globalId('Paper', 999_999) }, token))).toEqual(['NOT_FOUND']);
    expect(await database.db.$count(upvotes)).toBe(0);
    expect((await storedPaper()).upvoteCount).toBe(4);
  });
});

describe('upvoters and upvotedPapers', () => {
  it('list votes most recent first, with cursors and counts', async () => {
    const voters = await Promise.all(['u1', 'u2', 'u3'].map((name) => userWithToken(database.db, name)));
    for (const [index, voter] of voters.entries()) {
      now = new Date(Date.UTC(2025, 10, 12, 13 + index));
      await testApp.request(UPVOTE, { id: paperId }, voter.token);
    }
    const page = await testApp.request(
      `query($id: ID!) { node(id: $id) { ... on Paper { upvoters(first: 2) { totalCount edges { node { username } } pageInfo { hasNextPage endCursor } } } } }`,
      { id: paperId },
    );
    const upvoters = page.data!.node.upvoters;
    expect(upvoters.totalCount).toBe(3);
    expect(upvoters.edges.map((edge: any) => edge.node.username)).toEqual(['u3', 'u2']);
    const next = await testApp.request(
      `query($id: ID!, $after: String) { node(id: $id) { ... on Paper { upvoters(first: 2, after: $after) { edges { node { username } } pageInfo { hasNextPage } } } } }`,
      { id: paperId, after: upvoters.pageInfo.endCursor },
    );
    expect(next.data!.node.upvoters).toEqual({ edges: [{ node: { username: 'u1' } }], pageInfo: { hasNextPage: false } });

    const upvoted = await testApp.request(
      `{ user(username: "u2") { upvotedPapers { totalCount edges { node { id viewerHasUpvoted } } } } }`,
      {},
      voters[1]!.token,
    );
    expect(upvoted.data!.user.upvotedPapers).toEqual({ totalCount: 1, edges: [{ node: { id: paperId, viewerHasUpvoted: true } }] });
  });
});

describe('vote rate limit', () => {
  it('answers RATE_LIMITED with a retry-after once a user exceeds the limit, and counts nothing more', async () => {
    const limited = createTestApp(database.db, {
      clock: () => now,
      limiters: { votes: createRateLimiter({ name: 'votes-test', points: 3, durationSeconds: 60, action: 'votes' }) },
    });
    try {
      const { token } = await userWithToken(database.db, 'eager');
      const other = await userWithToken(database.db, 'patient');
      for (const mutation of [UPVOTE, REMOVE, UPVOTE]) {
        expect((await limited.request(mutation, { id: paperId }, token)).errors).toBeUndefined();
      }
      const refused = await limited.request(REMOVE, { id: paperId }, token);
      expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
      expect(refused.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
      expect(refused.errors![0]!.extensions!.retryAfter).toBeLessThanOrEqual(60);
      expect(await database.db.$count(upvotes)).toBe(1);
      expect((await limited.request(UPVOTE, { id: paperId }, other.token)).errors).toBeUndefined();
    } finally {
      await limited.close();
    }
  });
});

describe('vote rate limit, several votes in one request', () => {
  it('takes one point per vote field before anything runs: past the limit, none of them is stored', async () => {
    const limited = createTestApp(database.db, {
      clock: () => now,
      limiters: { votes: createRateLimiter({ name: 'votes-batch-test', points: 3, durationSeconds: 60, action: 'votes' }) },
    });
    try {
      const { token } = await userWithToken(database.db, 'batcher');
      const twoVotes = `mutation($id: ID!) { a: upvotePaper(paperId: $id) { upvotes } b: removeUpvote(paperId: $id) { upvotes } }`;
      expect((await limited.request(twoVotes, { id: paperId }, token)).errors).toBeUndefined();
      // 2 of 3 points spent: two more votes are refused as a whole, before the first of them runs.
      const refused = await limited.request(
        `mutation($id: ID!) { a: upvotePaper(paperId: $id) { upvotes } b: upvotePaper(paperId: $id) { upvotes } }`,
        { id: paperId },
        token,
      );
      expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
      expect(refused.data).toBeUndefined();
      expect(await database.db.$count(upvotes)).toBe(0);
    } finally {
      await limited.close();
    }
  });
});

describe('with Redis unreachable', () => {
  it('an upvote still succeeds and shows, and the queue outage is logged', async () => {
    const deadRedisUrl = 'redis://127.0.0.1:6390';
    const { logger, lines: logged } = recordingLogger();
    const deadRedis = new Redis(deadRedisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, lazyConnect: true });
    const queue = createBullJobQueue({ redisUrl: deadRedisUrl, redisPrefix: 'dead' }, { logger });
    const offline = createTestApp(database.db, {
      clock: () => now,
      logger,
      jobs: queue,
      limiters: { votes: createRateLimiter({ name: 'votes-offline', points: 5, durationSeconds: 60, action: 'votes' }, deadRedis) },
    });
    try {
      const { token } = await userWithToken(database.db, 'ada');
      const response = await offline.request(UPVOTE, { id: paperId }, token);
      expect(response.errors).toBeUndefined();
      expect(response.data!.upvotePaper).toMatchObject({ upvotes: 5, viewerHasUpvoted: true });
      expect((await storedPaper()).upvoteCount).toBe(5);
      // The outage is one warning; the job it cost, a debug line.
      await expect
        .poll(() => logged.filter((line) => line.msg === 'could not enqueue a job; the scheduled reconcile will catch up'), { timeout: 5000 })
        .toMatchObject([{ level: 20 }]);
      expect(logged.filter((line) => line.level >= 40)).toMatchObject([
        { role: 'jobs-producer', msg: 'Redis unreachable; reconnecting in the background' },
      ]);
    } finally {
      await offline.close();
      await queue.close();
      deadRedis.disconnect();
    }
  });
});
