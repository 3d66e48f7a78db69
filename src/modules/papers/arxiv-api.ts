import { XMLParser } from 'fast-xml-parser';
import { collapseWhitespace } from '../../text-input';
import { normalizeArxivId } from './arxiv-id';

/** What the arXiv API says about a paper; a field its entry lacks is left out. */
export interface ArxivEntry {
  arxivId: string;
  title?: string;
  abstract?: string;
  authors?: string[];
  /** When version 1 appeared. */
  publishedAt?: Date;
}

export interface ArxivApiSettings {
  /** The query endpoint, e.g. https://export.arxiv.org/api/query. */
  apiUrl: string;
  timeoutMs: number;
}

/**
 * arXiv could not answer usefully: unreachable, too slow, an HTTP error or a
 * document that is not an Atom feed. The message is fit to show a person;
 * the technical detail is in `cause`.
 */
export class ArxivUnavailableError extends Error {
  constructor(
    message: string,
    /** What arXiv's Retry-After header asked for, in seconds, when it sent one. */
    readonly retryAfterSeconds: number | null = null,
    cause?: unknown,
  ) {
    super(message, { cause });
    this.name = 'ArxivUnavailableError';
  }
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '',
  // arXiv mixes the Atom, arxiv: and opensearch: namespaces; only the local names matter here.
  removeNSPrefix: true,
  // Keep "2306" a string rather than a number.
  parseTagValue: false,
  // Numeric character references (&#233;) are only decoded with this on.
  htmlEntities: true,
  isArray: (name) => name === 'entry' || name === 'author',
});

/**
 * Looks a paper up by its unversioned arXiv id: its entry, or null when
 * arXiv has no such paper (an error entry or an empty feed). Throws
 * ArxivUnavailableError when arXiv cannot be asked or its answer cannot be read.
 */
export async function fetchArxivEntry(settings: ArxivApiSettings, arxivId: string): Promise<ArxivEntry | null> {
  const url = new URL(settings.apiUrl);
  url.searchParams.set('id_list', arxivId);
  let body: string;
  try {
    // The signal also bounds reading the body, so a response that stalls midway times out too.
    const response = await fetch(url, {
      headers: { accept: 'application/atom+xml' },
      signal: AbortSignal.timeout(settings.timeoutMs),
    });
    if (!response.ok) {
      await response.body?.cancel();
      throw new ArxivUnavailableError(`arXiv answered HTTP ${response.status}`, retryAfterSeconds(response.headers));
    }
    body = await response.text();
  } catch (error) {
    if (error instanceof ArxivUnavailableError) throw error;
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new ArxivUnavailableError(`arXiv did not answer within ${settings.timeoutMs} ms`);
    }
    throw new ArxivUnavailableError('arXiv could not be reached', null, error);
  }
  return entryOf(body, arxivId);
}

/** The entry for `arxivId` in an arXiv API answer. */
function entryOf(atom: string, arxivId: string): ArxivEntry | null {
  let document: { feed?: { entry?: Record<string, unknown>[] } };
  try {
    document = parser.parse(atom, true);
  } catch (error) {
    throw new ArxivUnavailableError('arXiv answered with malformed XML', null, error);
  }
  if (typeof document.feed !== 'object' || document.feed === null) {
    throw new ArxivUnavailableError('arXiv answered with XML that is not an Atom feed');
  }
  const entries = document.feed.entry ?? [];
  // arXiv reports an unknown or malformed id as an entry whose id is under http://arxiv.org/api/errors.
  if (entries.some((entry) => textOf(entry.id)?.includes('api/errors'))) return null;
  const entry = entries.find((candidate) => idOfEntry(candidate) === arxivId);
  if (!entry) return null;

  const published = textOf(entry.published);
  const publishedAt = published ? new Date(published) : undefined;
  const authors = ((entry.author ?? []) as Record<string, unknown>[])
    .map((author) => collapseWhitespace(textOf(author.name) ?? ''))
    .filter((name) => name !== '');
  return {
    arxivId,
    // arXiv wraps titles and abstracts at about 80 columns: those line breaks are layout, not content.
    title: nonEmpty(collapseWhitespace(textOf(entry.title) ?? '')),
    abstract: nonEmpty(collapseWhitespace(textOf(entry.summary) ?? '')),
    authors: authors.length > 0 ? authors : undefined,
    publishedAt: publishedAt && !Number.isNaN(publishedAt.getTime()) ? publishedAt : undefined,
  };
}

/** "http://arxiv.org/abs/2306.13229v2" -> "2306.13229". */
function idOfEntry(entry: Record<string, unknown>): string | null {
  const id = textOf(entry.id);
  const afterAbs = id?.split('/abs/')[1];
  return afterAbs ? normalizeArxivId(afterAbs) : null;
}

/** An element's text, whether or not it carries attributes. */
function textOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'object' && value !== null && typeof (value as { '#text'?: unknown })['#text'] === 'string') {
    return (value as { '#text': string })['#text'];
  }
  return undefined;
}

const nonEmpty = (text: string) => (text === '' ? undefined : text);

/** Retry-After in seconds (the HTTP-date form is rare enough to ignore). */
function retryAfterSeconds(headers: Headers): number | null {
  const seconds = Number(headers.get('retry-after'));
  return Number.isInteger(seconds) && seconds > 0 ? seconds : null;
}
