import { index, integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { authors } from './authors';
import { timestampMs } from './columns';
import { users } from './users';

/** A user's claim to be an author, pending until an admin approves or rejects it. */
export const authorshipClaims = pgTable(
  'authorship_claims',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    authorId: integer('author_id')
      .notNull()
      .references(() => authors.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    status: text('status', { enum: ['pending', 'approved', 'rejected'] })
      .notNull()
      .default('pending'),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    decidedAt: timestampMs('decided_at'),
    decidedById: integer('decided_by_id').references(() => users.id, { onDelete: 'set null' }),
  },
  (t) => [uniqueIndex('authorship_claims_author_user_key').on(t.authorId, t.userId), index('authorship_claims_status_idx').on(t.status, t.createdAt)],
);

export type AuthorshipClaimRow = typeof authorshipClaims.$inferSelect;
