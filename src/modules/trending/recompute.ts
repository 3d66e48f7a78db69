import { sql, type SQL } from 'drizzle-orm';
import type { TrendingSettings } from '../../config';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { clampedExp, hoursSql } from './log-space-sql';
import { decayRates } from './trending-key';
import { votesWeigh } from './vote-weight';

/*
 * The recompute: trending keys (and upvote counts) computed from the rows
 * (the paper, its votes, its verified authors), for some papers or all of
 * them; what drifted is written and its ids returned. Used where a vote is
 * removed, an authorship verified or papers imported, and by the reconcile.
 */

/** Keys closer than this to their recomputed value are left alone. */
const DRIFT_TOLERANCE = 1e-9;

/**
 * A sum of clamped exponentials taken relative to a shift c is exact (as
 * exact as the log-sum-exp around the maximum) when it lies in
 * [e^-EXACT_RANGE, e^EXACT_RANGE): below e^EXP_CEILING (log-space-sql.ts) no
 * term was clamped from above (one such term alone is e^EXP_CEILING), and at
 * e^-EXACT_RANGE or more the terms clamped from below (each adds at most
 * e^EXP_FLOOR) change
 * its logarithm by less than n*e^-100.
 */
const EXACT_RANGE = 600;

/** The parts of the trending key K (README, Trending) as SQL over a paper `p` and an upvote `u`. */
function keyTerms(settings: TrendingSettings) {
  const { lambda, mu } = decayRates(settings);
  const start = hoursSql(sql`coalesce(p.submitted_at, p.published_at)`);
  return {
    /** The prior's term of p: ln(alpha + baseline) + lambda*s. */
    prior: sql`(ln(${settings.prior}::float8 + p.upvote_baseline) + ${lambda}::float8 * ${start})`,
    /** The term of vote u: lambda*t. */
    vote: sql`(${lambda}::float8 * ${hoursSql(sql`u.created_at`)})`,
    /** mu*s of p, added to the log-sum-exp. */
    age: sql`(${mu}::float8 * ${start})`,
  };
}

/** Restricts a paper id column to `paperIds`, or lets everything through. */
function scopeTo(paperIds: readonly number[] | undefined): (paperId: SQL) => SQL {
  return (paperId) => (paperIds ? sql`${paperId} = any(${sql.param(paperIds)}::int[])` : sql`true`);
}

/**
 * Recomputes the keys of `paperIds` (the counts are left alone), writes the
 * ones that drifted beyond DRIFT_TOLERANCE and returns their ids. One
 * statement that reads and writes, for a few papers (a removed vote, a
 * verified author, an import); always exact, whatever the terms, as
 * log-sum-exp around each paper's maximum term (two aggregates). Also the
 * fallback of recomputeKeysAndCounts() for the papers it cannot shift.
 *
 * A vote committed between this statement's snapshot and its write changes
 * the stored key; the write then skips that paper (the key it read is no
 * longer there) instead of overwriting the vote's update with a stale value.
 */
