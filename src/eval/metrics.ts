/**
 * Offline ranking metrics over held-out items. `ranked` is a recommender's
 * list, best first; `relevant` the items the user went on to upvote.
 */

/** 1 when any of the first k items is relevant, else 0; averaged over users it is the hit rate@k. */
export function hitAtK(ranked: readonly number[], relevant: ReadonlySet<number>, k: number): number {
  return ranked.slice(0, k).some((item) => relevant.has(item)) ? 1 : 0;
}

/**
 * Normalized discounted cumulative gain at k with binary relevance: the sum
 * of 1/log2(position + 1) over the relevant items in the first k (positions
 * from 1), divided by that sum for an ideal list (every relevant item
 * first). 0 when nothing is relevant.
 */
export function ndcgAtK(ranked: readonly number[], relevant: ReadonlySet<number>, k: number): number {
  const gain = (index: number) => 1 / Math.log2(index + 2);
  let dcg = 0;
  ranked.slice(0, k).forEach((item, index) => {
    if (relevant.has(item)) dcg += gain(index);
  });
  let ideal = 0;
  for (let index = 0; index < Math.min(relevant.size, k); index++) ideal += gain(index);
  return ideal === 0 ? 0 : dcg / ideal;
}

export interface RankingScores {
  hitRate: number;
  ndcg: number;
  users: number;
}

/** Mean hit@k and NDCG@k over every user with held-out items. */
export function scoreRankings(
  rankings: ReadonlyMap<number, readonly number[]>,
  heldOut: ReadonlyMap<number, ReadonlySet<number>>,
  k: number,
): RankingScores {
  let hits = 0;
  let ndcg = 0;
  for (const [user, relevant] of heldOut) {
    const ranked = rankings.get(user) ?? [];
    hits += hitAtK(ranked, relevant, k);
    ndcg += ndcgAtK(ranked, relevant, k);
  }
  const users = heldOut.size;
  return { hitRate: users === 0 ? 0 : hits / users, ndcg: users === 0 ? 0 : ndcg / users, users };
}
