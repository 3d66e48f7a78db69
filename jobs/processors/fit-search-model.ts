import { fitSearchModel, type SemanticFit } from '../../src/modules/search/semantic-index';
import type { JobDependencies, JobPayload } from '../jobs';

/** Refits the semantic search's model to every paper and rewrites their vectors (scheduled; after an import; at start without a model). */
export async function fitSearchModelJob(_payload: JobPayload<'fit-search-model'>, { db, config, logger }: JobDependencies): Promise<SemanticFit> {
  const fit = await fitSearchModel(db, { dimensions: config.search.modelDimensions });
  logger.info(fit, 'semantic search model fitted');
  return fit;
}
