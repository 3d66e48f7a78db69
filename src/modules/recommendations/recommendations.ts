import { asc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { paperColumns, papers, recommendations, type PaperRow } from '../../db/schema';
import {
  DEFAULT_RECOMMENDATION_PARAMETERS,
  RECOMMENDATIONS_STORED,
  type RecommendationParameters,
} from './ranking-parameters';
import { findTrendingPapers } from './trending-papers';

/**
 * The personal feed: papers similar to what the user upvoted (each upvote
 * weighted by its recency), minus what they upvoted, with trending papers
 * in a share of the slots. Computed by the refresh job into the
 * recommendations table and read from it by User.recommendedPapers.
 */

/** How many of a user's latest upvotes make their profile; older ones weigh next to nothing anyway. */
const PROFILE_SIZE = 200;

export interface RecommendedPaper {
  paperId: number;
  /** Personal picks: their similarity to the profile relative to the best pick's (0..1]; trending picks: their trending score relative to the top paper's. */
  score: number;
}

/**
 * The top `limit` recommendations of each user in `userIds`, best first, set
 * based (two statements whatever the number of users). Reads the stored
 * similar papers, so refresh those first. A user without upvotes gets
 * trending papers.
 */
export async function computeRecommendations(
  db: Database,
  userIds: readonly number[],
  parameters: RecommendationParameters = DEFAULT_RECOMMENDATION_PARAMETERS,
  limit = RECOMMENDATIONS_STORED,
): Promise<Map<number, RecommendedPaper[]>> {
  const personal = await personalPicks(db, userIds, parameters.upvoteHalfLifeDays, limit);
  const trending = await trendingPicks(db, userIds, limit);
  return new Map(
    userIds.map((userId) => [
      userId,
      mergeWithTrending(personal.get(userId) ?? [], trending.get(userId) ?? [], parameters.trendingShare, limit),
    ]),
  );
}

/**
 * Each candidate scores sum over the user's upvotes p of recency(p) * similarity(p, candidate),
 * with recency(p) = 2^(-(latest upvote - p's upvote) / half-life).
 */
async function personalPicks(
  db: Database,
  userIds: readonly number[],
  halfLifeDays: number,
  limit: number,
): Promise<Map<number, RecommendedPaper[]>> {
  const rows = await queryRows<{ user_id: number; paper_id: number; score: number }>(
    db,
    sql`
      with profile as (
        select user_id, paper_id,
          exp(-ln(2) * extract(epoch from (max(created_at) over (partition by user_id) - created_at))::float8
              / ${halfLifeDays * 86_400}::float8) as weight,
          row_number() over (partition by user_id order by created_at desc, paper_id desc) as recency
        from upvotes
        where user_id = any(${sql.param(userIds)}::int[])
      ),
      scored as (
        select profile.user_id, s.similar_paper_id as paper_id, sum(profile.weight * s.score) as score
        from profile
        join similar_papers s on s.paper_id = profile.paper_id
        where profile.recency <= ${PROFILE_SIZE}
          and not exists (select 1 from upvotes v where v.user_id = profile.user_id and v.paper_id = s.similar_paper_id)
        group by profile.user_id, s.similar_paper_id
      ),
      ranked as (
        select user_id, paper_id, score / max(score) over (partition by user_id) as score,
          row_number() over (partition by user_id order by score desc, paper_id desc) as position
        from scored
      )
      select user_id, paper_id, score from ranked where position <= ${limit} order by user_id, position
    `,
  );
  return groupByUser(rows);
}

/** The top `limit` trending papers each user has not upvoted. */
async function trendingPicks(db: Database, userIds: readonly number[], limit: number): Promise<Map<number, RecommendedPaper[]>> {
  const rows = await queryRows<{ user_id: number; paper_id: number; score: number }>(
    db,
    sql`
      select target.user_id, top.id as paper_id, exp(greatest(top.trending_key - top_key.key, -700)) as score
      from unnest(${sql.param(userIds)}::int[]) as target(user_id)
      cross join (select max(trending_key) as key from papers) top_key
      cross join lateral (
        select p.id, p.trending_key from papers p
        where not exists (select 1 from upvotes v where v.user_id = target.user_id and v.paper_id = p.id)
        order by p.trending_key desc, p.id desc
        limit ${limit}
      ) top
      order by target.user_id, top.trending_key desc, top.id desc
    `,
  );
  return groupByUser(rows);
}

function groupByUser(rows: { user_id: number; paper_id: number; score: number }[]): Map<number, RecommendedPaper[]> {
  const byUser = new Map<number, RecommendedPaper[]>();
  for (const row of rows) {
    const list = byUser.get(row.user_id) ?? [];
    list.push({ paperId: row.paper_id, score: row.score });
    byUser.set(row.user_id, list);
  }
  return byUser;
}

/**
 * Personal picks with trending ones in `share` of the slots, spread evenly
 * (0.2: the 5th, 10th, ...); when either list runs out the other fills the
 * rest, so a user with no upvotes gets trending papers. No paper twice.
 */
export function mergeWithTrending(
  personal: readonly RecommendedPaper[],
  trending: readonly RecommendedPaper[],
  share: number,
  limit: number,
): RecommendedPaper[] {
  const merged: RecommendedPaper[] = [];
  const listed = new Set<number>();
  const cursors = { personal: 0, trending: 0 };
  const sources = { personal, trending };
  const takeFrom = (name: keyof typeof sources): boolean => {
    const list = sources[name];
    while (cursors[name] < list.length) {
      const pick = list[cursors[name]++]!;
      if (listed.has(pick.paperId)) continue;
      listed.add(pick.paperId);
      merged.push(pick);
      return true;
    }
    return false;
  };
  while (merged.length < limit) {
    const slot = merged.length;
    const trendingSlot = Math.floor((slot + 1) * share) > Math.floor(slot * share);
    const [first, second] = trendingSlot ? (['trending', 'personal'] as const) : (['personal', 'trending'] as const);
    if (!takeFrom(first) && !takeFrom(second)) break;
  }
  return merged;
}

/**
 * Recomputes the user's recommendations and replaces their rows in one
 * transaction; returns how many were written (0 for an unknown user). The
 * user row stays locked meanwhile, so two refreshes of one user take turns.
 */
export async function refreshRecommendations(
  db: Database,
  userId: number,
  parameters: RecommendationParameters = DEFAULT_RECOMMENDATION_PARAMETERS,
  computedAt: Date = new Date(),
): Promise<number> {
  return db.transaction(async (transaction) => {
    const tx = transaction as unknown as Database;
    const [user] = await queryRows<{ id: number }>(tx, sql`select id from users where id = ${userId} for no key update`);
    if (!user) return 0;
    const picks = (await computeRecommendations(tx, [userId], parameters)).get(userId) ?? [];
    await tx.delete(recommendations).where(eq(recommendations.userId, userId));
    if (picks.length > 0) {
      await tx
        .insert(recommendations)
        .values(picks.map((pick, rank) => ({ userId, rank, paperId: pick.paperId, score: pick.score, computedAt })));
    }
    return picks.length;
  });
}

export interface StoredRecommendations {
  papers: PaperRow[];
  /** When the stored list was computed; null when the user has none yet. */
  computedAt: Date | null;
}

/**
 * The user's first `first` stored recommendations, without the papers they
 * upvoted since the list was computed; a list that is missing or comes up
 * short is filled with trending papers they have not upvoted.
 */
export async function readRecommendations(db: Database, userId: number, first: number): Promise<StoredRecommendations> {
  const rows = await db
    .select({
      paper: paperColumns,
      computedAt: recommendations.computedAt,
      upvoted: sql<boolean>`exists (select 1 from upvotes v where v.user_id = ${recommendations.userId} and v.paper_id = ${recommendations.paperId})`,
    })
    .from(recommendations)
    .innerJoin(papers, eq(papers.id, recommendations.paperId))
    .where(eq(recommendations.userId, userId))
    .orderBy(asc(recommendations.rank));
  const picks = rows.filter((row) => !row.upvoted).map((row) => row.paper).slice(0, first);
  const filler = await findTrendingPapers(db, {
    limit: first - picks.length,
    excludeIds: rows.map((row) => row.paper.id),
    excludeUpvotedBy: userId,
  });
  return { papers: [...picks, ...filler], computedAt: rows[0]?.computedAt ?? null };
}
