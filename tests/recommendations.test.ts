// The recommendation fields join the schema before the app builds it.
import '../src/modules/recommendations/recommendations.graphql';
import { QueueEvents, type Queue } from 'bullmq';
import { asc, desc, eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JOBS_QUEUE_NAME, createBullJobQueue, createJobsQueue, startBullWorker } from '../jobs/bullmq';
import type { JobDependencies } from '../jobs/jobs';
import { refreshVotersRecommendations } from '../jobs/processors/refresh-voters-recommendations';
import { papers, recommendations, similarPapers } from '../src/db/schema';
import { hitAtK, ndcgAtK, scoreRankings } from '../src/eval/metrics';
import { createLogger } from '../src/logger';
import { RECOMMENDATIONS_STORED, SIMILAR_PAPERS_STORED } from '../src/modules/recommendations/ranking-parameters';
import { readRecommendations, refreshRecommendations } from '../src/modules/recommendations/recommendations';
import { lacksPaperNeighbors, refreshSimilarPapers } from '../src/modules/recommendations/similar-papers';
import {
  castVotes,
  paperRecord,
  redisTestConfig,
  savePaperRecords,
  saveTopicPapers,
  testConfig,
  testRedisUrl as redisUrl,
  userWithToken,
} from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { database, setUpFileApp, testApp } from './support/file-app';
import { recordingJobQueue } from './support/recorders';
import { createTestApp } from './support/test-app';

/** This file's own BullMQ keys (its REDIS_PREFIX), removed at the end. */
const redisConfig = redisTestConfig('recommendations', redisUrl);
const prefix = redisConfig.redisPrefix;
const JOB_WAIT_MS = 10_000;

const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');

/** What the app enqueued, instead of running it. */
const { queue: recordingQueue, enqueued, clear: forgetEnqueued } = recordingJobQueue();
setUpFileApp({ jobs: recordingQueue });
beforeEach(forgetEnqueued);

const topicPapers = () => saveTopicPapers(database.db, 5);

async function storedSimilar(paperId?: number) {
  return database.db
    .select()
    .from(similarPapers)
    .where(paperId === undefined ? undefined : eq(similarPapers.paperId, paperId))
    .orderBy(asc(similarPapers.paperId), asc(similarPapers.rank));
}

async function trendingIds(limit: number, except: number[] = []): Promise<number[]> {
  const rows = await database.db.select({ id: papers.id }).from(papers).orderBy(desc(papers.trendingKey), desc(papers.id));
  return rows
    .map((row) => row.id)
    .filter((id) => !except.includes(id))
    .slice(0, limit);
}

