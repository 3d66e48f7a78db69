import { sql, type SQL } from 'drizzle-orm';
import type { TrendingSettings } from '../../config';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { papers } from '../../db/schema';
import { TRENDING_EPOCH_HOURS, decayRates } from './trending-key';

/** Verified (claimed) authorships as (paper_id, user_id) rows, for the papers `inScope` (over pa.paper_id) accepts. */
const verifiedAuthorships = (inScope: SQL) => sql`
  select pa.paper_id, a.user_id from paper_authors pa join authors a on a.id = pa.author_id
  where a.user_id is not null and ${inScope}`;

const notTheSubmitter = (voterId: SQL, submitterId: SQL) => sql`${voterId} is distinct from ${submitterId}`;

/**
 * Whether a vote weighs 1 in trending: not when cast by the paper's submitter
 * or by a verified (claimed) author of the paper. The rule has two forms built
 * from the same parts: this one for a single vote (the vote path), and
 * votesWeigh() for every vote of a query (the recompute).
 */
export function voteWeighs(paperId: SQL, voterId: SQL, submitterId: SQL): SQL<boolean> {
  return sql<boolean>`(${notTheSubmitter(voterId, submitterId)} and not exists (
    select 1 from (${verifiedAuthorships(sql`pa.paper_id = ${paperId}`)}) va where va.user_id = ${voterId}))`;
}

/**
 * voteWeighs() for every row of a query over upvotes `u` joined to their
 * papers `p`: `join` goes into its FROM clause after both, and `weighs` is then
 * the rule for the row. A hash or merge join against the (few) verified
 * authorships rather than a lookup per vote; they are deduplicated (one author
 * listed twice on a paper, two claimed author records of one user) so that the
 * join keeps exactly one row per vote.
 */
function votesWeigh(inScope: (paperId: SQL) => SQL): { join: SQL; weighs: SQL<boolean> } {
  return {
    join: sql`left join (select distinct * from (${verifiedAuthorships(inScope(sql`pa.paper_id`))}) authorship) va
      on va.paper_id = u.paper_id and va.user_id = u.user_id`,
    weighs: sql<boolean>`(${notTheSubmitter(sql`u.user_id`, sql`p.submitted_by_id`)} and va.user_id is null)`,
  };
}

/** Keys closer than this to their recomputed value are left alone. */
const DRIFT_TOLERANCE = 1e-9;

/**
 * exp()'s argument is clamped to [EXP_FLOOR, EXP_CEILING], because Postgres
 * raises an error on exp() underflow as well as overflow. e^-700 is still a
 * normal double, and fewer than e^100 terms of at most e^600 cannot overflow
 * a sum.
 */
const EXP_FLOOR = -700;
const EXP_CEILING = 600;
const clampedExp = (x: SQL) => sql`exp(least(greatest(${x}, ${sql.raw(String(EXP_FLOOR))}::float8), ${sql.raw(String(EXP_CEILING))}::float8))`;

/**
 * A sum of clamped exponentials taken relative to a shift c is exact (as
 * exact as the log-sum-exp around the maximum) when it lies in
 * [e^-EXACT_RANGE, e^EXACT_RANGE): below e^EXP_CEILING no term was clamped
 * from above (one such term alone is e^EXP_CEILING), and at e^-EXACT_RANGE
 * or more the terms clamped from below (each adds at most e^EXP_FLOOR) change
 * its logarithm by less than n*e^-100.
 */
const EXACT_RANGE = 600;

/** Hours since the trending epoch of a timestamptz expression, as SQL (date_part gives the float8 that extract would give as numeric). */
const hoursSql = (time: SQL) => sql`(date_part('epoch', ${time}) / 3600.0 - ${TRENDING_EPOCH_HOURS}::float8)`;

/**
 * keyWithVote() in SQL, over the stored key of the row being updated: K after
 * one more upvote at `voteTime`, logaddexp(K - mu*s, lambda*t) + mu*s, with
 * exp()'s argument clamped (Postgres raises on underflow). For the vote path,
 * which then updates the key in the statement that reads it.
 */
