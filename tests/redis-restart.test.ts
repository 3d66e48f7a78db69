import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBullJobQueue, startBullWorker } from '../jobs/bullmq';
import { startJobs } from '../jobs/runtime';
import { createApp } from '../src/app';
import { createPublicDataChanges } from '../src/cache/public-data-changes';
import { openDatabase } from '../src/db/client';
import { papers } from '../src/db/schema';
import { createLogger } from '../src/logger';
import { connectRateLimitRedis, createRateLimiters } from '../src/rate-limit';
import { castVotes, paperRecord, redisTestConfig, savePaperRecords, testConfig, userWithToken } from './support/fixtures';
import { errorCodes, graphqlClient } from './support/graphql-client';
import { freePort } from './support/own-postgres';
import { recordingLogger } from './support/recorders';
import { createTestDatabase, type TestDatabase } from './support/test-database';

// A Redis server of this test's own, stopped and started again for real.

let database: TestDatabase;
let port: number;
let redis: ChildProcess | undefined;

async function startRedis(): Promise<void> {
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve, reject) => {
    redis!.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('Ready to accept connections')) resolve();
    });
    redis!.once('exit', (code) => reject(new Error(`redis-server exited with ${code}`)));
  });
}

const redisRunning = () => redis !== undefined && redis.exitCode === null && redis.signalCode === null;

async function stopRedis(): Promise<void> {
  if (!redisRunning()) return;
  redis!.kill('SIGKILL');
  await once(redis!, 'exit');
}

beforeAll(async () => {
  database = await createTestDatabase();
  port = await freePort();
  await startRedis();
});

afterAll(async () => {
  await stopRedis();
  await database.close();
});

describe('with Redis restarting', () => {
  it('the worker reconnects by itself and runs the jobs enqueued after', async () => {
    const redisUrl = `redis://127.0.0.1:${port}`;
    const config = { ...testConfig, redisUrl };
    const dependencies = { db: database.db, config, logger: createLogger('silent') };
    const worker = await startBullWorker({ dependencies, reconcileIntervalMinutes: 60 });
    const producer = createBullJobQueue(config);
    try {
      const { paperIds } = await savePaperRecords(database.db, [paperRecord()]);
      await castVotes(database.db, [{ username: 'ada', paperId: paperIds[0]!, at: new Date('2025-11-12T12:00:00Z') }]);

      await stopRedis();
      await expect(producer.enqueue('refresh-paper-trending', { paperId: paperIds[0]! })).rejects.toThrow();
      await startRedis();

      // Corrupt the key; the job enqueued now must reach the reconnected worker and repair it.
      await database.db
        .update(papers)
        .set({ trendingKey: sql`${papers.trendingKey} + 1` })
        .where(eq(papers.id, paperIds[0]!));
      const corrupted = (await database.db.select().from(papers))[0]!.trendingKey;
      await expect
        .poll(
          async () => {
            await producer.enqueue('refresh-paper-trending', { paperId: paperIds[0]! }).catch(() => undefined);
            return (await database.db.select().from(papers))[0]!.trendingKey;
          },
          { timeout: 20_000, interval: 500 },
        )
        .not.toBe(corrupted);
    } finally {
      await producer.close();
      await worker.close();
    }
  });
});