describe('similar papers', () => {
  it('tells a database whose papers have no stored neighbours (one filled before they existed) from one that has them', async () => {
    await topicPapers();
    expect(await lacksPaperNeighbors(database.db)).toBe(true);
    await refreshSimilarPapers(database.db, 'all');
    expect(await lacksPaperNeighbors(database.db)).toBe(false);
  });

  it('never lists the paper itself, ranks its topic first, and recomputes to the same rows in the documented order', async () => {
    const topics = await topicPapers();
    expect(await refreshSimilarPapers(database.db, 'all')).toEqual({ papers: 15, rows: 15 * 14 });
    const first = await storedSimilar();
    for (const [topic, ids] of Object.entries(topics)) {
      for (const paperId of ids) {
        const rows = first.filter((row) => row.paperId === paperId);
        expect(rows.map((row) => row.similarPaperId)).not.toContain(paperId);
        expect(rows.map((row) => row.rank)).toEqual(rows.map((_, index) => index));
        // Score descending, then id descending on ties.
        for (const [index, row] of rows.slice(1).entries()) {
          const previous = rows[index]!;
          expect(previous.score > row.score || (previous.score === row.score && previous.similarPaperId > row.similarPaperId)).toBe(true);
        }
        // The four other papers of its topic come first.
        expect(new Set(rows.slice(0, 4).map((row) => row.similarPaperId)), topic).toEqual(new Set(ids.filter((id) => id !== paperId)));
      }
    }
    await refreshSimilarPapers(database.db, 'all');
    expect(await storedSimilar()).toEqual(first);
    // One paper alone gets the same list as in the full refresh (scores summed in another order may differ in the last bits).
    const one = topics.robotics[2]!;
    expect(await refreshSimilarPapers(database.db, [one])).toEqual({ papers: 1, rows: 14 });
    const alone = await storedSimilar(one);
    const inFull = first.filter((row) => row.paperId === one);
    expect(alone.map((row) => row.similarPaperId)).toEqual(inFull.map((row) => row.similarPaperId));
    for (const [index, row] of alone.entries()) expect(row.score).toBeCloseTo(inFull[index]!.score, 12);
  });

  it('gives a paper without a word in common trending papers, and co-voted papers once it has votes', async () => {
    const topics = await topicPapers();
    const {
      paperIds: [loner],
    } = await savePaperRecords(database.db, [paperRecord({ title: 'Qwzx', abstract: 'Vbnm plkj.', keywords: [], authors: [{ name: 'Xyzzy' }] })]);
    await refreshSimilarPapers(database.db, [loner!]);
    const fallback = await storedSimilar(loner);
    expect(fallback.map((row) => row.similarPaperId)).toEqual(await trendingIds(SIMILAR_PAPERS_STORED, [loner!]));

    const coVoted = topics.robotics[3]!;
    const at = new Date('2025-11-12T10:00:00Z');
    await castVotes(database.db, [
      { username: 'ada', paperId: loner!, at },
      { username: 'ada', paperId: coVoted!, at },
    ]);
    await refreshSimilarPapers(database.db, [loner!], { content: 0, coUpvote: 1, trending: 0 });
    expect((await storedSimilar(loner)).map((row) => row.similarPaperId)).toEqual([coVoted]);
  });

  it('ranks a co-voted paper above a paper with slightly more words in common', async () => {
    const {
      paperIds: [paper, coVoted, wordy],
    } = await savePaperRecords(database.db, [
      paperRecord({ title: 'Sparse mixture routing', abstract: 'Experts gating capacity balancing tokens.' }),
      paperRecord({ title: 'Sparse mixture scaling', abstract: 'Experts gating capacity.' }),
      paperRecord({ title: 'Sparse mixture routing', abstract: 'Experts gating capacity balancing.' }),
      ...Array.from({ length: 6 }, (_, index) =>
        paperRecord({ title: `Unrelated ${['alpha', 'beta', 'gamma'][index % 3]} topic`, abstract: 'Other words here.' }),
      ),
    ]);
    const weights = { content: 1, coUpvote: 1, trending: 0 };
    await refreshSimilarPapers(database.db, [paper!], weights);
    const before = (await storedSimilar(paper)).map((row) => row.similarPaperId);
    expect(before.indexOf(wordy!)).toBeLessThan(before.indexOf(coVoted!));

    const at = new Date('2025-11-12T10:00:00Z');
    await castVotes(
      database.db,
      ['ada', 'grace', 'alan', 'edsger', 'barbara'].flatMap((username) => [
        { username, paperId: paper!, at },
        { username, paperId: coVoted!, at },
      ]),
    );
    await refreshSimilarPapers(database.db, [paper!], weights);
    const after = (await storedSimilar(paper)).map((row) => row.similarPaperId);
    expect(after[0]).toBe(coVoted);
    expect(after.indexOf(coVoted!)).toBeLessThan(after.indexOf(wordy!));
  });

  it('refreshes nothing for a paper that does not exist', async () => {
    await topicPapers();
    expect(await refreshSimilarPapers(database.db, [999_999])).toEqual({ papers: 0, rows: 0 });
    expect(await storedSimilar()).toEqual([]);
  });
});

const SIMILAR_PAGE = `query($first: Int) {
  papers(first: 20) { edges { node { id similarPapers(first: $first) { id } } } }
}`;

