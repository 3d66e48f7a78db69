import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullJobQueue, startBullWorker } from '../jobs/bullmq';
import { papers } from '../src/db/schema';
import { createLogger } from '../src/logger';
import { castVotes, paperRecord, savePaperRecords, testConfig } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';

// A Redis server of this test's own, stopped and started again for real.

let database: TestDatabase;
let port: number;
let redis: ChildProcess | undefined;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port: free } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return free;
}

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

async function stopRedis(): Promise<void> {
  if (!redis || redis.exitCode !== null) return;
  redis.kill('SIGKILL');
  await once(redis, 'exit');
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
      await database.db.update(papers).set({ trendingKey: sql`${papers.trendingKey} + 1` }).where(eq(papers.id, paperIds[0]!));
      const corrupted = (await database.db.select().from(papers))[0]!.trendingKey;
      await expect
        .poll(async () => {
          await producer.enqueue('refresh-paper-trending', { paperId: paperIds[0]! }).catch(() => undefined);
          return (await database.db.select().from(papers))[0]!.trendingKey;
        }, { timeout: 20_000, interval: 500 })
        .not.toBe(corrupted);
    } finally {
      await producer.close();
      await worker.close();
    }
  });
});
