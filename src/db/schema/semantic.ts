import { customType, index, integer, pgTable, real, text } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';
import { papers } from './papers';

/** Raw bytes: the model's float32 matrices, little-endian (postgres.js reads a Buffer, PGlite a Uint8Array). */
const bytea = customType<{ data: Uint8Array }>({ dataType: () => 'bytea' });

/**
 * The semantic search's models (LSA of the papers' tf-idf, see
 * src/modules/search/semantic-model.ts), one row per fit: the newest is the
 * one in use, and its id is the version the API's cached copy is checked
 * against. Older ones are deleted by the next fit.
 */
export const searchModels = pgTable('search_models', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  fittedAt: timestampMs('fitted_at').notNull().defaultNow(),
  dimensions: integer('dimensions').notNull(),
  /** Papers the model was fitted on. */
  paperCount: integer('paper_count').notNull(),
  /** The terms, in the order of idf and of the projection's rows. */
  vocabulary: text('vocabulary').array().notNull(),
  idf: real('idf').array().notNull(),
  /** float32, vocabulary x dimensions. */
  projection: bytea('projection').notNull(),
  /** float32, buckets x dimensions, unit length. */
  centroids: bytea('centroids').notNull(),
});

/** Each paper's unit vector under the newest model, and the k-means bucket it falls in (what the search probes). */
export const paperEmbeddings = pgTable(
  'paper_embeddings',
  {
    paperId: integer('paper_id')
      .primaryKey()
      .references(() => papers.id, { onDelete: 'cascade' }),
    modelId: integer('model_id')
      .notNull()
      .references(() => searchModels.id, { onDelete: 'cascade' }),
    bucket: integer('bucket').notNull(),
    vector: real('vector').array().notNull(),
  },
  (t) => [index('paper_embeddings_bucket_idx').on(t.modelId, t.bucket)],
);
