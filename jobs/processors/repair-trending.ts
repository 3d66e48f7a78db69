import { recomputeTrending } from '../../src/modules/trending/recompute';
import type { JobDependencies } from '../jobs';

/** What a repair changed; both are 0 when the vote path kept up. */
export interface TrendingRepair {
  keysRepaired: number;
  countsRepaired: number;
}

/** How many repaired paper ids a drift warning lists. */
const DRIFT_SAMPLE_SIZE = 10;

/**
 * Recomputes upvote counts and trending keys from the vote rows (for every
 * paper, or those in `paperIds`), writes the ones that drifted and reports
 * them. Idempotent: a second run finds nothing to repair.
 */
export async function repairTrending(
  { db, config, logger }: JobDependencies,
  paperIds?: readonly number[],
): Promise<TrendingRepair> {
  const { keyIds: repairedKeyIds, countIds: repairedCountIds } = await recomputeTrending(db, config.trending, paperIds);
  const repair = { keysRepaired: repairedKeyIds.length, countsRepaired: repairedCountIds.length };
  if (repair.keysRepaired > 0 || repair.countsRepaired > 0) {
    // Every key drifts once after H, A or alpha change; otherwise drift means a lost job or a vote-path bug.
    logger.warn(
      {
        ...repair,
        keySample: repairedKeyIds.slice(0, DRIFT_SAMPLE_SIZE),
        countSample: repairedCountIds.slice(0, DRIFT_SAMPLE_SIZE),
      },
      'trending drifted from the vote rows; repaired',
    );
  } else {
    // A per-paper check runs after every vote: only the full reconcile is worth an info line.
    logger[paperIds ? 'debug' : 'info'](repair, 'trending matches the vote rows');
  }
  return repair;
}
