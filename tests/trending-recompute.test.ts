import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { eq, sql } from 'drizzle-orm';
import fc from 'fast-check';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { TrendingSettings } from '../src/config';
import { openDatabase, type Database, type DatabaseHandle } from '../src/db/client';
import { queryRows } from '../src/db/rows';
import { authors, paperAuthors, papers, upvotes, users } from '../src/db/schema';
import { recomputeKeys, recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { keyWithVote, trendingKey } from '../src/modules/trending/trending-key';
import { voteWeighs } from '../src/modules/trending/vote-weight';
import { trending } from './support/fixtures';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { expectedTrending } from './support/trending-oracle';

// The set-based recompute (one pass over the votes, exponentials shifted per
// paper, the exact path for what it cannot shift) against the TypeScript
// oracle (tests/support/trending-oracle.ts), over random papers, claimed authors, votes a decade
// apart, half-lives from an hour to a month, and corrupted keys and counts.

const SEED = Number(process.env.FAST_CHECK_SEED ?? 20_261_126);
const USERS = 5;
const AUTHORS = 4;
const decade = { min: new Date('2015-01-01T00:00:00Z'), max: new Date('2026-01-01T00:00:00Z'), noInvalidDate: true };
const DAY = 86_400_000;

const historyArbitrary = fc.record({
  settings: fc.record({
    voteHalfLifeHours: fc.constantFrom(1, 6, 24, 24 * 30),
    ageHalfLifeHours: fc.constantFrom(24, 168),
    prior: fc.constantFrom(1, 0.5, 3),
  }),
  // The user who claimed each author, if any: two authors may be claimed by one user.
  claimedBy: fc.array(fc.option(fc.nat(USERS - 1), { nil: undefined }), { minLength: AUTHORS, maxLength: AUTHORS }),
  papers: fc.array(
    fc.record({
      start: fc.date(decade),
      featured: fc.boolean(),
      baseline: fc.nat(20),
      submitter: fc.option(fc.nat(USERS - 1), { nil: undefined }),
      // Author indexes in order; an author may be listed twice.
      authors: fc.array(fc.nat(AUTHORS - 1), { maxLength: 3 }),
      keyError: fc.constantFrom(0, 0, 1e-12, 0.5, -3, 1e4, -1e4),
      countError: fc.constantFrom(0, 0, 0, 1, -2),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  votes: fc.uniqueArray(fc.record({ user: fc.nat(USERS - 1), paper: fc.nat(3), at: fc.date(decade) }), {
    selector: (vote) => `${vote.user}:${vote.paper}`,
    maxLength: 20,
  }),
});

type History = typeof historyArbitrary extends fc.Arbitrary<infer T> ? T : never;

/** Loads the history, with each paper's key and count off by its errors; returns what a recompute must find (the oracle's values). */
async function load(db: Database, history: History) {
  await db.execute(sql`truncate table upvotes, paper_authors, papers, authors, users restart identity cascade`);
  const userIds = (
    await db
      .insert(users)
      .values(Array.from({ length: USERS }, (_, index) => ({ username: `user${index}` })))
      .returning()
  ).map((user) => user.id);
  const authorIds = (
    await db
      .insert(authors)
      .values(history.claimedBy.map((user, index) => ({ name: `Author ${index}`, userId: user === undefined ? null : userIds[user]! })))
      .returning()
  ).map((author) => author.id);
  const stored = await db
    .insert(papers)
    .values(
      history.papers.map((paper, index) => ({
        arxivId: `2511.${String(10000 + index)}`,
        title: `Paper ${index}`,
        publishedAt: paper.featured ? new Date(paper.start.getTime() - DAY) : paper.start,
        submittedAt: paper.featured ? paper.start : null,
        submittedById: paper.submitter === undefined ? null : userIds[paper.submitter]!,
        upvoteBaseline: paper.baseline,
        trendingKey: 0,
      })),
    )
    .returning();
  const authorships = history.papers.flatMap((paper, index) =>
    paper.authors.map((author, position) => ({ paperId: stored[index]!.id, position, authorId: authorIds[author]!, name: `Author ${author}` })),
  );
  if (authorships.length > 0) await db.insert(paperAuthors).values(authorships);
  const votes = history.votes
    .filter((vote) => vote.paper < stored.length)
    .map((vote) => ({ paperId: stored[vote.paper]!.id, userId: userIds[vote.user]!, createdAt: vote.at }));
  if (votes.length > 0) await db.insert(upvotes).values(votes);

  const oracle = await expectedTrending(db, history.settings);
  const expected = stored.map((paper) => ({ id: paper.id, ...oracle.get(paper.id)! }));
  for (const [index, paper] of history.papers.entries()) {
    const { id, key, count } = expected[index]!;
    await db
      .update(papers)
      .set({ trendingKey: key + paper.keyError, upvoteCount: count + paper.countError })
      .where(eq(papers.id, id));
  }
  return { expected, votes };
}

async function checkAgainstScratch(db: Database, history: History) {
  const { expected, votes } = await load(db, history);

  // The per-vote update's form of the rule agrees with the oracle's.
  const weights = await queryRows<{ paperId: number; userId: number; weighs: boolean }>(
    db,
    sql`select u.paper_id as "paperId", u.user_id as "userId",
          ${voteWeighs(sql`u.paper_id`, sql`u.user_id`, sql`p.submitted_by_id`)} as weighs
        from upvotes u join papers p on p.id = u.paper_id`,
  );
  const weighing = new Set(expected.flatMap((paper) => paper.weighingVoters.map((userId) => `${paper.id}:${userId}`)));
  expect(weights).toHaveLength(votes.length);
  for (const weight of weights) expect(weight.weighs).toBe(weighing.has(`${weight.paperId}:${weight.userId}`));

  const repaired = await recomputeKeysAndCounts(db, history.settings);
  const off = (errors: number[], tolerance: number) => expected.filter((_paper, index) => Math.abs(errors[index]!) > tolerance).map((paper) => paper.id);
  expect(repaired).toEqual({
    keyIds: off(
      history.papers.map((paper) => paper.keyError),
      1e-9,
    ),
    countIds: off(
      history.papers.map((paper) => paper.countError),
      0,
    ),
  });
  const after = await db.select().from(papers).orderBy(papers.id);
  for (const [index, paper] of after.entries()) {
    expect(Math.abs(paper.trendingKey - expected[index]!.key)).toBeLessThan(1e-9);
    expect(paper.upvoteCount).toBe(expected[index]!.count);
  }
  expect(await recomputeKeysAndCounts(db, history.settings)).toEqual({ keyIds: [], countIds: [] });
  // Per paper the keys take the exact path: it agrees.
  expect(
    await recomputeKeys(
      db,
      history.settings,
      expected.map((paper) => paper.id),
    ),
  ).toEqual([]);
}

let database: TestDatabase;
/** The embedded database (PGlite) of a first `npm start`, in a folder of its own. */
let embedded: DatabaseHandle;
let embeddedDir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  embeddedDir = mkdtempSync(path.join(tmpdir(), 'papers-pglite-'));
  embedded = openDatabase({ url: undefined, dataDir: embeddedDir });
  await embedded.migrate();
});

afterAll(async () => {
  await database?.close();
  await embedded?.close();
  rmSync(embeddedDir, { recursive: true, force: true });
});

describe('recomputeKeysAndCounts on Postgres', () => {
  it('repairs exactly the keys and counts that are off, to a from-scratch recompute within 1e-9', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary, (history) => checkAgainstScratch(database.db, history)),
      { seed: SEED, numRuns: 30, endOnFailure: true },
    );
  });

  it('leaves a key and a count that a vote changed after it read them, and repairs them on the next run', async () => {
    const { db } = database;
    const settings: TrendingSettings = trending;
    const start = new Date('2025-11-12T08:00:00Z');
    const { expected } = await load(db, {
      settings: settings as History['settings'],
      claimedBy: [undefined, undefined, undefined, undefined],
      papers: [{ start, featured: true, baseline: 2, submitter: undefined, authors: [], keyError: 0.5, countError: 1 }],
      votes: [{ user: 0, paper: 0, at: new Date('2025-11-12T10:00:00Z') }],
    });
    const { id } = expected[0]!;
    const [corrupted] = await db.select().from(papers).where(eq(papers.id, id));

    // A vote on its own connection, as addUpvote does it: lock the paper, add the row, bump count and key; not committed yet.
    const voter = postgres(database.url, { max: 2, onnotice: () => {} });
    const vote = await voter.reserve();
    try {
      const voteTime = new Date('2025-11-12T11:00:00Z');
      const votedKey = keyWithVote(corrupted!.trendingKey, start, voteTime, settings);
      await vote`begin`;
      await vote`select id from papers where id = ${id} for update`;
      await vote`insert into upvotes (paper_id, user_id, created_at) values (${id}, 2, ${voteTime})`;
      await vote`update papers set upvote_count = upvote_count + 1, trending_key = ${votedKey} where id = ${id}`;

      // The recompute reads without the vote, finds key and count off, and waits for the row to write them.
      const recompute = recomputeKeysAndCounts(db, settings);
      await vi.waitFor(
        async () => {
          const [waiting] = await voter<{ n: number }[]>`
            select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`;
          expect(waiting!.n).toBe(1);
        },
        { timeout: 10_000, interval: 20 },
      );
      await vote`commit`;

      expect(await recompute).toEqual({ keyIds: [], countIds: [] });
      const [afterVote] = await db.select().from(papers).where(eq(papers.id, id));
      expect(afterVote).toMatchObject({ trendingKey: votedKey, upvoteCount: corrupted!.upvoteCount + 1 });
    } finally {
      vote.release();
      await voter.end();
    }

    // The vote built on the corrupted values; the next run repairs both.
    expect(await recomputeKeysAndCounts(db, settings)).toEqual({ keyIds: [id], countIds: [id] });
    const [repaired] = await db.select().from(papers).where(eq(papers.id, id));
    const withVote = trendingKey({ start, baseline: 2, voteTimes: [new Date('2025-11-12T10:00:00Z'), new Date('2025-11-12T11:00:00Z')] }, settings);
    expect(Math.abs(repaired!.trendingKey - withVote)).toBeLessThan(1e-9);
    expect(repaired!.upvoteCount).toBe(4);
  });
});

describe('recomputeKeysAndCounts on PGlite', () => {
  it('gives the same results as on Postgres', async () => {
    await fc.assert(
      fc.asyncProperty(historyArbitrary, (history) => checkAgainstScratch(embedded.db, history)),
      { seed: SEED, numRuns: 40, endOnFailure: true },
    );
    // Forty histories on PGlite and Postgres: seconds on a quiet machine, over 30 s on a loaded one.
  }, 180_000);
});
