import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { compressRows, transposeRows, type CompressedRows, type PaperIndex } from './similarity-scoring';

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

/** Every user's latest VOTES_PER_USER upvotes, both ways round (see similarity-scoring.ts). */
export interface CoUpvoteVotes {
  /** Each user's papers (dense paper indexes). */
  votes: CompressedRows;
  /** Each paper's voters (user rows of `votes`): its voter count is the length of its row. */
  voters: CompressedRows;
}

/**
 * Reads every user's latest VOTES_PER_USER upvotes into memory, one row per
 * user (the papers as text: the same on postgres.js and PGlite).
 */
export async function loadCoUpvoteVotes(db: Database, papers: PaperIndex): Promise<CoUpvoteVotes> {
  const rows = await queryRows<{ papers: string }>(
    db,
    sql`
      select array_to_string((array_agg(paper_id order by created_at desc, paper_id desc))[1:${VOTES_PER_USER}], ',') as papers
      from upvotes group by user_id
    `,
  );
  const byUser = new Map<number, { items: number[] }>();
  rows.forEach((row, user) => {
    const items: number[] = [];
    for (const id of row.papers.split(',')) {
      const paper = papers.byId.get(Number(id));
      if (paper !== undefined) items.push(paper);
    }
    byUser.set(user, { items });
  });
  const votes = compressRows(rows.length, byUser, false);
  return { votes, voters: transposeRows(votes, papers.ids.length) };
}

/** The shrunk co-upvote cosine of two papers from their co-voters and voter counts. */
export function coUpvoteSimilarity(coVoters: number, votersA: number, votersB: number): number {
  return coVoters / (Math.sqrt(votersA * votersB) + CO_UPVOTE_SHRINKAGE);
}
