import { and, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { keysetCondition, keysetOrderBy, toPage, type KeysetOrder, type Page, type PageRequest } from '../../db/keyset';
import { queryRows } from '../../db/rows';
import { authors, paperAuthors, paperColumns, papers, type PaperRow } from '../../db/schema';
import { badUserInput } from '../../errors';

export const MAX_QUERY_LENGTH = 250;

/** How the parts of a result's score weigh (relevance first, popularity breaks near-ties). */
const WEIGHTS = {
  /** A title equal to the query (ignoring case) ranks above everything else. */
  exactTitle: 10,
  /** ts_rank_cd of the stemmed English match and of the unstemmed one (author names). */
  fullText: 1,
  /** pg_trgm word similarity of the query to the title, 0..1: typos in titles. */
  titleSimilarity: 1,
  /** Best word similarity of the query to one of the paper's author names: typos in names. */
  authorSimilarity: 0.8,
  /** Multiplies relevance by 1 + popularity * ln(1 + upvotes). */
  popularity: 0.1,
};

export type SearchResult = PaperRow & { score: number };

/** Trims the query and drops control characters; rejects what leaves nothing to search or is too long. */
export function normalizeSearchQuery(query: string): string {
  if (query.length > MAX_QUERY_LENGTH) {
    throw badUserInput(`The search query must be 1 to ${MAX_QUERY_LENGTH} characters; it has ${query.length}.`);
  }
  const cleaned = query.replace(/\p{Cc}+/gu, ' ').trim();
  if (cleaned.length === 0) throw badUserInput('The search query is empty: type at least one word.');
  return cleaned;
}

interface SearchTerms {
  stemmed: SQL;
  unstemmed: SQL;
  lowered: string;
}

function scoreOf({ stemmed, unstemmed, lowered }: SearchTerms): SQL<number> {
  const authorSimilarity = sql`coalesce((
    select max(word_similarity(${lowered}, lower(${paperAuthors.name})))
    from ${paperAuthors} where ${paperAuthors.paperId} = ${papers.id}), 0)`;
  const relevance = sql`(
    case when lower(${papers.title}) = ${lowered} then ${WEIGHTS.exactTitle}::float8 else 0 end
    + ${WEIGHTS.fullText}::float8 * (ts_rank_cd(${papers.searchVector}, ${stemmed}) + ts_rank_cd(${papers.searchVector}, ${unstemmed}))
    + ${WEIGHTS.titleSimilarity}::float8 * word_similarity(${lowered}, lower(${papers.title}))
    + ${WEIGHTS.authorSimilarity}::float8 * ${authorSimilarity})`;
  return sql<number>`(${relevance} * (1 + ${WEIGHTS.popularity}::float8 * ln(1 + ${papers.upvoteCount})))::float8`;
}

/** Papers that match at all: by words (stemmed or as written), by a title close to the query, or by an author's name. */
function matchesOf({ stemmed, unstemmed, lowered }: SearchTerms): SQL {
  const byAuthor = sql`${papers.id} in (
    select ${paperAuthors.paperId} from ${paperAuthors}
    join ${authors} on ${authors.id} = ${paperAuthors.authorId}
    where ${lowered} <% lower(${authors.name}))`;
  return or(
    sql`${papers.searchVector} @@ ${stemmed}`,
    sql`${papers.searchVector} @@ ${unstemmed}`,
    sql`${lowered} <% lower(${papers.title})`,
    byAuthor,
  )!;
}

function termsOf(query: string): SearchTerms {
  return {
    stemmed: sql`websearch_to_tsquery('english', ${query})`,
    unstemmed: sql`websearch_to_tsquery('simple', ${query})`,
    lowered: query.toLowerCase(),
  };
}

function searchOrder(terms: SearchTerms): KeysetOrder<SearchResult> {
  return {
    name: 'RELEVANCE',
    keys: [{ expression: scoreOf(terms), type: 'float8', valueOf: (row) => row.score }],
    id: papers.id,
    idOf: (row) => row.id,
  };
}

/**
 * One page of papers matching `query` (already normalized), best first:
 * full-text relevance over the weighted document, typo-tolerant title and
 * author-name similarity, blended with popularity. Websearch syntax works:
 * "quoted phrases", -exclusions, or.
 */
export async function searchPapers(db: Database, query: string, request: PageRequest): Promise<Page<SearchResult>> {
  const terms = termsOf(query);
  const order = searchOrder(terms);
  const fetched = await db
    .select({ ...paperColumns, score: scoreOf(terms) })
    .from(papers)
    .where(and(matchesOf(terms), keysetCondition(order, request)))
    .orderBy(...keysetOrderBy(order, request))
    .limit(request.size + 1);
  return toPage(order, request, fetched);
}

export async function countSearchResults(db: Database, query: string): Promise<number> {
  return db.$count(papers, matchesOf(termsOf(query)));
}

/** Sentinels around matched words in headlines; replaced by <mark> after HTML escaping. */
const MARK_START = '\u27E6';
const MARK_END = '\u27E7';

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/**
 * A highlighted excerpt of each paper's abstract (its opening when no word
 * matches there; the title when it has none) as HTML-escaped text with the
 * matched words in <mark>, keyed by paper id. Run for a page only:
 * ts_headline is costly.
 */
export async function searchSnippets(db: Database, query: string, paperIds: readonly number[]): Promise<Map<number, string>> {
  if (paperIds.length === 0) return new Map();
  const { stemmed } = termsOf(query);
  const options = `StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "`;
  const rows = await queryRows<{ id: number; snippet: string }>(
    db,
    sql`select ${papers.id} as id,
          ts_headline('english', coalesce(nullif(${papers.abstract}, ''), ${papers.title}), ${stemmed}, ${options}) as snippet
        from ${papers} where ${inArray(papers.id, [...paperIds])}`,
  );
  return new Map(
    rows.map((row) => [row.id, escapeHtml(row.snippet).replaceAll(MARK_START, '<mark>').replaceAll(MARK_END, '</mark>')]),
  );
}
