import { and, eq, inArray, isNotNull, type Column } from 'drizzle-orm';
import type { TrendingSettings } from '../../src/config';
import type { Database } from '../../src/db/client';
import { authors, paperAuthors, papers, upvotes } from '../../src/db/schema';
import { trendingKey } from '../../src/modules/trending/trending-key';

/** What a paper's trending columns should hold, worked out in TypeScript from its rows. */
export interface ExpectedTrending {
  /** K from scratch: the prior and the baseline at the start, and every vote that weighs. */
  key: number;
  /** upvote_baseline + the vote rows. */
  count: number;
  /** The voters whose votes weigh: all but the submitter and the paper's verified authors. */
  weighingVoters: number[];
}

/**
 * The tests' oracle for trending: each paper's key and count from the paper,
 * vote and authorship rows (of `paperIds`, else of every paper), with the
 * weight rule written out here rather than taken from the SQL it checks.
 */
export async function expectedTrending(db: Database, settings: TrendingSettings, paperIds?: readonly number[]): Promise<Map<number, ExpectedTrending>> {
  const scope = (paperId: Column) => (paperIds ? inArray(paperId, [...paperIds]) : undefined);
  const paperRows = await db.select().from(papers).where(scope(papers.id));
  const votes = await db.select().from(upvotes).where(scope(upvotes.paperId));
  const verified = await db
    .select({ paperId: paperAuthors.paperId, userId: authors.userId })
    .from(paperAuthors)
    .innerJoin(authors, eq(authors.id, paperAuthors.authorId))
    .where(and(isNotNull(authors.userId), scope(paperAuthors.paperId)));

  const expected = new Map<number, ExpectedTrending>();
  for (const paper of paperRows) {
    const own = votes.filter((vote) => vote.paperId === paper.id);
    const authorUsers = new Set(verified.filter((row) => row.paperId === paper.id).map((row) => row.userId));
    const weighing = own.filter((vote) => vote.userId !== paper.submittedById && !authorUsers.has(vote.userId));
    const start = paper.submittedAt ?? paper.publishedAt;
    expected.set(paper.id, {
      key: trendingKey({ start, baseline: paper.upvoteBaseline, voteTimes: weighing.map((vote) => vote.createdAt) }, settings),
      count: paper.upvoteBaseline + own.length,
      weighingVoters: weighing.map((vote) => vote.userId),
    });
  }
  return expected;
}

/** The oracle's key for one paper. */
export async function expectedKey(db: Database, settings: TrendingSettings, paperId: number): Promise<number> {
  const expected = (await expectedTrending(db, settings, [paperId])).get(paperId);
  if (!expected) throw new Error(`no paper ${paperId}`);
  return expected.key;
}
