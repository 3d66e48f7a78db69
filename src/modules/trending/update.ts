import { sql, type SQL } from 'drizzle-orm';
import type { TrendingSettings } from '../../config';
import { papers } from '../../db/schema';
import { EXP_FLOOR, hoursSql } from './log-space-sql';
import { decayRates } from './trending-key';
import { voteWeighs } from './vote-weight';

/**
 * The per-vote update: the trending key of `papers` once the vote is added,
 * as SQL over the stored key of the row being updated, for the statement that
 * inserts the vote and updates the paper (addUpvote). O(1): K after a vote that
 * weighs, else K unchanged. A removed vote is not an update: its paper is
 * recomputed (recompute.ts), since subtracting in log space would lose precision.
 */
export function updatedKeySql(settings: TrendingSettings, vote: { voterId: SQL; at: SQL }): SQL {
  const weighs = voteWeighs(sql`${papers.id}`, vote.voterId, sql`${papers.submittedById}`);
  return sql`case when ${weighs} then ${keyWithVoteSql(settings, vote.at)} else ${papers.trendingKey} end`;
}

/**
 * keyWithVote() in SQL: K after one more upvote at `voteTime`,
 * logaddexp(K - mu*s, lambda*t) + mu*s, with exp()'s argument clamped
 * (Postgres raises on underflow).
 */
function keyWithVoteSql(settings: TrendingSettings, voteTime: SQL): SQL {
  const { lambda, mu } = decayRates(settings);
  const age = sql`(${mu}::float8 * ${hoursSql(sql`coalesce(${papers.submittedAt}, ${papers.publishedAt})`)})`;
  const decayed = sql`(${papers.trendingKey} - ${age})`;
  const vote = sql`(${lambda}::float8 * ${hoursSql(voteTime)})`;
  return sql`(greatest(${decayed}, ${vote}) + ln(1 + exp(greatest(-abs(${decayed} - ${vote}), ${sql.raw(String(EXP_FLOOR))}::float8))) + ${age})`;
}
