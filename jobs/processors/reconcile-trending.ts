import type { JobDependencies, JobPayload } from '../jobs';
import { repairTrending, type TrendingRepair } from './repair-trending';

/**
 * The scheduled safety net: recomputes every paper's trending key and upvote
 * count set-based from the vote rows, repairs and reports what drifted. It
 * also applies a change of H, A or alpha to every stored key.
 */
export function reconcileTrending(
  _payload: JobPayload<'reconcile-trending'>,
  dependencies: JobDependencies,
): Promise<TrendingRepair> {
  return repairTrending(dependencies);
}
