import { sql, type AnyColumn, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { decodeCursor, toPage, type KeysetOrder, type Page, type PageRequest } from '../../db/keyset';
import { queryRows } from '../../db/rows';
import { authors, paperAuthors, paperColumns, papers, type PaperRow } from '../../db/schema';
import { badUserInput } from '../../errors';
import { arxivIdInQuery, type ArxivIdReference } from '../papers/arxiv-id';
import { conditionsFor, type PaperCriteria } from '../papers/papers.queries';
import { searchTermQueries } from './search-terms';
import { currentSearchModel, semanticQueryOf, type SemanticQuery } from './semantic-index';

export const MAX_QUERY_LENGTH = 250;

/** How the parts of a result's score weigh (relevance first, popularity breaks near-ties). */
const WEIGHTS = {
  /** The score of the paper a query naming an arXiv id finds (the only result). */
  identifier: 1000,
  /**
   * Added to the score of a paper matching every word (or whose title is the
   * query): above any relevance, so these come before the papers found only
   * by a close spelling of the query (typo tolerance), which follow them.
   */
  everyWord: 100,
  /** A title equal to the query (ignoring case) ranks above everything else. */
  exactTitle: 10,
  /** ts_rank of where the terms matched, each stemmed in text or as written in names (see fullTextRank). */
  fullText: 1,
  /** pg_trgm word similarity of the query to a title close enough to match it (0.6..1 by default): typos in titles. */
  titleSimilarity: 1,
  /** Best word similarity of the query to one of the paper's author names close enough to match it: typos in names. */
  authorSimilarity: 0.8,
  /** Multiplies relevance by 1 + popularity * ln(1 + upvotes). */
  popularity: 0.1,
};

/**
 * Typo tolerance for titles (a trigram match against every title) only runs
 * when the words themselves match fewer papers than this. Finding the titles
 * near a query of common words costs as much as the whole full-text search
 * (thousands of titles share its trigrams), and such a query has plenty of
 * results anyway; a misspelt word, on the other hand, matches (next to)
 * nothing, and then the trigram match finds the title.
 */
export const TITLE_TYPO_TOLERANCE_BELOW = 100;

/** The author names closest to the query (ties by id) whose papers are candidates. */
export const MATCHED_AUTHOR_LIMIT = 100;

export type SearchResult = PaperRow & { score: number };

/**
 * How the semantic list joins the lexical one: reciprocal rank fusion,
 * score = 1 / (k + lexical rank) + weight / (k + semantic rank), a list
 * the paper is not on adding nothing. `everyWordFirst` keeps every paper
 * matching every word of the query above the papers only the semantic list
 * (or a close spelling) found; an exact title always comes first. Chosen on
 * the development split of `npm run eval:search` (see the README).
 */
export interface Fusion {
  weight: number;
  k: number;
  everyWordFirst: boolean;
  /**
   * Whether a paper on both lists gains its semantic term too (plain RRF). Without it the
   * lexical matches keep their lexical order and the semantic list only adds papers.
   */
  boostLexical: boolean;
  /** Papers the semantic list holds: the nearest of the probed buckets. */
  candidates: number;
  /** Below this cosine a paper is not on the semantic list. */
  minSimilarity: number;
}

/**
 * Chosen by `npm run eval:search -- --split development --tune` (README): of weights 0.3 and 1, with and
 * without every-word matches first, with and without boosting lexical matches, only weight 0.3 without the
 * boost lost nothing on any lexical kind, and it had the best paraphrase MRR among those that lost nothing.
 */
export const DEFAULT_FUSION: Fusion = { weight: 0.3, k: 60, everyWordFirst: true, boostLexical: false, candidates: 100, minSimilarity: 0.2 };

/**
 * The semantic list is read only when fewer papers than this match every word of the query: every such
 * paper ranks above all the semantic list adds (everyWordFirst), so past this many its papers could only
 * come after the fifth page of 20, and reading it (a dot product per paper of the probed buckets) was most
 * of a common query's time at 100,000 papers. Like the title typo gate, a property of the query alone, so
 * every page of one search reads the same list.
 */
export const SEMANTIC_LIST_BELOW = 100;

/** The k-means buckets of the semantic layer a query reads (nearest centroids first): 4 did as well as 8 and 16 on the development split, 2 worse. */
export const SEMANTIC_PROBES = 4;

/** The semantic side of a search (see semantic-index.ts), and how it is fused; without one, the search is lexical only. */
export interface SemanticSearch {
  query: SemanticQuery;
  fusion?: Fusion;
}

/** Trims the query and drops control characters; rejects what leaves nothing to search or is too long. */
export function normalizeSearchQuery(query: string): string {
  if (query.length > MAX_QUERY_LENGTH) {
    throw badUserInput(`The search query must be 1 to ${MAX_QUERY_LENGTH} characters; it has ${query.length}.`);
  }
  const cleaned = query.replace(/\p{Cc}+/gu, ' ').trim();
  if (cleaned.length === 0) throw badUserInput('The search query is empty: type at least one word.');
  return cleaned;
}

/**
 * What a match weighs by where it is, for ts_rank: names (D), abstract (C),
 * keywords (B), title (A). Names weigh as much as keywords: a name typed is
 * as deliberate as a topic.
 */
const PLACE_WEIGHTS = '{0.4, 0.2, 0.4, 1.0}';

/**
 * The full-text part of the score: where each term matched, by PLACE_WEIGHTS
 * (ts_rank of the terms OR'ed: each term's best place, further occurrences
 * adding less and less), plus the optional stop-word terms (names such as
 * "He"). Not the cover density of the whole match: the names sit at the end
 * of the document, so it would favour a word in the abstract, nearer them,
 * over the same word in the title.
 */
const fullTextRank = sql`(ts_rank(${PLACE_WEIGHTS}::float4[], ${papers.searchVector}, terms.ranked)
  + case when ${papers.searchVector} @@ terms.optional then ts_rank(${PLACE_WEIGHTS}::float4[], ${papers.searchVector}, terms.optional) else 0 end)`;

/** Relevance times 1 + popularity * ln(1 + upvotes), as float8 (what cursors hold). */
const blendedWithPopularity = (relevance: SQL, upvotes: SQL | AnyColumn) =>
  sql`((${relevance}) * (1 + ${WEIGHTS.popularity}::float8 * ln(1 + ${upvotes})))::float8`;

/**
 * The common table expressions ending in `scored (id, score)`: every paper
 * that matches `query`, with its score. Candidates are only gathered through
 * index-backed conditions, and the costly parts of the score are computed for
 * the few papers they concern rather than for every match:
 *
 * - exact_titles: titles equal to the query, ignoring case (hash index on lower(title));
 * - title_matches: titles within trigram word similarity of the query (GIN
 *   trigram index on lower(title); pg_trgm.word_similarity_threshold, 0.6 by
 *   default), looked for only when fewer than TITLE_TYPO_TOLERANCE_BELOW
 *   papers match the words;
 * - author_matches: the papers of the MATCHED_AUTHOR_LIMIT author names
 *   nearest the query among those within word similarity (GIN trigram index
 *   on lower(name)), with the best similarity among them;
 * - boosted: those three together, a small set, scored in full;
 * - word_matches: the papers matching every term, each either in the text
 *   (stemmed) or in the names (as written; see searchTermQueries), through
 *   the GIN index on search_vector, with their full-text rank, which with popularity is all
 *   the score of one outside `boosted` has. Materialized, so the typo gate
 *   counts from it: a LIMIT over the table itself could tempt the planner
 *   into a sequential scan, which reads every paper when few match.
 *
 * A paper's score depends on the paper and the query only (none of these sets
 * depends on the page asked for), so keyset cursors over (score, id) page
 * through one consistent order.
 */
function scoredMatches(query: string, semantic: SemanticSearch | null = null): SQL {
  const reference = arxivIdInQuery(query);
  if (reference) return scoredIdentifier(reference);
  if (!semantic) return lexicalMatches(query, 'scored');
  return fusedMatches(query, semantic.query, semantic.fusion ?? DEFAULT_FUSION);
}

/**
 * `scored (id, score)` of the lexical matches (as lexicalMatches) fused with
 * the semantic list: the papers of the probed buckets (an index on
 * (model, bucket)) nearest the query's vector by exact cosine (the vectors
 * are unit length: a dot product), the `candidates` best at least
 * `minSimilarity` close, without the -excluded words and not withdrawn.
 * Each list ranks its papers; the fused score adds their reciprocal ranks
 * (see Fusion). Like the lexical score, it depends on the paper and the
 * query only, so cursors page through one order.
 *
 * With everyWordFirst, a query matching SEMANTIC_LIST_BELOW papers or more
 * reads no semantic list, and the fused order is then the lexical order
 * (every tier and reciprocal rank follows the lexical score): such a query
 * is scored by the lexical score alone, skipping the ranking of every match
 * (a sort and a window over thousands of rows for a common query).
 */
function fusedMatches(query: string, semantic: SemanticQuery, fusion: Fusion): SQL {
  const exactTitle = WEIGHTS.everyWord + WEIGHTS.exactTitle;
  // Above any sum of reciprocal ranks: 1/k + weight/k.
  const tier = (1 + fusion.weight) / fusion.k + 1;
  const semanticRead = fusion.everyWordFirst
    ? sql`(select count(*) from (select from word_matches limit ${SEMANTIC_LIST_BELOW}) enough) < ${SEMANTIC_LIST_BELOW}`
    : sql`true`;
  return sql`
    ${lexicalMatches(query, 'lexical')},
    semantic_read as materialized (select ${semanticRead} as read),
    semantic_near as materialized (
      select e.paper_id as id, (select sum(a * b) from unnest(e.vector, ${semantic.vector}::real[]) as d(a, b)) as similarity
      from paper_embeddings e
      where e.model_id = ${semantic.modelId} and e.bucket = any(${sql.param(semantic.buckets)}::int[])
        and (select read from semantic_read)),
    semantic as materialized (
      select near.id, row_number() over (order by near.similarity desc, near.id) as rank
      from (select id, similarity from semantic_near where similarity >= ${fusion.minSimilarity}
            order by similarity desc, id limit ${fusion.candidates}) near
      join ${papers} on ${papers.id} = near.id cross join terms
      where ${papers.withdrawnAt} is null and not ${papers.searchVector} @@ terms.excluded),
    -- Ties by id descending, as the lexical search alone orders them: fusing never reorders tied lexical matches.
    lexical_ranked as materialized (
      select id, score, row_number() over (order by score desc, id desc) as rank from lexical),
    scored as (
      select id, score from lexical where not (select read from semantic_read)
      union all
      select coalesce(l.id, s.id) as id,
        (case when l.score >= ${exactTitle}::float8 then ${2 * tier}::float8
              when ${sql.raw(fusion.everyWordFirst ? 'true' : 'false')} and l.score >= ${WEIGHTS.everyWord}::float8 then ${tier}::float8 else 0 end
         + coalesce(1.0::float8 / (${fusion.k} + l.rank), 0)
         + case when ${sql.raw(fusion.boostLexical ? 'true' : 'false')} or l.id is null
             then ${fusion.weight}::float8 * coalesce(1.0::float8 / (${fusion.k} + s.rank), 0) else 0 end)::float8 as score
      from lexical_ranked l full join semantic s on s.id = l.id
      where (select read from semantic_read))`;
}

/** The lexical matches, ending in the common table expression `name (id, score)`; see scoredMatches. */
function lexicalMatches(query: string, name: 'scored' | 'lexical'): SQL {
  const { required, anyTerm, optional, excluded } = searchTermQueries(query);
  return sql`
    terms as materialized (
      select case when numnode(required) = 0 then optional else required end as matching,
        case when numnode(required) = 0 then ''::tsquery else any_term end as ranked,
        optional, excluded, lower(${query}) as lowered
      from (select ${required} as required, ${anyTerm} as any_term, ${optional} as optional, ${excluded} as excluded) parsed),
    word_matches as materialized (
      select ${papers.id} as id, ${papers.upvoteCount} as upvotes, ${fullTextRank} as rank
      from ${papers} cross join terms
      where ${papers.searchVector} @@ terms.matching and ${papers.withdrawnAt} is null),
    exact_titles as materialized (
      select ${papers.id} as id from ${papers} cross join terms where lower(${papers.title}) = terms.lowered),
    title_matches as materialized (
      select ${papers.id} as id, word_similarity(terms.lowered, lower(${papers.title})) as similarity
      from ${papers} cross join terms
      where lower(${papers.title}) %> terms.lowered
        and (select count(*) from (select from word_matches limit ${TITLE_TYPO_TOLERANCE_BELOW}) enough) < ${TITLE_TYPO_TOLERANCE_BELOW}),
    name_matches as materialized (
      select ${authors.id} as id, word_similarity(terms.lowered, lower(${authors.name})) as similarity
      from ${authors} cross join terms
      where lower(${authors.name}) %> terms.lowered
      order by similarity desc, ${authors.id}
      limit ${MATCHED_AUTHOR_LIMIT}),
    author_matches as materialized (
      select ${paperAuthors.paperId} as id, max(name_matches.similarity) as similarity
      from name_matches join ${paperAuthors} on ${paperAuthors.authorId} = name_matches.id
      group by ${paperAuthors.paperId}),
    boosted as materialized (
      select id, bool_or(exact) as exact, max(title_similarity) as title_similarity, max(author_similarity) as author_similarity
      from (
        select id, true as exact, 0::real as title_similarity, 0::real as author_similarity from exact_titles
        union all select id, false, similarity, 0 from title_matches
        union all select id, false, 0, similarity from author_matches) parts
      group by id),
    ${sql.raw(name === 'lexical' ? 'lexical as not materialized' : 'scored as')} (
      select id, ${WEIGHTS.everyWord}::float8 + ${blendedWithPopularity(sql`${WEIGHTS.fullText}::float8 * rank`, sql`upvotes`)} as score
      from word_matches
      where not exists (select from boosted where boosted.id = word_matches.id)
      union all
      select ${papers.id},
        case when boosted.exact or ${papers.searchVector} @@ terms.matching then ${WEIGHTS.everyWord}::float8 else 0 end
        + ${blendedWithPopularity(
          sql`case when boosted.exact then ${WEIGHTS.exactTitle}::float8 else 0 end
          + ${WEIGHTS.fullText}::float8 * ${fullTextRank}
          + ${WEIGHTS.titleSimilarity}::float8 * boosted.title_similarity
          + ${WEIGHTS.authorSimilarity}::float8 * boosted.author_similarity`,
          papers.upvoteCount,
        )}
      from boosted join ${papers} on ${papers.id} = boosted.id cross join terms
      -- A paper found by a close spelling still has none of the excluded words.
      where ${papers.withdrawnAt} is null and (boosted.exact or not ${papers.searchVector} @@ terms.excluded))`;
}

/** `scored (id, score)` of a query naming an arXiv id: that paper (unique index on arxiv_id), or nothing. */
function scoredIdentifier(reference: ArxivIdReference): SQL {
  return sql`scored as (
    select ${papers.id} as id, ${WEIGHTS.identifier}::float8 as score from ${papers} where ${papers.arxivId} = ${reference.id})`;
}

/** What the reader is told about a query that names an arXiv id (see searchHint); null for other queries. */
export interface SearchHint {
  arxivId: string;
  found: boolean;
  message: string;
}

/** The hint for `query` (normalized): whether the arXiv paper it names is here, and if not, how it could be. */
export async function searchHintFor(db: Database, query: string, submissionMaxAgeDays: number): Promise<SearchHint | null> {
  const reference = arxivIdInQuery(query);
  if (!reference) return null;
  const [row] = await queryRows<{ found: boolean }>(db, sql`select exists (select from ${papers} where ${papers.arxivId} = ${reference.id}) as found`);
  const arxivId = reference.id;
  if (row!.found) return { arxivId, found: true, message: `arXiv:${arxivId} is the first result.` };
  const message = reference.newStyle
    ? `arXiv:${arxivId} is not on this site yet. A signed-in reader can add it with submitPaper within ${submissionMaxAgeDays} days of its arXiv date.`
    : `arXiv:${arxivId} is an old-style arXiv id; this site holds only papers with new-style ids (such as 2306.13229).`;
  return { arxivId, found: false, message };
}

/** Whether the scored paper `scored.id` meets a PaperFilter's criteria (withdrawn papers are out already). */
function filtered(criteria: PaperCriteria): SQL {
  if (Object.values(criteria).every((value) => value === undefined)) return sql`true`;
  return sql`exists (select from ${papers} where ${papers.id} = scored.id and ${conditionsFor(criteria)})`;
}

/** The cursor format (searchPageQuery writes the condition and the order itself, over the ranked subquery). */
const searchOrder: KeysetOrder<SearchResult> = {
  name: 'RELEVANCE',
  keys: [{ expression: sql`ranked.score`, type: 'float8', valueOf: (row) => row.score }],
  id: papers.id,
  idOf: (row) => row.id,
};

/**
 * The statement of one page of searchPapers: the best `request.size + 1`
 * matches past the cursor, ranked inside the subquery (scores only), then
 * joined to their paper rows.
 */
export function searchPageQuery(db: Database, query: string, request: PageRequest, criteria: PaperCriteria = {}, semantic: SemanticSearch | null = null) {
  // Highest score first when paging forward; a backward page is read from the low end and reversed by toPage.
  const descending = request.direction === 'forward';
  const direction = descending ? sql`desc` : sql`asc`;
  let pastCursor = sql`true`;
  if (request.cursor) {
    const position = decodeCursor(searchOrder, request.cursor);
    const cursor = sql`(${position.values[0]}::float8, ${position.id}::int4)`;
    pastCursor = descending ? sql`(score, id) < ${cursor}` : sql`(score, id) > ${cursor}`;
  }
  const ranked = sql`(
    with ${scoredMatches(query, semantic)}
    select id, score from scored where ${pastCursor} and ${filtered(criteria)}
    order by score ${direction}, id ${direction}
    limit ${request.size + 1}) as ranked`;
  return db
    .select({ ...paperColumns, score: sql<number>`ranked.score` })
    .from(papers)
    .innerJoin(ranked, sql`ranked.id = ${papers.id}`)
    .orderBy(sql`ranked.score ${direction}`, sql`ranked.id ${direction}`);
}

/**
 * One page of papers matching `query` (already normalized), best first:
 * full-text relevance over the weighted document, typo-tolerant title and
 * author-name similarity, blended with popularity, fused with the semantic
 * list when `semantic` is given (see semanticSearchFor). Websearch syntax works:
 * "quoted phrases", -exclusions, or.
 */
export async function searchPapers(
  db: Database,
  query: string,
  request: PageRequest,
  criteria: PaperCriteria = {},
  semantic: SemanticSearch | null = null,
): Promise<Page<SearchResult>> {
  const fetched = await searchPageQuery(db, query, request, criteria, semantic);
  return toPage(searchOrder, request, fetched);
}

/** How many papers match `query`: exactly the ones searchPapers pages through. */
export async function countSearchResults(
  db: Database,
  query: string,
  criteria: PaperCriteria = {},
  semantic: SemanticSearch | null = null,
): Promise<number> {
  const [row] = await queryRows<{ count: number }>(
    db,
    sql`with ${scoredMatches(query, semantic)} select count(*)::int as count from scored where ${filtered(criteria)}`,
  );
  return row!.count;
}

/**
 * The semantic side of a search for `query` (normalized): the current model
 * (one statement checks its version; it is read again only after a refit)
 * and the query's vector and buckets. Null, and the search lexical only,
 * when no model was fitted yet, the query names an arXiv id, or none of its
 * words is in the model's vocabulary.
 */
export async function semanticSearchFor(db: Database, query: string, tuning: { probes?: number; fusion?: Fusion } = {}): Promise<SemanticSearch | null> {
  const model = await currentSearchModel(db);
  if (arxivIdInQuery(query)) return null;
  const semantic = semanticQueryOf(model, query, tuning.probes ?? SEMANTIC_PROBES);
  return semantic ? { query: semantic, fusion: tuning.fusion ?? DEFAULT_FUSION } : null;
}

/** Sentinels around matched words in headlines; replaced by <mark> after HTML escaping. */
const MARK_START = '\u27E6';
const MARK_END = '\u27E7';

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);

/**
 * A highlighted excerpt of each paper's abstract (its opening when no word
 * matches there; the title when it has none) as HTML-escaped text with the
 * matched words in <mark>, keyed by paper id. Run for a page only:
 * ts_headline is costly.
 */
export async function searchSnippets(db: Database, query: string, paperIds: readonly number[]): Promise<Map<number, string>> {
  if (paperIds.length === 0) return new Map();
  const stemmed = sql`websearch_to_tsquery('english', ${query})`;
  const options = `StartSel=${MARK_START}, StopSel=${MARK_END}, MaxWords=35, MinWords=15, MaxFragments=2, FragmentDelimiter=" … "`;
  const rows = await queryRows<{ id: number; snippet: string }>(
    db,
    sql`select ${papers.id} as id,
          ts_headline('english', coalesce(nullif(${papers.abstract}, ''), ${papers.title}), ${stemmed}, ${options}) as snippet
        from ${papers} where ${idIn(papers.id, paperIds)}`,
  );
  return new Map(rows.map((row) => [row.id, escapeHtml(row.snippet).replaceAll(MARK_START, '<mark>').replaceAll(MARK_END, '</mark>')]));
}