describe('Paper.similarPapers', () => {
  it('serves a page of 20 papers with one query for all their similar papers', async () => {
    await topicPapers();
    await savePaperRecords(
      database.db,
      Array.from({ length: 10 }, () => paperRecord()),
    );
    await refreshSimilarPapers(database.db, 'all');
    database.queries.length = 0;
    const response = await testApp.request(SIMILAR_PAGE, { first: 3 });
    expect(response.errors).toBeUndefined();
    const nodes: { id: string; similarPapers: { id: string }[] }[] = response.data!.papers.edges.map((edge: { node: unknown }) => edge.node);
    expect(nodes).toHaveLength(20);
    for (const node of nodes) {
      expect(node.similarPapers).toHaveLength(3);
      expect(node.similarPapers.map((similar) => similar.id)).not.toContain(node.id);
    }
    // The page, then the similar papers of all 20 (with their fields) at once.
    expect(database.queries.filter((query) => /similar_papers/.test(query))).toHaveLength(1);
    expect(database.queries).toHaveLength(2);
    const stored = await storedSimilar();
    for (const node of nodes) {
      const expected = stored
        .filter((row) => globalId('Paper', row.paperId) === node.id && row.rank < 3)
        .map((row) => globalId('Paper', row.similarPaperId));
      expect(node.similarPapers.map((similar) => similar.id)).toEqual(expected);
    }
  });

  it('falls back to trending papers (never the paper itself) before the first refresh', async () => {
    await savePaperRecords(
      database.db,
      Array.from({ length: 8 }, () => paperRecord()),
    );
    const top = (await trendingIds(1))[0]!;
    const response = await testApp.request(`query($id: ID!) { node(id: $id) { ... on Paper { similarPapers { id } } } }`, { id: globalId('Paper', top) });
    expect(response.errors).toBeUndefined();
    expect(response.data!.node.similarPapers.map((paper: { id: string }) => paper.id)).toEqual(
      (await trendingIds(5, [top])).map((id) => globalId('Paper', id)),
    );
  });

  it('takes first from 0 to 30, BAD_USER_INPUT otherwise', async () => {
    const { paperIds } = await savePaperRecords(database.db, [paperRecord(), paperRecord()]);
    const query = `query($id: ID!, $first: Int) { node(id: $id) { ... on Paper { similarPapers(first: $first) { id } } } }`;
    const id = globalId('Paper', paperIds[0]!);
    expect((await testApp.request(query, { id, first: 0 })).data!.node.similarPapers).toEqual([]);
    expect((await testApp.request(query, { id, first: 30 })).data!.node.similarPapers).toHaveLength(1);
    for (const first of [-1, 31]) {
      const response = await testApp.request(query, { id, first });
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message).toMatch(/between 0 and 30/);
    }
  });
});

const RECOMMENDED = `query($first: Int) { viewer { recommendedPapers(first: $first) { id } } }`;
const idsOf = (response: { data?: Record<string, any> | null }) =>
  response.data!.viewer.recommendedPapers.map((paper: { id: string }) => paper.id) as string[];

