import type { JobDependencies, JobPayload } from '../jobs';
import { repairTrending, type TrendingRepair } from './repair-trending';

/** Recomputes one paper's trending key and upvote count from its vote rows, repairing them if they drifted. */
export function refreshPaperTrending(
  { paperId }: JobPayload<'refresh-paper-trending'>,
  dependencies: JobDependencies,
): Promise<TrendingRepair> {
  return repairTrending(dependencies, [paperId]);
}
