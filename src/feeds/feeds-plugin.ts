import type { Plugin } from 'graphql-yoga';
import type { AppConfig } from '../config';
import type { Database } from '../db/client';
import { AppError } from '../errors';
import { MAX_PAGE_SIZE } from '../graphql/connection';
import { parseCalendarDate } from '../calendar';
import type { Logger } from '../logger';
import { dailyWindow } from '../modules/papers/daily-window';
import type { PaperOrder } from '../modules/papers/paper-order';
import { findAuthorsOfPapers, listPapers, type PaperCriteria } from '../modules/papers/papers.queries';
import { atomFeed, type FeedDescription, type FeedPaper } from './atom-feed';

export interface FeedsDependencies {
  db: Database;
  config: AppConfig;
  logger: Logger;
  clock: () => Date;
}

const TRENDING_PAPERS = 30;
/** A day's feed holds its most upvoted papers, as many as one API page: a day rarely features more. */
const DAILY_PAPERS = MAX_PAGE_SIZE;

/** Readers poll; a few minutes of staleness spares the database without hiding a new paper for long. */
const CACHE_CONTROL = 'public, max-age=300';

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

const atom = (description: FeedDescription, papers: readonly FeedPaper[]): Reply => ({
  status: 200,
  headers: { 'content-type': 'application/atom+xml; charset=utf-8', 'cache-control': CACHE_CONTROL },
  body: atomFeed(description, papers),
});

/**
 * Atom feeds beside the GraphQL endpoint: GET /feeds/trending.atom (the top
 * trending papers) and GET /feeds/daily.atom?date=YYYY-MM-DD (a UTC day's
 * featured papers, most upvoted first; today by default).
 */
export function feedsPlugin({ db, config, logger, clock }: FeedsDependencies): Plugin {
  const routes: Record<string, (url: URL, now: Date) => Promise<Reply>> = {
    '/feeds/trending.atom': async (url, now) => {
      const papers = await feedPapers(db, {}, 'TRENDING', TRENDING_PAPERS);
      return atom(
        {
          title: 'Daily Papers: trending',
          subtitle: `The ${TRENDING_PAPERS} papers trending on Daily Papers.`,
          selfUrl: `${config.publicUrl}${url.pathname}`,
          publicUrl: config.publicUrl,
          updated: now,
        },
        papers,
      );
    },
    '/feeds/daily.atom': async (url, now) => {
      const requested = url.searchParams.get('date');
      let date: string;
      try {
        date = parseCalendarDate(requested ?? now.toISOString().slice(0, 10));
      } catch (error) {
        if (error instanceof AppError) return plainText(400, error.message);
        throw error;
      }
      const window = dailyWindow({ date });
      const papers = await feedPapers(db, { submittedFrom: window.from, submittedUntil: window.until }, 'UPVOTES', DAILY_PAPERS);
      return atom(
        {
          title: `Daily Papers: ${date}`,
          subtitle: `Papers featured on Daily Papers on ${date} (UTC), most upvoted first.`,
          selfUrl: `${config.publicUrl}${url.pathname}${requested === null ? '' : `?date=${date}`}`,
          publicUrl: config.publicUrl,
          updated: now,
        },
        papers,
      );
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
          logger.error({ err: error, path: url.pathname }, 'could not build a feed');
          reply = plainText(500, 'Could not build the feed: try again shortly.');
        }
      }
      const body = request.method === 'HEAD' ? null : reply.body;
      endResponse(new fetchAPI.Response(body, { status: reply.status, headers: reply.headers }));
    },
  };
}

/** The first `size` papers matching `criteria` in `order`, with their authors: two queries. */
async function feedPapers(db: Database, criteria: PaperCriteria, order: PaperOrder, size: number): Promise<FeedPaper[]> {
  const page = await listPapers(db, criteria, order, { direction: 'forward', size, cursor: null });
  const authorships = await findAuthorsOfPapers(
    db,
    page.rows.map((paper) => paper.id),
  );
  const authorsOf = new Map<number, string[]>();
  for (const authorship of authorships) {
    authorsOf.set(authorship.paperId, [...(authorsOf.get(authorship.paperId) ?? []), authorship.name]);
  }
  return page.rows.map((paper) => ({
    arxivId: paper.arxivId,
    title: paper.title,
    abstract: paper.abstract,
    authors: authorsOf.get(paper.id) ?? [],
    publishedAt: paper.publishedAt,
    updatedAt: paper.submittedAt ?? paper.publishedAt,
  }));
}
