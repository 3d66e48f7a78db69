import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { comments, papers, type CommentRow } from '../../db/schema';
import { AppError, badUserInput } from '../../errors';

export interface NewComment {
  paperId: number;
  authorId: number;
  /** The comment this one replies to; null for a top-level comment. */
  parentId: number | null;
  /** Already normalized (normalizeCommentBody). */
  body: string;
  at: Date;
}

/**
 * Stores a comment and counts it on its paper, in one transaction. The count
 * is bumped first: that update locks the paper row, so concurrent comments on
 * one paper count one at a time and the count stays exact; any error after it
 * rolls both back.
 */
export function addComment(db: Database, comment: NewComment): Promise<CommentRow> {
  return db.transaction(async (tx) => {
    const [paper] = await tx
      .update(papers)
      .set({ commentCount: sql`${papers.commentCount} + 1`, updatedAt: comment.at })
      .where(eq(papers.id, comment.paperId))
      .returning({ id: papers.id });
    if (!paper) throw new AppError('NOT_FOUND', 'No paper has this ID.');
    if (comment.parentId !== null) {
      const [parent] = await tx.select({ paperId: comments.paperId }).from(comments).where(eq(comments.id, comment.parentId));
      if (!parent) throw new AppError('NOT_FOUND', 'No comment has this parent ID.');
      if (parent.paperId !== comment.paperId) {
        throw badUserInput('The parent comment is on another paper: reply on the paper it belongs to.');
      }
    }
    const [inserted] = await tx
      .insert(comments)
      .values({
        paperId: comment.paperId,
        authorId: comment.authorId,
        parentId: comment.parentId,
        body: comment.body,
        createdAt: comment.at,
      })
      .returning();
    return inserted!;
  });
}
