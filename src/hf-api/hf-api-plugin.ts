import { createHash } from 'node:crypto';
import type { Plugin } from 'graphql-yoga';
import { isCacheable, matchesETag, type AnswerStore } from '../graphql/response-cache';
import type { Database } from '../db/client';
import { DATABASE_RETRY_AFTER_SECONDS, isDatabaseUnavailable } from '../db/unavailable';
import { AppError } from '../errors';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../graphql/connection';
import type { Logger } from '../logger';
import { normalizeArxivId } from '../modules/papers/arxiv-id';
import { parseCalendarDate } from '../calendar';
import { dailyWindow } from '../modules/papers/daily-window';
import type { PaperOrder } from '../modules/papers/paper-order';
import { findPaperByArxivId, listPapersAt, type PaperCriteria } from '../modules/papers/papers.queries';
import { normalizeSearchQuery, searchPapers, semanticSearchFor } from '../modules/search/search.queries';
import { requestIdOf } from '../observability/request-id';
import { badParameter, forParameter, QueryParameters } from './hf-params';
import { withRelations } from './hf-papers';
import { hfDailyPaper, hfPaperPage } from './hf-shapes';

export interface HfApiDependencies {
  db: Database;
  logger: Logger;
  /** The response cache's store /graphql uses; null when it is off. */
  answers: AnswerStore | null;
}

/** Hugging Face's default page size for daily papers (huggingface_hub's list_daily_papers). */
const HF_DEFAULT_LIMIT = 50;
/** Numbered pages (`p`) reach at most this deep: an OFFSET reads every row before the page. */
export const MAX_PAGED_ROWS = 10_000;
const NAME_LENGTH = 100;

/** HF's `sort` of daily papers: `publishedAt` is the item's, the time the paper was featured. */
const DAILY_ORDERS = { publishedAt: 'SUBMITTED_AT', trending: 'TRENDING', upvotes: 'UPVOTES' } as const satisfies Record<string, PaperOrder>;
/** The `sort` of /api/papers: `publishedAt` is the paper's arXiv time. */
const PAPER_ORDERS = { trending: 'TRENDING', publishedAt: 'PUBLISHED_AT', upvotes: 'UPVOTES' } as const satisfies Record<string, PaperOrder>;

const sortOf = <Orders extends Record<string, PaperOrder>>(parameters: QueryParameters, orders: Orders, fallback: keyof Orders & string) =>
  orders[parameters.oneOf('sort', Object.keys(orders) as (keyof Orders & string)[], fallback)]!;

/** `p` and `limit` as an offset and a size, refused past MAX_PAGED_ROWS. */
function numberedPage(parameters: QueryParameters): { offset: number; size: number } {
  const size = parameters.integer('limit', { min: 1, max: MAX_PAGE_SIZE, fallback: HF_DEFAULT_LIMIT });
  const page = parameters.integer('p', { min: 0, max: MAX_PAGED_ROWS, fallback: 0 });
  if ((page + 1) * size > MAX_PAGED_ROWS) {
    throw badParameter('p', `\`p\` reaches at most the ${MAX_PAGED_ROWS}th paper: with limit ${size}, at most ${MAX_PAGED_ROWS / size - 1}.`);
  }
  return { offset: page * size, size };
}

/** The window of `date`, `week` or `month` (at most one); featured at any time without one. */
function dailyCriteria(parameters: QueryParameters): PaperCriteria {
  const given = (['date', 'week', 'month'] as const).flatMap((name) => {
    const value = parameters.get(name);
    return value === undefined ? [] : [[name, value] as const];
  });
  if (given.length > 1) {
    const names = given.map(([name]) => name);
    throw badParameter(names.join(','), `Give at most one of \`date\`, \`week\` and \`month\`; got ${names.join(' and ')}.`);
  }
  const [selector] = given;
  if (!selector) return { featured: true };
  const [name, value] = selector;
  const window = forParameter(name, () => dailyWindow({ [name]: name === 'date' ? parseCalendarDate(value) : value }));
  return { submittedFrom: window.from, submittedUntil: window.until };
}

type Route = (parameters: QueryParameters, db: Database) => Promise<unknown>;

const dailyPapers: Route = async (parameters, db) => {
  const criteria: PaperCriteria = { ...dailyCriteria(parameters), submitterUsername: parameters.text('submitter', NAME_LENGTH) };
  const order = sortOf(parameters, DAILY_ORDERS, 'publishedAt');
  const rows = await listPapersAt(db, criteria, order, numberedPage(parameters));
  return (await withRelations(db, rows)).map(hfDailyPaper);
};

const papersList: Route = async (parameters, db) => {
  const criteria: PaperCriteria = {
    submitterUsername: parameters.text('submitter', NAME_LENGTH),
    organizationName: parameters.text('organization', NAME_LENGTH),
    keyword: parameters.text('keyword', NAME_LENGTH),
  };
  const order = sortOf(parameters, PAPER_ORDERS, 'trending');
  const rows = await listPapersAt(db, criteria, order, numberedPage(parameters));
  return (await withRelations(db, rows)).map(hfPaperPage);
};

