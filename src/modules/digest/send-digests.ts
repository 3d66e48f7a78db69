import { and, asc, eq, gt, isNotNull, isNull, notExists, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { digestDeliveries, digestSubscriptions } from '../../db/schema';
import type { Logger } from '../../logger';
import { RecipientRefusedError, type Mailer } from '../../mail/mailer';
import { findAuthorsOfPapers, listPapers } from '../papers/papers.queries';
import { digestMessage, type DigestPaper } from './digest-mail';
import type { DigestEdition } from './editions';
import { hashToken, unsubscribeToken } from './tokens';

/** Subscribers read per statement: enough to keep the reads cheap, few enough to hold any number of subscribers. */
const SUBSCRIBER_BATCH_SIZE = 500;

export interface EditionSending {
  db: Database;
  mailer: Mailer;
  logger: Logger;
  publicUrl: string;
  linkSecret: string;
  paperCount: number;
  /** Subscribers read per statement; SUBSCRIBER_BATCH_SIZE unless a test wants pages it can cross. */
  batchSize?: number;
}

export interface EditionReport {
  frequency: DigestEdition['frequency'];
  period: string;
  papers: number;
  sent: number;
  /** Recipients the SMTP server refused: marked failed, not retried. */
  refused: number;
}

/**
 * Sends `edition` to every active subscriber of its frequency who has not
 * had it, at most once each: a subscriber's delivery row is claimed before
 * the mail goes out and marked sent after, so a rerun skips every row it
 * finds, whatever its status. A crash between the two leaves the row
 * 'sending' and that subscriber without this edition, rather than risking
 * a second copy. A failed send is marked failed and not retried either. A
 * recipient the server refuses concerns that address alone, so the run goes
 * on; any other failure (server down, network) would fail the next sends
 * too, so it stops the run with the error: the job is retried later and
 * resumes with the subscribers after it.
 */
export async function sendEdition(sending: EditionSending, edition: DigestEdition): Promise<EditionReport> {
  const { db, mailer, logger, batchSize = SUBSCRIBER_BATCH_SIZE } = sending;
  const papers = await editionPapers(db, edition, sending.paperCount);
  const report: EditionReport = { frequency: edition.frequency, period: edition.period, papers: papers.length, sent: 0, refused: 0 };
  if (papers.length === 0) {
    logger.info(report, 'no papers featured in the period of this digest edition: nothing to send');
    return report;
  }

  let afterId = 0;
  for (;;) {
    const subscribers = await subscribersWithoutEdition(db, edition, afterId, batchSize);
    for (const subscriber of subscribers) {
      if (!(await claimDelivery(db, subscriber.id, edition))) continue;
      const token = unsubscribeToken(sending.linkSecret, subscriber.email);
      // Differs only after a change of the link secret: the new link must work before it goes out (older ones stop).
      if (hashToken(token) !== subscriber.unsubscribeTokenHash) await storeUnsubscribeToken(db, subscriber.id, token);
      const message = digestMessage(sending.publicUrl, edition, papers, { email: subscriber.email, unsubscribeToken: token });
      try {
        await mailer.send(message);
      } catch (error) {
        await settleDelivery(db, subscriber.id, edition, 'failed');
        if (!(error instanceof RecipientRefusedError)) throw error;
        report.refused += 1;
        logger.warn({ err: error, subscriptionId: subscriber.id, period: edition.period }, 'digest recipient refused');
        continue;
      }
      await settleDelivery(db, subscriber.id, edition, 'sent');
      report.sent += 1;
    }
    if (subscribers.length < batchSize) break;
    afterId = subscribers.at(-1)!.id;
  }
  logger.info(report, 'digest edition sent');
  return report;
}

/** The top trending papers featured within the edition's window. */
async function editionPapers(db: Database, edition: DigestEdition, count: number): Promise<DigestPaper[]> {
  const page = await listPapers(db, { submittedFrom: edition.from, submittedUntil: edition.until }, 'TRENDING', {
    direction: 'forward',
    size: count,
    cursor: null,
  });
  const authorships = await findAuthorsOfPapers(
    db,
    page.rows.map((paper) => paper.id),
  );
  return page.rows.map((paper) => ({
    arxivId: paper.arxivId,
    title: paper.title,
    authors: authorships.filter((authorship) => authorship.paperId === paper.id).map((authorship) => authorship.name),
    upvotes: paper.upvoteCount,
  }));
}

/** The next batch, by id after `afterId`, of active subscribers of the frequency with no delivery row for the edition. */
function subscribersWithoutEdition(db: Database, edition: DigestEdition, afterId: number, batchSize: number) {
  return db
    .select({
      id: digestSubscriptions.id,
      email: digestSubscriptions.email,
      unsubscribeTokenHash: digestSubscriptions.unsubscribeTokenHash,
    })
    .from(digestSubscriptions)
    .where(
      and(
        eq(digestSubscriptions.frequency, edition.frequency),
        gt(digestSubscriptions.id, afterId),
        isNotNull(digestSubscriptions.confirmedAt),
        isNull(digestSubscriptions.unsubscribedAt),
        notExists(
          db
            .select({ one: sql`1` })
            .from(digestDeliveries)
            .where(and(eq(digestDeliveries.subscriptionId, digestSubscriptions.id), eq(digestDeliveries.period, edition.period))),
        ),
      ),
    )
    .orderBy(asc(digestSubscriptions.id))
    .limit(batchSize);
}

/**
 * Takes the (subscription, period) slot if nobody has and the subscription
 * is still active: whoever unsubscribes while a long run is underway gets
 * nothing from it, and of two concurrent runs only one sends.
 */
async function claimDelivery(db: Database, subscriptionId: number, edition: DigestEdition): Promise<boolean> {
  const claimed = await db
    .insert(digestDeliveries)
    .select(
      db
        .select({
          subscriptionId: digestSubscriptions.id,
          period: sql<string>`${edition.period}`.as('period'),
          status: sql<'sending'>`'sending'`.as('status'),
          claimedAt: sql<Date>`now()`.as('claimed_at'),
          sentAt: sql<Date | null>`null`.as('sent_at'),
        })
        .from(digestSubscriptions)
        .where(and(eq(digestSubscriptions.id, subscriptionId), isNotNull(digestSubscriptions.confirmedAt), isNull(digestSubscriptions.unsubscribedAt))),
    )
    .onConflictDoNothing()
    .returning({ subscriptionId: digestDeliveries.subscriptionId });
  return claimed.length > 0;
}

async function storeUnsubscribeToken(db: Database, subscriptionId: number, token: string) {
  await db
    .update(digestSubscriptions)
    .set({ unsubscribeTokenHash: hashToken(token) })
    .where(eq(digestSubscriptions.id, subscriptionId));
}

async function settleDelivery(db: Database, subscriptionId: number, edition: DigestEdition, status: 'sent' | 'failed') {
  await db
    .update(digestDeliveries)
    .set({ status, sentAt: status === 'sent' ? sql`now()` : null })
    .where(and(eq(digestDeliveries.subscriptionId, subscriptionId), eq(digestDeliveries.period, edition.period)));
}
