import { index, integer, pgTable, primaryKey } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';
import { papers } from './papers';
import { users } from './users';

/** One row per user and paper: the primary key makes a second upvote impossible. */
export const upvotes = pgTable(
  'upvotes',
  {
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.paperId, t.userId] }),
    index('upvotes_paper_recent_idx').on(t.paperId, t.createdAt.desc().nullsFirst(), t.userId.desc().nullsFirst()),
    index('upvotes_user_recent_idx').on(t.userId, t.createdAt.desc().nullsFirst(), t.paperId.desc().nullsFirst()),
  ],
);

export type UpvoteRow = typeof upvotes.$inferSelect;
