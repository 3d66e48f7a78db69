import { refreshRecommendations } from '../../src/modules/recommendations/recommendations';
import type { JobDependencies, JobPayload } from '../jobs';

/** Recomputes one user's recommendations from their upvotes and the stored similar papers; an unknown user writes nothing. */
export async function refreshUserRecommendations(
  { userId }: JobPayload<'refresh-recommendations'>,
  { db }: JobDependencies,
): Promise<{ recommendations: number }> {
  return { recommendations: await refreshRecommendations(db, userId) };
}
