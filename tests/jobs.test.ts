import { QueueEvents, type Job, type Queue } from 'bullmq';
import { eq, sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JOBS_QUEUE_NAME, createBullJobQueue, createJobsQueue, startBullWorker, type BullJobQueue } from '../jobs/bullmq';
import { createInProcessJobs } from '../jobs/in-process';
import type { JobDependencies } from '../jobs/jobs';
import { startJobs } from '../jobs/runtime';
import { createPublicDataChanges } from '../src/cache/public-data-changes';
import { openDatabase } from '../src/db/client';
import { papers } from '../src/db/schema';
import { createLogger } from '../src/logger';
import { recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { castVotes, paperRecord, redisTestConfig, savePaperRecords, testConfig, testRedisUrl as redisUrl, trending } from './support/fixtures';
import { recordingLogger } from './support/recorders';
import { PROCESS_TEST_TIMEOUT_MS, runScript } from './support/server-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** Nothing listens there. */
const unreachableRedisUrl = 'redis://127.0.0.1:6390';
/** This file's own BullMQ keys (its REDIS_PREFIX), removed at the end. */
const redisConfig = redisTestConfig('jobs', redisUrl);
const prefix = redisConfig.redisPrefix;
const JOB_WAIT_MS = 10_000;

let database: TestDatabase;
let dependencies: JobDependencies;
let connection: Redis;
let queue: Queue;
let queueEvents: QueueEvents;
let producer: BullJobQueue;

beforeAll(async () => {
  database = await createTestDatabase();
  dependencies = { db: database.db, config: testConfig, logger: createLogger('silent') };
  connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  queue = createJobsQueue(connection, { role: 'worker', prefix });
  queueEvents = new QueueEvents(JOBS_QUEUE_NAME, { connection, prefix });
  await queueEvents.waitUntilReady();
  producer = createBullJobQueue(redisConfig);
});

afterAll(async () => {
  await producer?.close();
  await queue?.obliterate({ force: true });
  await queueEvents?.close();
  await queue?.close();
  await connection?.quit();
  await database?.close();
});

beforeEach(async () => {
  await database.truncate();
});

/** Two papers with votes, their counts and keys exact; returns their ids. */
async function papersWithVotes(): Promise<[number, number]> {
  const { paperIds } = await savePaperRecords(database.db, [paperRecord(), paperRecord()]);
  const [first, second] = paperIds as [number, number];
  await castVotes(database.db, [
    { username: 'ada', paperId: first, at: new Date('2025-11-12T09:00:00Z') },
    { username: 'grace', paperId: first, at: new Date('2025-11-12T10:00:00Z') },
    { username: 'ada', paperId: second, at: new Date('2025-11-12T11:00:00Z') },
  ]);
  return [first, second];
}

/** Breaks a paper's key and count behind the vote path's back, as a lost job or a bug would. */
async function corrupt(paperId: number): Promise<void> {
  await database.db.execute(sql`update papers set trending_key = trending_key + 1, upvote_count = upvote_count + 5 where id = ${paperId}`);
}

async function stored(paperId: number) {
  const [paper] = await database.db
    .select({ trendingKey: papers.trendingKey, upvoteCount: papers.upvoteCount })
    .from(papers)
    .where(eq(papers.id, paperId));
  return paper!;
}

/** The ids a recompute finds off (and repairs): [] when everything is exact. */
async function driftedIds(paperIds?: number[]) {
  const { keyIds, countIds } = await recomputeKeysAndCounts(database.db, trending, paperIds);
  return { keys: keyIds, counts: countIds };
}

async function waitForNoPendingJobs(): Promise<void> {
  await vi.waitFor(
    async () => {
      const counts = await queue.getJobCounts('wait', 'active', 'prioritized');
      expect(counts).toEqual({ wait: 0, active: 0, prioritized: 0 });
    },
    { timeout: JOB_WAIT_MS, interval: 20 },
  );
}

describe('BullMQ worker', () => {
  it('leaves one scheduler per table row however often it starts, with the latest interval', async () => {
    for (const reconcileIntervalMinutes of [15, 30]) {
      const worker = await startBullWorker({ dependencies: { ...dependencies, config: redisConfig }, reconcileIntervalMinutes });
      await worker.close();
    }
    const schedulers = await queue.getJobSchedulers();
    expect(schedulers.map((scheduler) => scheduler.key).sort()).toEqual([
      'fill-arxiv-categories',
      'fit-search-model',
      'reconcile-trending',
      'refresh-all-similar-papers',
      'send-daily-digests',
      'send-weekly-digests',
      'tune-recommendations',
    ]);
    const reconcile = schedulers.find((scheduler) => scheduler.key === 'reconcile-trending')!;
    expect(reconcile.every).toBe(30 * 60_000);
    expect(reconcile.name).toBe('reconcile-trending');
  });

  describe('running', () => {
    let worker: { close(): Promise<void> };
    beforeAll(async () => {
      worker = await startBullWorker({ dependencies: { ...dependencies, config: redisConfig }, reconcileIntervalMinutes: 15 });
      // A new scheduler runs once right away; let that run pass so it cannot repair what a test corrupts.
      await waitForNoPendingJobs();
    });
    afterAll(async () => {
      await worker?.close();
    });

    async function run(name: string, payload: unknown): Promise<Job> {
      return queue.add(name, payload);
    }

    it('reconcile repairs a corrupted key and count, and finds nothing the second time', async () => {
      const [paperId] = await papersWithVotes();
      const exact = await stored(paperId);
      await corrupt(paperId);
      expect(await stored(paperId)).not.toEqual(exact);

      const first = await run('reconcile-trending', {});
      expect(await first.waitUntilFinished(queueEvents, JOB_WAIT_MS)).toEqual({ keysRepaired: 1, countsRepaired: 1 });
      expect(await stored(paperId)).toMatchObject({ upvoteCount: 2 });
      expect(Math.abs((await stored(paperId)).trendingKey - exact.trendingKey)).toBeLessThan(1e-9);
      expect(await driftedIds()).toEqual({ keys: [], counts: [] });

      const second = await run('reconcile-trending', {});
      expect(await second.waitUntilFinished(queueEvents, JOB_WAIT_MS)).toEqual({ keysRepaired: 0, countsRepaired: 0 });
    });

    it('refresh-paper-trending repairs that paper only', async () => {
      const [paperId, otherId] = await papersWithVotes();
      await corrupt(paperId);
      await corrupt(otherId);
      const otherCorrupted = await stored(otherId);

      const job = await run('refresh-paper-trending', { paperId });
      expect(await job.waitUntilFinished(queueEvents, JOB_WAIT_MS)).toEqual({ keysRepaired: 1, countsRepaired: 1 });
      expect(await driftedIds([paperId])).toEqual({ keys: [], counts: [] });
      expect(await stored(otherId)).toEqual(otherCorrupted);
      expect(await driftedIds([otherId])).toEqual({ keys: [otherId], counts: [otherId] });
    });

    it.each([
      ['a negative paper id', 'refresh-paper-trending', { paperId: -1 }, /paperId/],
      ['a string paper id', 'refresh-paper-trending', { paperId: '12' }, /paperId/],
      ['an unexpected field', 'reconcile-trending', { all: true }, /all/],
      ['an unknown job name', 'reindex-everything', {}, /unknown job/],
    ])('%s fails the job at once, without retries', async (_case, name, payload, reason) => {
      const job = await run(name, payload);
      await expect(job.waitUntilFinished(queueEvents, JOB_WAIT_MS)).rejects.toThrow(reason);
      const failed = (await queue.getJob(job.id!))!;
      expect(await failed.getState()).toBe('failed');
      expect(failed.opts.attempts).toBe(3);
      expect(failed.attemptsMade).toBe(1);
    });
  });

  it('enqueueing a refresh again while the first waits adds no second job', async () => {
    // No worker runs now: jobs stay waiting.
    await producer.enqueue('refresh-paper-trending', { paperId: 7 }, { deduplicationId: 'paper:7' });
    await producer.enqueue('refresh-paper-trending', { paperId: 7 }, { deduplicationId: 'paper:7' });
    await producer.enqueue('refresh-paper-trending', { paperId: 8 }, { deduplicationId: 'paper:8' });
    const waiting = await queue.getJobs(['wait']);
    const refreshed = waiting.filter((job) => job.name === 'refresh-paper-trending').map((job) => job.data.paperId);
    expect(refreshed.sort()).toEqual([7, 8]);
    await queue.drain();
  });

  it('holds a delayed job until its time, and folds the same id enqueued meanwhile into it', async () => {
    await producer.enqueue('refresh-recommendations', { userId: 7 }, { deduplicationId: 'user:7', delayMs: 60_000 });
    await producer.enqueue('refresh-recommendations', { userId: 7 }, { deduplicationId: 'user:7', delayMs: 60_000 });
    const delayed = (await queue.getJobs(['delayed'])).filter((job) => job.name === 'refresh-recommendations');
    expect(delayed.map((job) => job.data.userId)).toEqual([7]);
    expect(delayed[0]!.opts.delay).toBe(60_000);
    expect(await queue.getJobs(['wait'])).toHaveLength(0);
    await delayed[0]!.remove();
  });

  it('adds a delayed twin again once the job it added may have started, and after a twin Redis kept from another producer', async () => {
    const deduplicated = async () => {
      const events = await connection.xrange(`${prefix}:${JOBS_QUEUE_NAME}:events`, '-', '+');
      return events.filter(([, fields]) => fields.includes('deduplicated')).length;
    };
    const before = await deduplicated();
    // This producer added the job: a twin within half its delay is not sent to Redis (it would only be dropped there).
    await producer.enqueue('refresh-recommendations', { userId: 8 }, { deduplicationId: 'user:8', delayMs: 60_000 });
    await producer.enqueue('refresh-recommendations', { userId: 8 }, { deduplicationId: 'user:8', delayMs: 60_000 });
    expect(await deduplicated()).toBe(before);
    // Another producer knows nothing of it: Redis drops its twins, each time (the job it kept may start any time).
    const other = createBullJobQueue(redisConfig);
    try {
      await other.enqueue('refresh-recommendations', { userId: 8 }, { deduplicationId: 'user:8', delayMs: 60_000 });
      await other.enqueue('refresh-recommendations', { userId: 8 }, { deduplicationId: 'user:8', delayMs: 60_000 });
      expect(await deduplicated()).toBe(before + 2);
    } finally {
      await other.close();
    }
    const delayed = (await queue.getJobs(['delayed'])).filter((job) => job.name === 'refresh-recommendations');
    expect(delayed.map((job) => job.data.userId)).toEqual([8]);
    await delayed[0]!.remove();
  });

  it('folds a burst of votes into one delayed refresh, due after the last of them', async () => {
    let lastVote = 0;
    for (let vote = 0; vote < 3; vote += 1) {
      lastVote = Date.now();
      await producer.enqueue('refresh-recommendations', { userId: 9 }, { deduplicationId: 'user:9', delayMs: 60_000 });
    }
    const delayed = (await queue.getJobs(['delayed'])).filter((job) => job.name === 'refresh-recommendations');
    expect(delayed.map((job) => job.data.userId)).toEqual([9]);
    expect(delayed[0]!.timestamp + delayed[0]!.delay).toBeGreaterThan(lastVote);
    await delayed[0]!.remove();
  });

  it('rejects an enqueue quickly when Redis is unreachable', async () => {
    const unreachable = createBullJobQueue({ ...redisConfig, redisUrl: unreachableRedisUrl });
    try {
      for (const attempt of [1, 2]) {
        const started = performance.now();
        const enqueued = unreachable.enqueue('reconcile-trending', {});
        await expect(enqueued, `attempt ${attempt}`).rejects.toThrow(/Redis is unavailable/);
        expect(performance.now() - started).toBeLessThan(1_500);
      }
    } finally {
      await unreachable.close();
    }
  });
});

describe('in-process jobs', () => {
  it('runs an enqueued job soon, once per pending deduplication id', async () => {
    const [paperId] = await papersWithVotes();
    await corrupt(paperId);
    const { logger, completed } = recordingLogger();
    const jobs = createInProcessJobs({ dependencies: { ...dependencies, logger }, reconcileIntervalMinutes: 15 });
    try {
      await jobs.queue.enqueue('refresh-paper-trending', { paperId }, { deduplicationId: `paper:${paperId}` });
      await jobs.queue.enqueue('refresh-paper-trending', { paperId }, { deduplicationId: `paper:${paperId}` });
      await jobs.idle();
      expect(completed('refresh-paper-trending')).toHaveLength(1);
      expect(await driftedIds()).toEqual({ keys: [], counts: [] });

      // Once the first has started, the same id runs again.
      await jobs.queue.enqueue('refresh-paper-trending', { paperId }, { deduplicationId: `paper:${paperId}` });
      await jobs.idle();
      expect(completed('refresh-paper-trending')).toHaveLength(2);
    } finally {
      await jobs.close();
    }
  });

  it('runs a delayed job once after its delay for every enqueue meanwhile, and close() drops one still waiting', async () => {
    const [paperId] = await papersWithVotes();
    await corrupt(paperId);
    const { logger, completed } = recordingLogger();
    const jobs = createInProcessJobs({ dependencies: { ...dependencies, logger }, reconcileIntervalMinutes: 15 });
    const delayed = { deduplicationId: `paper:${paperId}`, delayMs: 300 };
    await jobs.queue.enqueue('refresh-paper-trending', { paperId }, delayed);
    await jobs.queue.enqueue('refresh-paper-trending', { paperId }, delayed);
    // Held, not run: one job waits for its time, and idle() has nothing to wait for.
    expect(await jobs.counts()).toEqual({ active: 0, delayed: 1 });
    await jobs.idle();
    expect(completed('refresh-paper-trending')).toEqual([]);
    await expect.poll(() => completed('refresh-paper-trending')).toHaveLength(1);
    await jobs.idle();
    expect(await jobs.counts()).toEqual({ active: 0, delayed: 0 });
    expect(completed('refresh-paper-trending')).toHaveLength(1);
    expect(await driftedIds()).toEqual({ keys: [], counts: [] });

    // An hour's delay does not hold up close(): the job is dropped (nothing in-process survives a stop anyway).
    await jobs.queue.enqueue('refresh-paper-trending', { paperId }, { ...delayed, delayMs: 3_600_000 });
    expect(await jobs.counts()).toEqual({ active: 0, delayed: 1 });
    const started = performance.now();
    await jobs.close();
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(await jobs.counts()).toEqual({ active: 0, delayed: 0 });
    expect(completed('refresh-paper-trending')).toHaveLength(1);
  });

  it('logs a failing job instead of throwing, and close() waits for jobs handed over', async () => {
    const [paperId] = await papersWithVotes();
    const { logger, lines } = recordingLogger();
    const jobs = createInProcessJobs({ dependencies: { ...dependencies, logger }, reconcileIntervalMinutes: 15 });
    await corrupt(paperId);
    await jobs.queue.enqueue('refresh-paper-trending', { paperId });
    await jobs.close();
    expect(await driftedIds()).toEqual({ keys: [], counts: [] });

    // A real handle, closed: every query fails.
    const closed = openDatabase({ url: database.url, dataDir: '' });
    await closed.close();
    const failing = createInProcessJobs({
      dependencies: { ...dependencies, db: closed.db, logger },
      reconcileIntervalMinutes: 15,
    });
    await expect(failing.queue.enqueue('refresh-paper-trending', { paperId })).resolves.toBeUndefined();
    await failing.close();
    expect(lines.filter((line) => line.msg === 'job failed' && line.job === 'refresh-paper-trending')).toHaveLength(1);
  });

  it('announces a public-data change after a reconcile only when it repaired something', async () => {
    const [paperId, otherId] = await papersWithVotes();
    const { logger, completed } = recordingLogger();
    const publicDataChanges = createPublicDataChanges({ redisUrl: undefined, redisPrefix: 'unused' }, logger);
    let announced = 0;
    publicDataChanges.subscribe(() => (announced += 1));
    const jobs = createInProcessJobs({ dependencies: { ...dependencies, logger, publicDataChanges }, reconcileIntervalMinutes: 15 });
    try {
      await jobs.queue.enqueue('reconcile-trending', {});
      await jobs.queue.enqueue('refresh-paper-trending', { paperId });
      await jobs.idle();
      expect([completed('reconcile-trending').length, completed('refresh-paper-trending').length]).toEqual([1, 1]);
      expect(announced).toBe(0);

      await corrupt(paperId);
      await jobs.queue.enqueue('refresh-paper-trending', { paperId: otherId });
      await jobs.idle();
      expect(announced).toBe(0);
      await jobs.queue.enqueue('refresh-paper-trending', { paperId });
      await jobs.idle();
      expect(announced).toBe(1);

      await corrupt(otherId);
      await jobs.queue.enqueue('reconcile-trending', {});
      await jobs.idle();
      expect(announced).toBe(2);
    } finally {
      await jobs.close();
      await publicDataChanges.close();
    }
  });

  it('runs the scheduled reconcile on a timer, and close() stops it', async () => {
    const { logger, lines, completed } = recordingLogger();
    // The schedules' timers only: the jobs they start run for real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      // 0.001 minutes: every 60 ms.
      const jobs = createInProcessJobs({ dependencies: { ...dependencies, logger }, reconcileIntervalMinutes: 0.001 });
      await vi.advanceTimersByTimeAsync(59);
      await jobs.idle();
      expect(completed('reconcile-trending')).toEqual([]);
      for (const runs of [1, 2]) {
        await vi.advanceTimersByTimeAsync(60);
        await jobs.idle();
        expect(completed('reconcile-trending')).toHaveLength(runs);
      }
      await jobs.close();
      const linesAtClose = lines.length;
      expect(vi.getTimerCount()).toBe(0);
      await vi.advanceTimersByTimeAsync(24 * 3_600_000);
      await jobs.idle();
      // Not a run, nor even a dropped tick: the timers are gone.
      expect(lines.slice(linesAtClose)).toEqual([]);
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('startJobs', () => {
  it('picks BullMQ with REDIS_URL and the in-process runner without', async () => {
    const common = { db: database.db, logger: dependencies.logger, runWorker: false };
    const withRedis = await startJobs({ ...common, config: redisConfig });
    const withoutRedis = await startJobs({ ...common, config: testConfig });
    try {
      expect(withRedis.mode).toBe('bullmq');
      expect(withoutRedis.mode).toBe('in-process');
      await withRedis.queue.enqueue('refresh-paper-trending', { paperId: 99 });
      expect((await queue.getJobs(['wait'])).map((job) => job.data)).toContainEqual({ paperId: 99 });
    } finally {
      await withRedis.close();
      await withoutRedis.close();
      await queue.drain();
    }
  });
});

describe('npm run worker', () => {
  it('exits 1 with a clear message without REDIS_URL', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    const { code, output } = await runScript(['jobs/worker-cli.ts']);
    expect(code).toBe(1);
    expect(output).toContain('REDIS_URL is not set');
  });
});
