import { and, count, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { keysetCondition, keysetOrderBy, toPage, type KeysetOrder, type Page, type PageRequest } from '../../db/keyset';
import { queryRows } from '../../db/rows';
import { authorshipClaims, comments, follows, notifications, paperAuthors, papers, type NotificationRow } from '../../db/schema';
import { conditionsFor, type PaperCriteria } from '../papers/papers.queries';

/** viewer.notifications: newest first, served by notifications_user_idx (notifications_unread_idx for unreadOnly). */
export const notificationOrder: KeysetOrder<NotificationRow> = {
  name: 'NOTIFICATIONS',
  keys: [{ expression: notifications.createdAt, type: 'timestamptz', valueOf: (row) => row.createdAt.toISOString() }],
  id: notifications.id,
  idOf: (row) => row.id,
};

const unread = (unreadOnly: boolean) => (unreadOnly ? isNull(notifications.readAt) : undefined);

export async function listNotifications(db: Database, userId: number, unreadOnly: boolean, request: PageRequest): Promise<Page<NotificationRow>> {
  const fetched = await db
    .select()
    .from(notifications)
    .where(and(eq(notifications.userId, userId), unread(unreadOnly), keysetCondition(notificationOrder, request)))
    .orderBy(...keysetOrderBy(notificationOrder, request))
    .limit(request.size + 1);
  return toPage(notificationOrder, request, fetched);
}

export async function countNotifications(db: Database, userId: number, unreadOnly: boolean): Promise<number> {
  const [row] = await db
    .select({ total: count() })
    .from(notifications)
    .where(and(eq(notifications.userId, userId), unread(unreadOnly)));
  return row?.total ?? 0;
}

/** Marks the user's notifications among `ids` read (others' are left alone); how many were unread. */
export async function markRead(db: Database, userId: number, ids: readonly number[] | 'all', at: Date): Promise<number> {
  const marked = await db
    .update(notifications)
    .set({ readAt: at })
    .where(
      and(
        eq(notifications.userId, userId),
        isNull(notifications.readAt),
        ids === 'all' ? undefined : sql`${notifications.id} = any(${sql.param([...ids])}::int[])`,
      ),
    )
    .returning({ id: notifications.id });
  return marked.length;
}

/** The saved searches with a filter whose words match the paper (at most `limit`), as stored. */
export async function filteredSearchesMatching(db: Database, paperId: number, limit: number): Promise<{ id: number; searchFilter: unknown }[]> {
  return queryRows(
    db,
    sql`select f.id, f.search_filter as "searchFilter" from ${follows} f join ${papers} p on p.id = ${paperId}
      where f.kind = 'SEARCH' and f.search_filter is not null and p.search_vector @@ f.search_query and p.withdrawn_at is null
      order by f.id limit ${limit}`,
  );
}

/** Which of `searches` (a follow id and its filter's criteria) the paper meets: one statement. */
export async function searchesWhoseFilterHolds(db: Database, paperId: number, searches: readonly { followId: number; criteria: PaperCriteria }[]) {
  if (searches.length === 0) return [];
  const checks = searches.map(
    ({ followId, criteria }) =>
      sql`(${followId}::int, exists (select from ${papers} where ${papers.id} = ${paperId} and ${conditionsFor(criteria) ?? sql`true`}))`,
  );
  const rows = await queryRows<{ id: number }>(db, sql`select v.id from (values ${sql.join(checks, sql`, `)}) as v(id, holds) where v.holds`);
  return rows.map((row) => row.id);
}

/**
 * NEW_PAPER for everyone following something of the paper, in one INSERT ...
 * SELECT however many follow it: its listed authors, its organization, its
 * categories, its keywords, the saved searches without a filter whose words
 * match it, and `matchedSearchIds` (those with a filter, checked before). One
 * notification per follower (the lowest matching follow named), none for the
 * paper's submitter or a withdrawn paper, at most `limit`; ON CONFLICT DO
 * NOTHING on (user, kind, paper) makes reruns and concurrent runs add nothing.
 * Answers how many it made and how many followers matched.
 */
export async function insertNewPaperNotifications(
  db: Database,
  paperId: number,
  matchedSearchIds: readonly number[],
  limit: number,
): Promise<{ made: number; matched: number }> {
  const [row] = await queryRows<{ made: number; matched: number }>(
    db,
    sql`with matched as (
      select distinct on (m.user_id) m.user_id, m.follow_id, p.id as paper_id
      from ${papers} p cross join lateral (
        select f.user_id, f.id as follow_id from ${follows} f join ${paperAuthors} pa on pa.author_id = f.author_id
          where pa.paper_id = p.id and not pa.hidden
        union all select f.user_id, f.id from ${follows} f where f.organization_id = p.organization_id
        union all select f.user_id, f.id from ${follows} f where f.kind = 'CATEGORY' and f.value = any(p.categories)
        union all select f.user_id, f.id from ${follows} f where f.kind = 'KEYWORD' and f.value = any(p.keywords)
        union all select f.user_id, f.id from ${follows} f
          where f.kind = 'SEARCH' and f.search_filter is null and p.search_vector @@ f.search_query
        union all select f.user_id, f.id from ${follows} f where f.id = any(${sql.param([...matchedSearchIds])}::int[])
      ) m
      where p.id = ${paperId} and p.withdrawn_at is null and m.user_id is distinct from p.submitted_by_id
      order by m.user_id, m.follow_id),
    made as (
      insert into ${notifications} (user_id, kind, subject_id, paper_id, follow_id)
      select user_id, 'NEW_PAPER', paper_id, paper_id, follow_id from matched order by user_id limit ${limit}
      on conflict (user_id, kind, subject_id) do nothing
      returning 1)
    select (select count(*)::int from made) as made, (select count(*)::int from matched) as matched`,
  );
  return row!;
}

/** COMMENT_REPLY for the author of the comment `replyId` answers, unless they wrote the reply; at most one. Whether one was made. */
export async function insertReplyNotification(db: Database, replyId: number): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`insert into ${notifications} (user_id, kind, subject_id, paper_id, comment_id)
      select parent.author_id, 'COMMENT_REPLY', reply.id, reply.paper_id, reply.id
      from ${comments} reply join ${comments} parent on parent.id = reply.parent_id
      where reply.id = ${replyId} and reply.deleted_at is null and parent.deleted_at is null and parent.author_id <> reply.author_id
      on conflict (user_id, kind, subject_id) do nothing
      returning 1 as made`,
  );
  return rows.length > 0;
}

/** CLAIM_DECIDED for the claimant of a decided claim, unless they decided it themselves; at most one. Whether one was made. */
export async function insertClaimNotification(db: Database, claimId: number): Promise<boolean> {
  const rows = await queryRows(
    db,
    sql`insert into ${notifications} (user_id, kind, subject_id, claim_id)
      select c.user_id, 'CLAIM_DECIDED', c.id, c.id from ${authorshipClaims} c
      where c.id = ${claimId} and c.status in ('approved', 'rejected') and c.decided_by_id is distinct from c.user_id
      on conflict (user_id, kind, subject_id) do nothing
      returning 1 as made`,
  );
  return rows.length > 0;
}
