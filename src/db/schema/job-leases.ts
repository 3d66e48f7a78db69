import { pgTable, text } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';

/**
 * Who is running a job that must not run twice at once, across processes and
 * hosts (the arXiv categories fill: two runs would each send requests). A
 * holder renews its lease as it goes; a lease past `expires_at` belongs to a
 * holder that died and may be taken over.
 */
export const jobLeases = pgTable('job_leases', {
  name: text('name').primaryKey(),
  holder: text('holder').notNull(),
  expiresAt: timestampMs('expires_at').notNull(),
});
