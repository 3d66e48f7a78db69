import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { compressRows, transposeRows, type CompressedRows, type PaperIndex } from './similarity-scoring';

/**
 * Content similarity from the search documents: every paper becomes a tf-idf
 * vector over the lexemes of its `search_vector` (as arxiv-sanity does over
 * title and abstract), and two papers are as similar as the cosine of their
 * vectors. The vectors live in a temporary table of the caller's transaction.
 */

/** What one occurrence of a lexeme is worth, by the tsvector weight of its position. */
const WEIGHT_CLASS_VALUES = { A: 1, B: 1, C: 0.4, D: 0.3 } as const; // title, keywords, abstract, author names

/** A paper's vector keeps its heaviest lexemes only; the rest carry little of the cosine. */
const TERMS_PER_PAPER = 30;

/**
 * For each lexeme, only the papers where it weighs most are compared with
 * ("champion lists"): a word shared by thousands of papers would otherwise
 * make every refresh quadratic. The cosine is then approximate for the rest.
 */
const PAPERS_PER_TERM = 100;

/** A lexeme in more than this share of the papers says nothing about any of them. */
const MAX_DOCUMENT_SHARE = 0.5;

/**
 * With at most this many source papers, vectors are built for them and for
 * candidates found through the GIN index (see candidateQuery); with more, for
 * every paper.
 */
const CANDIDATE_SEARCH_LIMIT = 500;

/**
 * How many papers (counted with repeats) the candidate search may reach per
 * source: the sources' rarest lexemes are searched, until their document
 * frequencies add up to this.
 */
const CANDIDATES_PER_SOURCE = 5_000;

const weightClassValue = (weight: keyof typeof WEIGHT_CLASS_VALUES) =>
  sql`${WEIGHT_CLASS_VALUES[weight]}::float8 * cardinality(array_positions(u.weights, ${weight}))`;

/** A lexeme stored without positions (a stripped vector) counts as one occurrence of the lightest class. */
const LIGHTEST_CLASS_VALUE = Math.min(...Object.values(WEIGHT_CLASS_VALUES));

/**
 * Fills pg_temp.similarity_terms(paper_id, lexeme, weight) with the unit-length
 * tf-idf vectors of the papers that matter to `sources`: all papers, or for a
 * short list the sources and the candidates sharing their rarer lexemes. On a
 * small corpus those are every paper sharing a lexeme, which gives the same
 * scores as all papers; on a large one a new paper's list is then the best
 * among papers sharing its distinctive words, until the scheduled full
 * refresh compares it with everything. Must run inside a transaction (the
 * tables are dropped at commit).
 *
 * A lexeme's weight in a paper is ln(1 + sum of its occurrences' class
 * values) * ln(papers / papers with the lexeme); lexemes of a single paper or
 * of more than half of them are left out.
 */
export async function buildContentVectors(tx: Database, sources: readonly number[] | 'all'): Promise<void> {
  await tx.execute(sql`drop table if exists pg_temp.similarity_frequencies, pg_temp.similarity_terms`);
  await tx.execute(sql`
    create temp table similarity_frequencies on commit drop as
    select s.word as lexeme, s.ndoc as documents
    from ts_stat('select search_vector from papers') s, (select count(*)::float8 as n from papers) corpus
    where s.ndoc >= 2 and s.ndoc <= ${MAX_DOCUMENT_SHARE}::float8 * corpus.n
  `);
  await tx.execute(sql`
    create temp table similarity_terms (paper_id int not null, lexeme text not null, weight float8 not null) on commit drop
  `);
  if (sources === 'all' || sources.length > CANDIDATE_SEARCH_LIMIT) {
    await insertVectors(tx, sql`true`);
  } else {
    const sourceIds = sql`${sql.param(sources)}::int[]`;
    await insertVectors(tx, sql`p.id = any(${sourceIds})`);
    await insertVectors(tx, sql`p.search_vector @@ (${candidateQuery(sources.length)}) and not p.id = any(${sourceIds})`);
  }
}

/**
 * An OR tsquery of the sources' lexemes (those in similarity_terms so far),
 * rarest first, as many as keep the papers they reach within the budget (at
 * least one). Each is quoted as a tsquery literal (quotes doubled,
 * backslashes escaped), so no lexeme is parsed as an operator.
 */