export function keyWithVoteSql(settings: TrendingSettings, voteTime: SQL): SQL {
  const { lambda, mu } = decayRates(settings);
  const age = sql`(${mu}::float8 * ${hoursSql(sql`coalesce(${papers.submittedAt}, ${papers.publishedAt})`)})`;
  const decayed = sql`(${papers.trendingKey} - ${age})`;
  const vote = sql`(${lambda}::float8 * ${hoursSql(voteTime)})`;
  return sql`(greatest(${decayed}, ${vote}) + ln(1 + exp(greatest(-abs(${decayed} - ${vote}), ${sql.raw(String(EXP_FLOOR))}::float8))) + ${age})`;
}

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
 * K recomputed from scratch for `paperIds` as log-sum-exp around each
 * paper's maximum term (two aggregates); writes the keys that drifted and
 * returns their ids. Always exact, whatever the terms: the per-paper path,
 * and the fallback of recomputeTrending() for the papers it cannot shift.
 *
 * A vote committed between this statement's snapshot and its write changes
 * the stored key; the write then skips that paper (the key it read is no
 * longer there) instead of overwriting the vote's update with a stale value.
 */
async function recomputeKeysExactly(db: Database, settings: TrendingSettings, paperIds: readonly number[]): Promise<number[]> {
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

/** One paper as recomputeTrending() read and recomputed it. */
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
function recomputedSql(settings: TrendingSettings, paperIds: readonly number[] | undefined): SQL {
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

/** A column that recomputeTrending() repairs: its SQL name and type, and its values in a Recomputed row. */
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
export interface RecomputedTrending {
  keyIds: number[];
  countIds: number[];
}

/**
 * Recomputes upvote counts (upvote_baseline + the vote rows) and trending
 * keys K set-based from the vote rows, for every paper or those in
 * `paperIds`, in one pass over the votes; writes what drifted and returns the
 * ids. Votes weigh as voteWeighs() says.
 *
 * The values written are compared with the values read in the same snapshot
 * as the votes: a count or key that a vote changed since is left alone (for
 * the next run) instead of being overwritten with a stale value.
 */
export async function recomputeTrending(
  db: Database,
  settings: TrendingSettings,
  paperIds?: readonly number[],
  { counts = true }: { counts?: boolean } = {},
): Promise<RecomputedTrending> {
  const recompute = async (tx: Database): Promise<RecomputedTrending> => {
    const recomputed = await queryRows<Recomputed>(tx, recomputedSql(settings, paperIds));
    const countIds = counts ? await writeDrifted(tx, upvoteCountColumn, recomputed.filter((row) => row.countDrifted)) : [];
    const keyIds = await writeDrifted(tx, trendingKeyColumn, recomputed.filter((row) => row.keyDrifted));
    const unshiftable = recomputed.filter((row) => row.key === null).map((row) => row.id);
    if (unshiftable.length > 0) keyIds.push(...(await recomputeKeysExactly(tx, settings, unshiftable)));
    return { keyIds: keyIds.sort(byNumber), countIds: countIds.sort(byNumber) };
  };
  if (paperIds) return recompute(db);
  // Every paper: costly enough that Postgres would JIT-compile the statement,
  // which takes longer than it saves here (measured on the bench data).
  return db.transaction(async (tx) => {
    await tx.execute(sql`set local jit = off`);
    return recompute(tx);
  });
}

const byNumber = (a: number, b: number) => a - b;

/**
 * Recomputes K from the vote rows (for every paper, or those in `paperIds`),
 * writes the keys that drifted beyond 1e-9 and returns their ids; the counts
 * are left alone. A key that a vote changed since it was read is not
 * overwritten.
 */
export async function recomputeTrendingKeys(
  db: Database,
  settings: TrendingSettings,
  paperIds?: readonly number[],
): Promise<number[]> {
  // A few papers (a removed vote, a verified author): one statement that reads and writes.
  if (paperIds) return recomputeKeysExactly(db, settings, paperIds);
  return (await recomputeTrending(db, settings, undefined, { counts: false })).keyIds;
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
