import type { PublicDataChanges } from '../../cache/public-data-changes';
import type { TrendingSettings } from '../../config';
import type { Database } from '../../db/client';
import type { Logger } from '../../logger';
import { recomputeKeysAndCounts } from './recompute';

/** What a reconcile repaired; both are 0 when the per-vote updates kept up. */
export interface TrendingReconciled {
  keysRepaired: number;
  countsRepaired: number;
}

/** What a reconcile reads and writes with; a job's dependencies will do. */
export interface ReconcileDependencies {
  db: Database;
  config: { trending: TrendingSettings };
  logger: Logger;
  /** Where a repair is announced (cached answers end); absent where nothing caches. */
  publicDataChanges?: PublicDataChanges;
}

/** How many repaired paper ids a drift warning lists. */
const DRIFT_SAMPLE_SIZE = 10;

/**
 * The reconcile: recomputes upvote counts and trending keys from the vote
 * rows (for every paper, or those in `paperIds`), compares them with the
 * stored ones and repairs what drifted. A repair is logged as a warning and
 * announced as a change to the repaired papers' votes (cached answers showing
 * them end); a run that repaired nothing announces nothing. Idempotent: a second run finds nothing to repair.
 */
export async function reconcileTrending(
  { db, config, logger, publicDataChanges }: ReconcileDependencies,
  paperIds?: readonly number[],
): Promise<TrendingReconciled> {
  const { keyIds, countIds } = await recomputeKeysAndCounts(db, config.trending, paperIds);
  const reconciled = { keysRepaired: keyIds.length, countsRepaired: countIds.length };
  if (keyIds.length === 0 && countIds.length === 0) {
    // The per-paper reconcile runs for each paper of a verified author: only the full one is worth an info line.
    logger[paperIds ? 'debug' : 'info'](reconciled, 'trending matches the vote rows');
    return reconciled;
  }
  // Every key drifts once after H, A or alpha change; otherwise votes changed outside the vote path (a deleted user's),
  // a per-paper reconcile was lost, or the per-vote update has a bug.
  logger.warn(
    { ...reconciled, keySample: keyIds.slice(0, DRIFT_SAMPLE_SIZE), countSample: countIds.slice(0, DRIFT_SAMPLE_SIZE) },
    'trending drifted from the vote rows; repaired',
  );
  void publicDataChanges?.announce({ kind: 'votes', paperIds: [...new Set([...keyIds, ...countIds])] });
  return reconciled;
}
