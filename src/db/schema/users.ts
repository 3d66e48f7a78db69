import { getTableColumns, sql } from 'drizzle-orm';
import { integer, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';

/**
 * People on the site. Imported submitters have no email or password until
 * they sign up; usernames and emails are unique regardless of case. `email`
 * holds only an address its owner has shown to be theirs (by the link mailed
 * to it, or by having had the account before verification existed); signUp's
 * address waits in `pendingEmail` until then.
 */
export const users = pgTable(
  'users',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    username: text('username').notNull(),
    displayName: text('display_name'),
    avatarUrl: text('avatar_url'),
    email: text('email'),
    /** The address given at signUp, until the link mailed to it is opened (then it moves to `email`). */
    pendingEmail: text('pending_email'),
    /** SHA-256 of the token in the verification link last mailed to `pendingEmail`. */
    emailTokenHash: text('email_token_hash'),
    passwordHash: text('password_hash'),
    /** 'admin' may approve authorship claims; everyone else is a 'member'. */
    role: text('role', { enum: ['member', 'admin'] })
      .notNull()
      .default('member'),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('users_username_lower_key').on(sql`lower(${t.username})`),
    uniqueIndex('users_email_lower_key').on(sql`lower(${t.email})`),
    uniqueIndex('users_email_token_hash_key').on(t.emailTokenHash),
  ],
);

export type UserRow = typeof users.$inferSelect;

/** What the API may show of a user: no email, pending or not, no password or token hash. */
const {
  email: _email,
  pendingEmail: _pendingEmail,
  emailTokenHash: _emailTokenHash,
  passwordHash: _passwordHash,
  ...profileColumns
} = getTableColumns(users);
export const userProfileColumns = profileColumns;
export type UserProfile = Omit<UserRow, 'email' | 'pendingEmail' | 'emailTokenHash' | 'passwordHash'>;
