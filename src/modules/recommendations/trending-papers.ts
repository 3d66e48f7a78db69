import { and, desc, isNull, notExists, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { paperColumns, papers, recommendationDismissals, upvotes, type PaperRow } from '../../db/schema';

export interface TrendingPapersRequest {
  limit: number;
  /** Papers to leave out (the paper itself, those already listed). */
  excludeIds?: readonly number[];
  /** Leave out what this user upvoted. */
  excludeUpvotedBy?: number;
  /** Leave out what this user dismissed from their recommendations. */
  excludeDismissedBy?: number;
}

/** The top trending papers (withdrawn ones left out), in trending order: the fallback wherever a precomputed list is missing or short. */
export async function findTrendingPapers(db: Database, request: TrendingPapersRequest): Promise<PaperRow[]> {
  if (request.limit <= 0) return [];
  const { excludeIds = [], excludeUpvotedBy, excludeDismissedBy } = request;
  return db
    .select(paperColumns)
    .from(papers)
    .where(
      and(
        isNull(papers.withdrawnAt),
        excludeIds.length > 0 ? sql`not (${idIn(papers.id, excludeIds)})` : undefined,
        excludeUpvotedBy !== undefined
          ? notExists(db.select({ one: sql`1` }).from(upvotes).where(sql`${upvotes.userId} = ${excludeUpvotedBy} and ${upvotes.paperId} = ${papers.id}`))
          : undefined,
        excludeDismissedBy !== undefined
          ? notExists(
              db
                .select({ one: sql`1` })
                .from(recommendationDismissals)
                .where(sql`${recommendationDismissals.userId} = ${excludeDismissedBy} and ${recommendationDismissals.paperId} = ${papers.id}`),
            )
          : undefined,
      ),
    )
    .orderBy(desc(papers.trendingKey), desc(papers.id))
    .limit(request.limit);
}
