import { notifyClaimDecided, notifyNewPapers, notifyReply, type NotifyResult } from '../../src/modules/notifications/notifications';
import type { JobDependencies, JobPayload } from '../jobs';

/** Makes the notifications of one event; idempotent (a unique key per user, kind and subject), so reruns and twins add nothing. */
export function notify(payload: JobPayload<'notify'>, { db, config, logger }: JobDependencies): Promise<NotifyResult> {
  switch (payload.kind) {
    case 'NEW_PAPER':
      return notifyNewPapers(db, payload.paperIds, config.notificationFanOutLimit, logger);
    case 'COMMENT_REPLY':
      return notifyReply(db, payload.commentId);
    case 'CLAIM_DECIDED':
      return notifyClaimDecided(db, payload.claimId);
  }
}
