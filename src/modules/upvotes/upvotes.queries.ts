import { and, count, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { preparedPerDatabase } from '../../db/prepared-queries';
import { keysetCondition, keysetOrderBy, toPage, type KeysetOrder, type Page, type PageRequest } from '../../db/keyset';
import { paperColumns, papers, upvotes, userProfileColumns, users, type PaperRow, type UserProfile } from '../../db/schema';

/** A row of a vote list: the voter or the paper, with when the vote was cast. */
export type Voted<Row> = Row & { votedAt: Date };

/** Most recent vote first; served by upvotes_paper_recent_idx. */
const upvotersOrder: KeysetOrder<Voted<UserProfile>> = {
  name: 'UPVOTERS',
  keys: [{ expression: upvotes.createdAt, type: 'timestamptz', valueOf: (row) => row.votedAt.toISOString() }],
  id: upvotes.userId,
  idOf: (row) => row.id,
};

/** Most recent vote first; served by upvotes_user_recent_idx. */
const upvotedPapersOrder: KeysetOrder<Voted<PaperRow>> = {
  name: 'UPVOTED_PAPERS',
  keys: [{ expression: upvotes.createdAt, type: 'timestamptz', valueOf: (row) => row.votedAt.toISOString() }],
  id: upvotes.paperId,
  idOf: (row) => row.id,
};

export async function listUpvoters(db: Database, paperId: number, request: PageRequest): Promise<Page<Voted<UserProfile>>> {
  const fetched = await db
    .select({ ...userProfileColumns, votedAt: upvotes.createdAt })
    .from(upvotes)
    .innerJoin(users, eq(users.id, upvotes.userId))
    .where(and(eq(upvotes.paperId, paperId), keysetCondition(upvotersOrder, request)))
    .orderBy(...keysetOrderBy(upvotersOrder, request))
    .limit(request.size + 1);
  return toPage(upvotersOrder, request, fetched);
}

export async function listUpvotedPapers(db: Database, userId: number, request: PageRequest): Promise<Page<Voted<PaperRow>>> {
  const fetched = await db
    .select({ ...paperColumns, votedAt: upvotes.createdAt })
    .from(upvotes)
    .innerJoin(papers, eq(papers.id, upvotes.paperId))
    .where(and(eq(upvotes.userId, userId), keysetCondition(upvotedPapersOrder, request)))
    .orderBy(...keysetOrderBy(upvotedPapersOrder, request))
    .limit(request.size + 1);
  return toPage(upvotedPapersOrder, request, fetched);
}

export async function countUpvotesOfUser(db: Database, userId: number): Promise<number> {
  const [row] = await db.select({ total: count() }).from(upvotes).where(eq(upvotes.userId, userId));
  return row?.total ?? 0;
}

/** Runs for every page of papers a signed-in viewer reads: prepared once per database handle. */
const upvotedPaperIdsQuery = preparedPerDatabase((db) =>
  db
    .select({ paperId: upvotes.paperId })
    .from(upvotes)
    .where(and(eq(upvotes.userId, sql.placeholder('userId')), idIn(upvotes.paperId, sql.placeholder('paperIds'))))
    .prepare('upvoted_paper_ids'),
);

/** Which of `paperIds` the user upvoted. */
export async function findUpvotedPaperIds(db: Database, userId: number, paperIds: readonly number[]): Promise<Set<number>> {
  const rows = await upvotedPaperIdsQuery(db).execute({ userId, paperIds: [...paperIds] });
  return new Set(rows.map((row) => row.paperId));
}
