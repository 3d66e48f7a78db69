import { and, eq, isNotNull, isNull, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { digestSubscriptions } from '../../db/schema';
import { AppError, badUserInput } from '../../errors';
import { textSchema } from '../../text-input';
import type { DigestFrequency } from './editions';
import { hashToken, newConfirmToken, unsubscribeToken } from './tokens';

/** RFC 5321 caps a forward path at 254 characters. */
const MAX_EMAIL_LENGTH = 254;

const emailSchema = textSchema({ shape: 'line', maxLength: MAX_EMAIL_LENGTH }).pipe(z.email());

/** The address under the shared text rule, or BAD_USER_INPUT. */
export function parseSubscriberEmail(input: string): string {
  const parsed = emailSchema.safeParse(input);
  if (!parsed.success) {
    // The text rule says what is wrong (a control character, too long...); the email check only that it is no address.
    const [issue] = parsed.error.issues;
    const problem = issue!.code === 'custom' ? `Invalid email: ${issue!.message}. ` : '';
    throw badUserInput(`${problem}Expected an email address such as "ada@example.org" (at most ${MAX_EMAIL_LENGTH} characters).`, { field: 'email' });
  }
  return parsed.data;
}

export interface SubscriptionRequest {
  /** Already parsed (parseSubscriberEmail). */
  email: string;
  frequency: DigestFrequency;
  now: Date;
  linkSecret: string;
}

/**
 * Records a request to subscribe: a new address becomes a pending
 * subscription; a pending or stopped one becomes pending again with the
 * frequency asked for. Either way every earlier confirmation link dies: the
 * confirmation mail carries the only valid one (issueConfirmToken). Returns
 * the subscription to confirm, or undefined when the address already has a
 * confirmed, active subscription, which is left as it is.
 */
export async function requestSubscription(db: Database, request: SubscriptionRequest): Promise<number | undefined> {
  // A token nobody holds, until the confirmation job replaces it with the one it mails.
  const unusableConfirmTokenHash = hashToken(newConfirmToken());
  const [created] = await db
    .insert(digestSubscriptions)
    .values({
      email: request.email,
      frequency: request.frequency,
      confirmTokenHash: unusableConfirmTokenHash,
      unsubscribeTokenHash: hashToken(unsubscribeToken(request.linkSecret, request.email)),
      createdAt: request.now,
    })
    .onConflictDoNothing()
    .returning({ id: digestSubscriptions.id });
  if (created) return created.id;

  const [restarted] = await db
    .update(digestSubscriptions)
    .set({
      email: request.email,
      frequency: request.frequency,
      confirmTokenHash: unusableConfirmTokenHash,
      confirmedAt: null,
      unsubscribedAt: null,
    })
    .where(
      and(
        sql`lower(${digestSubscriptions.email}) = lower(${request.email})`,
        or(isNull(digestSubscriptions.confirmedAt), isNotNull(digestSubscriptions.unsubscribedAt)),
      ),
    )
    .returning({ id: digestSubscriptions.id });
  return restarted?.id;
}

export interface ConfirmationToIssue {
  email: string;
  frequency: DigestFrequency;
  token: string;
}

/**
 * A new confirmation token for a subscription still waiting for one, its
 * hash stored in place of the previous one; undefined when the subscription
 * was confirmed or stopped meanwhile.
 */
export async function issueConfirmToken(db: Database, subscriptionId: number): Promise<ConfirmationToIssue | undefined> {
  const token = newConfirmToken();
  const [pending] = await db
    .update(digestSubscriptions)
    .set({ confirmTokenHash: hashToken(token) })
    .where(and(eq(digestSubscriptions.id, subscriptionId), isNull(digestSubscriptions.confirmedAt), isNull(digestSubscriptions.unsubscribedAt)))
    .returning({ email: digestSubscriptions.email, frequency: digestSubscriptions.frequency });
  return pending && { ...pending, token };
}

/**
 * Starts the subscription whose confirmation link carries `token`. An
 * unknown token (mistyped, or replaced by a newer confirmation mail) is
 * NOT_FOUND; one already used is BAD_USER_INPUT, `extensions.reason`
 * ALREADY_CONFIRMED or SUBSCRIPTION_STOPPED.
 */
export async function confirmSubscription(db: Database, token: string, now: Date): Promise<void> {
  const tokenHash = hashToken(token);
  const [confirmed] = await db
    .update(digestSubscriptions)
    .set({ confirmedAt: now })
    .where(and(eq(digestSubscriptions.confirmTokenHash, tokenHash), isNull(digestSubscriptions.confirmedAt), isNull(digestSubscriptions.unsubscribedAt)))
    .returning({ id: digestSubscriptions.id });
  if (confirmed) return;

  const [used] = await db
    .select({ unsubscribedAt: digestSubscriptions.unsubscribedAt })
    .from(digestSubscriptions)
    .where(eq(digestSubscriptions.confirmTokenHash, tokenHash));
  if (!used) {
    throw new AppError(
      'NOT_FOUND',
      'This confirmation link is unknown or was replaced by a newer one: use the link of the latest confirmation email, or subscribe again.',
    );
  }
  if (used.unsubscribedAt) {
    throw badUserInput('This confirmation link was used, and the subscription has been stopped since: subscribe again to restart it.', {
      reason: 'SUBSCRIPTION_STOPPED',
    });
  }
  throw badUserInput('This confirmation link was already used: the subscription is confirmed.', { reason: 'ALREADY_CONFIRMED' });
}

/**
 * Stops the subscription whose unsubscribe link carries `token`, pending or
 * confirmed. Idempotent: stopping a stopped subscription succeeds and keeps
 * the time it first stopped. An unknown token is NOT_FOUND.
 */
export async function unsubscribe(db: Database, token: string, now: Date): Promise<void> {
  const [stopped] = await db
    .update(digestSubscriptions)
    .set({ unsubscribedAt: sql`coalesce(${digestSubscriptions.unsubscribedAt}, ${now.toISOString()}::timestamptz)` })
    .where(eq(digestSubscriptions.unsubscribeTokenHash, hashToken(token)))
    .returning({ id: digestSubscriptions.id });
  if (!stopped) throw new AppError('NOT_FOUND', 'This unsubscribe link is unknown: copy the whole link from a digest email.');
}
