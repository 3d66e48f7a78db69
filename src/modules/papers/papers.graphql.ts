import type { ArgBuilder } from '@pothos/core';
import { builder } from '../../graphql/builder';
import { pageRequestFrom, toConnection, type ConnectionArgs } from '../../graphql/connection';
import type { Context } from '../../graphql/context';
import { authorsOfPaperLoader, livePaperFieldsLoader, searchSnippetLoader, viewerUpvotedLoader } from '../../graphql/loaders';
import { AuthorRef, OrganizationRef, PaperRef, UserRef } from '../../graphql/node-refs';
import { trendingScore } from '../trending/trending-key';
import { normalizeArxivId } from './arxiv-id';
import { dailyWindow } from './daily-window';
import { MAX_FILTER_ENTRIES, criteriaFromFilter } from './paper-filter';
import type { PaperOrder } from './paper-order';
import type { PageRequest } from '../../db/keyset';
import type { PaperRow } from '../../db/schema';
import { countPapers, findLivePaperFields, findPaperByArxivId, listPapers, type PaperAuthorView, type PaperCriteria } from './papers.queries';

export const PaperOrderEnum = builder.enumType('PaperOrder', {
  description: 'How a list of papers is ordered. Every order is newest/highest first.',
  values: {
    TRENDING: { description: 'Time-decayed upvote ranking: recent upvotes on recent papers count most.' },
    UPVOTES: { description: 'Most upvotes first.' },
    PUBLISHED_AT: { description: 'Newest arXiv publication first.' },
    SUBMITTED_AT: { description: 'Newest Daily Papers submission first; never-featured papers last.' },
  } as const,
});

/** A page of papers as a connection; totalCount is counted only when selected. */
async function paperConnection(context: Context, criteria: PaperCriteria, order: PaperOrder, args: ConnectionArgs) {
  const request = pageRequestFrom(args);
  const page = context.viewer
    ? await sharedPageForViewer(context, context.viewer.user.id, criteria, order, request)
    : await listPapers(context.db, criteria, order, request);
  return toConnection(page, () => countPapers(context.db, criteria));
}

/**
 * A signed-in viewer's page: its order and rows shared by every signed-in
 * reader for at most RESPONSE_CACHE_LIST_MAX_AGE_SECONDS (kept in
 * context.sharedReads, ended by any announced change to an object), with
 * what a vote changes (upvote count, trending key) and the viewer's own
 * viewerHasUpvoted read fresh for its papers in one query: a voter sees their
 * vote at once, another reader sees it in the count at once and in the order
 * within the bound. Anonymous readers have the response cache; one asking
 * for a fresh answer (no-cache) reads the list.
 */
async function sharedPageForViewer(context: Context, viewerId: number, criteria: PaperCriteria, order: PaperOrder, request: PageRequest) {
  const key = JSON.stringify([order, request.direction, request.size, request.cursor, criteria]);
  const { page, shared } = await context.sharedReads.paperPage(key, () => listPapers(context.db, criteria, order, request));
  if (!shared || page.rows.length === 0) return page;
  const live = new Map(
    (
      await findLivePaperFields(
        context.db,
        viewerId,
        page.rows.map((row) => row.id),
      )
    ).map((fields) => [fields.id, fields]),
  );
  const rows = page.rows.map((row) => {
    const fields = live.get(row.id);
    if (!fields) return row; // Deleted since: shown as kept, within the bound.
    context.viewerUpvotes.set(row.id, fields.viewerHasUpvoted);
    // The kept row when nothing changed (most of the time), never changed in place: other readers share it.
    return fields.upvoteCount === row.upvoteCount && fields.trendingKey === row.trendingKey
      ? row
      : { ...row, upvoteCount: fields.upvoteCount, trendingKey: fields.trendingKey };
  });
  return { ...page, rows };
}

/**
 * A field of `paper` that a vote changes: as read with the row, or, for a row kept across requests, read fresh
 * (all such fields of a request in one query).
 */
