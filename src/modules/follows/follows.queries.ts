import { and, count, eq, sql, type SQL } from 'drizzle-orm';
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

/** A saved search that has a filter: its id and its criteria. */
export interface FilteredSearch {
  followId: number;
  criteria: PaperCriteria;
}

/** The user's saved searches that carry a filter, as stored (one statement; follows.ts turns them into criteria). */
export async function filteredSearchesOf(db: Database, userId: number): Promise<{ id: number; searchFilter: unknown }[]> {
  return db
    .select({ id: follows.id, searchFilter: follows.searchFilter })
    .from(follows)
    .where(and(eq(follows.userId, userId), eq(follows.kind, 'SEARCH'), sql`${follows.searchFilter} is not null`));
}

/**
 * Whether the paper `papers` (the row in scope) comes from what `userId`
 * follows: one of its listed authors, its organization, one of its
 * categories or keywords, or a saved search's words (and that search's
 * filter, for the `filtered` ones, whose criteria the caller read first).
 * Each part is an index-backed EXISTS over the user's follows.
 */
export function followedBy(userId: number, filtered: readonly FilteredSearch[]): SQL {
  const ofUser = (kind: FollowKind) => sql`f.user_id = ${userId} and f.kind = ${kind}`;
  const parts: SQL[] = [
    sql`exists (select from ${follows} f join ${paperAuthors} pa on pa.author_id = f.author_id
      where ${ofUser('AUTHOR')} and pa.paper_id = ${papers.id} and not pa.hidden)`,
    sql`exists (select from ${follows} f where ${ofUser('ORGANIZATION')} and f.organization_id = ${papers.organizationId})`,
    sql`exists (select from ${follows} f where ${ofUser('CATEGORY')} and f.value = any(${papers.categories}))`,
    sql`exists (select from ${follows} f where ${ofUser('KEYWORD')} and f.value = any(${papers.keywords}))`,
    sql`exists (select from ${follows} f where ${ofUser('SEARCH')} and f.search_filter is null and ${papers.searchVector} @@ f.search_query)`,
    ...filtered.map(
      ({ followId, criteria }) =>
        sql`(${papers.searchVector} @@ (select f.search_query from ${follows} f where f.id = ${followId}) and ${conditionsFor(criteria) ?? sql`true`})`,
    ),
  ];
  return sql`(${sql.join(parts, sql` or `)})`;
}

/** The following feed's order: published date, newest first, id breaking ties (papers_published_idx). */
const feedOrder = paperOrders.PUBLISHED_AT;

/** One page of the papers from what the user follows (`followed`, from followedBy), meeting `criteria`; withdrawn ones are out. */
export async function listFollowedPapers(db: Database, followed: SQL, criteria: PaperCriteria, request: PageRequest): Promise<Page<PaperRow>> {
  const fetched = await db
    .select(paperColumns)
    .from(papers)
    .where(and(conditionsFor(criteria), followed, keysetCondition(feedOrder, request)))
    .orderBy(...keysetOrderBy(feedOrder, request))
    .limit(request.size + 1);
  return toPage(feedOrder, request, fetched);
}

export async function countFollowedPapers(db: Database, followed: SQL, criteria: PaperCriteria): Promise<number> {
  const [row] = await db
    .select({ total: count() })
    .from(papers)
    .where(and(conditionsFor(criteria), followed));
  return row?.total ?? 0;
}

/** Whether an author and an organization exist (for NOT_FOUND), in one statement. */
export async function subjectExists(db: Database, table: 'authors' | 'organizations', id: number): Promise<boolean> {
  const [row] = await queryRows<{ found: boolean }>(db, sql`select exists (select from ${sql.identifier(table)} where id = ${id}) as found`);
  return row?.found === true;
}
