import { and, count, eq, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { keysetCondition, keysetOrderBy, toPage, type KeysetOrder, type Page, type PageRequest } from '../../db/keyset';
import { queryRows } from '../../db/rows';
import { follows, paperAuthors, paperColumns, papers, users, type FollowKind, type FollowRow, type PaperRow } from '../../db/schema';
import { AppError } from '../../errors';
import { paperOrders } from '../papers/paper-order';
import { conditionsFor, type PaperCriteria } from '../papers/papers.queries';

/** viewer.follows: newest first, served by follows_user_idx. */
export const followOrder: KeysetOrder<FollowRow> = {
  name: 'FOLLOWS',
  keys: [{ expression: follows.createdAt, type: 'timestamptz', valueOf: (follow) => follow.createdAt.toISOString() }],
  id: follows.id,
  idOf: (follow) => follow.id,
};

/** What a new follow row holds besides its user and time. */
export interface NewFollow {
  kind: FollowKind;
  subjectKey: string;
  authorId?: number;
  organizationId?: number;
  value?: string;
  /** A saved search's filter, as stored (see follows.ts). */
  searchFilter?: unknown;
  /** A saved search's full-text query expression (SQL yielding a tsquery). */
  searchQuery?: SQL;
}

/**
 * Follows `follow` for `userId`, once: following again answers the existing
 * row. The user's row is locked for the transaction, so concurrent follows
 * cannot both pass the cap of `maxFollows`; BAD_USER_INPUT past it.
 */
export function insertFollow(db: Database, userId: number, follow: NewFollow, maxFollows: number, at: Date): Promise<FollowRow> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select 1 from ${users} where ${users.id} = ${userId} for update`);
    const [existing] = await tx
      .select()
      .from(follows)
      .where(and(eq(follows.userId, userId), eq(follows.subjectKey, follow.subjectKey)));
    if (existing) return existing;
    const [{ total } = { total: 0 }] = await tx.select({ total: count() }).from(follows).where(eq(follows.userId, userId));
    if (total >= maxFollows) {
      throw new AppError('BAD_USER_INPUT', `You follow ${total} things, the most one may follow (${maxFollows}): unfollow something first.`, {
        reason: 'FOLLOW_LIMIT',
      });
    }
    const [inserted] = await tx
      .insert(follows)
      .values({
        userId,
        kind: follow.kind,
        subjectKey: follow.subjectKey,
        authorId: follow.authorId,
        organizationId: follow.organizationId,
        value: follow.value,
        searchFilter: follow.searchFilter,
        searchQuery: follow.searchQuery,
        createdAt: at,
      })
      .returning();
    return inserted!;
  });
}

/** Unfollows by subject; whether there was such a follow. */
export async function deleteFollowBySubject(db: Database, userId: number, subjectKey: string): Promise<boolean> {
  const deleted = await db
    .delete(follows)
    .where(and(eq(follows.userId, userId), eq(follows.subjectKey, subjectKey)))
    .returning({ id: follows.id });
  return deleted.length > 0;
}

/** Unfollows by the follow's id (the user's own only); whether there was such a follow. */
export async function deleteFollowById(db: Database, userId: number, followId: number): Promise<boolean> {
  const deleted = await db
    .delete(follows)
    .where(and(eq(follows.userId, userId), eq(follows.id, followId)))
    .returning({ id: follows.id });
  return deleted.length > 0;
}

export async function listFollows(db: Database, userId: number, request: PageRequest): Promise<Page<FollowRow>> {
  const fetched = await db
    .select()
    .from(follows)
    .where(and(eq(follows.userId, userId), keysetCondition(followOrder, request)))
    .orderBy(...keysetOrderBy(followOrder, request))
    .limit(request.size + 1);
  return toPage(followOrder, request, fetched);
}

export async function countFollows(db: Database, userId: number): Promise<number> {
  const [row] = await db.select({ total: count() }).from(follows).where(eq(follows.userId, userId));
  return row?.total ?? 0;
}

/** The user's follows among `ids` (a follow of someone else is not there). */
export async function findFollowsOfUser(db: Database, userId: number, ids: readonly number[]): Promise<FollowRow[]> {
  return db
    .select()
    .from(follows)
    .where(and(eq(follows.userId, userId), sql`${follows.id} = any(${sql.param([...ids])}::int[])`));
}

/** The user's follows as the following feed reads them (one statement; follows.ts turns them into branches). */
export async function followsForFeed(db: Database, userId: number) {
  return db
    .select({
      kind: follows.kind,
      authorId: follows.authorId,
      organizationId: follows.organizationId,
      value: follows.value,
      searchFilter: follows.searchFilter,
      searchQuery: sql<string | null>`${follows.searchQuery}::text`,
    })
    .from(follows)
    .where(eq(follows.userId, userId));
}

/** What a user follows, as conditions on `papers`, one per kind followed (and one per saved search): see followedBranches. */
export interface FollowedPapers {
  branches: SQL[];
}

/** A text[] literal of `values`, one parameter each. */
const textArray = (values: readonly string[]) =>
  sql`array[${sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )}]::text[]`;

/**
 * The conditions on `papers` a paper from what the user follows meets one of:
 * a listed authorship by a followed author, a followed organization, a
 * followed category or keyword, or a saved search's words (stored tsquery)
 * and its filter. The followed values are written into the statement, so the
 * planner judges each one by the column's statistics: a popular keyword walks
 * the published-date index until the page is full, a rare one reads its few
 * papers from the GIN index and sorts them.
 */
export function followedBranches(followed: {
  authorIds: readonly number[];
  organizationIds: readonly number[];
  categories: readonly string[];
  keywords: readonly string[];
  searches: readonly { query: string; criteria: PaperCriteria }[];
}): FollowedPapers {
  const branches: SQL[] = [];
  if (followed.authorIds.length > 0) {
    branches.push(
      sql`exists (select from ${paperAuthors} pa where pa.paper_id = ${papers.id} and pa.author_id = any(${sql.param([...followed.authorIds])}::int[]) and not pa.hidden)`,
    );
  }
  if (followed.organizationIds.length > 0) branches.push(sql`${papers.organizationId} = any(${sql.param([...followed.organizationIds])}::int[])`);
  if (followed.categories.length > 0) branches.push(sql`${papers.categories} && ${textArray(followed.categories)}`);
  if (followed.keywords.length > 0) branches.push(sql`${papers.keywords} && ${textArray(followed.keywords)}`);
  for (const search of followed.searches) {
    branches.push(and(sql`${papers.searchVector} @@ ${search.query}::tsquery`, conditionsFor(search.criteria))!);
  }
  return { branches };
}

/** The following feed's order: published date, newest first, id breaking ties (papers_published_idx). */
const feedOrder = paperOrders.PUBLISHED_AT;

/**
 * One page of the papers from what the user follows, meeting `criteria`;
 * withdrawn ones are out. Each branch reads its own best `size + 1` past the
 * cursor (its own plan: an index walk or a few index lookups and a sort),
 * then the page is the best of their union, read by id: one statement.
 */
export async function listFollowedPapers(db: Database, followed: FollowedPapers, criteria: PaperCriteria, request: PageRequest): Promise<Page<PaperRow>> {
  if (followed.branches.length === 0) {
    // Nothing followed: no statement, but the cursor is checked as a page that reads one checks it (BAD_USER_INPUT).
    keysetCondition(feedOrder, request);
    return toPage(feedOrder, request, []);
  }
  const orderBy = keysetOrderBy(feedOrder, request);
  const branchPages = followed.branches.map(
    (branch) =>
      sql`(select ${papers.id} from ${papers} where ${and(conditionsFor(criteria), branch, keysetCondition(feedOrder, request))}
        order by ${sql.join(orderBy, sql`, `)} limit ${request.size + 1})`,
  );
  const fetched = await db
    .select(paperColumns)
    .from(papers)
    .where(sql`${papers.id} = any(array(${sql.join(branchPages, sql` union `)}))`)
    .orderBy(...orderBy)
    .limit(request.size + 1);
  return toPage(feedOrder, request, fetched);
}

export async function countFollowedPapers(db: Database, followed: FollowedPapers, criteria: PaperCriteria): Promise<number> {
  if (followed.branches.length === 0) return 0;
  const [row] = await db
    .select({ total: count() })
    .from(papers)
    .where(and(conditionsFor(criteria), or(...followed.branches)));
  return row?.total ?? 0;
}

/** How many nodes the full-text query `query` (SQL yielding a tsquery) has: 0 when it has no word to match. */
export async function tsqueryNodeCount(db: Database, query: SQL): Promise<number> {
  const [row] = await queryRows<{ nodes: number }>(db, sql`select numnode(${query})::int as nodes`);
  return row?.nodes ?? 0;
}

/** Whether an author and an organization exist (for NOT_FOUND), in one statement. */
export async function subjectExists(db: Database, table: 'authors' | 'organizations', id: number): Promise<boolean> {
  const [row] = await queryRows<{ found: boolean }>(db, sql`select exists (select from ${sql.identifier(table)} where id = ${id}) as found`);
  return row?.found === true;
}