function liveField<T>(context: Context, paper: PaperRow, pick: (fields: Pick<PaperRow, 'upvoteCount' | 'trendingKey'>) => T): T | Promise<T> {
  if (!context.sharedReads.isKept(paper)) return pick(paper);
  return livePaperFieldsLoader(context)
    .load(paper.id)
    .then((fields) => pick(fields ?? paper));
}

type BuilderTypes = typeof builder extends PothosSchemaTypes.SchemaBuilder<infer Types> ? Types : never;

export const PaperFilter = builder.inputType('PaperFilter', {
  description: 'Narrows a list of papers; all given criteria must hold.',
  fields: (t) => ({
    authorId: t.globalID({ for: [AuthorRef], description: 'Papers by this author (an Author ID).' }),
    organization: t.string({ description: 'Papers of this organization, by its name (handle).' }),
    submittedBy: t.string({ description: 'Papers submitted by this username.' }),
    publishedAfter: t.field({ type: 'DateTime', description: 'Published at or after this time.' }),
    publishedBefore: t.field({ type: 'DateTime', description: 'Published before this time.' }),
    keyword: t.string({ description: 'Papers with this keyword (case-insensitive).' }),
    categories: t.stringList({
      description: `Papers in any of these arXiv categories, written as arXiv writes them (cs.LG, hep-th, math.AG); at most ${MAX_FILTER_ENTRIES}. Empty: no condition.`,
    }),
    excludeCategories: t.stringList({
      description: `Papers in none of these arXiv categories (primary or cross-listed); at most ${MAX_FILTER_ENTRIES}.`,
    }),
    excludeKeywords: t.stringList({ description: `Papers with none of these keywords (case-insensitive); at most ${MAX_FILTER_ENTRIES}.` }),
  }),
});

type PaperFilterInput = typeof PaperFilter.$inferInput;

/** The criteria of a PaperFilter argument (BAD_USER_INPUT when it is malformed). */
export function paperCriteriaOf(filter: PaperFilterInput | null | undefined): PaperCriteria {
  return criteriaFromFilter(filter && { ...filter, authorId: filter.authorId ? filter.authorId.id : undefined });
}

/** The `filter` argument every list of papers takes. */
export function paperFilterArg(arg: ArgBuilder<BuilderTypes>) {
  return arg({ type: PaperFilter, description: 'Criteria the papers must meet.' });
}

/** The arguments of a list of papers: a page, an order and a filter. */
function paperListArgs(arg: ArgBuilder<BuilderTypes>, defaultOrder: PaperOrder) {
  return {
    ...arg.connectionArgs(),
    orderBy: arg({ type: PaperOrderEnum, defaultValue: defaultOrder, description: `The order (default ${defaultOrder}).` }),
    filter: paperFilterArg(arg),
  };
}

/**
 * A parent's list of papers (an author's, an organization's, a submitter's):
 * a page in an order the client picks, `defaultOrder` unless told, narrowed
 * by a filter (on an author's list, the filter's authorId is the parent's).
 */
export function paperListField<Parent>(
  t: PothosSchemaTypes.ObjectFieldBuilder<BuilderTypes, Parent>,
  options: { description: string; defaultOrder: PaperOrder; criteria: (parent: Parent) => PaperCriteria },
) {
  return t.field({
    type: PaperConnection,
    description: options.description,
    args: paperListArgs(t.arg, options.defaultOrder),
    resolve: (parent, args, context) =>
      paperConnection(context, { ...paperCriteriaOf(args.filter), ...options.criteria(parent) }, args.orderBy ?? options.defaultOrder, args),
  });
}

