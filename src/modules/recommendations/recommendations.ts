import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { paperColumns, papers, recommendations, type PaperRow } from '../../db/schema';
import { HAND_WEIGHTS, rankWithReasons, scoreCandidates, type RankedPaper, type RankingWeights, type RecommendationReason } from './ranking';
import { RECOMMENDATIONS_STORED } from './ranking-parameters';
import { findTrendingPapers } from './trending-papers';
import { findServedModel } from './tuning';

/**
 * The personal feed: the served ranking model's blend of the reader's
 * signals (ranking.ts), minus what they upvoted or dismissed. Computed by the
 * refresh job into the recommendations table, with the model's id and each
 * paper's reasons, and read from it by User.recommendedPapers and
 * User.recommendations.
 */

/**
 * The top `limit` recommendations of each user in `userIds`, best first, set
 * based. Reads the stored paper neighbours, so refresh those first. A user
 * without upvotes gets trending papers (and new ones, as the weights say).
 */
export async function computeRecommendations(
  db: Database,
  userIds: readonly number[],
  weights: RankingWeights = HAND_WEIGHTS,
  limit = RECOMMENDATIONS_STORED,
): Promise<Map<number, RankedPaper[]>> {
  const candidates = await scoreCandidates(db, userIds);
  return new Map(userIds.map((userId) => [userId, rankWithReasons(candidates.get(userId) ?? [], weights, limit)]));
}

/**
 * Recomputes the user's recommendations and replaces their rows in one
 * transaction; returns how many were written (0 for an unknown user). The
 * user row stays locked meanwhile, so two refreshes of one user take turns.
 */
export async function refreshRecommendations(db: Database, userId: number, computedAt: Date = new Date()): Promise<number> {
  return db.transaction(async (tx) => {
    const [user] = await queryRows<{ id: number }>(tx, sql`select id from users where id = ${userId} for no key update`);
    if (!user) return 0;
    // One reader's candidates are a few hundred rows: starting parallel workers costs more than it saves.
    await tx.execute(sql`set local max_parallel_workers_per_gather = 0`);
    const model = await findServedModel(tx);
    const picks = (await computeRecommendations(tx, [userId], model.weights)).get(userId) ?? [];
    await tx.delete(recommendations).where(eq(recommendations.userId, userId));
    if (picks.length > 0) {
      await tx.insert(recommendations).values(
        picks.map((pick, rank) => ({
          userId,
          rank,
          paperId: pick.paperId,
          score: pick.score,
          computedAt,
          modelId: model.id,
          reasons: pick.reasons,
        })),
      );
    }
    return picks.length;
  });
}

/** Which of `userIds` have recommendations computed at or after `since` (a user with an empty list has none). */
export async function usersRefreshedSince(db: Database, userIds: readonly number[], since: Date): Promise<Set<number>> {
  const rows = await queryRows<{ userId: number }>(
    db,
    sql`select distinct user_id as "userId" from ${recommendations}
        where user_id = any(${sql.param([...userIds])}::int[]) and computed_at >= ${since.toISOString()}::timestamptz`,
  );
  return new Set(rows.map((row) => row.userId));
}

/** A reader with at most this many upvotes is new: their feed is recomputed when read after an upvote (cold start). */
export const NEW_READER_UPVOTES = 3;

/**
 * Whether the user is a new reader (1..NEW_READER_UPVOTES upvotes) who
 * upvoted since their feed was computed: their first votes should shape the
 * feed at once, not after the burst delay. Reads at most
 * NEW_READER_UPVOTES + 1 of their upvotes, by index.
 */
export async function isNewReaderFeedBehind(db: Database, userId: number): Promise<boolean> {
  const [row] = await queryRows<{ behind: boolean }>(
    db,
    sql`
      with latest as (
        select created_at from upvotes where user_id = ${userId} order by created_at desc limit ${NEW_READER_UPVOTES + 1}
      )
      select (select count(*) from latest) between 1 and ${NEW_READER_UPVOTES}
        and (select max(created_at) from latest)
          >= coalesce((select computed_at from recommendations where user_id = ${userId} and rank = 0), '-infinity'::timestamptz)
        as behind
    `,
  );
  return row?.behind ?? false;
}

export interface RecommendationItem {
  paper: PaperRow;
  score: number;
  reasons: RecommendationReason[];
}

export interface StoredRecommendations {
  items: RecommendationItem[];
  /** When the stored list was computed; null when the user has none yet. */
  computedAt: Date | null;
  /** The ranking model that made it (null: the hand weights, or no list). */
  modelId: number | null;
}

/**
 * The user's first `first` stored recommendations, without the papers they
 * upvoted or dismissed since the list was computed; a list that is missing or
 * comes up short is filled with trending papers they have not upvoted or
 * dismissed (score 0, reason TRENDING).
 */
export async function readRecommendations(db: Database, userId: number, first: number): Promise<StoredRecommendations> {
  const rows = await db
    .select({
      paper: paperColumns,
      score: recommendations.score,
      reasons: recommendations.reasons,
      computedAt: recommendations.computedAt,
      modelId: recommendations.modelId,
      hidden: sql<boolean>`(exists (select 1 from upvotes v where v.user_id = ${recommendations.userId} and v.paper_id = ${recommendations.paperId})
        or exists (select 1 from recommendation_dismissals d where d.user_id = ${recommendations.userId} and d.paper_id = ${recommendations.paperId})
        or ${papers.withdrawnAt} is not null)`,
    })
    .from(recommendations)
    .innerJoin(papers, eq(papers.id, recommendations.paperId))
    .where(eq(recommendations.userId, userId))
    .orderBy(asc(recommendations.rank));
  const picks: RecommendationItem[] = rows
    .filter((row) => !row.hidden)
    .slice(0, first)
    .map((row) => ({ paper: row.paper, score: row.score, reasons: row.reasons as RecommendationReason[] }));
  const filler = await findTrendingPapers(db, {
    limit: first - picks.length,
    excludeIds: rows.map((row) => row.paper.id),
    excludeUpvotedBy: userId,
    excludeDismissedBy: userId,
  });
  return {
    items: [...picks, ...filler.map((paper) => ({ paper, score: 0, reasons: [{ kind: 'TRENDING' as const }] }))],
    computedAt: rows[0]?.computedAt ?? null,
    modelId: rows[0]?.modelId ?? null,
  };
}

/** Whether a stored list is due for a refresh: missing, older than `maxAgeMs`, or ranked by another model than the one served now. */
export function isStale(
  stored: Pick<StoredRecommendations, 'computedAt' | 'modelId'>,
  servedModelId: number | null,
  now: Date,
  maxAgeMs: number,
): boolean {
  return stored.computedAt === null || now.getTime() - stored.computedAt.getTime() > maxAgeMs || stored.modelId !== servedModelId;
}
