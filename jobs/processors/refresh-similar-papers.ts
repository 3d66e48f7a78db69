import { refreshSimilarPapers, type SimilarPapersRefresh } from '../../src/modules/recommendations/similar-papers';
import type { JobDependencies, JobPayload } from '../jobs';

/** Computes the similar papers of one paper, typically a new one; a paper deleted meanwhile is skipped. */
export function refreshPaperSimilarPapers({ paperId }: JobPayload<'refresh-similar-papers'>, { db }: JobDependencies): Promise<SimilarPapersRefresh> {
  return refreshSimilarPapers(db, [paperId]);
}