const search: Route = async (parameters, db) => {
  const raw = parameters.get('q');
  if (raw === undefined) throw badParameter('q', 'Give the search words as `q`.');
  const query = forParameter('q', () => normalizeSearchQuery(raw));
  const size = parameters.integer('limit', { min: 1, max: MAX_PAGE_SIZE, fallback: DEFAULT_PAGE_SIZE });
  const page = await searchPapers(db, query, { direction: 'forward', size, cursor: null }, {}, await semanticSearchFor(db, query));
  return (await withRelations(db, page.rows)).map(hfDailyPaper);
};

const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found.`);

const paper =
  (id: string): Route =>
  async (_parameters, db) => {
    const arxivId = normalizeArxivId(id.trim());
    const row = arxivId === null ? undefined : await findPaperByArxivId(db, arxivId);
    if (!row) throw notFound(`Paper "${id.slice(0, 50)}"`);
    const [found] = await withRelations(db, [row]);
    return hfPaperPage(found!);
  };

function routeOf(pathname: string): Route | undefined {
  if (pathname === '/api/daily_papers') return dailyPapers;
  if (pathname === '/api/papers') return papersList;
  if (pathname === '/api/papers/search') return search;
  const id = /^\/api\/papers\/([^/]+)$/.exec(pathname)?.[1];
  if (id === undefined) return undefined;
  try {
    return paper(decodeURIComponent(id));
  } catch {
    return undefined;
  }
}

interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string | Uint8Array<ArrayBuffer> | null;
}

const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

const json = (status: number, value: unknown, headers: Record<string, string> = {}): Reply => ({
  status,
  headers: { ...JSON_TYPE, ...headers },
  body: JSON.stringify(value),
});

const STATUS_OF_CODE: Record<string, number> = { BAD_USER_INPUT: 400, NOT_FOUND: 404 };

/** Whether If-None-Match names `etag` (a list, weak or not). */

/**
 * Hugging Face's read-only papers API beside /graphql, in HF's JSON shapes
 * (src/hf-api/hf-shapes.ts): GET /api/daily_papers, /api/papers,
 * /api/papers/search and /api/papers/{arxivId}. Each page is read by the
 * domain functions the GraphQL fields use, in a fixed number of statements.
 * A refused parameter answers 400 with `{ error, code, parameter }`; an
 * unknown paper or path 404. Anonymous answers share /graphql's response
 * cache, with an ETag and 304s.
 */
export function hfApiPlugin({ db, logger, answers }: HfApiDependencies): Plugin {
  async function answer(request: Request, url: URL): Promise<Reply> {
    const route = routeOf(url.pathname);
    if (!route) return json(404, { error: `No such path: ${url.pathname.slice(0, 100)}.`, code: 'NOT_FOUND' });
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      return json(405, { error: 'This API is read-only: GET and HEAD only.', code: 'BAD_USER_INPUT' }, { allow: 'GET, HEAD' });
    }
    const key = answers && isCacheable(request) ? `rest:${createHash('sha256').update(`${url.pathname}${url.search}`).digest('hex')}` : undefined;
    const cached = key === undefined ? undefined : answers!.read(key);
    if (cached) {
      if (matchesETag(request.headers.get('if-none-match'), cached.etag)) return { status: 304, headers: { etag: cached.etag }, body: null };
      return { status: 200, headers: { ...JSON_TYPE, etag: cached.etag }, body: cached.body };
    }
    try {
      if (key !== undefined) answers!.started(key);
      const body = JSON.stringify(await route(new QueryParameters(url.searchParams), db));
      if (key === undefined) return { status: 200, headers: JSON_TYPE, body };
      answers!.setBody(key, body);
      const stored = answers!.get(key);
      return { status: 200, headers: stored ? { ...JSON_TYPE, etag: stored.etag } : JSON_TYPE, body };
    } catch (error) {
      return failure(request, url, error);
    }
  }

  function failure(request: Request, url: URL, error: unknown): Reply {
    if (error instanceof AppError) {
      const { code, parameter } = error.extensions as { code: string; parameter?: string };
      return json(STATUS_OF_CODE[code] ?? 400, { error: error.message, code, ...(parameter === undefined ? {} : { parameter }) });
    }
    const requestId = requestIdOf(request);
    if (isDatabaseUnavailable(error)) {
      logger.warn({ err: error, requestId, path: url.pathname }, 'database unavailable for a REST request');
      return json(
        503,
        { error: 'The database is unavailable right now; try again in a few seconds.', code: 'SERVICE_UNAVAILABLE', requestId },
        { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) },
      );
    }
    logger.error({ err: error, requestId, path: url.pathname }, 'unexpected error in a REST request');
    return json(500, { error: 'Unexpected error.', requestId });
  }

  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith('/api/')) return;
      const reply = await answer(request, url);
      endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : reply.body, { status: reply.status, headers: reply.headers }));
    },
  };
}
