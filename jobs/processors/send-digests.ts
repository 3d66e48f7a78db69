import { createMailer } from '../../src/mail/mailer';
import { dueEdition, editionOf } from '../../src/modules/digest/editions';
import { sendEdition, type EditionReport } from '../../src/modules/digest/send-digests';
import type { JobDependencies, JobPayload } from '../jobs';

/**
 * Sends a digest edition: the one `period` names, else the newest one whose
 * sending time has come (so a late or retried scheduled run still sends the
 * edition it was scheduled for). Runs again are harmless: each subscriber
 * gets each edition at most once.
 */
export async function sendDigests({ frequency, period }: JobPayload<'send-digests'>, { db, config, logger }: JobDependencies): Promise<EditionReport> {
  // The payload schema accepted the period, so it names an edition.
  const edition = period === undefined ? dueEdition(frequency, new Date(), config.digest.hourUtc) : editionOf(frequency, period)!;
  const mailer = createMailer(config);
  try {
    return await sendEdition(
      {
        db,
        mailer,
        logger,
        publicUrl: config.publicUrl,
        linkSecret: config.digest.linkSecret,
        paperCount: config.digest.paperCount,
      },
      edition,
    );
  } finally {
    mailer.close();
  }
}
