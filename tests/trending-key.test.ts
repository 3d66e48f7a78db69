import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { papers, upvotes, users } from '../src/db/schema';
import { recomputeKeys, recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { logSumExp, trendingKey, trendingScore } from '../src/modules/trending/trending-key';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const settings = { voteHalfLifeHours: 24, ageHalfLifeHours: 168, prior: 1 };
const hour = 3_600_000;

describe('trending key', () => {
  it('log-sum-exp stays finite for terms far apart', () => {
    expect(logSumExp([1000, 0])).toBeCloseTo(1000, 12);
    expect(logSumExp([Math.log(2), Math.log(3)])).toBeCloseTo(Math.log(5), 12);
  });

  it('a vote now outweighs the same vote a day ago by the vote half-life', () => {
    const start = new Date('2025-11-01T00:00:00Z');
    const base = trendingKey({ start, baseline: 0, voteTimes: [] }, settings);
    const withVote = trendingKey({ start, baseline: 0, voteTimes: [new Date(start.getTime() + 24 * hour)] }, settings);
    // alpha*e^(lambda*s) + e^(lambda*(s+24h)) = e^(lambda*s) * (1 + 2)
    expect(withVote - base).toBeCloseTo(Math.log(3), 12);
  });

  it('the score halves with both half-lives when no votes arrive', () => {
    const start = new Date('2025-11-01T00:00:00Z');
    const key = trendingKey({ start, baseline: 0, voteTimes: [] }, settings);
    expect(trendingScore(key, start, settings)).toBeCloseTo(1, 9);
    const later = new Date(start.getTime() + 24 * hour);
    expect(trendingScore(key, later, settings)).toBeCloseTo(0.5 * 2 ** (-24 / 168), 9);
  });

  it('counts an imported baseline as votes at the start', () => {
    const start = new Date('2025-11-01T00:00:00Z');
    const key = trendingKey({ start, baseline: 4, voteTimes: [] }, settings);
    expect(trendingScore(key, start, settings)).toBeCloseTo(5, 9);
  });
});

describe('the recompute in SQL', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(async () => {
    await database.close();
  });

  it('matches the from-scratch key, ignores the submitter and repairs only what drifted', async () => {
    const { db } = database;
    const [submitter, voter] = await db
      .insert(users)
      .values([{ username: 'submitter' }, { username: 'voter' }])
      .returning();
    const start = new Date('2016-03-01T10:00:00Z');
    const [paper] = await db
      .insert(papers)
      .values({
        arxivId: '1603.00001',
        title: 'Old paper',
        publishedAt: start,
        submittedAt: start,
        submittedById: submitter!.id,
        upvoteBaseline: 2,
        trendingKey: 0,
      })
      .returning();
    // Votes ten years apart: the raw exponentials would overflow a double.
    const voteTime = new Date('2026-03-01T10:00:00Z');
    await db.insert(upvotes).values([
      { paperId: paper!.id, userId: voter!.id, createdAt: voteTime },
      { paperId: paper!.id, userId: submitter!.id, createdAt: voteTime },
    ]);

    const expected = trendingKey({ start, baseline: 2, voteTimes: [voteTime] }, settings);
    const stored = async () => (await db.select().from(papers))[0]!;

    // Stored as 0 and 0: the key and the count (2 + 2 votes) drifted.
    expect(await recomputeKeysAndCounts(db, settings)).toEqual({ keyIds: [paper!.id], countIds: [paper!.id] });
    expect(Math.abs((await stored()).trendingKey - expected)).toBeLessThan(1e-9);
    expect((await stored()).upvoteCount).toBe(4);
    expect(await recomputeKeysAndCounts(db, settings)).toEqual({ keyIds: [], countIds: [] });

    // The per-paper statement gets the same key.
    await db.update(papers).set({ trendingKey: 0 });
    expect(await recomputeKeys(db, settings, [paper!.id])).toEqual([paper!.id]);
    expect(Math.abs((await stored()).trendingKey - expected)).toBeLessThan(1e-9);
    expect(await recomputeKeys(db, settings, [paper!.id])).toEqual([]);
  });
});
