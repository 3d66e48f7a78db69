import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobsQueue, startBullWorker } from '../jobs/bullmq';
import { papers } from '../src/db/schema';
import { createLogger } from '../src/logger';
import { recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { castVotes, paperRecord, savePaperRecords, testConfig, testRedisUrl as redisUrl, trending } from './support/fixtures';
import { PROCESS_TEST_TIMEOUT_MS, spawnScript } from './support/server-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const prefix = `test-killed-${randomUUID()}`;
const LOCK_MS = 1_000;

let database: TestDatabase;
let connection: Redis;
let queue: Queue;

beforeAll(async () => {
  database = await createTestDatabase();
  connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  queue = createJobsQueue(connection, { role: 'worker', prefix });
});

afterAll(async () => {
  await queue.obliterate({ force: true });
  await queue.close();
  await connection.quit();
  await database.close();
});

describe('a worker killed mid-job', () => {
  it('has its job taken up by another worker, which runs it to the same, correct end', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    const { paperIds } = await savePaperRecords(database.db, [paperRecord()]);
    await castVotes(database.db, [{ username: 'ada', paperId: paperIds[0]!, at: new Date('2025-11-12T12:00:00Z') }]);
    await database.db.update(papers).set({ trendingKey: sql`${papers.trendingKey} + 1` });

    // Hold the papers table so the reconcile blocks inside the first worker, mid-job. The jobs its schedulers
    // start at once (five of them) block on it too: the worker gets slots enough for them and the reconcile.
    const blocker = postgres(database.url, { max: 1, onnotice: () => {} });
    const reserved = await blocker.reserve();
    await reserved`begin`;
    await reserved`lock table papers in access exclusive mode`;

    const child = spawnScript(
      [
        '-e',
        `import { startBullWorker } from './jobs/bullmq';
         import { loadConfig } from './src/config';
         import { openDatabase } from './src/db/client';
         import { createLogger } from './src/logger';
         const database = openDatabase({ url: process.env.DATABASE_URL, dataDir: '' });
         await startBullWorker({ lockDurationMs: ${LOCK_MS}, concurrency: 10,
           reconcileIntervalMinutes: 60, dependencies: { db: database.db, config: loadConfig(), logger: createLogger('silent') } });
         console.log('worker ready');`,
      ],
      { DATABASE_URL: database.url, REDIS_URL: redisUrl, REDIS_PREFIX: prefix, LOG_LEVEL: 'silent' },
    );
    try {
      await child.waitForOutput(/worker ready/);
      const job = await queue.add('reconcile-trending', {});
      await expect.poll(async () => (await queue.getActive()).map((active) => active.id), { timeout: 15_000 }).toContain(job.id);
    } finally {
      await child.stop('SIGKILL');
      await reserved`rollback`;
      reserved.release();
      await blocker.end();
    }

    // The scheduler row the first worker registered has run once already; only the killed job matters here.
    const rescuer = await startBullWorker({
      lockDurationMs: LOCK_MS,
      reconcileIntervalMinutes: 60,
      dependencies: { db: database.db, config: { ...testConfig, redisUrl, redisPrefix: prefix }, logger: createLogger('silent') },
    });
    try {
      await expect
        .poll(async () => (await queue.getCompleted()).some((done) => done.name === 'reconcile-trending' && done.attemptsStarted >= 2), {
          timeout: 20_000,
          interval: 250,
        })
        .toBe(true);
      expect(await recomputeKeysAndCounts(database.db, trending)).toEqual({ keyIds: [], countIds: [] });
    } finally {
      await rescuer.close();
    }
  });
});