function candidateQuery(sourceCount: number): SQL {
  return sql`
    select string_agg('''' || replace(replace(lexeme, '\\', '\\\\'), '''', '''''') || '''', ' | ')::tsquery
    from (
      select lexeme,
        sum(documents) over (order by documents, lexeme) as reach,
        row_number() over (order by documents, lexeme) as position
      from (select distinct t.lexeme, f.documents from similarity_terms t join similarity_frequencies f on f.lexeme = t.lexeme) shared
    ) searched
    where reach <= ${sourceCount * CANDIDATES_PER_SOURCE} or position = 1
  `;
}

async function insertVectors(tx: Database, scope: SQL): Promise<void> {
  const occurrences = sql.join((['A', 'B', 'C', 'D'] as const).map(weightClassValue), sql` + `);
  await tx.execute(sql`
    insert into similarity_terms (paper_id, lexeme, weight)
    with corpus as (select count(*)::float8 as n from papers),
    weighted as (
      select p.id as paper_id, u.lexeme,
        ln(1 + greatest(${occurrences}, ${LIGHTEST_CLASS_VALUE}::float8)) * ln(corpus.n / f.documents) as w
      from papers p
      cross join lateral unnest(p.search_vector) u
      join similarity_frequencies f on f.lexeme = u.lexeme
      cross join corpus
      where ${scope}
    ),
    normalized as (
      select paper_id, lexeme, w / sqrt(sum(w * w) over (partition by paper_id)) as weight,
        row_number() over (partition by paper_id order by w desc, lexeme) as position
      from weighted
    )
    select paper_id, lexeme, weight from normalized where position <= ${TERMS_PER_PAPER}
  `);
}

/** The content vectors in memory (see similarity-scoring.ts). */
export interface ContentVectors {
  /** Each paper's lexemes (dense lexeme numbers) and weights. */
  terms: CompressedRows;
  /** Each lexeme's champion list: the PAPERS_PER_TERM papers where it weighs most (then highest id), and those weights. */
  champions: CompressedRows;
}

/**
 * Reads pg_temp.similarity_terms into memory, one row per paper (lexemes
 * numbered in SQL, numbers and weights as text: the same on postgres.js and
 * PGlite, and a float8's text reads back exactly), and builds each lexeme's
 * champion list. Needs buildContentVectors first.
 */
export async function loadContentVectors(db: Database, papers: PaperIndex): Promise<ContentVectors> {
  const rows = await queryRows<{ paper_id: number; lexemes: string; weights: string }>(
    db,
    sql`
      with numbered as (select lexeme, (row_number() over (order by lexeme) - 1)::int as number from (select distinct lexeme from similarity_terms) l)
      select t.paper_id, string_agg(n.number::text, ',' order by n.number) as lexemes, string_agg(t.weight::text, ',' order by n.number) as weights
      from similarity_terms t join numbered n using (lexeme)
      group by t.paper_id
    `,
  );
  const byPaper = new Map<number, { items: number[]; values: number[] }>();
  let lexemeCount = 0;
  for (const row of rows) {
    const paper = papers.byId.get(row.paper_id);
    if (paper === undefined) continue;
    const items = row.lexemes.split(',').map(Number);
    for (const lexeme of items) lexemeCount = Math.max(lexemeCount, lexeme + 1);
    byPaper.set(paper, { items, values: row.weights.split(',').map(Number) });
  }
  const terms = compressRows(papers.ids.length, byPaper, true);
  // Each lexeme's papers, heaviest first (ties: the higher id), cut to the champions.
  const holders = transposeRows(terms, lexemeCount);
  const lexemePapers = holders.items;
  const lexemeWeights = holders.values!;
  const championLists = new Map<number, { items: number[]; values: number[] }>();
  for (let lexeme = 0; lexeme < lexemeCount; lexeme++) {
    const from = holders.start[lexeme]!;
    const to = holders.start[lexeme + 1]!;
    const order = Array.from({ length: to - from }, (_, at) => from + at);
    order.sort((a, b) => lexemeWeights[b]! - lexemeWeights[a]! || lexemePapers[b]! - lexemePapers[a]!);
    const kept = order.slice(0, PAPERS_PER_TERM);
    championLists.set(lexeme, { items: kept.map((at) => lexemePapers[at]!), values: kept.map((at) => lexemeWeights[at]!) });
  }
  return { terms, champions: compressRows(lexemeCount, championLists, true) };
}