export const PaperConnection = builder.connectionObject(
  { type: PaperRef, name: 'PaperConnection', description: 'A page of papers.' },
  {
    name: 'PaperEdge',
    description: 'A paper in a page of papers.',
    fields: (t) => ({
      snippet: t.string({
        nullable: true,
        description: 'In search results: an excerpt of the abstract with the matched words in <mark> tags, HTML-escaped otherwise. Null elsewhere.',
        resolve: async (edge, _args, context) => {
          const { id, searchQuery } = edge.node as { id: number; searchQuery?: string };
          return searchQuery === undefined ? null : ((await searchSnippetLoader(context, searchQuery).load(id)) ?? null);
        },
      }),
    }),
  },
);

const PaperAuthor = builder.objectRef<PaperAuthorView>('PaperAuthor').implement({
  description: 'An author as listed on a paper.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'The name as printed on the paper.' }),
    position: t.exposeInt('position', { description: '0-based order on the paper.' }),
    author: t.field({
      type: AuthorRef,
      description: 'The author, with their other papers.',
      resolve: (authorship) => authorship.author,
    }),
  }),
});

PaperRef.implement({
  description: 'A research paper featured in Daily Papers (or known from an author or organization).',
  fields: (t) => ({
    arxivId: t.exposeString('arxivId', { description: 'The arXiv identifier without version, e.g. "2306.13229".' }),
    title: t.exposeString('title', { description: 'The paper title.' }),
    abstract: t.exposeString('abstract', { description: 'The arXiv abstract.' }),
    authors: t.field({
      type: [PaperAuthor],
      description: "The authors in the paper's order.",
      // Kept lists at once (no promise per paper), the others batched.
      resolve: (paper, _args, context) => context.sharedReads.keptAuthors(paper.id) ?? authorsOfPaperLoader(context).load(paper.id),
    }),
    authorCount: t.int({
      description: 'How many authors the paper has ("8 authors").',
      resolve: (paper, _args, context) =>
        context.sharedReads.keptAuthors(paper.id)?.length ??
        authorsOfPaperLoader(context)
          .load(paper.id)
          .then((authors) => authors.length),
    }),
    publishedAt: t.expose('publishedAt', { type: 'DateTime', description: 'arXiv publication time.' }),
    submittedAt: t.expose('submittedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When it was featured in Daily Papers; null if never.',
    }),
    submittedBy: t.field({
      type: UserRef,
      nullable: true,
      description: 'Who submitted it to Daily Papers.',
      resolve: (paper) => paper.submittedById,
    }),
    organization: t.field({
      type: OrganizationRef,
      nullable: true,
      description: 'The organization it was published under.',
      // A kept organization as it is, otherwise its id for the loader.
      resolve: (paper, _args, context) =>
        paper.organizationId === null ? null : (context.sharedReads.keptOrganization(paper.organizationId) ?? paper.organizationId),
    }),
    githubRepo: t.exposeString('githubRepo', { nullable: true, description: 'URL of the code repository.' }),
    githubStars: t.exposeInt('githubStars', { nullable: true, description: 'Stars of the code repository when last seen.' }),
    projectPage: t.exposeString('projectPage', { nullable: true, description: 'URL of the project page.' }),
    thumbnailUrl: t.exposeString('thumbnailUrl', { nullable: true, description: 'URL of a thumbnail image.' }),
    mediaUrls: t.exposeStringList('mediaUrls', { description: 'Images and videos shown with the paper (http(s) URLs), as imported.' }),
    withdrawnAt: t.expose('withdrawnAt', {
      type: 'DateTime',
      nullable: true,
      description:
        'When it was withdrawn from arXiv; null if it stands. A withdrawn paper is in no list, search or feed, but still found by ID and arXiv id.',
    }),
    aiSummary: t.exposeString('aiSummary', { nullable: true, description: 'A one-paragraph machine-written summary.' }),
    keywords: t.exposeStringList('keywords', { description: 'Lower-cased topic keywords.' }),
    categories: t.exposeStringList('categories', {
      description: 'arXiv categories (cs.LG, hep-th), the primary one first; empty until they were taken from arXiv.',
    }),
    upvotes: t.int({
      description: 'Exact number of upvotes.',
      resolve: (paper, _args, context) => liveField(context, paper, (fields) => fields.upvoteCount),
    }),
    viewerHasUpvoted: t.boolean({
      description: 'Whether the signed-in viewer upvoted it; false when anonymous.',
      resolve: (paper, _args, context) => {
        if (context.viewer === null) return false;
        const known = context.viewerUpvotes.get(paper.id);
        if (known !== undefined) return known;
        // A kept row: read with its count, in the same query.
        return context.sharedReads.isKept(paper)
          ? livePaperFieldsLoader(context)
              .load(paper.id)
              .then((fields) => fields?.viewerHasUpvoted ?? false)
          : viewerUpvotedLoader(context).load(paper.id);
      },
    }),
    trendingScore: t.float({
      description: 'Current time-decayed score: each upvote halves every vote half-life, the paper every age half-life.',
      resolve: (paper, _args, context) => liveField(context, paper, (fields) => trendingScore(fields.trendingKey, context.now, context.config.trending)),
    }),
    commentCount: t.exposeInt('commentCount', { description: 'Number of comments.' }),
  }),
});

