import { index, integer, pgTable, text } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';
import { users } from './users';

/**
 * A signed-in session. Only the SHA-256 of its bearer token is stored: a
 * leaked table does not let anyone sign in. Deleting the user ends them.
 */
export const sessions = pgTable(
  'sessions',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    tokenHash: text('token_hash').notNull().unique(),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    expiresAt: timestampMs('expires_at').notNull(),
    revokedAt: timestampMs('revoked_at'),
  },
  (t) => [index('sessions_user_idx').on(t.userId)],
);

export type SessionRow = typeof sessions.$inferSelect;
