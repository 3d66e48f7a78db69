import { Feed } from 'feed';

/** A paper as a feed entry shows it. */
export interface FeedPaper {
  arxivId: string;
  title: string;
  abstract: string;
  authors: string[];
  publishedAt: Date;
  /** When it was featured, else its arXiv date: what the entry's `updated` says. */
  updatedAt: Date;
}

export interface FeedDescription {
  title: string;
  subtitle: string;
  /** The feed's own address; also its id. */
  selfUrl: string;
  /** The site's public address: entries link to {publicUrl}/papers/{arxivId}. */
  publicUrl: string;
  updated: Date;
}

/** Characters XML 1.0 cannot carry even escaped: most C0 controls, lone surrogates, U+FFFE and U+FFFF. */
const NOT_XML = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const xmlSafe = (text: string) => text.replace(NOT_XML, '');

/**
 * `feed` writes titles and content as type="html" in CDATA, so plain text
 * goes in HTML-escaped. Escaped, it cannot hold a "]]>" either, which would
 * end the CDATA section early (`feed` splits only the first one).
 */
const asHtml = (text: string) =>
  xmlSafe(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** `feed`'s XML writer turns "&amp;" back into "&" before escaping text: escaping "&" first cancels that, so a name arrives as it is. */
const asText = (text: string) => xmlSafe(text).replace(/&/g, '&amp;');

/** An href as `feed` writes it: a normalized URL with "&" escaped. */
const hrefOf = (url: string) => new URL(url).href.replace(/&/g, '&amp;');

/** An Atom 1.0 document of `papers` in the given order. */
export function atomFeed(description: FeedDescription, papers: readonly FeedPaper[]): string {
  const feed = new Feed({
    id: asText(description.selfUrl),
    // Titles may hold what users wrote (a collection's name, a search).
    title: asText(description.title),
    description: asText(description.subtitle),
    link: description.publicUrl,
    feedLinks: { atom: description.selfUrl },
    // Atom requires an author for the feed unless every entry has one; a paper may list none.
    author: { name: 'Daily Papers', link: description.publicUrl },
    updated: description.updated,
    generator: 'Daily Papers API',
  });
  for (const paper of papers) {
    const pageUrl = pageUrlOf(description.publicUrl, paper.arxivId);
    feed.addItem({
      id: pageUrl,
      link: pageUrl,
      title: asHtml(paper.title),
      content: asHtml(paper.abstract),
      author: paper.authors.map((name) => ({ name: asText(name) })),
      date: paper.updatedAt,
      published: paper.publishedAt,
    });
  }
  return withArxivLinks(feed.atom1(), description.publicUrl, papers);
}

function pageUrlOf(publicUrl: string, arxivId: string): string {
  return new URL(`${publicUrl}/papers/${arxivId}`).href;
}

/** `feed` writes one link per entry; each entry also links its arXiv page, beside our page. */
function withArxivLinks(atom: string, publicUrl: string, papers: readonly FeedPaper[]): string {
  let document = atom;
  for (const paper of papers) {
    const page = hrefOf(pageUrlOf(publicUrl, paper.arxivId));
    const links =
      `<link rel="alternate" type="text/html" href="${page}"/>\n        ` +
      `<link rel="related" type="text/html" title="arXiv" href="${hrefOf(`https://arxiv.org/abs/${paper.arxivId}`)}"/>`;
    document = document.replace(`<link href="${page}"/>`, () => links);
  }
  return document;
}
