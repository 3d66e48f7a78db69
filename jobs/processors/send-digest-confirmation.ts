import { createMailer } from '../../src/mail/mailer';
import { confirmationMessage } from '../../src/modules/digest/digest-mail';
import { issueConfirmToken } from '../../src/modules/digest/subscriptions';
import type { JobDependencies, JobPayload } from '../jobs';

/**
 * Mails a pending subscription its confirmation link. The token is made
 * here, not by the API, so it never sits in a queue; each run replaces the
 * previous token, so only the latest mail's link works. A subscription
 * confirmed or stopped meanwhile gets nothing.
 */
export async function sendDigestConfirmation(
  { subscriptionId }: JobPayload<'send-digest-confirmation'>,
  { db, config }: JobDependencies,
): Promise<{ sent: boolean }> {
  const confirmation = await issueConfirmToken(db, subscriptionId);
  if (!confirmation) return { sent: false };
  const mailer = createMailer(config);
  try {
    await mailer.send(confirmationMessage(config.publicUrl, confirmation, confirmation.token));
  } finally {
    mailer.close();
  }
  return { sent: true };
}
