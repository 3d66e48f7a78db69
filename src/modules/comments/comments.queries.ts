import { and, count, eq, getTableColumns, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { keysetCondition, keysetOrderBy, toPage, type KeysetOrder, type Page, type PageRequest } from '../../db/keyset';
import { authors, comments, paperAuthors, type CommentRow } from '../../db/schema';

/**
 * A list of comments: the top-level comments of a paper (keyed by the paper's
 * id), or the replies to a comment (keyed by that comment's id).
 */
export type CommentThread = 'paper' | 'replies';

const threadColumn = (thread: CommentThread) => (thread === 'paper' ? comments.paperId : comments.parentId);
const topLevelOnly = (thread: CommentThread) => (thread === 'paper' ? isNull(comments.parentId) : undefined);

/** Oldest first, as a discussion reads. */
const oldestFirst = (name: string): KeysetOrder<CommentRow> => ({
  name,
  sort: 'asc',
  keys: [{ expression: comments.createdAt, type: 'timestamptz', valueOf: (comment) => comment.createdAt.toISOString() }],
  id: comments.id,
  idOf: (comment) => comment.id,
});

/** Served by comments_paper_thread_idx and comments_parent_idx respectively. */
const threadOrders: Record<CommentThread, KeysetOrder<CommentRow>> = {
  paper: oldestFirst('COMMENTS'),
  replies: oldestFirst('REPLIES'),
};

export async function findCommentsByIds(db: Database, ids: readonly number[]): Promise<CommentRow[]> {
  return db.select().from(comments).where(idIn(comments.id, ids));
}

/**
 * One page of each of several threads of one kind, in one statement: a
 * lateral subquery reads each thread through its index, so a page costs its
 * size, not the length of the thread.
 */
export async function listCommentPages(
  db: Database,
  thread: CommentThread,
  threadIds: readonly number[],
  request: PageRequest,
): Promise<Map<number, Page<CommentRow>>> {
  const order = threadOrders[thread];
  const orderBy = keysetOrderBy(order, request);
  const page = db
    .select({
      ...getTableColumns(comments),
      // A join leaves the order of its rows open: the position keeps each page's.
      position: sql<number>`row_number() over (order by ${sql.join(orderBy, sql`, `)})`.as('position'),
    })
    .from(comments)
    .where(and(eq(threadColumn(thread), sql`thread.id`), topLevelOnly(thread), keysetCondition(order, request)))
    .orderBy(...orderBy)
    .limit(request.size + 1)
    .as('page');
  const fetched: CommentRow[] = await db
    .select({
      id: page.id,
      paperId: page.paperId,
      authorId: page.authorId,
      parentId: page.parentId,
      body: page.body,
      createdAt: page.createdAt,
      editedAt: page.editedAt,
      deletedAt: page.deletedAt,
    })
    .from(sql`unnest(${sql.param([...threadIds])}::int[]) as thread(id)`)
    .crossJoinLateral(page)
    .orderBy(page.position);
  const rowsByThread = new Map<number, CommentRow[]>(threadIds.map((id) => [id, []]));
  for (const comment of fetched) rowsByThread.get(thread === 'paper' ? comment.paperId : comment.parentId!)!.push(comment);
  return new Map([...rowsByThread].map(([id, rows]) => [id, toPage(order, request, rows)]));
}

/** How many comments each thread holds, keyed by its id (absent when none). */
export async function countCommentsOfThreads(db: Database, thread: CommentThread, threadIds: readonly number[]): Promise<Map<number, number>> {
  const column = threadColumn(thread);
  const rows = await db
    .select({ threadId: column, total: count() })
    .from(comments)
    .where(and(idIn(column, threadIds), topLevelOnly(thread)))
    .groupBy(column);
  return new Map(rows.map((row) => [row.threadId!, row.total]));
}

/** A user on a paper: a comment's author and the paper it is on. */
export interface UserOnPaper {
  paperId: number;
  userId: number;
}

/**
 * Which of `pairs` name a user who is an author of the paper: an admin
 * approved their claim on an author the paper lists (authors.user_id). One
 * statement; the answer holds `${paperId}:${userId}` of those that do.
 */
export async function findPaperAuthorUsers(db: Database, pairs: readonly UserOnPaper[]): Promise<Set<string>> {
  const rows = await db
    .selectDistinct({ paperId: paperAuthors.paperId, userId: authors.userId })
    .from(paperAuthors)
    .innerJoin(authors, eq(authors.id, paperAuthors.authorId))
    .where(
      sql`(${paperAuthors.paperId}, ${authors.userId}) in (select * from unnest(${sql.param(pairs.map((pair) => pair.paperId))}::int[], ${sql.param(
        pairs.map((pair) => pair.userId),
      )}::int[]))`,
    );
  return new Set(rows.map((row) => `${row.paperId}:${row.userId}`));
}
