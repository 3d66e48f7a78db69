import { and, asc, eq, isNull, lt, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { queryRows } from '../../db/rows';
import { paperColumns, paperNeighbors, papers, similarPapers, type PaperRow } from '../../db/schema';
import { coUpvoteSimilarity, loadCoUpvoteVotes, type CoUpvoteVotes } from './co-upvotes';
import { buildContentVectors, loadContentVectors, type ContentVectors } from './content-vectors';
import { Accumulator, TopK, accumulateCoVoters, accumulateContent, buildPaperIndex, type PaperIndex } from './similarity-scoring';
import { DEFAULT_SIMILARITY_WEIGHTS, NEIGHBORS_STORED, SIMILAR_PAPERS_STORED, type SimilarityWeights } from './ranking-parameters';

/**
 * "Similar papers": for each paper, the SIMILAR_PAPERS_STORED papers with the
 * highest blend of content similarity, co-upvote similarity and trending
 * score, precomputed into the similar_papers table by the refresh jobs and
 * read from it by Paper.similarPapers.
 */

/** Source papers whose rows are written per statement. */
const BATCH_SIZE = 1_000;

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
 * or of every paper, replacing their rows in one transaction. The content
 * vectors are built in SQL, then they, the votes and the trending scores are
 * read into memory once and every source is scored there
 * (similarity-scoring.ts); the rows are written a batch of sources at a time.
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
    // Building the vectors sorts millions of rows on a large corpus: in memory rather than in temporary files.
    await tx.execute(sql`set local work_mem = '${sql.raw(WORK_MEMORY)}'`);
    const sourceIds = await existingPaperIds(tx, paperIds);
    const refresh: SimilarPapersRefresh = { papers: sourceIds.length, rows: 0 };
    if (sourceIds.length === 0) return refresh;
    const trendRows = await queryRows<{ id: number; trend: string }>(
      tx,
      sql`select id, exp(greatest(trending_key - max(trending_key) over (), -700))::text as trend from papers`,
    );
    const index = buildPaperIndex(trendRows.map((row) => row.id));
    // Every paper's trending score relative to the top paper's, exp(K - max K), in 0..1; as text, read back exactly.
    const trend = new Float64Array(index.ids.length);
    for (const row of trendRows) trend[index.byId.get(row.id)!] = Number(row.trend);
    // Both similarity signals are always computed: the personal ranking reads each one's neighbours.
    await buildContentVectors(tx, paperIds === 'all' ? 'all' : sourceIds);
    const content = await loadContentVectors(tx, index);
    const votes = await loadCoUpvoteVotes(tx, index);
    const topTrending = await queryRows<{ id: number }>(
      tx,
      sql`select id from papers order by trending_key desc, id desc limit ${SIMILAR_PAPERS_STORED + 1}`,
    );
    const scorer = new SimilarityScorer(
      index,
      content,
      votes,
      trend,
      // A paper added since the index was read is left out (each statement sees the rows committed when it starts).
      topTrending.flatMap((row) => index.byId.get(row.id) ?? []),
      weights,
    );
    for (let offset = 0; offset < sourceIds.length; offset += BATCH_SIZE) {
      const batch = sourceIds.slice(offset, offset + BATCH_SIZE);
      const similar: Rows = { paper: [], other: [], rank: [], value: [] };
      const neighbors: Rows & { signal: NeighborSignal[] } = { paper: [], other: [], rank: [], value: [], signal: [] };
      for (const id of batch) scorer.score(id, similar, neighbors);
      await tx.delete(similarPapers).where(idIn(similarPapers.paperId, batch));
      await tx.execute(sql`
        insert into similar_papers (paper_id, rank, similar_paper_id, score)
        select * from unnest(${sql.param(similar.paper)}::int[], ${sql.param(similar.rank)}::int[], ${sql.param(similar.other)}::int[], ${sql.param(similar.value)}::float8[])
      `);
      refresh.rows += similar.paper.length;
      await tx.delete(paperNeighbors).where(idIn(paperNeighbors.paperId, batch));
      await tx.execute(sql`
        insert into paper_neighbors (paper_id, signal, neighbor_id, similarity)
        select * from unnest(${sql.param(neighbors.paper)}::int[], ${sql.param(neighbors.signal)}::text[], ${sql.param(neighbors.other)}::int[], ${sql.param(neighbors.value)}::float8[])
      `);
    }
    // A bulk rewrite leaves the planner's statistics far off (it saw 4,593 rows of 2,274,660 and scanned them all
    // for one reader's feed): refreshed at once rather than when autovacuum next gets to it.
    if (sourceIds.length >= BATCH_SIZE) await tx.execute(sql`analyze paper_neighbors, similar_papers`);
    return refresh;
  });
}

