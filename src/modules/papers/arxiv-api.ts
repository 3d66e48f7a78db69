import { XMLParser } from 'fast-xml-parser';
import { collapseWhitespace } from '../../text-input';
import { isArxivCategory } from './arxiv-category';
import { normalizeArxivId } from './arxiv-id';

/** What the arXiv API says about a paper; a field its entry lacks is left out. */
export interface ArxivEntry {
  arxivId: string;
  title?: string;
  abstract?: string;
  authors?: string[];
  /** When version 1 appeared. */
  publishedAt?: Date;
  /** Its categories (cs.LG, hep-th), the primary one first; empty when the entry lists none. */
  categories: string[];
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
  isArray: (name) => name === 'entry' || name === 'author' || name === 'category',
});

/**
 * Looks a paper up by its unversioned arXiv id: its entry, or null when
 * arXiv has no such paper (an error entry or an empty feed). Throws
 * ArxivUnavailableError when arXiv cannot be asked or its answer cannot be read.
 */
export async function fetchArxivEntry(settings: ArxivApiSettings, arxivId: string): Promise<ArxivEntry | null> {
  const entries = entriesOf(await fetchAtom(settings, [arxivId]));
  // arXiv reports an unknown or malformed id as an entry whose id is under http://arxiv.org/api/errors.
  if (entries.some((entry) => textOf(entry.id)?.includes('api/errors'))) return null;
  const entry = entries.find((candidate) => idOfEntry(candidate) === arxivId);
  return entry ? entryFrom(entry, arxivId) : null;
}

/**
 * Looks several papers up in one request (arXiv's id_list takes many ids):
 * the entries found, keyed by unversioned arXiv id. An id arXiv does not know
 * is absent from the map. Throws ArxivUnavailableError like fetchArxivEntry.
 */
export async function fetchArxivEntries(settings: ArxivApiSettings, arxivIds: readonly string[]): Promise<Map<string, ArxivEntry>> {
  const found = new Map<string, ArxivEntry>();
  if (arxivIds.length === 0) return found;
  const wanted = new Set(arxivIds);
  for (const entry of entriesOf(await fetchAtom(settings, arxivIds))) {
    const arxivId = idOfEntry(entry);
    if (arxivId && wanted.has(arxivId)) found.set(arxivId, entryFrom(entry, arxivId));
  }
  return found;
}

async function fetchAtom(settings: ArxivApiSettings, arxivIds: readonly string[]): Promise<string> {
  const url = new URL(settings.apiUrl);
  url.searchParams.set('id_list', arxivIds.join(','));
  // arXiv answers 10 entries unless told otherwise.
  if (arxivIds.length > 1) url.searchParams.set('max_results', String(arxivIds.length));
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
    return await response.text();
  } catch (error) {
    if (error instanceof ArxivUnavailableError) throw error;
    if (error instanceof DOMException && error.name === 'TimeoutError') {
      throw new ArxivUnavailableError(`arXiv did not answer within ${settings.timeoutMs} ms`);
    }
    throw new ArxivUnavailableError('arXiv could not be reached', null, error);
  }
}

/** The entries of an arXiv API answer. */
function entriesOf(atom: string): Record<string, unknown>[] {
  let document: { feed?: { entry?: Record<string, unknown>[] } };
  try {
    document = parser.parse(atom, true);
  } catch (error) {
    throw new ArxivUnavailableError('arXiv answered with malformed XML', null, error);
  }
  if (typeof document.feed !== 'object' || document.feed === null) {
    throw new ArxivUnavailableError('arXiv answered with XML that is not an Atom feed');
  }
  return document.feed.entry ?? [];
}

function entryFrom(entry: Record<string, unknown>, arxivId: string): ArxivEntry {
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
    categories: categoriesOf(entry),
  };
}

/**
 * <arxiv:primary_category term=".."/> first, then each <category term=".."/>
 * once. Terms that are not category names (arXiv also lists ACM and MSC
 * classes such as "I.2.7" or "68T50" there) are left out.
 */
function categoriesOf(entry: Record<string, unknown>): string[] {
  const primary = termOf(entry.primary_category);
  const listed = ((entry.category ?? []) as unknown[]).map(termOf);
  return [...new Set([primary, ...listed])].filter((term): term is string => term !== undefined && isArxivCategory(term));
}

function termOf(element: unknown): string | undefined {
  if (typeof element !== 'object' || element === null) return undefined;
  const term = (element as { term?: unknown }).term;
  return typeof term === 'string' ? term.trim() : undefined;
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