describe('User.recommendedPapers', () => {
  it('recommends papers like the upvoted ones, never an upvoted one, even one upvoted after the refresh', async () => {
    const topics = await topicPapers();
    const { user, token } = await userWithToken(database.db, 'ada');
    await castVotes(database.db, [
      { username: 'ada', paperId: topics.robotics[0]!, at: new Date('2025-11-12T09:00:00Z') },
      { username: 'ada', paperId: topics.robotics[1]!, at: new Date('2025-11-12T10:00:00Z') },
    ]);
    await refreshSimilarPapers(database.db, 'all');
    expect(await refreshRecommendations(database.db, user.id)).toBe(13);

    const before = idsOf(await testApp.request(RECOMMENDED, { first: 3 }, token));
    const robotics = topics.robotics.map((id) => globalId('Paper', id));
    expect(new Set(before)).toEqual(new Set(robotics.slice(2)));
    expect(enqueued).toEqual([]);

    // Upvoted since the refresh: left out at once, and another paper takes its place.
    await castVotes(database.db, [{ username: 'ada', paperId: topics.robotics[2]!, at: new Date('2025-11-12T11:00:00Z') }]);
    const after = idsOf(await testApp.request(RECOMMENDED, { first: 3 }, token));
    expect(after).toHaveLength(3);
    expect(after).not.toContain(robotics[2]);
    expect(after.slice(0, 2)).toEqual(before.filter((id) => id !== robotics[2]));
    const all = idsOf(await testApp.request(RECOMMENDED, { first: RECOMMENDATIONS_STORED }, token));
    expect(all).toHaveLength(12);
    for (const upvoted of robotics.slice(0, 3)) expect(all).not.toContain(upvoted);
  });

  it('gives a user without recommendations or upvotes trending papers, and enqueues a refresh', async () => {
    await savePaperRecords(
      database.db,
      Array.from({ length: 8 }, () => paperRecord()),
    );
    const { user, token } = await userWithToken(database.db, 'newcomer');

    const response = await testApp.request(RECOMMENDED, { first: 5 }, token);
    expect(idsOf(response)).toEqual((await trendingIds(5)).map((id) => globalId('Paper', id)));
    expect(enqueued).toEqual([{ name: 'refresh-recommendations', payload: { userId: user.id }, deduplicationId: `user:${user.id}` }]);
  });

  it('refreshes a voter once per burst of upvotes, RECOMMENDATIONS_REFRESH_DELAY_SECONDS after it starts', async () => {
    const delayedApp = createTestApp(database.db, {
      jobs: recordingQueue,
      config: { ...testConfig, recommendations: { ...testConfig.recommendations, refreshDelayMs: 30_000 } },
    });
    await savePaperRecords(
      database.db,
      Array.from({ length: 5 }, () => paperRecord()),
    );
    const [paperId, ...others] = await trendingIds(5);
    const { user, token } = await userWithToken(database.db, 'burst');
    // An established reader (a new one's feed refreshes at once: tests/recommendation-feedback.test.ts).
    await castVotes(
      database.db,
      others.map((other) => ({ username: 'burst', paperId: other, at: new Date('2025-11-12T09:00:00Z') })),
    );
    const upvote = `mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`;
    const voted = await delayedApp.request(upvote, { id: globalId('Paper', paperId!) }, token);
    expect(voted.errors).toBeUndefined();
    // Handed to the queue with the process's other voters when the app stops (or within VOTER_FLUSH_MS).
    expect(enqueued).toEqual([]);
    await delayedApp.close();
    expect(enqueued).toEqual([
      { name: 'refresh-voters-recommendations', payload: { userIds: [user.id], votedBefore: expect.any(String) }, delayMs: 30_000 },
    ]);
  });

  it('refreshes the voters of a refresh-voters-recommendations job, skipping one whose list was recomputed since they voted', async () => {
    await savePaperRecords(
      database.db,
      Array.from({ length: 6 }, () => paperRecord()),
    );
    const { user: fresh } = await userWithToken(database.db, 'fresh');
    const { user: behind } = await userWithToken(database.db, 'behind');
    const votedBefore = new Date();
    const later = new Date(votedBefore.getTime() + 60_000);
    await refreshRecommendations(database.db, fresh.id, later);
    const computedAtOf = async (userId: number) =>
      (await database.db.select({ at: recommendations.computedAt }).from(recommendations).where(eq(recommendations.userId, userId))).map((row) =>
        row.at.getTime(),
      );
    const result = await refreshVotersRecommendations(
      { userIds: [fresh.id, behind.id], votedBefore: votedBefore.toISOString() },
      { db: database.db, config: testConfig, logger: createLogger('silent') },
    );
    expect(result).toEqual({ refreshed: 1, skipped: 1 });
    expect(new Set(await computedAtOf(fresh.id))).toEqual(new Set([later.getTime()]));
    const behindTimes = await computedAtOf(behind.id);
    expect(behindTimes).toHaveLength(6);
    for (const at of behindTimes) expect(at).toBeGreaterThanOrEqual(votedBefore.getTime());
  });

  it('gives a user with no upvotes the trending list from the refresh as well', async () => {
    await savePaperRecords(
      database.db,
      Array.from({ length: 8 }, () => paperRecord()),
    );
    const { user } = await userWithToken(database.db, 'newcomer');
    await refreshSimilarPapers(database.db, 'all');
    expect(await refreshRecommendations(database.db, user.id)).toBe(8);
    const stored = await database.db
      .select({ paperId: recommendations.paperId })
      .from(recommendations)
      .where(eq(recommendations.userId, user.id))
      .orderBy(asc(recommendations.rank));
    expect(stored.map((row) => row.paperId)).toEqual(await trendingIds(8));
  });

  it('enqueues a refresh when the stored list is older than RECOMMENDATIONS_MAX_AGE_HOURS', async () => {
    await savePaperRecords(
      database.db,
      Array.from({ length: 4 }, () => paperRecord()),
    );
    const { user, token } = await userWithToken(database.db, 'ada');
    const computedAt = new Date(Date.now() - (testConfig.recommendations.maxAgeHours + 1) * 3_600_000);
    await refreshRecommendations(database.db, user.id, computedAt);
    expect(idsOf(await testApp.request(RECOMMENDED, { first: 2 }, token))).toHaveLength(2);
    expect(enqueued.map((job) => job.name)).toEqual(['refresh-recommendations']);
  });

  it('is FORBIDDEN to anyone but the user, signed out included', async () => {
    await userWithToken(database.db, 'ada');
    const { token: otherToken } = await userWithToken(database.db, 'grace');
    const query = `{ user(username: "ada") { username recommendedPapers { id } } }`;
    for (const token of [undefined, otherToken]) {
      const response = await testApp.request(query, undefined, token);
      expect(errorCodes(response)).toEqual(['FORBIDDEN']);
      expect(response.data?.user ?? null).toBeNull();
    }
    expect(enqueued).toEqual([]);
  });

  it('takes first from 0 to 50, BAD_USER_INPUT otherwise', async () => {
    const { token } = await userWithToken(database.db, 'ada');
    expect(idsOf(await testApp.request(RECOMMENDED, { first: 0 }, token))).toEqual([]);
    for (const first of [-1, 51]) {
      expect(errorCodes(await testApp.request(RECOMMENDED, { first }, token))).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('reads an unknown user as having no list, and refreshes nothing for one', async () => {
    await savePaperRecords(database.db, [paperRecord(), paperRecord()]);
    expect(await refreshRecommendations(database.db, 999_999)).toBe(0);
    const read = await readRecommendations(database.db, 999_999, 5);
    expect(read.computedAt).toBeNull();
    expect(read.items.map((item) => item.paper.id)).toEqual(await trendingIds(5));
  });
});

describe('refresh jobs through BullMQ', () => {
  let connection: Redis;
  let queue: Queue;
  let queueEvents: QueueEvents;
  let dependencies: JobDependencies;

  beforeAll(async () => {
    dependencies = { db: database.db, config: redisConfig, logger: createLogger('silent') };
    connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    queue = createJobsQueue(connection, { role: 'worker', prefix });
    queueEvents = new QueueEvents(JOBS_QUEUE_NAME, { connection, prefix });
    await queueEvents.waitUntilReady();
  });

  afterAll(async () => {
    await queue?.obliterate({ force: true });
    await queueEvents?.close();
    await queue?.close();
    await connection?.quit();
  });

  it('keeps one waiting refresh per user and per paper', async () => {
    const producer = createBullJobQueue(redisConfig);
    try {
      for (const userId of [7, 7, 8]) {
        await producer.enqueue('refresh-recommendations', { userId }, { deduplicationId: `user:${userId}` });
      }
      for (const paperId of [3, 3]) {
        await producer.enqueue('refresh-similar-papers', { paperId }, { deduplicationId: `paper:${paperId}` });
      }
      const waiting = await queue.getJobs(['wait']);
      expect(waiting.map((job) => `${job.name}:${JSON.stringify(job.data)}`).sort()).toEqual([
        'refresh-recommendations:{"userId":7}',
        'refresh-recommendations:{"userId":8}',
        'refresh-similar-papers:{"paperId":3}',
      ]);
    } finally {
      await producer.close();
      await queue.drain();
    }
  });

  it('fill the tables: the scheduled full refresh, one paper, one user', async () => {
    const topics = await topicPapers();
    const { user } = await userWithToken(database.db, 'ada');
    await castVotes(database.db, [{ username: 'ada', paperId: topics.reasoning[0]!, at: new Date('2025-11-12T09:00:00Z') }]);
    const worker = await startBullWorker({ dependencies, reconcileIntervalMinutes: 15 });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers.find((scheduler) => scheduler.key === 'refresh-all-similar-papers')?.every).toBe(
        testConfig.recommendations.similarPapersRefreshHours * 3_600_000,
      );
      // A new scheduler runs once right away.
      await vi.waitFor(async () => expect(await database.db.$count(similarPapers)).toBe(15 * 14), {
        timeout: JOB_WAIT_MS,
        interval: 50,
      });

      const {
        paperIds: [arrival],
      } = await savePaperRecords(database.db, [paperRecord({ title: 'Robot grasping with dexterous hands', abstract: 'Robot manipulation study.' })]);
      const paperJob = await queue.add('refresh-similar-papers', { paperId: arrival });
      // It also folds the paper into the semantic search model when the fit scheduled at start has made one (a race here).
      expect(await paperJob.waitUntilFinished(queueEvents, JOB_WAIT_MS)).toMatchObject({ papers: 1, rows: 15 });
      const arrivalSimilar = (await storedSimilar(arrival)).map((row) => row.similarPaperId);
      expect(new Set(arrivalSimilar.slice(0, 5))).toEqual(new Set(topics.robotics));

      const userJob = await queue.add('refresh-recommendations', { userId: user.id });
      expect(await userJob.waitUntilFinished(queueEvents, JOB_WAIT_MS)).toEqual({ recommendations: 15 });
      const stored = await database.db
        .select({ paperId: recommendations.paperId })
        .from(recommendations)
        .where(eq(recommendations.userId, user.id))
        .orderBy(asc(recommendations.rank));
      expect(stored.map((row) => row.paperId)).not.toContain(topics.reasoning[0]);
      expect(new Set(stored.slice(0, 4).map((row) => row.paperId))).toEqual(new Set(topics.reasoning.slice(1)));

      const invalid = await queue.add('refresh-recommendations', { userId: 'ada' });
      await expect(invalid.waitUntilFinished(queueEvents, JOB_WAIT_MS)).rejects.toThrow(/userId/);
    } finally {
      await worker.close();
    }
  });
});

describe('evaluation metrics', () => {
  const relevant = new Set([3, 1]);

  it('hit@k is 1 when a relevant item is in the first k', () => {
    expect(hitAtK([5, 3, 9, 1], relevant, 10)).toBe(1);
    expect(hitAtK([5, 3, 9, 1], relevant, 2)).toBe(1);
    expect(hitAtK([5, 3, 9, 1], relevant, 1)).toBe(0);
    expect(hitAtK([], relevant, 10)).toBe(0);
  });

  it('NDCG@k discounts each hit by log2 of its position + 1 and divides by the ideal list', () => {
    // Hits at positions 2 and 4: (1/log2(3) + 1/log2(5)) / (1 + 1/log2(3)).
    expect(ndcgAtK([5, 3, 9, 1], relevant, 10)).toBeCloseTo((1 / Math.log2(3) + 1 / Math.log2(5)) / (1 + 1 / Math.log2(3)), 12);
    expect(ndcgAtK([5, 3, 9, 1], relevant, 10)).toBeCloseTo(0.650_921, 6);
    expect(ndcgAtK([3, 1, 5], relevant, 10)).toBe(1);
    // Only the first k count, and the ideal list is cut at k too.
    expect(ndcgAtK([5, 3, 9, 1], relevant, 2)).toBeCloseTo(1 / Math.log2(3) / (1 + 1 / Math.log2(3)), 12);
    expect(ndcgAtK([1], new Set([1]), 10)).toBe(1);
    expect(ndcgAtK([2], new Set<number>(), 10)).toBe(0);
  });

  it('averages over the users with held-out items', () => {
    const rankings = new Map([
      [1, [10, 11]],
      [2, [20, 21]],
    ]);
    const heldOut = new Map([
      [1, new Set([10])],
      [2, new Set([99])],
    ]);
    expect(scoreRankings(rankings, heldOut, 10)).toEqual({ hitRate: 0.5, ndcg: 0.5, users: 2 });
  });
});
