import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';

/**
 * Co-upvote similarity ("people who upvoted this also upvoted"): the cosine
 * of two papers' voter sets shrunk towards 0 for small sets,
 * co-voters / (sqrt(voters of p * voters of q) + CO_UPVOTE_SHRINKAGE).
 */

/**
 * Without it, two papers with one voter each, the same, would score a perfect
 * 1 and outrank every paper with real evidence (it also measured better in
 * `npm run eval:recs`).
 */
export const CO_UPVOTE_SHRINKAGE = 5;

/**
 * Only each user's latest upvotes pair up: someone who upvoted thousands of
 * papers says little about any two of them, and would make a refresh
 * quadratic in their votes.
 */
const VOTES_PER_USER = 500;

/**
 * Fills pg_temp.similarity_votes(user_id, paper_id) with every user's latest
 * VOTES_PER_USER upvotes (of `votes`, a relation of user_id, paper_id,
 * created_at: the upvotes table unless the tuner passes its training votes)
 * and pg_temp.similarity_voters(paper_id, voters) with their counts per
 * paper. Must run inside a transaction (dropped at commit).
 */
export async function buildCoUpvoteVotes(tx: Database, votes: SQL = sql`upvotes`): Promise<void> {
  await tx.execute(sql`drop table if exists pg_temp.similarity_votes, pg_temp.similarity_voters`);
  await tx.execute(sql`
    create temp table similarity_votes on commit drop as
    select user_id, paper_id from (
      select user_id, paper_id, row_number() over (partition by user_id order by created_at desc, paper_id desc) as recency
      from ${votes} v
    ) ranked
    where recency <= ${VOTES_PER_USER}
  `);
  await tx.execute(sql`create index on similarity_votes (paper_id, user_id)`);
  await tx.execute(sql`create index on similarity_votes (user_id, paper_id)`);
  await tx.execute(sql`
    create temp table similarity_voters on commit drop as
    select paper_id, count(*)::float8 as voters from similarity_votes group by paper_id
  `);
  await tx.execute(sql`alter table similarity_voters add primary key (paper_id)`);
  await tx.execute(sql`analyze similarity_votes`);
  await tx.execute(sql`analyze similarity_voters`);
}

/**
 * (paper_id, similar_id, similarity) for every paper in `batch` and every
 * paper one of its voters also upvoted: their shrunk voter-set cosine, 0..1.
 * Needs buildCoUpvoteVotes first.
 */
export function coUpvoteSimilaritySql(batch: SQL): SQL {
  return sql`
    select mine.paper_id, theirs.paper_id as similar_id, count(*) / (sqrt(min(a.voters) * min(b.voters)) + ${CO_UPVOTE_SHRINKAGE}::float8) as similarity
    from similarity_votes mine
    join similarity_votes theirs on theirs.user_id = mine.user_id and theirs.paper_id <> mine.paper_id
    join similarity_voters a on a.paper_id = mine.paper_id
    join similarity_voters b on b.paper_id = theirs.paper_id
    where mine.paper_id = any(${batch})
    group by mine.paper_id, theirs.paper_id
  `;
}