describe('with Redis killed under the API', () => {
  it('keeps the vote allowance already used, and logs the outage once per connection, as JSON only', async () => {
    const base = redisTestConfig('outage', `redis://127.0.0.1:${port}`);
    const config = {
      ...base,
      voteRateLimitPerMinute: 3,
      mutationRateLimitPerMinute: 20,
      responseCache: { ...base.responseCache, ttlMs: 60_000, maxEntries: 100 },
    };
    const { logger, lines } = recordingLogger();
    const consoleCalls = (['log', 'info', 'warn', 'error', 'debug'] as const).map((method) => vi.spyOn(console, method));
    // Wired as src/server.ts wires them, with its pool size (the API and the worker's jobs share it).
    const pool = openDatabase({ url: database.url, dataDir: '', poolSize: config.dbPoolSize });
    const rateLimitRedis = connectRateLimitRedis(config, logger);
    const publicDataChanges = createPublicDataChanges(config, logger);
    const jobs = await startJobs({ config, db: pool.db, logger, runWorker: true, publicDataChanges });
    const app = createApp({
      db: pool.db,
      config,
      logger,
      jobs: jobs.queue,
      limiters: createRateLimiters(config, rateLimitRedis),
      redis: rateLimitRedis,
      jobCounts: jobs.counts,
      publicDataChanges,
    });
    const request = graphqlClient(app);
    try {
      const { paperIds } = await savePaperRecords(database.db, [paperRecord()]);
      const paperId = Buffer.from(`Paper:${paperIds[0]}`).toString('base64');
      const UPVOTE = `mutation($id: ID!) { upvotePaper(paperId: $id) { id } }`;
      const REMOVE = `mutation($id: ID!) { removeUpvote(paperId: $id) { id } }`;
      const LOG_IN = `mutation { logIn(usernameOrEmail: "nobody", password: "wrong password") { token } }`;
      const voters = await Promise.all(['v0', 'v1', 'v2', 'v3'].map((name) => userWithToken(database.db, `outage_${name}`)));
      await expect.poll(() => rateLimitRedis.status, { timeout: 10_000 }).toBe('ready');

      // The whole allowance, counted in Redis.
      for (const mutation of [UPVOTE, REMOVE, UPVOTE]) {
        expect((await request(mutation, { id: paperId }, voters[0]!.token)).errors).toBeUndefined();
      }
      const linesAtKill = lines.length;
      await stopRedis();
      await expect.poll(() => rateLimitRedis.status, { timeout: 10_000 }).not.toBe('ready');

      // Refused in the same window: the fallback goes on from Redis's count, not from zero.
      expect(errorCodes(await request(REMOVE, { id: paperId }, voters[0]!.token))).toEqual(['RATE_LIMITED']);
      // Many mutations while it is down: votes (jobs and announcements lost), and anonymous ones past the mutation limit.
      const answers = [];
      for (let round = 0; round < 10; round += 1) {
        for (const voter of voters.slice(1)) {
          answers.push(await request(round % 2 === 0 ? UPVOTE : REMOVE, { id: paperId }, voter.token));
        }
        answers.push(await request(LOG_IN));
      }
      expect(answers.filter((answer) => errorCodes(answer).includes('RATE_LIMITED')).length).toBeGreaterThan(0);
      expect(answers.filter((answer) => answer.data?.upvotePaper || answer.data?.removeUpvote).length).toBeGreaterThan(0);

      // While it is down: one warning per connection (once each has tried to reconnect), not one per request.
      const roles = ['rate-limits', 'cache-announcements', 'cache-invalidation', 'jobs-producer', 'jobs-worker'];
      const warnings = () => lines.slice(linesAtKill).filter((line) => line.level >= 40);
      await expect
        .poll(
          () =>
            warnings()
              .map((line) => `${line.role}: ${line.msg}`)
              .sort(),
          { timeout: 10_000 },
        )
        .toEqual(roles.map((role) => `${role}: Redis unreachable; reconnecting in the background`).sort());
      await startRedis();
      await expect
        .poll(
          () =>
            lines
              .filter((line) => line.msg === 'Redis reachable again')
              .map((line) => line.role)
              .sort(),
          { timeout: 20_000 },
        )
        .toEqual(expect.arrayContaining(['rate-limits', 'cache-announcements']));

      // Nothing wrote around the JSON logger.
      for (const call of consoleCalls) expect(call.mock.calls).toEqual([]);
    } finally {
      for (const call of consoleCalls) call.mockRestore();
      // BullMQ closes cleanly only with Redis there and its connections back; a failed run is not kept waiting.
      if (!redisRunning()) await startRedis();
      await expect
        .poll(
          () =>
            jobs.counts().then(
              () => true,
              () => false,
            ),
          { timeout: 20_000 },
        )
        .toBe(true);
      await Promise.race([jobs.close(), new Promise((resolve) => setTimeout(resolve, 20_000).unref())]);
      await publicDataChanges.close();
      rateLimitRedis.disconnect();
      await pool.close();
    }
  }, 90_000);
});
