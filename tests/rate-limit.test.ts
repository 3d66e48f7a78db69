import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { AppError } from '../src/errors';
import { createRateLimiter, takeTogether } from '../src/rate-limit';
import { connectRedis } from '../src/redis';
import { testRedisUrl } from './support/fixtures';

const prefix = `rate-limit-test-${randomUUID().slice(0, 8)}`;
const connection = connectRedis({ redisUrl: testRedisUrl, redisPrefix: prefix }, 'rate-limits');
const inspector = new Redis(testRedisUrl);

afterAll(async () => {
  const keys = await inspector.keys(`${prefix}:*`);
  if (keys.length > 0) await inspector.del(...keys);
  connection.disconnect();
  inspector.disconnect();
});

/** The RATE_LIMITED refusal `work` ends in, or undefined when it succeeds. */
async function refusalOf(work: Promise<void>) {
  try {
    await work;
    return undefined;
  } catch (error) {
    if (error instanceof AppError && error.extensions.code === 'RATE_LIMITED') return error;
    throw error;
  }
}

describe('rate limits in Redis', () => {
  it("takes a request's limits in one call to Redis, counts every one, and refuses past any", async () => {
    const changes = createRateLimiter({ name: 'changes', points: 10, durationSeconds: 60, action: 'changes' }, connection);
    const votes = createRateLimiter({ name: 'votes', points: 2, durationSeconds: 60, action: 'votes' }, connection);
    // Redis learns the script at the first call (a NOSCRIPT answer, then EVAL): not counted below.
    await changes.consume('warm-up', 0);
    const monitor = await inspector.monitor();
    const calls: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((arg) => arg.startsWith(`${prefix}:`))) calls.push(args);
    });
    try {
      const take = () => takeTogether([changes.shareOf('address:a', 1), changes.shareOf('user:7', 1), votes.shareOf('7', 1)]);
      expect(await refusalOf(take())).toBeUndefined();
      expect(await refusalOf(take())).toBeUndefined();
      const refused = await refusalOf(take());
      expect(refused?.message).toMatch(/^Too many votes: try again in \d+ s\.$/);
      expect(refused?.extensions.retryAfter).toBeGreaterThanOrEqual(59);
      // Three takes, three calls (each holding the three keys), whatever Redis runs inside them.
      const takes = () => calls.filter((args) => /^eval/i.test(args[0]!));
      await expect.poll(() => takes().length).toBe(3);
      for (const args of takes()) expect(args.filter((arg) => arg.startsWith(`${prefix}:`))).toHaveLength(3);
    } finally {
      monitor.disconnect();
    }
    expect(await inspector.mget(`${prefix}:rate-limit:changes:address:a`, `${prefix}:rate-limit:changes:user:7`, `${prefix}:rate-limit:votes:7`)).toEqual(
      ['3', '3', '3'],
    );
    const ttl = await inspector.pttl(`${prefix}:rate-limit:votes:7`);
    expect(ttl).toBeGreaterThan(55_000);
    expect(ttl).toBeLessThanOrEqual(60_000);
  });

  it('sends the takes of requests in one turn of the event loop in one call, each counted in turn', async () => {
    const votes = createRateLimiter({ name: 'votes-batched', points: 3, durationSeconds: 60, action: 'votes' }, connection);
    await votes.consume('warm-up', 0);
    const monitor = await inspector.monitor();
    const calls: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args.some((arg) => arg.startsWith(`${prefix}:rate-limit:votes-batched:`))) calls.push(args);
    });
    try {
      // Five requests of one voter at once (and one of another): the first three pass, the fourth and fifth are refused.
      const refusals = await Promise.all([
        ...Array.from({ length: 5 }, () => refusalOf(takeTogether([votes.shareOf('ada', 1)]))),
        refusalOf(votes.consume('grace')),
      ]);
      expect(refusals.map((refusal) => refusal?.extensions.code ?? 'taken')).toEqual([
        'taken',
        'taken',
        'taken',
        'RATE_LIMITED',
        'RATE_LIMITED',
        'taken',
      ]);
      await expect.poll(() => calls.filter((args) => /^eval/i.test(args[0]!)).length).toBe(1);
      expect(calls.find((args) => /^eval/i.test(args[0]!))!.filter((arg) => arg.startsWith(`${prefix}:`))).toHaveLength(6);
    } finally {
      monitor.disconnect();
    }
    expect(await inspector.mget(`${prefix}:rate-limit:votes-batched:ada`, `${prefix}:rate-limit:votes-batched:grace`)).toEqual(['5', '1']);
  });

  it('spends nothing with zero points and refuses only a key already past its limit', async () => {
    const failures = createRateLimiter({ name: 'failures', points: 1, durationSeconds: 60, action: 'failures' }, connection);
    expect(await refusalOf(failures.consume('ada', 0))).toBeUndefined();
    expect(await refusalOf(failures.consume('ada'))).toBeUndefined();
    expect(await refusalOf(failures.consume('ada', 0))).toBeUndefined();
    expect(await refusalOf(failures.consume('ada'))).toBeInstanceOf(AppError);
    expect(await refusalOf(failures.consume('ada', 0))).toBeInstanceOf(AppError);
    expect(await inspector.get(`${prefix}:rate-limit:failures:ada`)).toBe('2');
  });

  it('goes on in memory from the counts Redis last gave when Redis cannot answer', async () => {
    const lost = connectRedis({ redisUrl: testRedisUrl, redisPrefix: prefix }, 'rate-limits');
    await new Promise((resolve) => lost.once('ready', resolve));
    const votes = createRateLimiter({ name: 'votes-outage', points: 3, durationSeconds: 60, action: 'votes' }, lost);
    expect(await refusalOf(votes.consume('7'))).toBeUndefined();
    expect(await refusalOf(votes.consume('7'))).toBeUndefined();
    lost.disconnect();
    // Redis said 2 of 3: one more in memory, then refused.
    expect(await refusalOf(votes.consume('7'))).toBeUndefined();
    expect(await refusalOf(votes.consume('7'))).toBeInstanceOf(AppError);
  });
});