export type NeighborSignal = 'content' | 'co_upvote';

/** Rows to write, a column each: (paper, rank, other paper, score or similarity). */
interface Rows {
  paper: number[];
  other: number[];
  rank: number[];
  value: number[];
}

/**
 * Scores one source paper at a time against everything it reaches:
 * - paper_neighbors: its NEIGHBORS_STORED most similar papers by content and
 *   by co-upvotes (similarity above 0; ties: the higher id);
 * - similar_papers: its candidates (papers sharing words, co-upvoted papers,
 *   and the top trending ones, never the paper itself, each only when its
 *   weight is positive) scored content x weight + co-upvote x weight +
 *   trend x weight, the best SIMILAR_PAPERS_STORED above 0 by score, then id,
 *   both descending.
 */
class SimilarityScorer {
  private readonly contentSums: Accumulator;
  private readonly coVoters: Accumulator;
  private readonly nearest = new TopK(NEIGHBORS_STORED);
  private readonly best = new TopK(SIMILAR_PAPERS_STORED);

  constructor(
    private readonly index: PaperIndex,
    private readonly content: ContentVectors,
    private readonly votes: CoUpvoteVotes,
    private readonly trend: Float64Array,
    private readonly topTrending: readonly number[],
    private readonly weights: SimilarityWeights,
  ) {
    this.contentSums = new Accumulator(index.ids.length);
    this.coVoters = new Accumulator(index.ids.length);
  }

  score(sourceId: number, similar: Rows, neighbors: Rows & { signal: NeighborSignal[] }): void {
    const source = this.index.byId.get(sourceId);
    if (source === undefined) return; // deleted since the sources were listed
    const { contentSums, coVoters, nearest, best, weights, trend } = this;
    const ids = this.index.ids;
    const voters = this.votes.voters.start;
    const votersOf = (paper: number) => voters[paper + 1]! - voters[paper]!;
    accumulateContent(source, this.content.terms, this.content.champions, contentSums);
    accumulateCoVoters(source, this.votes.votes, this.votes.voters, coVoters);
    const coSimilarity = (paper: number) => coUpvoteSimilarity(coVoters.sums[paper]!, votersOf(source), votersOf(paper));
    const emit = (rows: Rows, top: TopK) => {
      for (let rank = 0; rank < top.size; rank++) {
        rows.paper.push(sourceId);
        rows.rank.push(rank);
        rows.other.push(ids[top.papers[rank]!]!);
        rows.value.push(top.values[rank]!);
      }
    };
    const emitNeighbors = (signal: NeighborSignal) => {
      for (let rank = 0; rank < nearest.size; rank++) neighbors.signal.push(signal);
      emit(neighbors, nearest);
    };

    nearest.clear();
    for (let at = 0; at < contentSums.count; at++) {
      const paper = contentSums.touched[at]!;
      if (contentSums.sums[paper]! > 0) nearest.offer(paper, contentSums.sums[paper]!);
    }
    emitNeighbors('content');
    nearest.clear();
    for (let at = 0; at < coVoters.count; at++) {
      const paper = coVoters.touched[at]!;
      nearest.offer(paper, coSimilarity(paper));
    }
    emitNeighbors('co_upvote');

    // A candidate is scored once: content's first, then co-upvotes' not already scored, then trending's.
    best.clear();
    const scoreOf = (paper: number) => {
      let score = 0;
      if (weights.content > 0) score += weights.content * contentSums.sums[paper]!;
      if (weights.coUpvote > 0 && coVoters.sums[paper]! > 0) score += weights.coUpvote * coSimilarity(paper);
      if (weights.trending > 0) score += weights.trending * trend[paper]!;
      return score;
    };
    const offer = (paper: number) => {
      const score = scoreOf(paper);
      if (score > 0) best.offer(paper, score);
    };
    if (weights.content > 0) for (let at = 0; at < contentSums.count; at++) offer(contentSums.touched[at]!);
    if (weights.coUpvote > 0) {
      for (let at = 0; at < coVoters.count; at++) {
        const paper = coVoters.touched[at]!;
        if (!(weights.content > 0 && contentSums.sums[paper]! > 0)) offer(paper);
      }
    }
    if (weights.trending > 0) {
      for (const paper of this.topTrending) {
        const reached = (weights.content > 0 && contentSums.sums[paper]! > 0) || (weights.coUpvote > 0 && coVoters.sums[paper]! > 0);
        if (paper !== source && !reached) offer(paper);
      }
    }
    emit(similar, best);
    contentSums.clear();
    coVoters.clear();
  }
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
