import type { Database } from '../../db/client';
import type { Logger } from '../../logger';
import { criteriaOfStoredFilter } from '../follows/follows';
import {
  filteredSearchesMatching,
  insertClaimNotification,
  insertNewPaperNotifications,
  insertReplyNotification,
  searchesWhoseFilterHolds,
} from './notifications.queries';

/** What one run of the notify job did. */
export interface NotifyResult {
  made: number;
  /** Followers left without a notification because a paper matched more than the fan-out limit. */
  skipped: number;
}

/**
 * NEW_PAPER notifications of each paper in `paperIds`: three statements a
 * paper whatever its followers number (the saved searches with a filter whose
 * words match it, which of their filters it meets, then one INSERT ... SELECT
 * for every follower). Idempotent: a notification exists once per user and paper.
 */
export async function notifyNewPapers(db: Database, paperIds: readonly number[], fanOutLimit: number, logger: Logger): Promise<NotifyResult> {
  const result: NotifyResult = { made: 0, skipped: 0 };
  for (const paperId of paperIds) {
    const candidates = await filteredSearchesMatching(db, paperId, fanOutLimit);
    const matchedSearchIds = await searchesWhoseFilterHolds(
      db,
      paperId,
      candidates.map((search) => ({ followId: search.id, criteria: criteriaOfStoredFilter(search.searchFilter) })),
    );
    const { made, matched } = await insertNewPaperNotifications(db, paperId, matchedSearchIds, fanOutLimit);
    result.made += made;
    if (matched > fanOutLimit) {
      result.skipped += matched - fanOutLimit;
      logger.warn({ paperId, matched, fanOutLimit }, 'more followers matched a new paper than NOTIFICATION_FAN_OUT_LIMIT: the rest get no notification');
    }
  }
  return result;
}

/** COMMENT_REPLY to the author of the comment that `replyId` answers (not when they answered themselves). */
export async function notifyReply(db: Database, replyId: number): Promise<NotifyResult> {
  return { made: (await insertReplyNotification(db, replyId)) ? 1 : 0, skipped: 0 };
}

/** CLAIM_DECIDED to the claimant once their claim is approved or rejected (not when they decided it themselves). */
export async function notifyClaimDecided(db: Database, claimId: number): Promise<NotifyResult> {
  return { made: (await insertClaimNotification(db, claimId)) ? 1 : 0, skipped: 0 };
}
