import { sql } from 'drizzle-orm';
import { index, integer, pgTable, primaryKey, text, uniqueIndex } from 'drizzle-orm/pg-core';
import { timestampMs } from './columns';

/**
 * A subscription to the trending digest by email (double opt-in): it starts
 * once confirmed and stops when unsubscribed. Tokens are stored hashed.
 */
export const digestSubscriptions = pgTable(
  'digest_subscriptions',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    email: text('email').notNull(),
    frequency: text('frequency', { enum: ['DAILY', 'WEEKLY'] }).notNull(),
    confirmTokenHash: text('confirm_token_hash').notNull().unique(),
    unsubscribeTokenHash: text('unsubscribe_token_hash').notNull().unique(),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    confirmedAt: timestampMs('confirmed_at'),
    unsubscribedAt: timestampMs('unsubscribed_at'),
  },
  (t) => [uniqueIndex('digest_subscriptions_email_lower_key').on(sql`lower(${t.email})`), index('digest_subscriptions_active_idx').on(t.frequency, t.id)],
);

/**
 * One row per subscription and period (e.g. "2025-11-12" or "2025-W46"),
 * claimed before the mail is sent: a rerun or a crashed run never sends the
 * same period twice.
 */
export const digestDeliveries = pgTable(
  'digest_deliveries',
  {
    subscriptionId: integer('subscription_id')
      .notNull()
      .references(() => digestSubscriptions.id, { onDelete: 'cascade' }),
    period: text('period').notNull(),
    status: text('status', { enum: ['sending', 'sent', 'failed'] })
      .notNull()
      .default('sending'),
    claimedAt: timestampMs('claimed_at').notNull().defaultNow(),
    sentAt: timestampMs('sent_at'),
  },
  (t) => [primaryKey({ columns: [t.subscriptionId, t.period] })],
);
