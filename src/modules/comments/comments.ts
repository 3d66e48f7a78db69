import { and, eq, isNotNull, sql } from 'drizzle-orm';
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
      const [parent] = await tx
        .select({ paperId: comments.paperId, deletedAt: comments.deletedAt })
        .from(comments)
        .where(eq(comments.id, comment.parentId));
      if (!parent) throw new AppError('NOT_FOUND', 'No comment has this parent ID.');
      if (parent.deletedAt) throw badUserInput('The parent comment was deleted by its author: it takes no new replies.');
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

/** Its author's comment, or NOT_FOUND (also once deleted) or FORBIDDEN (someone else's). */
function ownComment(found: CommentRow | undefined, userId: number): CommentRow {
  if (!found || found.deletedAt) throw new AppError('NOT_FOUND', 'No comment has this ID (or it was deleted).');
  if (found.authorId !== userId) throw new AppError('FORBIDDEN', 'Only the author of a comment may edit or delete it.');
  return found;
}

export interface CommentEdit {
  commentId: number;
  /** Who asks: only the comment's author may. */
  userId: number;
  /** Already normalized (normalizeCommentBody). */
  body: string;
  at: Date;
}

/** Replaces the body of the author's own comment and stamps editedAt; the same body again changes nothing. */
export async function editComment(db: Database, edit: CommentEdit): Promise<CommentRow> {
  const [found] = await db.select().from(comments).where(eq(comments.id, edit.commentId));
  const comment = ownComment(found, edit.userId);
  if (comment.body === edit.body) return comment;
  // The conditions again: a delete between the read and this update leaves the placeholder alone.
  const [edited] = await db
    .update(comments)
    .set({ body: edit.body, editedAt: edit.at })
    .where(and(eq(comments.id, comment.id), eq(comments.authorId, edit.userId), sql`${comments.deletedAt} is null`))
    .returning();
  return ownComment(edited, edit.userId);
}

export interface CommentDeletion {
  paperId: number;
  /** The placeholder left when the comment had replies; undefined when it is gone. */
  placeholder?: CommentRow;
}

/**
 * Deletes the author's own comment, in one transaction. With replies it stays
 * as a placeholder (body emptied, deletedAt set) for them to hang under;
 * without, its row goes, and so does every placeholder above it left without
 * replies. Either way the paper counts one comment fewer (placeholders do
 * not count). The paper row is locked first, as addComment does, so a reply
 * cannot slip under a comment being removed.
 */
export async function deleteComment(db: Database, request: { commentId: number; userId: number; at: Date }): Promise<CommentDeletion> {
  const [target] = await db.select({ paperId: comments.paperId }).from(comments).where(eq(comments.id, request.commentId));
  if (!target) throw new AppError('NOT_FOUND', 'No comment has this ID (or it was deleted).');
  return db.transaction(async (tx) => {
    await tx
      .update(papers)
      .set({ commentCount: sql`greatest(${papers.commentCount} - 1, 0)`, updatedAt: request.at })
      .where(eq(papers.id, target.paperId));
    const [found] = await tx.select().from(comments).where(eq(comments.id, request.commentId));
    const comment = ownComment(found, request.userId);
    const [reply] = await tx.select({ id: comments.id }).from(comments).where(eq(comments.parentId, comment.id)).limit(1);
    if (reply) {
      const [placeholder] = await tx.update(comments).set({ body: '', deletedAt: request.at }).where(eq(comments.id, comment.id)).returning();
      return { paperId: comment.paperId, placeholder: placeholder! };
    }
    await tx.delete(comments).where(eq(comments.id, comment.id));
    // Placeholders above that held only this branch go too.
    let parentId = comment.parentId;
    while (parentId !== null) {
      const [removed] = await tx
        .delete(comments)
        .where(
          and(
            eq(comments.id, parentId),
            isNotNull(comments.deletedAt),
            sql`not exists (select 1 from ${comments} as reply where reply.parent_id = ${comments.id})`,
          ),
        )
        .returning({ parentId: comments.parentId });
      parentId = removed ? removed.parentId : null;
    }
    return { paperId: comment.paperId };
  });
}
