import { doublePrecision, integer, pgTable, primaryKey } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';
import { papers } from './papers';
import { users } from './users';

/** Precomputed "similar papers" of each paper, best first; refreshed by a job. */
export const similarPapers = pgTable(
  'similar_papers',
  {
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    /** 0-based rank among this paper's similar papers. */
    rank: integer('rank').notNull(),
    similarPaperId: integer('similar_paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    score: doublePrecision('score').notNull(),
  },
  (t) => [primaryKey({ columns: [t.paperId, t.rank] })],
);

/** Precomputed personal feed of each user, best first; refreshed by a job after their upvotes. */
export const recommendations = pgTable(
  'recommendations',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    rank: integer('rank').notNull(),
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    score: doublePrecision('score').notNull(),
    computedAt: timestampMs('computed_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.rank] })],
);
