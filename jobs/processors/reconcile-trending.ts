import { reconcileTrending, type TrendingReconciled } from '../../src/modules/trending/reconcile';
import type { JobDependencies, JobPayload } from '../jobs';

/**
 * `reconcile-trending`, the scheduled safety net: reconciles every paper. It
 * is also how a change of H, A or alpha reaches every stored key.
 */
export function reconcileEveryPaper(_payload: JobPayload<'reconcile-trending'>, dependencies: JobDependencies): Promise<TrendingReconciled> {
  return reconcileTrending(dependencies);
}

/**
 * `refresh-paper-trending`: reconciles one paper. Enqueued for each paper of an
 * author whose claim was approved, VERIFICATION_REPAIR_DELAY_MS later, for the
 * votes that were in flight during the approval.
 */
export function reconcileOnePaper({ paperId }: JobPayload<'refresh-paper-trending'>, dependencies: JobDependencies): Promise<TrendingReconciled> {
  return reconcileTrending(dependencies, [paperId]);
}
