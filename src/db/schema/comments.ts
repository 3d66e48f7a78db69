import { sql } from 'drizzle-orm';
import { type AnyPgColumn, index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';
import { papers } from './papers';
import { users } from './users';

/**
 * A comment on a paper, or a reply to another comment on the same paper. A
 * deleted comment without replies is gone; one with replies stays as a
 * placeholder (deleted_at set, body empty) until its last reply goes.
 */
export const comments = pgTable(
  'comments',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    authorId: integer('author_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    parentId: integer('parent_id').references((): AnyPgColumn => comments.id, { onDelete: 'cascade' }),
    body: text('body').notNull(),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    /** When its author last changed the body; null if never. */
    editedAt: timestampMs('edited_at'),
    /** When its author deleted it: it stays, its body emptied, as the placeholder its replies hang under. */
    deletedAt: timestampMs('deleted_at'),
  },
  (t) => [
    // Top-level comments of a paper, oldest first; replies go through comments_parent_idx.
    index('comments_paper_top_level_idx').on(t.paperId, t.createdAt, t.id).where(sql`${t.parentId} is null`),
    index('comments_parent_idx').on(t.parentId, t.createdAt, t.id),
  ],
);

export type CommentRow = typeof comments.$inferSelect;
