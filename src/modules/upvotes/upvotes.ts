import { eq, sql } from 'drizzle-orm';
import type { TrendingSettings } from '../../config';
import type { Database } from '../../db/client';
import { paperColumns, papers, upvotes, type PaperRow } from '../../db/schema';
import { AppError } from '../../errors';
import { recomputeTrendingKeys, voteWeighs } from '../trending/recompute';
import { keyWithVote } from '../trending/trending-key';

export interface VoteChange {
  paper: PaperRow;
  /** Whether a row was added or removed (false when the call was a repeat). */
  changed: boolean;
}

export interface Vote {
  paperId: number;
  userId: number;
  at: Date;
}

/**
 * Runs `change` in a transaction that first locks the paper row: every change
 * to one paper's votes then happens one at a time, so the count and the key
 * stay exact under any concurrency.
 */
function withPaperLocked(db: Database, paperId: number, change: (tx: Database, paper: PaperRow) => Promise<VoteChange>) {
  return db.transaction(async (transaction) => {
    const tx = transaction as unknown as Database;
    const [paper] = await tx.select(paperColumns).from(papers).where(eq(papers.id, paperId)).for('update');
    if (!paper) throw new AppError('NOT_FOUND', 'No paper has this ID.');
    return change(tx, paper);
  });
}

/**
 * Adds the user's upvote (idempotent) and updates the count and the trending
 * key in O(1). An upvote by the paper's submitter or a verified author counts but weighs 0.
 */
export function addUpvote(db: Database, settings: TrendingSettings, vote: Vote): Promise<VoteChange> {
  return withPaperLocked(db, vote.paperId, async (tx, paper) => {
    const [inserted] = await tx
      .insert(upvotes)
      .values({ paperId: vote.paperId, userId: vote.userId, createdAt: vote.at })
      .onConflictDoNothing()
      .returning();
    if (!inserted) return { paper, changed: false };
    const start = paper.submittedAt ?? paper.publishedAt;
    const weighs = voteWeighs(sql`${vote.paperId}::int`, sql`${vote.userId}::int`, sql`${papers.submittedById}`);
    const [updated] = await tx
      .update(papers)
      .set({
        upvoteCount: sql`${papers.upvoteCount} + 1`,
        // The weight is checked in the same statement: one round trip fewer under the paper's lock.
        trendingKey: sql`case when ${weighs} then ${keyWithVote(paper.trendingKey, start, vote.at, settings)}::float8 else ${papers.trendingKey} end`,
        updatedAt: vote.at,
      })
      .where(eq(papers.id, vote.paperId))
      .returning(paperColumns);
    return { paper: updated!, changed: true };
  });
}

/**
 * Removes the user's upvote if there is one. The key is recomputed from the
 * remaining votes: subtracting in log space would lose precision.
 */
export function removeUpvote(db: Database, settings: TrendingSettings, vote: Vote): Promise<VoteChange> {
  return withPaperLocked(db, vote.paperId, async (tx, paper) => {
    const deleted = await tx
      .delete(upvotes)
      .where(sql`${upvotes.paperId} = ${vote.paperId} and ${upvotes.userId} = ${vote.userId}`)
      .returning();
    if (deleted.length === 0) return { paper, changed: false };
    await tx
      .update(papers)
      .set({ upvoteCount: sql`${papers.upvoteCount} - 1`, updatedAt: vote.at })
      .where(eq(papers.id, vote.paperId));
    await recomputeTrendingKeys(tx, settings, [vote.paperId]);
    const [updated] = await tx.select(paperColumns).from(papers).where(eq(papers.id, vote.paperId));
    return { paper: updated!, changed: true };
  });
}
