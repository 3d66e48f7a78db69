import { getTableColumns, sql } from 'drizzle-orm';
import { integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';

/**
 * People on the site. Imported submitters have no email or password until
 * they sign up; usernames and emails are unique regardless of case.
 */
export const users = pgTable(
  'users',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    username: text('username').notNull(),
    displayName: text('display_name'),
    avatarUrl: text('avatar_url'),
    email: text('email'),
    passwordHash: text('password_hash'),
    /** 'admin' may approve authorship claims; everyone else is a 'member'. */
    role: text('role', { enum: ['member', 'admin'] }).notNull().default('member'),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`),
  ],
);

export type UserRow = typeof users.$inferSelect;

/** What the API may show of a user: no email, no password hash. */
const { email: _email, passwordHash: _passwordHash, ...profileColumns } = getTableColumns(users);
export const userProfileColumns = profileColumns;
export type UserProfile = Omit<UserRow, 'email' | 'passwordHash'>;
