import { boolean, index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { sql } from 'drizzle-orm';
import { timestampMs } from './columns';
import { papers } from './papers';
import { users } from './users';

/** A user's named list of papers; a private one is seen by its owner only. */
export const collections = pgTable(
  'collections',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    ownerId: integer('owner_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    description: text('description'),
    isPublic: boolean('is_public').notNull(),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    updatedAt: timestampMs('updated_at').notNull().defaultNow(),
  },
  // User.collections, newest first.
  (t) => [index('collections_owner_idx').on(t.ownerId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst())],
);

/** A paper in a collection, at a position (0-based, in the owner's order), with the owner's note. */
export const collectionPapers = pgTable(
  'collection_papers',
  {
    collectionId: integer('collection_id')
      .notNull()
      .references(() => collections.id, { onDelete: 'cascade' }),
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    position: integer('position').notNull(),
    note: text('note'),
    addedAt: timestampMs('added_at').notNull().defaultNow(),
  },
  (t) => [
    primaryKey({ columns: [t.collectionId, t.paperId] }),
    // Collection.papers in order.
    index('collection_papers_order_idx').on(t.collectionId, t.position, t.paperId),
    // Paper.collectionCount.
    index('collection_papers_paper_idx').on(t.paperId, t.collectionId),
  ],
);

/**
 * A private feed link: its token is shown once and only its SHA-256 is kept.
 * At most one live link per user and kind; revoking it makes the feed answer 404.
 */
export const feedLinks = pgTable(
  'feed_links',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: ['RECOMMENDATIONS', 'FOLLOWING'] }).notNull(),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    revokedAt: timestampMs('revoked_at'),
  },
  (t) => [uniqueIndex('feed_links_live_key').on(t.userId, t.kind).where(sql`${t.revokedAt} is null`)],
);

export type CollectionRow = typeof collections.$inferSelect;
export type CollectionPaperRow = typeof collectionPapers.$inferSelect;
