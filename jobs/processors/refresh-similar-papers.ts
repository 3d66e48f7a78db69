import { refreshSimilarPapers, type SimilarPapersRefresh } from '../../src/modules/recommendations/similar-papers';
import { embedPapers } from '../../src/modules/search/semantic-index';
import type { JobDependencies, JobPayload } from '../jobs';

/**
 * Computes the similar papers of one paper, typically a new one, and folds it
 * into the semantic search's model (its vector through the stored projection);
 * a paper deleted meanwhile is skipped.
 */
export async function refreshPaperSimilarPapers(
  { paperId }: JobPayload<'refresh-similar-papers'>,
  { db }: JobDependencies,
): Promise<SimilarPapersRefresh & { embedded: number }> {
  const refresh = await refreshSimilarPapers(db, [paperId]);
  return { ...refresh, embedded: await embedPapers(db, [paperId]) };
}
