import { boolean, doublePrecision, index, integer, jsonb, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
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
    /** The ranking model that ranked it (null: the hand defaults). */
    modelId: integer('model_id'),
    /** Why it was recommended, from the scores that ranked it: [{ kind, paperId?, keyword? }]. */
    reasons: jsonb('reasons').notNull().default([]),
  },
  (t) => [primaryKey({ columns: [t.userId, t.rank] })],
);

/**
 * Each paper's nearest papers by one signal ('content': tf-idf cosine;
 * 'co_upvote': shrunk co-upvote cosine), up to NEIGHBORS_STORED per signal:
 * the candidates and features the personal ranking reads. Refreshed with
 * similar_papers.
 */
export const paperNeighbors = pgTable(
  'paper_neighbors',
  {
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    signal: text('signal', { enum: ['content', 'co_upvote'] }).notNull(),
    neighborId: integer('neighbor_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    similarity: doublePrecision('similarity').notNull(),
  },
  (t) => [
    primaryKey({ columns: [t.paperId, t.signal, t.neighborId] }),
    // Read both ways: a new paper's own list names the older papers it is near (ranking.ts).
    index('paper_neighbors_reverse_idx').on(t.neighborId, t.signal, t.similarity.desc()),
  ],
);

/**
 * Versioned personal-ranking models fitted by the tune-recommendations job:
 * the blend weights, the validation metrics of the model, of trending and of
 * each signal alone, and what the fit saw. The API serves the latest model
 * that beat trending on validation and is not retired; retiring it (rollback)
 * brings back the one before.
 */
export const rankingModels = pgTable('ranking_models', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  weights: jsonb('weights').notNull(),
  /** { model, trending, signals: { <signal>: {hitRate, ndcg} } } on the validation votes. */
  validation: jsonb('validation').notNull(),
  beatsTrending: boolean('beats_trending').notNull(),
  validationUsers: integer('validation_users').notNull(),
  trainingVotes: integer('training_votes').notNull(),
  fittedAt: timestampMs('fitted_at').notNull().defaultNow(),
  /** Set by a rollback: a retired model is not served. */
  retiredAt: timestampMs('retired_at'),
});

/** Papers a user asked not to be recommended; they also count against papers like them. */
export const recommendationDismissals = pgTable(
  'recommendation_dismissals',
  {
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userId, t.paperId] })],
);
