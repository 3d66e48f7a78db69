import { eq, sql } from 'drizzle-orm';
import type { TrendingSettings } from '../../config';
import type { Database, Transaction } from '../../db/client';
import { paperColumns, papers, upvotes, type PaperRow } from '../../db/schema';
import { preparedPerDatabase } from '../../db/prepared-queries';
import { AppError } from '../../errors';
import { findPapersByIds } from '../papers/papers.queries';
import { recomputeKeys } from '../trending/recompute';
import { updatedKeySql } from '../trending/update';

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
function withPaperLocked(db: Database, paperId: number, change: (tx: Transaction, paper: PaperRow) => Promise<VoteChange>) {
  return db.transaction(async (tx) => {
    const [paper] = await tx.select(paperColumns).from(papers).where(eq(papers.id, paperId)).for('update');
    if (!paper) throw new AppError('NOT_FOUND', 'No paper has this ID.');
    return change(tx, paper);
  });
}

/**
 * Adds the user's upvote (idempotent) and updates the count and the trending
 * key in O(1) (the per-vote update). An upvote by the paper's submitter or a
 * verified author counts but weighs 0.
 *
 * One statement: the vote row is inserted (nothing happens for a repeat) and
 * the paper updated only when it was, its new key computed from the key the
 * UPDATE itself reads. The UPDATE takes the paper's row lock, and under read
 * committed a concurrent vote's UPDATE waits for it and then applies itself
 * to the row as it left it: counts and keys stay exact under any concurrency,
 * without a transaction's extra round trips.
 */
export async function addUpvote(db: Database, settings: TrendingSettings, vote: Vote): Promise<VoteChange> {
  const [updated] = await voteStatement(db, settings).execute({
    paperId: vote.paperId,
    userId: vote.userId,
    // A placeholder's value skips the column's encoding: the timestamp goes as text.
    at: vote.at.toISOString(),
  });
  if (updated) return { paper: updated, changed: true };
  // A repeat (or no such paper): nothing was written.
  const [paper] = await findPapersByIds(db, [vote.paperId]);
  if (!paper) throw new AppError('NOT_FOUND', 'No paper has this ID.');
  return { paper, changed: false };
}

/** The statement of addUpvote, prepared once per database handle and trending settings (it runs on every vote). */
function prepareVote(db: Database, settings: TrendingSettings) {
  const paperId = sql`${sql.placeholder('paperId')}::int`;
  const userId = sql`${sql.placeholder('userId')}::int`;
  const at = sql`${sql.placeholder('at')}::timestamptz`;
  const inserted = db.$with('inserted', { paperId: sql<number>`paper_id` }).as(
    sql`insert into ${upvotes} (paper_id, user_id, created_at)
        select ${paperId}, ${userId}, ${at}
        where exists (select 1 from ${papers} where id = ${paperId})
        on conflict do nothing
        returning paper_id`,
  );
  return db
    .with(inserted)
    .update(papers)
    .set({
      upvoteCount: sql`${papers.upvoteCount} + 1`,
      trendingKey: updatedKeySql(settings, { voterId: userId, at }),
      updatedAt: sql`${at}`,
    })
    .where(sql`${papers.id} in (select paper_id from inserted)`)
    .returning(paperColumns)
    .prepare('add_upvote');
}

const voteStatements = new WeakMap<TrendingSettings, (db: Database) => ReturnType<typeof prepareVote>>();

function voteStatement(db: Database, settings: TrendingSettings) {
  let forSettings = voteStatements.get(settings);
  if (!forSettings) {
    forSettings = preparedPerDatabase((database) => prepareVote(database, settings));
    voteStatements.set(settings, forSettings);
  }
  return forSettings(db);
}

/**
 * Removes the user's upvote if there is one. The paper's key is recomputed
 * from the remaining votes: subtracting in log space would lose precision.
 */
export function removeUpvote(db: Database, settings: TrendingSettings, vote: Vote): Promise<VoteChange> {
  return withPaperLocked(db, vote.paperId, async (tx, paper) => {
    const deleted = await tx.delete(upvotes).where(sql`${upvotes.paperId} = ${vote.paperId} and ${upvotes.userId} = ${vote.userId}`).returning();
    if (deleted.length === 0) return { paper, changed: false };
    await tx
      .update(papers)
      .set({ upvoteCount: sql`${papers.upvoteCount} - 1`, updatedAt: vote.at })
      .where(eq(papers.id, vote.paperId));
    await recomputeKeys(tx, settings, [vote.paperId]);
    const [updated] = await tx.select(paperColumns).from(papers).where(eq(papers.id, vote.paperId));
    return { paper: updated!, changed: true };
  });
}
