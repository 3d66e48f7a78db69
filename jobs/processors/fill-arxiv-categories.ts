import { fillArxivCategories, type CategoriesFill } from '../../src/modules/papers/arxiv-categories';
import type { JobDependencies, JobPayload } from '../jobs';

/**
 * The scheduled fill of arXiv categories for papers that came without them
 * (imports): rate-limited batches, only unchecked papers, so a rerun sends
 * nothing. An arXiv outage ends the run early; the next one goes on.
 */
export async function fillCategories(
  _payload: JobPayload<'fill-arxiv-categories'>,
  { db, config, logger, publicDataChanges }: JobDependencies,
): Promise<CategoriesFill> {
  const fill = await fillArxivCategories(db, config.arxiv);
  if (fill.skipped) logger.info(fill, 'arXiv categories fill skipped: another run is under way');
  else if (fill.stoppedBy) logger.warn(fill, 'arXiv categories fill stopped early; the next run goes on');
  else if (fill.requests > 0) logger.info(fill, 'arXiv categories filled');
  // Lists filtered by category change.
  if (fill.filled > 0) void publicDataChanges?.announce({ kind: 'everything' });
  return fill;
}
