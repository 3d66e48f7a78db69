import { sql, type SQL } from 'drizzle-orm';
import type { TrendingSettings } from '../../config';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { TRENDING_EPOCH_HOURS, decayRates } from './trending-key';

/**
 * Whether a vote weighs 1 in trending: not when cast by the paper's submitter
 * or by a verified (claimed) author of the paper. Shared by the vote path and
 * the recompute so both apply the same rule.
 */
export function voteWeighs(paperId: SQL, voterId: SQL, submitterId: SQL): SQL<boolean> {
  return sql<boolean>`(${voterId} is distinct from ${submitterId} and not exists (
    select 1 from paper_authors pa join authors a on a.id = pa.author_id
    where pa.paper_id = ${paperId} and a.user_id = ${voterId}))`;
}

/** Keys closer than this to their recomputed value are left alone. */
const DRIFT_TOLERANCE = 1e-9;

/** Hours since the trending epoch of a timestamptz expression, as SQL. */
const hoursSql = (time: SQL) => sql`(extract(epoch from ${time})::float8 / 3600.0 - ${TRENDING_EPOCH_HOURS}::float8)`;

/**
 * Recomputes K set-based from the vote rows (for every paper, or those in
 * `paperIds`), writes the keys that drifted and returns their ids. Log-sum-exp
 * is taken as m + ln(sum(exp(x - m))) with exp()'s argument clamped, because
 * Postgres raises on exp() underflow. Votes weigh as voteWeighs() says.
 *
 * A vote committed between this statement's snapshot and its write changes
 * the stored key; the write then skips that paper (the key it read is no
 * longer there) instead of overwriting the vote's update with a stale value.
 */
export async function recomputeTrendingKeys(
  db: Database,
  settings: TrendingSettings,
  paperIds?: readonly number[],
): Promise<number[]> {
  const { lambda, mu } = decayRates(settings);
  const start = hoursSql(sql`coalesce(p.submitted_at, p.published_at)`);
  const scope = paperIds ? sql`p.id = any(${sql.param(paperIds)}::int[])` : sql`true`;
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
      with terms as (
        select p.id as paper_id, ln(${settings.prior}::float8 + p.upvote_baseline) + ${lambda}::float8 * ${start} as x
        from papers p where ${scope}
        union all
        select u.paper_id, ${lambda}::float8 * ${hoursSql(sql`u.created_at`)}
        from upvotes u join papers p on p.id = u.paper_id
        where ${scope} and ${voteWeighs(sql`u.paper_id`, sql`u.user_id`, sql`p.submitted_by_id`)}
      ),
      keys as (
        select t.paper_id, max(t.m) + ln(sum(exp(greatest(t.x - t.m, -700)))) as k, read.trending_key as read_key
        from (select paper_id, x, max(x) over (partition by paper_id) as m from terms) t
        join papers read on read.id = t.paper_id
        group by t.paper_id, read.trending_key
      )
      update papers p
      set trending_key = keys.k + ${mu}::float8 * ${start}, updated_at = now()
      from keys
      where p.id = keys.paper_id
        and p.trending_key = keys.read_key
        and abs(p.trending_key - (keys.k + ${mu}::float8 * ${start})) > ${DRIFT_TOLERANCE}::float8
      returning p.id
    `,
  );
  return rows.map((row) => row.id);
}

/**
 * Sets upvote_count = upvote_baseline + the vote rows wherever it is off
 * (for every paper, or those in `paperIds`) and returns the ids it repaired.
 * Like the keys, a count that a vote changed meanwhile is left for next time.
 */
export async function recomputeUpvoteCounts(db: Database, paperIds?: readonly number[]): Promise<number[]> {
  const scope = paperIds ? sql`p.id = any(${sql.param(paperIds)}::int[])` : sql`true`;
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
      update papers
      set upvote_count = counted.total, updated_at = now()
      from (
        select p.id, p.upvote_count as read_count, p.upvote_baseline + count(u.paper_id)::int as total
        from papers p left join upvotes u on u.paper_id = p.id
        where ${scope}
        group by p.id
      ) counted
      where papers.id = counted.id and papers.upvote_count = counted.read_count and papers.upvote_count <> counted.total
      returning papers.id
    `,
  );
  return rows.map((row) => row.id);
}
