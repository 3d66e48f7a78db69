import { and, eq, isNotNull, ne, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { users } from '../../db/schema';
import { AppError } from '../../errors';
import type { MailMessage } from '../../mail/mailer';
import { escapeHtml } from '../../http/html-page';
import { hashToken, newConfirmToken } from '../digest/tokens';

/**
 * signUp takes an address without telling whether it has an account: the
 * address waits as the new account's `pendingEmail`, and a job mails it
 * either a verification link (a free address) or, when another account has
 * it already, a notice to that account's owner, dropping the new account's
 * claim. Only a verified address (in `email`) signs in or is unique.
 */

/** The mail a pending address is due: a link to verify it, or a notice that it belongs to an account already. */
export type EmailVerificationMail = { kind: 'verify'; email: string; token: string } | { kind: 'address-taken'; email: string; pendingEmail: string };

/** True when an account other than this row's has its pending address as a verified one. */
const pendingAddressTaken = sql`exists (
  select 1 from users as other where lower(other.email) = lower("users"."pending_email") and other.id <> "users"."id"
)`;

/**
 * What to mail for the pending address of account `userId`: when another
 * account has the address, a notice to that account's owner (then
 * dropPendingEmail); otherwise a new token replaces the previous one (only the
 * latest link works). Undefined when nothing is pending (verified, or
 * dropped, meanwhile).
 */
export async function issueEmailVerification(db: Database, userId: number): Promise<EmailVerificationMail | undefined> {
  const [account] = await db.select({ pendingEmail: users.pendingEmail }).from(users).where(eq(users.id, userId));
  const pendingEmail = account?.pendingEmail;
  if (!pendingEmail) return undefined;
  const [owner] = await db
    .select({ email: users.email })
    .from(users)
    .where(and(sql`lower(${users.email}) = lower(${pendingEmail})`, ne(users.id, userId)));
  if (owner?.email) return { kind: 'address-taken', email: owner.email, pendingEmail };
  const token = newConfirmToken();
  const [issued] = await db
    .update(users)
    .set({ emailTokenHash: hashToken(token) })
    .where(and(eq(users.id, userId), eq(users.pendingEmail, pendingEmail)))
    .returning({ id: users.id });
  return issued && { kind: 'verify', email: pendingEmail, token };
}

/** Drops account `userId`'s claim on `pendingEmail`, an address another account has (once its owner is told). */
export async function dropPendingEmail(db: Database, userId: number, pendingEmail: string): Promise<void> {
  await db
    .update(users)
    .set({ pendingEmail: null, emailTokenHash: null })
    .where(and(eq(users.id, userId), eq(users.pendingEmail, pendingEmail)));
}

/**
 * Moves the pending address whose link carries `token` to `email`. NOT_FOUND
 * for an unknown token (mistyped, used, or replaced by a newer mail);
 * CONFLICT when another account verified the address first (the claim is
 * dropped).
 */
export async function verifyEmail(db: Database, token: string): Promise<void> {
  const tokenHash = hashToken(token);
  const [verified] = await db
    .update(users)
    .set({ email: sql`${users.pendingEmail}`, pendingEmail: null, emailTokenHash: null })
    .where(and(eq(users.emailTokenHash, tokenHash), isNotNull(users.pendingEmail), sql`not ${pendingAddressTaken}`))
    .returning({ id: users.id });
  if (verified) return;
  const [dropped] = await db
    .update(users)
    .set({ pendingEmail: null, emailTokenHash: null })
    .where(eq(users.emailTokenHash, tokenHash))
    .returning({ id: users.id });
  if (dropped) throw new AppError('CONFLICT', 'Another account verified this address first: it stays with that account.');
  throw new AppError('NOT_FOUND', 'This verification link is unknown, used, or replaced by a newer one: use the latest email.');
}

const verifyUrlOf = (publicUrl: string, token: string) => `${publicUrl}/verify-email?token=${token}`;

export function verificationMessage(publicUrl: string, email: string, token: string): MailMessage {
  const url = verifyUrlOf(publicUrl, token);
  const request = 'Someone, hopefully you, signed up to Daily Papers with this address.';
  const ignore = 'If it was not you, ignore this email: the address is not used unless it is verified.';
  return {
    to: email,
    subject: 'Verify your Daily Papers address',
    text: `${request}\n\nVerify the address:\n${url}\n\n${ignore}\n`,
    html: `<p>${escapeHtml(request)}</p><p><a href="${escapeHtml(url)}">Verify the address</a></p><p>${escapeHtml(ignore)}</p>`,
  };
}

export function addressTakenMessage(publicUrl: string, email: string): MailMessage {
  const notice =
    'Someone tried to sign up to Daily Papers with this address. It already belongs to your account, so nothing changed: ' +
    'the new account has no claim on it.';
  const hint = `If it was you, log in with this address instead: ${publicUrl}`;
  return {
    to: email,
    subject: 'Someone tried to sign up with your address',
    text: `${notice}\n\n${hint}\n`,
    html: `<p>${escapeHtml(notice)}</p><p>${escapeHtml(hint)}</p>`,
  };
}
