import { refreshSimilarPapers, type SimilarPapersRefresh } from '../../src/modules/recommendations/similar-papers';
import type { JobDependencies, JobPayload } from '../jobs';

/**
 * The scheduled recompute of every paper's similar papers: new papers enter
 * older papers' lists, and co-upvotes and trending move, only through it.
 */
export async function refreshAllSimilarPapers(
  _payload: JobPayload<'refresh-all-similar-papers'>,
  { db, logger }: JobDependencies,
): Promise<SimilarPapersRefresh> {
  const startedAt = performance.now();
  const refresh = await refreshSimilarPapers(db, 'all');
  logger.info({ ...refresh, ms: Math.round(performance.now() - startedAt) }, 'similar papers refreshed');
  return refresh;
}
