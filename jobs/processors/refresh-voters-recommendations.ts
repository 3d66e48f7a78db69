import { refreshRecommendations, usersRefreshedSince } from '../../src/modules/recommendations/recommendations';
import type { JobDependencies, JobPayload } from '../jobs';

/**
 * Recomputes the recommendations of users who voted, one after another; a
 * user whose list was recomputed since `votedBefore` (by another job, or a
 * read that found it stale) already follows those votes and is skipped.
 */
export async function refreshVotersRecommendations(
  { userIds, votedBefore }: JobPayload<'refresh-voters-recommendations'>,
  { db }: JobDependencies,
): Promise<{ refreshed: number; skipped: number }> {
  const fresh = await usersRefreshedSince(db, userIds, new Date(votedBefore));
  let refreshed = 0;
  for (const userId of userIds) {
    if (fresh.has(userId)) continue;
    await refreshRecommendations(db, userId);
    refreshed += 1;
  }
  return { refreshed, skipped: userIds.length - refreshed };
}
