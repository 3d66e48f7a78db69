import type { Plugin } from 'graphql-yoga';
import { parseCalendarDate, parseDateTime } from '../calendar';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import type { PaperRow } from '../db/schema';
import { AppError, badUserInput } from '../errors';
import { MAX_PAGE_SIZE } from '../graphql/connection';
import { decodeGlobalId } from '../graphql/global-id';
import { enqueueInBackground, type JobQueue } from '../job-queue';
import type { Logger } from '../logger';
import { findAuthorsByIds } from '../modules/authors/authors.queries';
import { findVisibleCollectionsByIds, listPaperPagesOfCollections } from '../modules/collections/collections.queries';
import { findFeedLinkUser, PRIVATE_FEED_PATHS } from '../modules/feed-links/feed-links';
import { followedPapersOf, followingFeed } from '../modules/follows/follows';
import { findOrganizationByName } from '../modules/organizations/organizations.queries';
import { dailyWindow } from '../modules/papers/daily-window';
import { criteriaFromFilter, type PaperFilterValues } from '../modules/papers/paper-filter';
import type { PaperOrder } from '../modules/papers/paper-order';
import { findAuthorsOfPapers, listPapers, type PaperCriteria } from '../modules/papers/papers.queries';
import { isStale, readRecommendations } from '../modules/recommendations/recommendations';
import { findServedModel } from '../modules/recommendations/tuning';
import { normalizeSearchQuery, searchPapers, semanticSearchFor } from '../modules/search/search.queries';
import { atomFeed, type FeedDescription, type FeedPaper } from './atom-feed';

export interface FeedsDependencies {
  db: Database;
  config: AppConfig;
  logger: Logger;
  clock: () => Date;
  /** For refreshing a stale personal feed. */
  jobs: JobQueue;
}

const TRENDING_PAPERS = 30;
/** A day's feed holds its most upvoted papers, as many as one API page: a day rarely features more. */
const DAILY_PAPERS = MAX_PAGE_SIZE;
/** Entries of the feeds of a filter, a search, an author, an organization, a collection or a personal feed. */
export const FEED_PAPERS = 50;

/** Readers poll; a few minutes of staleness spares the database without hiding a new paper for long. */
const PUBLIC = 'public, max-age=300';
/** A collection made private leaves at once: caches may keep the feed but must ask again before serving it. */
const REVALIDATE = 'public, no-cache';
/** A private feed is stored by no cache: its link can be revoked, and it is one person's. */
const PRIVATE = 'private, no-store';

const PAPER_ORDERS: readonly PaperOrder[] = ['TRENDING', 'UPVOTES', 'PUBLISHED_AT', 'SUBMITTED_AT'];

/** What a feed route answers; the plugin turns it into a Response. */
interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

const plainText = (status: number, message: string, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { 'content-type': 'text/plain; charset=utf-8', ...headers },
  body: `${message}\n`,
});

const atom = (description: FeedDescription, papers: readonly FeedPaper[], cacheControl = PUBLIC): Reply => ({
  status: 200,
  headers: { 'content-type': 'application/atom+xml; charset=utf-8', 'cache-control': cacheControl },
  body: atomFeed(description, papers),
});

const notFound = (what: string) => new AppError('NOT_FOUND', `No ${what}: check the address.`);

/**
 * The parameters of a feed request, each at most once and none but `names`;
 * BAD_USER_INPUT (400) otherwise.
 */
function parametersOf<Name extends string>(url: URL, names: readonly Name[]): Partial<Record<Name, string>> {
  const given: Partial<Record<Name, string>> = {};
  for (const [name, value] of url.searchParams) {
    if (!(names as readonly string[]).includes(name)) {
      throw badUserInput(`Unknown parameter "${name.slice(0, 100)}": this feed takes ${names.length ? names.join(', ') : 'none'}.`);
    }
    if (given[name as Name] !== undefined) throw badUserInput(`The parameter "${name}" is given twice.`);
    given[name as Name] = value;
  }
  return given;
}

/** The feed's own address: its path and the parameters it was given, in a fixed order. */
function selfUrl(publicUrl: string, url: URL, parameters: Partial<Record<string, string>>, names: readonly string[]): string {
  const search = new URLSearchParams();
  for (const name of names) if (parameters[name] !== undefined) search.set(name, parameters[name]);
  const query = search.toString();
  return `${publicUrl}${url.pathname}${query ? `?${query}` : ''}`;
}

