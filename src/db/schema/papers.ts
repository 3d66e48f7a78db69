import { getTableColumns, sql } from 'drizzle-orm';
import { boolean, doublePrecision, index, integer, pgTable, primaryKey, text } from 'drizzle-orm/pg-core';
import { authors } from './authors';
import { timestampMs } from './columns';
import { organizations } from './organizations';
import { tsvector } from './search';
import { users } from './users';

/** The sort key of SUBMITTED_AT: never-featured papers sort last, and the key is never null. */
export const submittedAtSortKey = (submittedAt: unknown) => sql`coalesce(${submittedAt}, '-infinity'::timestamptz)`;

export const papers = pgTable(
  'papers',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    arxivId: text('arxiv_id').notNull().unique(),
    title: text('title').notNull(),
    abstract: text('abstract').notNull().default(''),
    /** arXiv publication time. */
    publishedAt: timestampMs('published_at').notNull(),
    /** When the paper was featured in Daily Papers; null if never. */
    submittedAt: timestampMs('submitted_at'),
    submittedById: integer('submitted_by_id').references(() => users.id, { onDelete: 'set null' }),
    organizationId: integer('organization_id').references(() => organizations.id, { onDelete: 'set null' }),
    githubRepo: text('github_repo'),
    githubStars: integer('github_stars'),
    projectPage: text('project_page'),
    thumbnailUrl: text('thumbnail_url'),
    /** Images and videos the source shows with the paper (http(s) URLs). */
    mediaUrls: text('media_urls').array().notNull().default(sql`'{}'::text[]`),
    /** When the paper was withdrawn from arXiv; null if it stands. A withdrawn paper is left out of every list and feed. */
    withdrawnAt: timestampMs('withdrawn_at'),
    /** When the submitter or a verified author last set githubRepo and projectPage; an import then keeps theirs. */
    linksEditedAt: timestampMs('links_edited_at'),
    aiSummary: text('ai_summary'),
    /** Lower-cased, so the keyword filter matches regardless of case. */
    keywords: text('keywords').array().notNull().default(sql`'{}'::text[]`),
    /** arXiv categories (cs.LG, hep-th, math.AG), the primary one first; empty until arXiv was asked. */
    categories: text('categories').array().notNull().default(sql`'{}'::text[]`),
    /** When the categories were taken from arXiv; null until then (the fill-arxiv-categories job asks for those). */
    categoriesCheckedAt: timestampMs('categories_checked_at'),
    /** Upvotes that came without voters (imported counts); part of upvoteCount. */
    upvoteBaseline: integer('upvote_baseline').notNull().default(0),
    /** upvoteBaseline plus the rows in upvotes. */
    upvoteCount: integer('upvote_count').notNull().default(0),
    /** Comments counted by an import source, without their text; part of commentCount. */
    commentBaseline: integer('comment_baseline').notNull().default(0),
    /** commentBaseline plus the rows in comments. */
    commentCount: integer('comment_count').notNull().default(0),
    /** The forward-decay trending key K (README, Trending): ordering by it is the trending order at any time. */
    trendingKey: doublePrecision('trending_key').notNull(),
    /** Title (A), keywords (B), abstract (C) and author names (D); kept by modules/search/search-documents.ts. */
    searchVector: tsvector('search_vector').notNull().default(sql`''::tsvector`),
    createdAt: timestampMs('created_at').notNull().defaultNow(),
    updatedAt: timestampMs('updated_at').notNull().defaultNow(),
  },
  (t) => [
    // DESC NULLS FIRST is what a plain ORDER BY ... DESC asks for, so the planner can use these both ways.
    index('papers_trending_idx').on(t.trendingKey.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('papers_upvotes_idx').on(t.upvoteCount.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('papers_published_idx').on(t.publishedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('papers_submitted_idx').on(sql`${submittedAtSortKey(t.submittedAt)} DESC`, t.id.desc().nullsFirst()),
    index('papers_submitted_range_idx').on(t.submittedAt),
    index('papers_organization_idx').on(t.organizationId, t.publishedAt.desc().nullsFirst(), t.id.desc().nullsFirst()),
    index('papers_submitter_idx').on(t.submittedById, sql`${submittedAtSortKey(t.submittedAt)} DESC`, t.id.desc().nullsFirst()),
    index('papers_keywords_idx').using('gin', t.keywords),
    index('papers_categories_idx').using('gin', t.categories),
    // The papers the categories job has yet to ask arXiv about.
    index('papers_categories_unchecked_idx').on(t.id).where(sql`${t.categoriesCheckedAt} is null`),
    index('papers_search_idx').using('gin', t.searchVector),
    index('papers_title_trigram_idx').using('gin', sql`lower(${t.title}) gin_trgm_ops`),
    // Search ranks a title equal to the query first: an equality lookup, whatever the title's length (hash, not btree).
    index('papers_title_lower_idx').using('hash', sql`lower(${t.title})`),
  ],
);

/** The authors of a paper in its order, with the name as printed on it. */
export const paperAuthors = pgTable(
  'paper_authors',
  {
    paperId: integer('paper_id')
      .notNull()
      .references(() => papers.id, { onDelete: 'cascade' }),
    /** 0-based order on the paper. */
    position: integer('position').notNull(),
    authorId: integer('author_id')
      .notNull()
      .references(() => authors.id, { onDelete: 'cascade' }),
    name: text('name').notNull(),
    /** The author hid this paper from their author page; it still lists them. */
    hidden: boolean('hidden').notNull().default(false),
  },
  (t) => [primaryKey({ columns: [t.paperId, t.position] }), index('paper_authors_author_idx').on(t.authorId, t.paperId)],
);

/** Every column but the search document, which only SQL reads: what paper queries select. */
const { searchVector: _searchVector, ...paperColumnsWithoutSearch } = getTableColumns(papers);
export const paperColumns = paperColumnsWithoutSearch;

export type PaperRow = Omit<typeof papers.$inferSelect, 'searchVector'>;
export type NewPaperRow = typeof papers.$inferInsert;
export type PaperAuthorRow = typeof paperAuthors.$inferSelect;
