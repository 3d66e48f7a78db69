import { and, asc, count, eq, exists, gte, isNotNull, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { preparedPerDatabase } from '../../db/prepared-queries';
import { keysetCondition, keysetOrderBy, toPage, type Page, type PageRequest } from '../../db/keyset';
import {
  authorColumns,
  authors,
  organizations,
  paperAuthors,
  paperColumns,
  papers,
  upvotes,
  users,
  type AuthorRow,
  type PaperRow,
} from '../../db/schema';
import { paperOrders, type PaperOrder } from './paper-order';

/** Which papers a list holds; every criterion is optional and they combine with AND. */
export interface PaperCriteria {
  authorId?: number;
  organizationId?: number;
  organizationName?: string;
  submittedById?: number;
  submitterUsername?: string;
  publishedAfter?: Date;
  publishedBefore?: Date;
  /** Featured in Daily Papers at some time. */
  featured?: boolean;
  /** Featured in Daily Papers within [submittedFrom, submittedUntil). */
  submittedFrom?: Date;
  submittedUntil?: Date;
  keyword?: string;
  /** arXiv categories: the paper has any of them. */
  categories?: readonly string[];
  /** arXiv categories: the paper has none of them. */
  excludeCategories?: readonly string[];
  /** Lower-cased keywords: the paper has none of them. */
  excludeKeywords?: readonly string[];
}

/** A text[] literal of `values`, one parameter each. */
const textArray = (values: readonly string[]) =>
  sql`array[${sql.join(
    values.map((value) => sql`${value}`),
    sql`, `,
  )}]::text[]`;

/** A paper's authorship as listed on an author's page: hidden ones are left out. */
const listedAuthorship = (authorId: number) =>
  exists(
    sql`(select 1 from ${paperAuthors} where ${paperAuthors.paperId} = ${papers.id} and ${paperAuthors.authorId} = ${authorId} and not ${paperAuthors.hidden})`,
  );

/** Every list leaves withdrawn papers out; they are still found by id and arXiv id. */
export function conditionsFor(criteria: PaperCriteria): SQL | undefined {
  const conditions: (SQL | undefined)[] = [
    isNull(papers.withdrawnAt),
    criteria.authorId !== undefined ? listedAuthorship(criteria.authorId) : undefined,
    criteria.organizationId !== undefined ? eq(papers.organizationId, criteria.organizationId) : undefined,
    criteria.organizationName !== undefined
      ? eq(papers.organizationId, sql`(select ${organizations.id} from ${organizations} where ${organizations.name} = ${criteria.organizationName})`)
      : undefined,
    criteria.submittedById !== undefined ? eq(papers.submittedById, criteria.submittedById) : undefined,
    criteria.submitterUsername !== undefined
      ? eq(papers.submittedById, sql`(select ${users.id} from ${users} where lower(${users.username}) = lower(${criteria.submitterUsername}))`)
      : undefined,
    criteria.publishedAfter ? gte(papers.publishedAt, criteria.publishedAfter) : undefined,
    criteria.publishedBefore ? lt(papers.publishedAt, criteria.publishedBefore) : undefined,
    criteria.featured ? isNotNull(papers.submittedAt) : undefined,
    criteria.submittedFrom ? gte(papers.submittedAt, criteria.submittedFrom) : undefined,
    criteria.submittedUntil ? lt(papers.submittedAt, criteria.submittedUntil) : undefined,
    criteria.keyword !== undefined ? sql`${papers.keywords} @> array[${criteria.keyword.trim().toLowerCase()}]::text[]` : undefined,
    // Overlap (&&) is what the GIN indexes on categories and keywords answer.
    criteria.categories?.length ? sql`${papers.categories} && ${textArray(criteria.categories)}` : undefined,
    criteria.excludeCategories?.length ? sql`not (${papers.categories} && ${textArray(criteria.excludeCategories)})` : undefined,
    criteria.excludeKeywords?.length ? sql`not (${papers.keywords} && ${textArray(criteria.excludeKeywords)})` : undefined,
  ];
  return and(...conditions);
}

/** The statement reading one page (one row more than asked, to tell whether more follow). */
export function selectPaperPage(db: Database, criteria: PaperCriteria, order: PaperOrder, request: PageRequest) {
  const keyset = paperOrders[order];
  return db
    .select(paperColumns)
    .from(papers)
    .where(and(conditionsFor(criteria), keysetCondition(keyset, request)))
    .orderBy(...keysetOrderBy(keyset, request))
    .limit(request.size + 1);
}

/** One page of papers matching `criteria` in `order`. */
export async function listPapers(db: Database, criteria: PaperCriteria, order: PaperOrder, request: PageRequest): Promise<Page<PaperRow>> {
  const fetched = await selectPaperPage(db, criteria, order, request);
  return toPage(paperOrders[order], request, fetched);
}

/**
 * Papers `offset` to `offset + size - 1` matching `criteria` in `order`, for
 * clients that page by number (Hugging Face's `p`). The same statement as
 * listPapers' first page with an OFFSET, so a deep page reads every row
 * before it: callers bound `offset`.
 */
export async function listPapersAt(
  db: Database,
  criteria: PaperCriteria,
  order: PaperOrder,
  { offset, size }: { offset: number; size: number },
): Promise<PaperRow[]> {
  const request: PageRequest = { direction: 'forward', size, cursor: null };
  return db
    .select(paperColumns)
    .from(papers)
    .where(conditionsFor(criteria))
    .orderBy(...keysetOrderBy(paperOrders[order], request))
    .limit(size)
    .offset(offset);
}

export async function countPapers(db: Database, criteria: PaperCriteria): Promise<number> {
  const [row] = await db.select({ total: count() }).from(papers).where(conditionsFor(criteria));
  return row?.total ?? 0;
}

export async function findPapersByIds(db: Database, ids: readonly number[]): Promise<PaperRow[]> {
  return db.select(paperColumns).from(papers).where(idIn(papers.id, ids));
}

export async function findPaperByArxivId(db: Database, arxivId: string): Promise<PaperRow | undefined> {
  const [paper] = await db.select(paperColumns).from(papers).where(eq(papers.arxivId, arxivId)).limit(1);
  return paper;
}

export interface PaperAuthorView {
  paperId: number;
  position: number;
  name: string;
  /** Listed on the paper but left off the author's page (Hugging Face's `hidden`). */
  hidden: boolean;
  author: AuthorRow;
}

/** Runs for every page of papers that shows authors: prepared once per database handle. */
const authorsOfPapersQuery = preparedPerDatabase((db) =>
  db
    .select({
      paperId: paperAuthors.paperId,
      position: paperAuthors.position,
      name: paperAuthors.name,
      hidden: paperAuthors.hidden,
      author: authorColumns,
    })
    .from(paperAuthors)
    .innerJoin(authors, eq(authors.id, paperAuthors.authorId))
    .where(idIn(paperAuthors.paperId, sql.placeholder('paperIds')))
    .orderBy(asc(paperAuthors.paperId), asc(paperAuthors.position))
    .prepare('authors_of_papers'),
);

/** The authors of each paper in `paperIds`, in paper order, with their Author records (one query). */
export async function findAuthorsOfPapers(db: Database, paperIds: readonly number[]): Promise<PaperAuthorView[]> {
  return authorsOfPapersQuery(db).execute({ paperIds: [...paperIds] });
}

/** What a vote changes on a paper, and whether the viewer cast one: the fields of a shared page read fresh for each viewer. */
export interface LivePaperFields {
  id: number;
  upvoteCount: number;
  trendingKey: number;
  viewerHasUpvoted: boolean;
}

/** Runs for every kept page of papers a signed-in viewer reads: prepared once per database handle. */
const livePaperFieldsQuery = preparedPerDatabase((db) =>
  db
    .select({
      id: papers.id,
      upvoteCount: papers.upvoteCount,
      trendingKey: papers.trendingKey,
      viewerHasUpvoted:
        sql<boolean>`exists (select 1 from ${upvotes} where ${upvotes.paperId} = ${papers.id} and ${upvotes.userId} = ${sql.placeholder('userId')})`.as(
          'viewer_has_upvoted',
        ),
    })
    .from(papers)
    .where(idIn(papers.id, sql.placeholder('paperIds')))
    .prepare('live_paper_fields'),
);

/** A row of live_paper_fields as postgres.js reads it (integer, double precision and boolean need no mapping). */
interface LivePaperFieldsRow {
  id: number;
  upvote_count: number;
  trending_key: number;
  viewer_has_upvoted: boolean;
}

/** The upvote counts and trending keys of `paperIds` as they are now, and which of them `userId` upvoted (one query by primary key). */
export async function findLivePaperFields(db: Database, userId: number, paperIds: readonly number[]): Promise<LivePaperFields[]> {
  // .all(): the driver's rows, without drizzle's generic mapping of every column of every row (50 a page, on every signed-in page).
  const query = livePaperFieldsQuery(db) as unknown as { all(values: Record<string, unknown>): Promise<LivePaperFieldsRow[]> };
  const rows = await query.all({ userId, paperIds: [...paperIds] });
  return rows.map((row) => ({ id: row.id, upvoteCount: row.upvote_count, trendingKey: row.trending_key, viewerHasUpvoted: row.viewer_has_upvoted }));
}