/** The row id of a global ID of `typename`, or BAD_USER_INPUT. */
function rowIdOf(globalId: string | undefined, typename: string, parameter: string): number {
  if (globalId === undefined) throw badUserInput(`Give the ${typename} ID as "${parameter}".`);
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalId(globalId);
  } catch {
    throw badUserInput(`"${globalId.slice(0, 100)}" is not a valid ${typename} ID: use an \`id\` from the API.`);
  }
  if (decoded.typename !== typename) throw badUserInput(`"${globalId.slice(0, 100)}" is not a ${typename} ID.`);
  return Number(decoded.id);
}

const FILTER_PARAMETERS = [
  'keyword',
  'organization',
  'author',
  'submittedBy',
  'publishedAfter',
  'publishedBefore',
  'categories',
  'excludeCategories',
  'excludeKeywords',
  'order',
] as const;

/** The search feed takes the query and every PaperFilter parameter (not `order`: a search ranks by relevance). */
const SEARCH_PARAMETERS = ['q', ...FILTER_PARAMETERS.filter((name) => name !== 'order')] as const;

/** A comma-separated list parameter ("cs.LG,cs.CV"); empty entries are dropped. */
const listOf = (value: string | undefined) => value?.split(',').filter((entry) => entry.trim() !== '');

/** PaperFilter from a URL's parameters (`author` is an Author ID, dates ISO-8601 date-times), and an order. */
function filterOf(parameters: Partial<Record<(typeof FILTER_PARAMETERS)[number], string>>): { filter: PaperFilterValues; order: PaperOrder } {
  const order = (parameters.order ?? 'PUBLISHED_AT') as PaperOrder;
  if (!PAPER_ORDERS.includes(order)) throw badUserInput(`Unknown order "${order.slice(0, 100)}": use one of ${PAPER_ORDERS.join(', ')}.`);
  return {
    order,
    filter: {
      keyword: parameters.keyword,
      organization: parameters.organization,
      submittedBy: parameters.submittedBy,
      authorId: parameters.author === undefined ? undefined : rowIdOf(parameters.author, 'Author', 'author'),
      publishedAfter: parameters.publishedAfter === undefined ? undefined : parseDateTime(parameters.publishedAfter),
      publishedBefore: parameters.publishedBefore === undefined ? undefined : parseDateTime(parameters.publishedBefore),
      categories: listOf(parameters.categories),
      excludeCategories: listOf(parameters.excludeCategories),
      excludeKeywords: listOf(parameters.excludeKeywords),
    },
  };
}

/** How a filter reads in a feed's title: 'keyword "x", organization OPPO'. */
function describeFilter(parameters: Partial<Record<(typeof FILTER_PARAMETERS)[number], string>>): string {
  const parts = [
    parameters.keyword !== undefined && `keyword "${parameters.keyword}"`,
    parameters.organization !== undefined && `organization ${parameters.organization}`,
    parameters.author !== undefined && 'one author',
    parameters.submittedBy !== undefined && `submitted by ${parameters.submittedBy}`,
    parameters.publishedAfter !== undefined && `published from ${parameters.publishedAfter}`,
    parameters.publishedBefore !== undefined && `published before ${parameters.publishedBefore}`,
    parameters.categories !== undefined && `categories ${parameters.categories}`,
    parameters.excludeCategories !== undefined && `not in ${parameters.excludeCategories}`,
    parameters.excludeKeywords !== undefined && `no keyword of "${parameters.excludeKeywords}"`,
  ].filter((part): part is string => typeof part === 'string');
  return parts.length ? `papers with ${parts.join(', ')}` : 'all papers';
}

/**
 * Atom feeds beside the GraphQL endpoint (GET and HEAD):
 * - /feeds/trending.atom: the top trending papers;
 * - /feeds/daily.atom?date=YYYY-MM-DD: a UTC day's featured papers, most upvoted first (today by default);
 * - /feeds/papers.atom?keyword=&organization=&author=&submittedBy=&publishedAfter=&publishedBefore=&categories=&excludeCategories=&excludeKeywords=&order=:
 *   any PaperFilter (the lists comma-separated);
 * - /feeds/search.atom?q=&keyword=&...: a search, best match first, with the PaperFilter parameters of papers.atom (no order);
 * - /feeds/author.atom?id=, /feeds/organization.atom?name=: an author's or an organization's papers, newest first;
 * - /feeds/collection.atom?id=: a public collection in its order (a private one is 404);
 * - /feeds/personal.atom?token=: a user's recommendations, by a private link (404 once revoked), never cached;
 * - /feeds/following.atom?token=: a user's following feed, the same way.
 * Bad parameters answer 400 and unknown things 404, with a plain-text reason.
 */
