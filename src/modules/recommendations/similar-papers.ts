import { and, asc, eq, isNull, lt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { queryRows } from '../../db/rows';
import { paperColumns, paperNeighbors, papers, similarPapers, type PaperRow } from '../../db/schema';
import { buildCoUpvoteVotes, coUpvoteSimilaritySql } from './co-upvotes';
import { buildContentVectors, contentSimilaritySql } from './content-vectors';
import { DEFAULT_SIMILARITY_WEIGHTS, NEIGHBORS_STORED, SIMILAR_PAPERS_STORED, type SimilarityWeights } from './ranking-parameters';

/**
 * "Similar papers": for each paper, the SIMILAR_PAPERS_STORED papers with the
 * highest blend of content similarity, co-upvote similarity and trending
 * score, precomputed into the similar_papers table by the refresh jobs and
 * read from it by Paper.similarPapers.
 */

/** Source papers scored per statement. */
const BATCH_SIZE = 500;

/**
 * Arbitrary, fixed: the advisory lock that runs refreshes one at a time. A
 * per-paper refresh and the full one would otherwise both rewrite that
 * paper's rows and one of them would fail on the primary key.
 */
const REFRESH_LOCK_KEY = 4_720_261_127;

/** Postgres's work_mem for a refresh's transaction (the server default is 4MB). */
const WORK_MEMORY = '64MB';

export interface SimilarPapersRefresh {
  /** Papers whose similar papers were rewritten. */
  papers: number;
  /** Rows written. */
  rows: number;
}

/**
 * Whether papers that could have neighbours have none stored: a database
 * filled before paper_neighbors existed, whose personal feeds would lack
 * their content and co-upvote signals until the next full refresh.
 */
export async function lacksPaperNeighbors(db: Database): Promise<boolean> {
  const [row] = await queryRows<{ lacks: boolean }>(
    db,
    sql`select (select count(*) from (select 1 from papers limit 2) as two) = 2 and not exists (select 1 from paper_neighbors) as lacks`,
  );
  return row!.lacks;
}

/**
 * Recomputes and stores the similar papers of `paperIds` (those that exist),
 * or of every paper, replacing their rows in one transaction. Scoring is
 * set-based: one statement per batch of papers, after the vectors and votes
 * have been gathered once.
 */
export async function refreshSimilarPapers(
  db: Database,
  paperIds: readonly number[] | 'all',
  weights: SimilarityWeights = DEFAULT_SIMILARITY_WEIGHTS,
): Promise<SimilarPapersRefresh> {
  if (!(weights.content > 0 || weights.coUpvote > 0 || weights.trending > 0)) {
    throw new RangeError('At least one similarity weight must be positive.');
  }
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${REFRESH_LOCK_KEY})`);
    // The scoring hashes and sorts millions of rows on a large corpus: in memory rather than in temporary files.
    await tx.execute(sql`set local work_mem = '${sql.raw(WORK_MEMORY)}'`);
    const sourceIds = await existingPaperIds(tx, paperIds);
    const refresh: SimilarPapersRefresh = { papers: sourceIds.length, rows: 0 };
    if (sourceIds.length === 0) return refresh;
    // Both similarity signals are always built: the personal ranking reads each one's neighbours.
    await buildContentVectors(tx, paperIds === 'all' ? 'all' : sourceIds);
    await buildCoUpvoteVotes(tx);
    if (weights.trending > 0) await buildTrendScores(tx);
    await tx.execute(sql`drop table if exists pg_temp.batch_similarity`);
    await tx.execute(sql`
      create temp table batch_similarity (paper_id int not null, signal text not null, similar_id int not null, similarity float8 not null) on commit drop
    `);
    for (let offset = 0; offset < sourceIds.length; offset += BATCH_SIZE) {
      const batch = sourceIds.slice(offset, offset + BATCH_SIZE);
      // Each signal's similarities are computed once a batch, for both tables.
      await tx.execute(sql`truncate batch_similarity`);
      await tx.execute(sql`insert into batch_similarity ${similaritiesSql(sql`${sql.param(batch)}::int[]`, ['content', 'co_upvote'])}`);
      await tx.delete(similarPapers).where(idIn(similarPapers.paperId, batch));
      refresh.rows += await insertSimilarPapers(tx, batch, weights);
      await tx.delete(paperNeighbors).where(idIn(paperNeighbors.paperId, batch));
      await tx.execute(sql`insert into paper_neighbors (paper_id, signal, neighbor_id, similarity) ${nearestSql(sql`batch_similarity`)}`);
    }
    return refresh;
  });
}

export type NeighborSignal = 'content' | 'co_upvote';

/**
 * (paper_id, signal, similar_id, similarity) for every paper in `batch` and
 * each of `signals`: all its scored pairs. Needs buildContentVectors /
 * buildCoUpvoteVotes first.
 */
function similaritiesSql(batch: SQL, signals: readonly NeighborSignal[]): SQL {
  const bySignal: Record<NeighborSignal, SQL> = {
    content: sql`select paper_id, 'content' as signal, similar_id, similarity from (${contentSimilaritySql(batch)}) content`,
    co_upvote: sql`select paper_id, 'co_upvote' as signal, similar_id, similarity from (${coUpvoteSimilaritySql(batch)}) co_upvotes`,
  };
  return sql.join(
    signals.map((signal) => bySignal[signal]),
    sql` union all `,
  );
}

/** (paper_id, signal, neighbor_id, similarity): the NEIGHBORS_STORED most similar of each paper and signal in `similarities`. */
function nearestSql(similarities: SQL): SQL {
  return sql`
    select paper_id, signal, similar_id, similarity from (
      select paper_id, signal, similar_id, similarity,
        row_number() over (partition by paper_id, signal order by similarity desc, similar_id desc) as position
      from ${similarities} scored
      where similarity > 0
    ) ranked
    where position <= ${NEIGHBORS_STORED}
  `;
}

/**
 * pg_temp.similarity_trend(paper_id, trend): every paper's trending score
 * relative to the top paper's, exp(K - max K), in 0..1. A narrow copy, so
 * each batch joins it rather than the papers table.
 */
async function buildTrendScores(tx: Database): Promise<void> {
  await tx.execute(sql`drop table if exists pg_temp.similarity_trend`);
  await tx.execute(sql`
    create temp table similarity_trend on commit drop as
    select id as paper_id, exp(greatest(trending_key - max(trending_key) over (), -700)) as trend from papers
  `);
  await tx.execute(sql`alter table similarity_trend add primary key (paper_id)`);
  await tx.execute(sql`analyze similarity_trend`);
}

async function existingPaperIds(db: Database, paperIds: readonly number[] | 'all'): Promise<number[]> {
  const rows = await db
    .select({ id: papers.id })
    .from(papers)
    .where(paperIds === 'all' ? undefined : idIn(papers.id, paperIds))
    .orderBy(asc(papers.id));
  return rows.map((row) => row.id);
}

/**
 * Scores every candidate of each paper in `batch` (papers sharing words,
 * co-upvoted papers from pg_temp.batch_similarity, and the top trending
 * ones, never the paper itself),
 * keeps the best SIMILAR_PAPERS_STORED by score, then id, both descending,
 * and writes them. A signal with weight 0 is not computed.
 */
async function insertSimilarPapers(tx: Database, batch: number[], weights: SimilarityWeights): Promise<number> {
  const batchIds = sql`${sql.param(batch)}::int[]`;
  const candidates: SQL[] = [];
  if (weights.content > 0) {
    candidates.push(sql`select paper_id, similar_id, ${weights.content}::float8 * similarity as part from batch_similarity where signal = 'content'`);
  }
  if (weights.coUpvote > 0) {
    candidates.push(sql`select paper_id, similar_id, ${weights.coUpvote}::float8 * similarity as part from batch_similarity where signal = 'co_upvote'`);
  }
  if (weights.trending > 0) {
    // The fallback: enough trending papers to fill a list without the paper itself.
    candidates.push(sql`
      select source.id as paper_id, top.id as similar_id, 0::float8 as part
      from unnest(${batchIds}) as source(id)
      cross join (select id from papers order by trending_key desc, id desc limit ${SIMILAR_PAPERS_STORED + 1}) top
      where top.id <> source.id
    `);
  }
  const scored =
    weights.trending > 0
      ? sql`
          select c.paper_id, c.similar_id, sum(c.part) + ${weights.trending}::float8 * t.trend as score
          from candidates c join similarity_trend t on t.paper_id = c.similar_id
          group by c.paper_id, c.similar_id, t.trend
        `
      : sql`select paper_id, similar_id, sum(part) as score from candidates group by paper_id, similar_id`;
  const [written] = await queryRows<{ rows: number }>(
    tx,
    sql`
      with candidates as (${sql.join(candidates, sql` union all `)}),
      scored as (${scored}),
      ranked as (
        select paper_id, similar_id, score,
          row_number() over (partition by paper_id order by score desc, similar_id desc) - 1 as rank
        from scored
        where score > 0
      ),
      inserted as (
        insert into similar_papers (paper_id, rank, similar_paper_id, score)
        select paper_id, rank, similar_id, score from ranked where rank < ${SIMILAR_PAPERS_STORED}
        returning 1
      )
      select count(*)::int as rows from inserted
    `,
  );
  return written?.rows ?? 0;
}

/**
 * The stored similar papers of each paper in `paperIds`, best first, at most
 * `limit` each, in one query; a paper without rows maps to [].
 */
export async function findSimilarPapers(db: Database, paperIds: readonly number[], limit: number): Promise<Map<number, PaperRow[]>> {
  const similar = new Map<number, PaperRow[]>(paperIds.map((paperId) => [paperId, []]));
  if (paperIds.length === 0 || limit <= 0) return similar;
  const rows = await db
    .select({ sourceId: similarPapers.paperId, paper: paperColumns })
    .from(similarPapers)
    .innerJoin(papers, eq(papers.id, similarPapers.similarPaperId))
    .where(and(idIn(similarPapers.paperId, paperIds), lt(similarPapers.rank, limit), isNull(papers.withdrawnAt)))
    .orderBy(asc(similarPapers.paperId), asc(similarPapers.rank));
  for (const row of rows) similar.get(row.sourceId)?.push(row.paper);
  return similar;
}