builder.queryFields((t) => ({
  paper: t.field({
    type: PaperRef,
    nullable: true,
    description: 'A paper by arXiv id, e.g. "2306.13229" (a version suffix is ignored); null when unknown.',
    args: { arxivId: t.arg.string({ required: true, description: 'The arXiv identifier.' }) },
    resolve: (_root, { arxivId }, context) => {
      const normalized = normalizeArxivId(arxivId.trim());
      if (!normalized) return null;
      // Kept for every reader until the paper changes (at once, no promise); what a vote changes is read fresh (liveField).
      return (
        context.sharedReads.keptPaperByArxivId(normalized) ??
        context.sharedReads.paperByArxivId(normalized, () => findPaperByArxivId(context.db, normalized)).then((paper) => paper ?? null)
      );
    },
  }),
  papers: t.field({
    type: PaperConnection,
    description: 'All papers, in the chosen order, optionally filtered.',
    args: paperListArgs(t.arg, 'TRENDING'),
    resolve: (_root, args, context) => paperConnection(context, paperCriteriaOf(args.filter), args.orderBy ?? 'TRENDING', args),
  }),
  dailyPapers: t.field({
    type: PaperConnection,
    description: 'The Daily Papers feed: papers featured on a UTC day, ISO week (2025-W46) or month (2025-11). Exactly one of date/week/month.',
    args: {
      date: t.arg({ type: 'Date', description: 'A UTC day, e.g. "2025-11-12".' }),
      week: t.arg.string({ description: 'An ISO week, e.g. "2025-W46" (Monday to Sunday, UTC).' }),
      month: t.arg.string({ description: 'A month, e.g. "2025-11" (UTC).' }),
      first: t.arg.int({ description: 'Return the first n papers (0 to 100, default 20).' }),
      after: t.arg.string({ description: 'Start after the paper with this cursor.' }),
      orderBy: t.arg({ type: PaperOrderEnum, defaultValue: 'UPVOTES', description: 'The order (default UPVOTES).' }),
      filter: paperFilterArg(t.arg),
    },
    resolve: (_root, args, context) => {
      const window = dailyWindow(args);
      const criteria = { ...paperCriteriaOf(args.filter), submittedFrom: window.from, submittedUntil: window.until };
      return paperConnection(context, criteria, args.orderBy ?? 'UPVOTES', args);
    },
  }),
  trendingPapers: t.field({
    type: PaperConnection,
    description: 'Papers by trending score, highest first (the same as papers(orderBy: TRENDING)).',
    args: {
      first: t.arg.int({ description: 'Return the first n papers (0 to 100, default 20).' }),
      after: t.arg.string({ description: 'Start after the paper with this cursor.' }),
      filter: paperFilterArg(t.arg),
    },
    resolve: (_root, args, context) => paperConnection(context, paperCriteriaOf(args.filter), 'TRENDING', args),
  }),
}));