export function feedsPlugin({ db, config, logger, clock, jobs }: FeedsDependencies): Plugin {
  const describe = (
    url: URL,
    now: Date,
    title: string,
    subtitle: string,
    parameters: Partial<Record<string, string>> = {},
    names: readonly string[] = [],
  ) => ({
    title: `Daily Papers: ${title}`,
    subtitle,
    selfUrl: selfUrl(config.publicUrl, url, parameters, names),
    publicUrl: config.publicUrl,
    updated: now,
  });

  const routes: Record<string, (url: URL, now: Date) => Promise<Reply>> = {
    // The first two feeds ignore parameters they do not take, as they always have; the others refuse them (a typo would change the feed).
    '/feeds/trending.atom': async (url, now) => {
      const papers = await withAuthors(db, await firstPapers(db, {}, 'TRENDING', TRENDING_PAPERS));
      return atom(describe(url, now, 'trending', `The ${TRENDING_PAPERS} papers trending on Daily Papers.`), papers);
    },
    '/feeds/daily.atom': async (url, now) => {
      const requested = url.searchParams.get('date') ?? undefined;
      const date = parseCalendarDate(requested ?? now.toISOString().slice(0, 10));
      const window = dailyWindow({ date });
      const papers = await withAuthors(db, await firstPapers(db, { submittedFrom: window.from, submittedUntil: window.until }, 'UPVOTES', DAILY_PAPERS));
      const subtitle = `Papers featured on Daily Papers on ${date} (UTC), most upvoted first.`;
      return atom(describe(url, now, date, subtitle, requested === undefined ? {} : { date }, ['date']), papers);
    },
    '/feeds/papers.atom': async (url, now) => {
      const parameters = parametersOf(url, FILTER_PARAMETERS);
      const { filter, order } = filterOf(parameters);
      const papers = await withAuthors(db, await firstPapers(db, criteriaFromFilter(filter), order, FEED_PAPERS));
      const subtitle = `The first ${FEED_PAPERS} in ${order} order, newest or highest first.`;
      return atom(describe(url, now, describeFilter(parameters), subtitle, parameters, FILTER_PARAMETERS), papers);
    },
    '/feeds/search.atom': async (url, now) => {
      const parameters = parametersOf(url, SEARCH_PARAMETERS);
      const query = normalizeSearchQuery(parameters.q ?? '');
      // The filter as papers.atom reads it (same parsing, same 400s); a search has one order, best match first.
      const { filter } = filterOf(parameters);
      const page = await searchPapers(
        db,
        query,
        { direction: 'forward', size: FEED_PAPERS, cursor: null },
        criteriaFromFilter(filter),
        await semanticSearchFor(db, query),
      );
      const filtered = describeFilter(parameters);
      const subtitle = `The ${FEED_PAPERS} best matches on Daily Papers${filtered === 'all papers' ? '' : ` among ${filtered}`}.`;
      return atom(describe(url, now, `search "${query}"`, subtitle, parameters, SEARCH_PARAMETERS), await withAuthors(db, page.rows));
    },
    '/feeds/author.atom': async (url, now) => {
      const parameters = parametersOf(url, ['id']);
      const [author] = await findAuthorsByIds(db, [rowIdOf(parameters.id, 'Author', 'id')]);
      if (!author) throw notFound('author has this ID');
      const papers = await withAuthors(db, await firstPapers(db, { authorId: author.id }, 'PUBLISHED_AT', FEED_PAPERS));
      return atom(describe(url, now, author.name, `Papers by ${author.name}, newest first.`, parameters, ['id']), papers);
    },
    '/feeds/organization.atom': async (url, now) => {
      const parameters = parametersOf(url, ['name']);
      const organization = parameters.name === undefined ? undefined : await findOrganizationByName(db, parameters.name);
      if (!organization) throw notFound('organization has this name');
      const name = organization.fullName ?? organization.name;
      const papers = await withAuthors(db, await firstPapers(db, { organizationId: organization.id }, 'PUBLISHED_AT', FEED_PAPERS));
      return atom(describe(url, now, name, `Papers of ${name}, newest first.`, parameters, ['name']), papers);
    },
    '/feeds/collection.atom': async (url, now) => {
      const parameters = parametersOf(url, ['id']);
      // As anonymous: someone's private collection does not exist here.
      const [collection] = await findVisibleCollectionsByIds(db, [rowIdOf(parameters.id, 'Collection', 'id')], null);
      if (!collection) throw notFound('public collection has this ID');
      const pages = await listPaperPagesOfCollections(db, [collection.id], { direction: 'forward', size: FEED_PAPERS, cursor: null });
      const subtitle = collection.description ?? `A collection on Daily Papers, in its owner's order.`;
      return atom(describe(url, now, collection.name, subtitle, parameters, ['id']), await withAuthors(db, pages.get(collection.id)!.rows), REVALIDATE);
    },
    [PRIVATE_FEED_PATHS.RECOMMENDATIONS]: async (url, now) => {
      const { token } = parametersOf(url, ['token']);
      const userId = token === undefined ? undefined : await findFeedLinkUser(db, token, 'RECOMMENDATIONS');
      if (userId === undefined) throw notFound('feed at this address (the link may have been revoked)');
      const [stored, served] = await Promise.all([readRecommendations(db, userId, FEED_PAPERS), findServedModel(db)]);
      // As when read through the API: served from what is stored, refreshed in the background for the next poll.
      if (isStale(stored, served.id, now, config.recommendations.maxAgeHours * 3_600_000)) {
        enqueueInBackground(jobs, logger, 'refresh-recommendations', { userId }, { deduplicationId: `user:${userId}` });
      }
      const papers = await withAuthors(
        db,
        stored.items.map((item) => item.paper),
      );
      // The feed's id and self link leave the token out: they are shown by readers and may be shared.
      const description = {
        ...describe(url, now, 'recommended for you', 'Your personal feed, best first.'),
        selfUrl: `${config.publicUrl}${url.pathname}`,
      };
      return atom(description, papers, PRIVATE);
    },
    [PRIVATE_FEED_PATHS.FOLLOWING]: async (url, now) => {
      const { token } = parametersOf(url, ['token']);
      const userId = token === undefined ? undefined : await findFeedLinkUser(db, token, 'FOLLOWING');
      if (userId === undefined) throw notFound('feed at this address (the link may have been revoked)');
      const page = await followingFeed(db, await followedPapersOf(db, userId), {}, { direction: 'forward', size: FEED_PAPERS, cursor: null });
      // As the personal feed: the token stays out of the feed's id and self link.
      const description = {
        ...describe(url, now, 'following', 'Papers from what you follow, newest first.'),
        selfUrl: `${config.publicUrl}${url.pathname}`,
      };
      return atom(description, await withAuthors(db, page.rows), PRIVATE);
    },
  };

  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const route = routes[url.pathname];
      if (!route) return;
      let reply: Reply;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        reply = plainText(405, 'Feeds answer GET and HEAD only.', { allow: 'GET, HEAD' });
      } else {
        try {
          reply = await route(url, clock());
        } catch (error) {
          reply = errorReply(error, url, logger);
        }
      }
      const body = request.method === 'HEAD' ? null : reply.body;
      endResponse(new fetchAPI.Response(body, { status: reply.status, headers: reply.headers }));
    },
  };
}