export async function recomputeKeys(db: Database, settings: TrendingSettings, paperIds: readonly number[]): Promise<number[]> {
  const inScope = scopeTo(paperIds);
  const terms = keyTerms(settings);
  const weight = votesWeigh(inScope);
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
      with terms as (
        select p.id as paper_id, ${terms.prior} as x from papers p where ${inScope(sql`p.id`)}
        union all
        select u.paper_id, ${terms.vote}
        from upvotes u join papers p on p.id = u.paper_id ${weight.join}
        where ${inScope(sql`u.paper_id`)} and ${weight.weighs}
      ),
      peaks as (
        select t.paper_id, max(t.x) as m, read.trending_key as read_key
        from terms t join papers read on read.id = t.paper_id
        group by t.paper_id, read.trending_key
      ),
      keys as (
        select peaks.paper_id, peaks.read_key, peaks.m + ln(sum(${clampedExp(sql`t.x - peaks.m`)})) as k
        from terms t join peaks on peaks.paper_id = t.paper_id
        group by peaks.paper_id, peaks.read_key, peaks.m
      )
      update papers p
      set trending_key = keys.k + ${terms.age}, updated_at = now()
      from keys
      where p.id = keys.paper_id
        and p.trending_key = keys.read_key
        and abs(p.trending_key - (keys.k + ${terms.age})) > ${DRIFT_TOLERANCE}::float8
      returning p.id
    `,
  );
  return rows.map((row) => row.id);
}

/** One paper as recomputeKeysAndCounts() read and recomputed it. */
type Recomputed = {
  id: number;
  readKey: number;
  readCount: number;
  count: number;
  /** Null when the shifted sum was out of the exact range. */
  key: number | null;
  countDrifted: boolean;
  keyDrifted: boolean;
};

/**
 * Counts and keys of every paper in scope, in one pass over the votes (one
 * GROUP BY paper: the count, and the sum of the weighing votes' exponentials),
 * returning the papers whose count or key is off or whose key needs the exact
 * path. Each paper's exponentials are shifted by a constant known before the
 * aggregate instead of by its maximum term (which would need a window
 * function, or a second pass): the larger of its prior's term and its stored
 * key (less mu*s), so a key that is right already sums to about 1. The result
 * is exact when the sum is within EXACT_RANGE; otherwise `key` is null.
 */
function onePassSql(settings: TrendingSettings, paperIds: readonly number[] | undefined): SQL {
  const inScope = scopeTo(paperIds);
  const terms = keyTerms(settings);
  const weight = votesWeigh(inScope);
  const shift = sql`greatest(${terms.prior}, p.trending_key - ${terms.age})`;
  // Subqueries that compute per-paper expressions end in OFFSET 0 (or, where a
  // parallel plan matters, GROUP BY their key): the planner would otherwise pull
  // them up and evaluate the expressions once per reference above, or once per vote.
  return sql`
    select id, read_key as "readKey", read_count as "readCount", count, key,
      count <> read_count as "countDrifted", key is not null and abs(read_key - key) > ${DRIFT_TOLERANCE}::float8 as "keyDrifted"
    from (
      select *, case when total >= exp(${-EXACT_RANGE}::float8) and total < exp(${EXACT_RANGE}::float8) then shift + ln(total) + age end as key
      from (
        select *, ${clampedExp(sql`prior - shift`)} + coalesce(weighed, 0) as total
        from (
          select p.id, p.trending_key as read_key, p.upvote_count as read_count, p.upvote_baseline + coalesce(v.votes, 0) as count,
            v.weighed, ${terms.prior} as prior, ${terms.age} as age, ${shift} as shift
          from papers p
          left join (
            select u.paper_id, count(*)::int as votes, sum(${clampedExp(sql`${terms.vote} - p.shift`)}) filter (where ${weight.weighs}) as weighed
            from upvotes u
            join (select p.id, p.submitted_by_id, ${shift} as shift from papers p where ${inScope(sql`p.id`)} group by p.id) p
              on p.id = u.paper_id
            ${weight.join}
            where ${inScope(sql`u.paper_id`)}
            group by u.paper_id
          ) v on v.paper_id = p.id
          where ${inScope(sql`p.id`)}
          offset 0
        ) paper
        offset 0
      ) summed
    ) keyed
    where count <> read_count or key is null or abs(read_key - key) > ${DRIFT_TOLERANCE}::float8
  `;
}

/** A column that recomputeKeysAndCounts() repairs: its SQL name and type, and its values in a Recomputed row. */
interface RepairedColumn {
  column: SQL;
  type: SQL;
  read(row: Recomputed): number;
  recomputed(row: Recomputed): number | null;
}

const upvoteCountColumn: RepairedColumn = {
  column: sql`upvote_count`,
  type: sql`int`,
  read: (row) => row.readCount,
  recomputed: (row) => row.count,
};

const trendingKeyColumn: RepairedColumn = {
  column: sql`trending_key`,
  type: sql`float8`,
  read: (row) => row.readKey,
  recomputed: (row) => row.key,
};

/** Writes the recomputed values of `drifted`, except where a vote changed the value since it was read; returns the ids written. */
async function writeDrifted(db: Database, { column, type, read, recomputed }: RepairedColumn, drifted: readonly Recomputed[]) {
  if (drifted.length === 0) return [];
  const rows = await queryRows<{ id: number }>(
    db,
    sql`
      update papers set ${column} = fix.value, updated_at = now()
      from unnest(${sql.param(drifted.map((row) => row.id))}::int[], ${sql.param(drifted.map(read))}::${type}[],
        ${sql.param(drifted.map(recomputed))}::${type}[]) as fix(id, read, value)
      where papers.id = fix.id and papers.${column} = fix.read
      returning papers.id
    `,
  );
  return rows.map((row) => row.id);
}

/** The papers whose trending key and upvote count a recompute repaired. */
export interface RecomputedIds {
  keyIds: number[];
  countIds: number[];
}

/**
 * Recomputes upvote counts (upvote_baseline + the vote rows) and trending
 * keys K set-based from the vote rows, for every paper or those in
 * `paperIds`, in one pass over the votes; writes what drifted and returns the
 * ids. Votes weigh as voteWeighs() says. What the reconcile runs, and the bulk
 * loaders after writing vote rows directly.
 *
 * The values written are compared with the values read in the same snapshot
 * as the votes: a count or key that a vote changed since is left alone (for
 * the next run) instead of being overwritten with a stale value.
 */
export async function recomputeKeysAndCounts(db: Database, settings: TrendingSettings, paperIds?: readonly number[]): Promise<RecomputedIds> {
  const recomputed = await queryRows<Recomputed>(db, onePassSql(settings, paperIds));
  const countIds = await writeDrifted(
    db,
    upvoteCountColumn,
    recomputed.filter((row) => row.countDrifted),
  );
  const keyIds = await writeDrifted(
    db,
    trendingKeyColumn,
    recomputed.filter((row) => row.keyDrifted),
  );
  const unshiftable = recomputed.filter((row) => row.key === null).map((row) => row.id);
  if (unshiftable.length > 0) keyIds.push(...(await recomputeKeys(db, settings, unshiftable)));
  return { keyIds: keyIds.sort(byNumber), countIds: countIds.sort(byNumber) };
}

const byNumber = (a: number, b: number) => a - b;
