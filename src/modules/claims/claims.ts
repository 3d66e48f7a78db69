import { and, eq, inArray, ne, sql } from 'drizzle-orm';
import type { TrendingSettings } from '../../config';
import type { Database } from '../../db/client';
import { authors, authorshipClaims, paperAuthors, papers, type AuthorshipClaimRow } from '../../db/schema';
import { AppError } from '../../errors';
import { recomputeKeys } from '../trending/recompute';

export interface NewClaim {
  authorId: number;
  userId: number;
  at: Date;
}

/**
 * Files a pending claim of `userId` to be the author. The author row is read
 * FOR SHARE: claims on one author go side by side, but wait for an approval
 * in flight (which holds the row FOR UPDATE), so none slips in after the
 * author was verified.
 */
export function claimAuthorship(db: Database, claim: NewClaim): Promise<AuthorshipClaimRow> {
  return db.transaction(async (tx) => {
    const [author] = await tx.select({ userId: authors.userId }).from(authors).where(eq(authors.id, claim.authorId)).for('share');
    if (!author) throw new AppError('NOT_FOUND', 'No author has this ID.');
    if (author.userId === claim.userId) throw new AppError('CONFLICT', 'You are already verified as this author.');
    if (author.userId !== null) throw new AppError('CONFLICT', 'This author is already verified for another account.');
    const [inserted] = await tx
      .insert(authorshipClaims)
      .values({ authorId: claim.authorId, userId: claim.userId, createdAt: claim.at })
      .onConflictDoNothing()
      .returning();
    if (inserted) return inserted;
    // One claim per user and author, ever: a rejected claim is not filed again.
    const [existing] = await tx
      .select({ status: authorshipClaims.status })
      .from(authorshipClaims)
      .where(and(eq(authorshipClaims.authorId, claim.authorId), eq(authorshipClaims.userId, claim.userId)));
    throw new AppError('CONFLICT', `You already claimed this author (that claim is ${existing?.status ?? 'pending'}).`);
  });
}

export type ClaimDecision = 'approved' | 'rejected';

export interface Decision {
  claimId: number;
  adminId: number;
  decision: ClaimDecision;
  at: Date;
}

/**
 * Approves or rejects a pending claim. Approval verifies the author for the
 * claimant, rejects the author's other pending claims, and recomputes the
 * trending keys of the author's papers, where the new author's upvotes now
 * weigh 0 — all in one transaction.
 *
 * Every decision first locks the claim's author row: decisions on one
 * author's claims then run one at a time, and always take their locks in the
 * same order, so two approvals can neither both verify the author nor
 * deadlock.
 */
export function decideClaim(db: Database, settings: TrendingSettings, decision: Decision): Promise<AuthorshipClaimRow> {
  return db.transaction(async (tx) => {
    const [author] = await tx
      .select({ id: authors.id, userId: authors.userId })
      .from(authors)
      .where(eq(authors.id, sql`(select ${authorshipClaims.authorId} from ${authorshipClaims} where ${authorshipClaims.id} = ${decision.claimId})`))
      .for('update');
    const [claim] = author ? await tx.select().from(authorshipClaims).where(eq(authorshipClaims.id, decision.claimId)).for('update') : [];
    if (!author || !claim) throw new AppError('NOT_FOUND', 'No authorship claim has this ID.');
    if (claim.status !== 'pending') throw new AppError('CONFLICT', `This claim was already ${claim.status}.`);
    const decided = { decidedAt: decision.at, decidedById: decision.adminId };
    if (decision.decision === 'approved') {
      if (author.userId !== null) throw new AppError('CONFLICT', 'This author is already verified for an account.');
      await tx.update(authors).set({ userId: claim.userId }).where(eq(authors.id, author.id));
      await tx
        .update(authorshipClaims)
        .set({ status: 'rejected', ...decided })
        .where(and(eq(authorshipClaims.authorId, author.id), eq(authorshipClaims.status, 'pending'), ne(authorshipClaims.id, claim.id)));
      await recomputeKeysOfAuthor(tx, settings, author.id);
    }
    const [updated] = await tx
      .update(authorshipClaims)
      .set({ status: decision.decision, ...decided })
      .where(eq(authorshipClaims.id, claim.id))
      .returning();
    return updated!;
  });
}

/** How long after an approval its papers are reconciled: votes in flight at the approval have landed by then. */
export const VERIFICATION_REPAIR_DELAY_MS = 5_000;

/** The papers listing an author, hidden or not. */
export async function paperIdsOfAuthor(db: Database, authorId: number): Promise<number[]> {
  const rows = await db.select({ id: paperAuthors.paperId }).from(paperAuthors).where(eq(paperAuthors.authorId, authorId));
  return rows.map((row) => row.id);
}

/**
 * Recomputes the keys of every paper listing the author (hidden or not: the
 * weight rule ignores hiding). The papers are locked first, in id order, so no
 * concurrent vote makes the recompute skip a paper. A vote already waiting on
 * one of those locks was checked against the authors as they were when it
 * started, so it may still weigh: VERIFICATION_REPAIR_DELAY_MS after the
 * approval, a reconcile of each paper (the refresh-paper-trending job,
 * enqueued by the API) repairs that.
 */
async function recomputeKeysOfAuthor(tx: Database, settings: TrendingSettings, authorId: number) {
  const locked = await tx
    .select({ id: papers.id })
    .from(papers)
    .where(inArray(papers.id, tx.select({ id: paperAuthors.paperId }).from(paperAuthors).where(eq(paperAuthors.authorId, authorId))))
    .orderBy(papers.id)
    .for('update');
  if (locked.length > 0)
    await recomputeKeys(
      tx,
      settings,
      locked.map((paper) => paper.id),
    );
}
