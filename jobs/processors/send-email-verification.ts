import { createMailer } from '../../src/mail/mailer';
import { addressTakenMessage, dropPendingEmail, issueEmailVerification, verificationMessage } from '../../src/modules/accounts/email-verification';
import type { JobDependencies, JobPayload } from '../jobs';

/**
 * Mails a new account's pending address: its verification link, or, when
 * the address belongs to another account, a notice to that account's owner
 * (then the new account's claim is dropped). The token is made here, not by the
 * API, so it never sits in a queue; each run replaces the previous one.
 */
export async function sendEmailVerification(
  { userId }: JobPayload<'send-email-verification'>,
  { db, config }: JobDependencies,
): Promise<{ sent: 'verification' | 'notice' | false }> {
  const mail = await issueEmailVerification(db, userId);
  if (!mail) return { sent: false };
  const mailer = createMailer(config);
  try {
    await mailer.send(
      mail.kind === 'verify' ? verificationMessage(config.publicUrl, mail.email, mail.token) : addressTakenMessage(config.publicUrl, mail.email),
    );
  } finally {
    mailer.close();
  }
  // Dropped once the owner is told, so a failed mail is retried.
  if (mail.kind === 'address-taken') await dropPendingEmail(db, userId, mail.pendingEmail);
  return { sent: mail.kind === 'verify' ? 'verification' : 'notice' };
}
