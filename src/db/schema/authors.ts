import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';
import { users } from './users';

/**
 * A person named on papers. Sources give no author identifiers, so an author
 * is identified by the name as printed.
 */
export const authors = pgTable(
  'authors',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    name: text('name').notNull().unique(),
    /** The account that claimed this author, once an admin verified the claim. */
    userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
  },
  (t) => [index('authors_name_trigram_idx').using('gin', sql`lower(${t.name}) gin_trgm_ops`)],
);

/** What the API reads of an author (created_at is bookkeeping: a Date parse per row saved on every page of papers). */
export const authorColumns = { id: authors.id, name: authors.name, userId: authors.userId };
export type AuthorRow = Pick<typeof authors.$inferSelect, keyof typeof authorColumns>;
