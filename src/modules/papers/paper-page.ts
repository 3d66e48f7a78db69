import type { Plugin } from 'graphql-yoga';
import type { Database } from '../../db/client';
import { escapeHtml, htmlPage, PAGE_POLICY } from '../../http/html-page';
import type { Logger } from '../../logger';
import type { PaperRow } from '../../db/schema';
import { normalizeArxivId } from './arxiv-id';
import { findAuthorsOfPapers, findPaperByArxivId } from './papers.queries';

export interface PaperPageDependencies {
  db: Database;
  logger: Logger;
}

const PREFIX = '/papers/';

/** Upvotes move; a minute of staleness is no harm to a reader. */
const pageHeaders = { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'public, max-age=60', 'content-security-policy': PAGE_POLICY };

/** Only web addresses become links: a stored "javascript:" URL is shown as text. */
function webLink(url: string | null, label: string): string | undefined {
  if (!url) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') return undefined;
  return `<a href="${escapeHtml(parsed.href)}" rel="noopener noreferrer">${escapeHtml(label)}</a>`;
}

/** A path segment as text; a malformed escape is kept as sent. */
function decodedPath(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

const day = (date: Date) => date.toISOString().slice(0, 10);

function paperBody(paper: PaperRow, authors: readonly string[]): string {
  const arxiv = `https://arxiv.org/abs/${paper.arxivId}`;
  const links = [
    webLink(arxiv, `arXiv ${paper.arxivId}`),
    webLink(`https://arxiv.org/pdf/${paper.arxivId}`, 'PDF'),
    webLink(paper.githubRepo, 'Code'),
    webLink(paper.projectPage, 'Project page'),
    ...paper.mediaUrls.map((url, index) => webLink(url, `Media ${index + 1}`)),
  ].filter((link) => link !== undefined);
  const featured = paper.submittedAt ? ` · featured ${day(paper.submittedAt)}` : '';
  const withdrawn = paper.withdrawnAt
    ? `<p class="withdrawn"><strong>Withdrawn</strong> from arXiv on ${day(paper.withdrawnAt)}: it no longer appears in lists or feeds.</p>`
    : '';
  return (
    withdrawn +
    `<p class="authors">${escapeHtml(authors.join(', ') || 'Authors not listed')}</p>` +
    `<p class="meta">${paper.upvoteCount} upvote${paper.upvoteCount === 1 ? '' : 's'} · ` +
    `${paper.commentCount} comment${paper.commentCount === 1 ? '' : 's'} · published ${day(paper.publishedAt)}${featured}</p>` +
    `<h2>Abstract</h2><p class="abstract">${escapeHtml(paper.abstract)}</p>` +
    `<ul class="links">${links.map((link) => `<li>${link}</li>`).join('')}</ul>`
  );
}

/**
 * GET /papers/{arxivId}: the page feeds and digests link every paper to. Its
 * title, authors, abstract, upvotes and links, server-rendered and escaped;
 * a withdrawn paper's says so; an unknown paper is a 404 page. (PUBLIC_URL may point at a site of its own
 * that serves the same paths.)
 */
export function paperPagePlugin({ db, logger }: PaperPageDependencies): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (!url.pathname.startsWith(PREFIX)) return;
      const reply = (status: number, title: string, body: string, headers: Record<string, string> = {}) =>
        endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : htmlPage(title, body), { status, headers: { ...pageHeaders, ...headers } }));
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        return reply(405, 'Method not allowed', '<p>Paper pages answer GET and HEAD only.</p>', { allow: 'GET, HEAD' });
      }
      const requested = decodedPath(url.pathname.slice(PREFIX.length));
      const arxivId = normalizeArxivId(requested);
      const notFound = () =>
        reply(404, 'Paper not found', `<p>No paper with the arXiv id "${escapeHtml(requested)}" is on Daily Papers.</p>`, {
          'cache-control': 'no-store',
        });
      if (!arxivId) return notFound();
      try {
        const paper = await findPaperByArxivId(db, arxivId);
        if (!paper) return notFound();
        const authors = await findAuthorsOfPapers(db, [paper.id]);
        reply(
          200,
          paper.title,
          paperBody(
            paper,
            authors.map((author) => author.name),
          ),
        );
      } catch (error) {
        logger.error({ err: error, path: url.pathname }, 'could not render a paper page');
        reply(500, 'Paper unavailable', '<p>Could not show this paper right now: try again shortly.</p>', { 'cache-control': 'no-store' });
      }
    },
  };
}