/** Bad parameters are 400, unknown things 404 (never cached: a private feed's 404 may follow its revocation); anything else 500. */
function errorReply(error: unknown, url: URL, logger: Logger): Reply {
  if (error instanceof AppError && error.extensions.code === 'BAD_USER_INPUT') return plainText(400, error.message);
  if (error instanceof AppError && error.extensions.code === 'NOT_FOUND') return plainText(404, error.message, { 'cache-control': 'no-store' });
  logger.error({ err: error, path: url.pathname }, 'could not build a feed');
  return plainText(500, 'Could not build the feed: try again shortly.');
}

/** The first `size` papers matching `criteria` in `order`. */
async function firstPapers(db: Database, criteria: PaperCriteria, order: PaperOrder, size: number): Promise<PaperRow[]> {
  return (await listPapers(db, criteria, order, { direction: 'forward', size, cursor: null })).rows;
}

/** Papers as feed entries, with their authors: one query. */
async function withAuthors(db: Database, papers: readonly PaperRow[]): Promise<FeedPaper[]> {
  const authorships = await findAuthorsOfPapers(
    db,
    papers.map((paper) => paper.id),
  );
  const authorsOf = new Map<number, string[]>();
  for (const authorship of authorships) {
    authorsOf.set(authorship.paperId, [...(authorsOf.get(authorship.paperId) ?? []), authorship.name]);
  }
  return papers.map((paper) => ({
    arxivId: paper.arxivId,
    title: paper.title,
    abstract: paper.abstract,
    authors: authorsOf.get(paper.id) ?? [],
    publishedAt: paper.publishedAt,
    updatedAt: paper.submittedAt ?? paper.publishedAt,
  }));
}
