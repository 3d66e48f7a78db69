import { sql, type SQL } from 'drizzle-orm';

/** Verified (claimed) authorships as (paper_id, user_id) rows, for the papers `inScope` (over pa.paper_id) accepts. */
const verifiedAuthorships = (inScope: SQL) => sql`
  select pa.paper_id, a.user_id from paper_authors pa join authors a on a.id = pa.author_id
  where a.user_id is not null and ${inScope}`;

const notTheSubmitter = (voterId: SQL, submitterId: SQL) => sql`${voterId} is distinct from ${submitterId}`;

/**
 * Whether a vote weighs 1 in trending: not when cast by the paper's submitter
 * or by a verified (claimed) author of the paper. The rule has two forms built
 * from the same parts: this one for a single vote (the per-vote update), and
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
export function votesWeigh(inScope: (paperId: SQL) => SQL): { join: SQL; weighs: SQL<boolean> } {
  return {
    join: sql`left join (select distinct * from (${verifiedAuthorships(inScope(sql`pa.paper_id`))}) authorship) va
      on va.paper_id = u.paper_id and va.user_id = u.user_id`,
    weighs: sql<boolean>`(${notTheSubmitter(sql`u.user_id`, sql`p.submitted_by_id`)} and va.user_id is null)`,
  };
}
