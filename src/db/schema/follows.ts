import { sql } from 'drizzle-orm';
import { index, integer, jsonb, pgTable, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { authorshipClaims } from './authorship-claims';
import { authors } from './authors';
import { timestampMs } from './columns';
import { comments } from './comments';
import { organizations } from './organizations';
import { papers } from './papers';
import { tsquery } from './search';
import { users } from './users';

export const FOLLOW_KINDS = ['AUTHOR', 'ORGANIZATION', 'CATEGORY', 'KEYWORD', 'SEARCH'] as const;
export type FollowKind = (typeof FOLLOW_KINDS)[number];

/**
 * What a user follows: an author, an organization, an arXiv category, a
 * keyword or a saved search. `subject_key` names the followed thing
 * canonically ('AUTHOR:12', 'KEYWORD:diffusion', 'SEARCH:<sha256 of query and filter>'),
 * so following it twice is one row (unique per user).
 */
export const follows = pgTable(
  'follows',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: FOLLOW_KINDS }).notNull(),
    subjectKey: text('subject_key').notNull(),
    authorId: integer('author_id').references(() => authors.id, { onDelete: 'cascade' }),
    organizationId: integer('organization_id').references(() => organizations.id, { onDelete: 'cascade' }),
    /** The category (cs.LG), the lower-cased keyword, or the search query (normalized) as given. */
    value: text('value'),
    /** A saved search's PaperFilter (ids as row ids, dates as ISO strings); null when none. */
    searchFilter: jsonb('search_filter'),
    /** A saved search's full-text query, as searchPapers matches every word (search-terms.ts), made once when followed. */
    searchQuery: tsquery('search_query'),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex('follows_user_subject_key').on(t.userId, t.subjectKey),
    // viewer.follows, newest first.
    index('follows_user_idx').on(t.userId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    // Who follows a new paper's authors, organization, categories or keywords (the notification fan-out).
    index('follows_author_idx').on(t.authorId).where(sql`${t.authorId} is not null`),
    index('follows_organization_idx').on(t.organizationId).where(sql`${t.organizationId} is not null`),
    index('follows_value_idx').on(t.kind, t.value),
  ],
);

export const NOTIFICATION_KINDS = ['NEW_PAPER', 'COMMENT_REPLY', 'CLAIM_DECIDED'] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/**
 * A user's notification. `subject_id` is what it is about (the paper of
 * NEW_PAPER, the reply of COMMENT_REPLY, the claim of CLAIM_DECIDED): one
 * notification per user, kind and subject, whoever makes it and however often.
 */
export const notifications = pgTable(
  'notifications',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    userId: integer('user_id')
      .notNull()
      .references(() => users.id, { onDelete: 'cascade' }),
    kind: text('kind', { enum: NOTIFICATION_KINDS }).notNull(),
    subjectId: integer('subject_id').notNull(),
    paperId: integer('paper_id').references(() => papers.id, { onDelete: 'cascade' }),
    commentId: integer('comment_id').references(() => comments.id, { onDelete: 'cascade' }),
    claimId: integer('claim_id').references(() => authorshipClaims.id, { onDelete: 'cascade' }),
    /** NEW_PAPER: the follow that matched (null once unfollowed). */
    followId: integer('follow_id').references(() => follows.id, { onDelete: 'set null' }),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    readAt: timestampMs('read_at'),
  },
  (t) => [
    uniqueIndex('notifications_subject_key').on(t.userId, t.kind, t.subjectId),
    // viewer.notifications, newest first.
    index('notifications_user_idx').on(t.userId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    // unreadOnly and unreadNotificationCount.
    index('notifications_unread_idx').on(t.userId, t.createdAt.desc().nullsFirst(), t.id.desc().nullsFirst()).where(sql`${t.readAt} is null`),
  ],
);

export type FollowRow = typeof follows.$inferSelect;
export type NotificationRow = typeof notifications.$inferSelect;
