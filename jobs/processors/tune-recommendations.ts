import { tuneRankingModel, type TuningResult } from '../../src/modules/recommendations/tuning';
import type { JobDependencies, JobPayload } from '../jobs';

/**
 * Refits the personal ranking's weights and stores the model; feeds made
 * with another model are refreshed when their reader next reads them.
 */
export async function tuneRecommendations(
  _payload: JobPayload<'tune-recommendations'>,
  { db, config, logger }: JobDependencies,
): Promise<Omit<TuningResult, 'weights'>> {
  const startedAt = performance.now();
  const { weights, ...result } = await tuneRankingModel(db, config.trending);
  logger.info({ ...result, weights, ms: Math.round(performance.now() - startedAt) }, 'ranking model tuned');
  return result;
}
