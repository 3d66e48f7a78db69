import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';
import { users } from './users';

/**
 * A person named on papers. Sources give no author identifiers, so an author
 * is identified by the name as printed.
 */
export const authors = pgTable('authors', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  name: text('name').notNull().unique(),
  /** The account that claimed this author, once an admin verified the claim. */
  userId: integer('user_id').references(() => users.id, { onDelete: 'set null' }),
  createdAt: timestampMs('created_at').notNull().defaultNow(),
});

export type AuthorRow = typeof authors.$inferSelect;
