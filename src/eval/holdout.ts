import { sql } from 'drizzle-orm';
import type { TrendingSettings } from '../config';
import type { Database } from '../db/client';
import { queryRows } from '../db/rows';
import { recomputeKeysAndCounts } from '../modules/trending/recompute';

/** How many of a user's latest upvotes are held out: a fixed number, or a share (at least one). */
export type HoldoutSize = { latest: number } | { share: number };

/**
 * Holds out each user's latest upvotes (`size`),
 * from every user (of `userIds`) who keeps at least one upvote to learn from. Deletes them
 * (in the scratch database) and brings upvote counts and trending keys back
 * in line, so no recommender sees them, trending included. Returns the
 * held-out papers of each user.
 */
export async function holdOutLatestUpvotes(
  db: Database,
  size: HoldoutSize,
  trending: TrendingSettings,
  /** Only these users' upvotes are held out (all users' when absent). */
  userIds?: readonly number[],
): Promise<Map<number, Set<number>>> {
  const held = 'latest' in size ? sql`${size.latest}` : sql`greatest(1, round(r.upvotes * ${size.share}::float8))`;
  const chosen = userIds ? sql`where user_id = any(${sql.param(userIds)}::int[])` : sql``;
  const heldOut = await queryRows<{ user_id: number; paper_id: number }>(
    db,
    sql`
      with ranked as (
        select user_id, paper_id,
          row_number() over (partition by user_id order by created_at desc, paper_id desc) as recency,
          count(*) over (partition by user_id) as upvotes
        from upvotes
        ${chosen}
      )
      delete from upvotes u
      using ranked r
      where u.user_id = r.user_id and u.paper_id = r.paper_id
        and r.upvotes >= 2
        and r.recency <= least(r.upvotes - 1, ${held})
      returning u.user_id, u.paper_id
    `,
  );
  await recomputeKeysAndCounts(db, trending);
  const byUser = new Map<number, Set<number>>();
  for (const { user_id: userId, paper_id: paperId } of heldOut) {
    const papers = byUser.get(userId) ?? new Set<number>();
    papers.add(paperId);
    byUser.set(userId, papers);
  }
  return byUser;
}
