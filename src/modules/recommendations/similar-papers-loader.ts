import DataLoader from 'dataloader';
import type { PaperRow } from '../../db/schema';
import { loader, type Context } from '../../graphql/context';
import { findSimilarPapers } from './similar-papers';
import { findTrendingPapers } from './trending-papers';

/** Per request and per `first`: batches the similarPapers of a whole page into one query; lists kept in context.sharedReads are not read. */
export const similarPapersLoader = (context: Context, first: number) =>
  loader(
    context,
    `similarPapers:${first}`,
    () =>
      new DataLoader<number, readonly PaperRow[]>((paperIds) =>
        context.sharedReads.similarPapersOf(paperIds, first, (missing) => loadSimilarPapers(context, missing, first)),
      ),
  );

/**
 * The stored similar papers of each paper; a paper whose list is missing (not
 * computed yet) or short gets trending papers after it, never itself (`filled`).
 */
async function loadSimilarPapers(context: Context, paperIds: readonly number[], first: number): Promise<{ papers: PaperRow[]; filled: boolean }[]> {
  const stored = await findSimilarPapers(context.db, paperIds, first);
  const short = paperIds.filter((paperId) => stored.get(paperId)!.length < first);
  // One trending list serves every short paper: enough to skip the paper itself and what it already lists.
  const trending = short.length > 0 ? await findTrendingPapers(context.db, { limit: 2 * first + 1 }) : [];
  return paperIds.map((paperId) => {
    const similar = stored.get(paperId)!;
    if (similar.length >= first) return { papers: similar, filled: false };
    const listed = new Set([paperId, ...similar.map((paper) => paper.id)]);
    const filler = trending.filter((paper) => !listed.has(paper.id)).slice(0, first - similar.length);
    return { papers: [...similar, ...filler], filled: true };
  });
}
