import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';

/** An organization papers are published under, e.g. a lab or a company ("OPPO"). */
export const organizations = pgTable('organizations', {
  id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
  /** Unique handle used in URLs and filters. */
  name: text('name').notNull().unique(),
  fullName: text('full_name'),
  avatarUrl: text('avatar_url'),
  createdAt: timestampMs('created_at').notNull().defaultNow(),
});

export type OrganizationRow = typeof organizations.$inferSelect;
