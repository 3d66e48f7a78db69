import { sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';

/**
 * The personal ranking. Seven signals; each scores every candidate, 0..1,
 * and all but unseen also propose candidates (the papers it favours are the
 * newest, which freshness proposes):
 *
 * - coUpvote: sum over the reader's upvotes of the shrunk co-upvote cosine
 *   to the candidate (paper_neighbors, 'co_upvote'), recent upvotes weighing
 *   more, dismissed papers counting against;
 * - content: the same over the tf-idf cosine (paper_neighbors, 'content');
 * - readers: "popular with readers like this one": the share of the reader's
 *   upvotes carrying the candidate's keywords, times the candidate's
 *   popularity (log upvotes relative to the most upvoted paper);
 * - coReaders: "upvoted by readers who upvote what you upvote": the reader's
 *   nearest readers (shared upvotes over the root of their upvotes), and the
 *   sum of their similarities over those who lately upvoted the candidate.
 *   It reaches a new paper as soon as a few like-minded readers upvote it,
 *   before it has the votes to be anyone's co-upvote neighbour;
 * - trending: the trending score relative to the top paper's;
 * - freshness: halves every FRESHNESS_HALF_LIFE_DAYS before the newest paper;
 * - unseen: 1 for a paper featured since the reader's latest upvote, halving
 *   every UNSEEN_HALF_LIFE_HOURS it was featured before it. A reader's next
 *   upvote comes after their latest one, mostly on a paper featured since;
 *   one they scrolled past back then is less likely. Unlike freshness it
 *   does not prefer the newest papers over others the reader has not seen.
 *
 * coUpvote, content, readers and coReaders are divided by the reader's best candidate's
 * value, so a weight means the same for every reader. A paper's score is
 * log-linear: sum over signals of weight * ln(FLOOR + value) - ln(FLOOR),
 * i.e. the product of (1 + value/FLOOR)^weight. A product rewards papers
 * good on every weighted signal at once ("new AND like what you read"),
 * which a weighted sum cannot express and which measured better in
 * `npm run eval:recs`. The weights come from the served ranking model
 * (tuning.ts).
 */

export const SIGNALS = ['coUpvote', 'content', 'readers', 'coReaders', 'trending', 'freshness', 'unseen'] as const;
export type Signal = (typeof SIGNALS)[number];
export type RankingWeights = Record<Signal, number>;

/**
 * Served while no tuned model beats trending (too little data, or none fitted
 * yet): content and trending as much, the other signals a little. Chosen
 * among a few candidates with `npm run eval:recs` (on its held-out votes, so
 * its figures there flatter it): above trending on every world.
 */
export const HAND_WEIGHTS: RankingWeights = { coUpvote: 0.3, content: 1, readers: 0.3, coReaders: 0.3, trending: 1, freshness: 0.1, unseen: 0 };

/** Each signal alone: the baselines the tuner and the evaluation report. */
export function signalAlone(signal: Signal): RankingWeights {
  return { coUpvote: 0, content: 0, readers: 0, coReaders: 0, trending: 0, freshness: 0, unseen: 0, [signal]: 1 };
}

/** How many of a reader's latest upvotes make their profile. */
const PROFILE_SIZE = 100;
/** An upvote's weight in the profile halves every this many days before the reader's latest upvote. */
const UPVOTE_HALF_LIFE_DAYS = 30;
/** A dismissed paper's weight in the profile: as much as the latest upvote, against. */
const DISMISSAL_WEIGHT = -1;
/** Papers whose own list names an upvoted paper, per signal: the nearest of them (a popular paper is on thousands of lists). */
const REVERSE_NEIGHBORS = 30;
/**
 * Of the papers near the reader's upvotes, the candidates proposed: the nearest by each of the
 * two similarity signals. A long profile reaches thousands, and each candidate costs index reads.
 */
const NEARBY_CANDIDATES = 200;
/** Each upvoted paper's latest voters that are compared with the reader (a popular paper has thousands). */
const VOTERS_PER_PAPER = 50;
/** Readers with the most shared upvotes, before dividing by the root of their upvotes. */
const PEER_POOL = 100;
/** The nearest readers whose upvotes propose and score candidates. */
const PEERS = 30;
/** Each of those readers' latest upvotes. */
const PEER_UPVOTES = 50;
/** Of what they upvoted, the candidates proposed (all of it is scored): the most co-read. */
const CO_READ_CANDIDATES = 100;
/** The reader's keywords that propose candidates (all their keywords score them). */
const KEYWORDS_PER_READER = 5;
/** Candidates each of those keywords proposes: its most upvoted papers among the POPULAR_POOL most upvoted. */
const PAPERS_PER_KEYWORD = 30;
/** Bounds the keyword proposals' scan: a keyword on thousands of papers would otherwise sort them all per reader. */
const POPULAR_POOL = 500;
/** Candidates proposed by trending and by freshness each. */
const GLOBAL_CANDIDATES = 50;
const FRESHNESS_HALF_LIFE_DAYS = 3;
/** unseen: a paper featured this long before the reader's latest upvote weighs half (the site features papers daily). */
const UNSEEN_HALF_LIFE_HOURS = 24;

/** Where the signals are read from: the live tables, or the tuner's training view of them. */
export interface RankingSources {
  /** (user_id, paper_id, created_at): the upvotes. */
  votes: SQL;
  /** (paper_id, signal, neighbor_id, similarity). */
  neighbors: SQL;
  /** (paper_id, votes, trend_key): each paper's upvote count and trending key. */
  paperStats: SQL;
}

export const LIVE_SOURCES: RankingSources = {
  votes: sql`upvotes`,
  neighbors: sql`paper_neighbors`,
  paperStats: sql`(select id as paper_id, upvote_count as votes, trending_key as trend_key from papers)`,
};

export interface Candidate {
  paperId: number;
  features: RankingWeights;
  /** The upvoted paper that contributes most to the candidate's co-upvote / content score. */
  likeByCoUpvote: number | null;
  likeByContent: number | null;
  /** The reader's keyword (of the candidate's) with the largest share of their upvotes. */
  keyword: string | null;
}

type CandidateRow = {
  user_id: number;
  paper_id: number;
  co_upvote: number;
  content: number;
  readers: number;
  co_readers: number;
  trending: number;
  freshness: number;
  unseen: number;
  like_by_co_upvote: number | null;
  like_by_content: number | null;
  keyword: string | null;
};

/**
 * Every candidate of each reader in `userIds` with its features, set
 * based (one statement whatever the number of readers). Never a paper the
 * reader upvoted or dismissed.
 */
export async function scoreCandidates(
  db: Database,
  userIds: readonly number[],
  sources: RankingSources = LIVE_SOURCES,
): Promise<Map<number, Candidate[]>> {
  if (userIds.length === 0) return new Map();
  const { votes, neighbors, paperStats } = sources;
  const rows = await queryRows<CandidateRow>(
    db,
    sql`
      with readers as (select distinct user_id from unnest(${sql.param(userIds)}::int[]) as r(user_id)),
      recent as (
        select v.user_id, v.paper_id, v.created_at,
          row_number() over (partition by v.user_id order by v.created_at desc, v.paper_id desc) as recency,
          max(v.created_at) over (partition by v.user_id) as latest
        from ${votes} v join readers r on r.user_id = v.user_id
      ),
      upvoted as (select user_id, paper_id from recent),
      last_upvote as (select user_id, max(created_at) as latest from recent group by user_id),
      dismissed as (select d.user_id, d.paper_id from recommendation_dismissals d join readers r on r.user_id = d.user_id),
      profile as (
        select user_id, paper_id,
          exp(-ln(2) * extract(epoch from (latest - created_at))::float8 / ${UPVOTE_HALF_LIFE_DAYS * 86_400}::float8) as weight
        from recent where recency <= ${PROFILE_SIZE}
        union all
        select user_id, paper_id, ${DISMISSAL_WEIGHT}::float8 from dismissed
      ),
      peer_votes as (
        select p.user_id, voter.user_id as peer_id, p.weight
        from profile p
        cross join lateral (
          select v.user_id from ${votes} v
          where v.paper_id = p.paper_id and v.user_id <> p.user_id
          order by v.created_at desc, v.user_id desc limit ${VOTERS_PER_PAPER}
        ) voter
        where p.weight > 0
      ),
      shared as (
        select user_id, peer_id, shared from (
          select user_id, peer_id, sum(weight) as shared,
            row_number() over (partition by user_id order by sum(weight) desc, peer_id) as position
          from peer_votes group by user_id, peer_id
        ) ranked where position <= ${PEER_POOL}
      ),
      peers as (
        select user_id, peer_id, similarity from (
          select s.user_id, s.peer_id, s.shared / sqrt(greatest(c.upvotes, 1)) as similarity,
            row_number() over (partition by s.user_id order by s.shared / sqrt(greatest(c.upvotes, 1)) desc, s.peer_id) as position
          from shared s
          cross join lateral (select count(*)::float8 as upvotes from ${votes} v where v.user_id = s.peer_id) c
        ) ranked where position <= ${PEERS}
      ),
      co_read as (
        select pr.user_id, pv.paper_id, sum(pr.similarity) as co_readers
        from peers pr
        cross join lateral (
          select v.paper_id from ${votes} v where v.user_id = pr.peer_id
          order by v.created_at desc, v.paper_id desc limit ${PEER_UPVOTES}
        ) pv
        group by pr.user_id, pv.paper_id
      ),
      edges as (
        -- Both directions: a paper's stored list names its nearest, and a newer paper's list names older ones near it.
        select user_id, source_id, weight, signal, paper_id, max(similarity) as similarity from (
          select p.user_id, p.paper_id as source_id, p.weight, n.signal, n.neighbor_id as paper_id, n.similarity
          from profile p join ${neighbors} n on n.paper_id = p.paper_id
          union all
          select p.user_id, p.paper_id, p.weight, listing.signal, listing.paper_id, listing.similarity
          from profile p
          cross join (values ('content'), ('co_upvote')) as s(signal)
          cross join lateral (
            select n.signal, n.paper_id, n.similarity from ${neighbors} n
            where n.neighbor_id = p.paper_id and n.signal = s.signal
            order by n.similarity desc limit ${REVERSE_NEIGHBORS}
          ) listing
        ) both_ways
        group by user_id, source_id, weight, signal, paper_id
      ),
      nearby as (
        select user_id, paper_id,
          coalesce(sum(weight * similarity) filter (where signal = 'co_upvote'), 0) as co_upvote,
          coalesce(sum(weight * similarity) filter (where signal = 'content'), 0) as content,
          (array_agg(source_id order by weight * similarity desc, source_id desc) filter (where signal = 'co_upvote' and weight > 0))[1] as like_by_co_upvote,
          (array_agg(source_id order by weight * similarity desc, source_id desc) filter (where signal = 'content' and weight > 0))[1] as like_by_content
        from edges
        group by user_id, paper_id
      ),
      keyword_shares as (
        select p.user_id, k.keyword, count(*)::float8 / max(totals.upvotes) as share
        from profile p
        join (select user_id, count(*)::float8 as upvotes from profile where weight > 0 group by user_id) totals on totals.user_id = p.user_id
        join papers paper on paper.id = p.paper_id
        cross join lateral unnest(paper.keywords) as k(keyword)
        where p.weight > 0
        group by p.user_id, k.keyword
      ),
      top_keywords as (
        select user_id, keyword from (
          select user_id, keyword, row_number() over (partition by user_id order by share desc, keyword) as position
          from keyword_shares
        ) ranked where position <= ${KEYWORDS_PER_READER}
      ),
      most_upvoted as materialized (
        select s.paper_id, s.votes, paper.keywords from ${paperStats} s join papers paper on paper.id = s.paper_id
        order by s.votes desc, s.paper_id desc limit ${POPULAR_POOL}
      ),
      candidates as (
        select user_id, paper_id from (
          select user_id, paper_id,
            row_number() over (partition by user_id order by co_upvote desc, paper_id desc) as by_co_upvote,
            row_number() over (partition by user_id order by content desc, paper_id desc) as by_content
          from nearby
        ) proposed where by_co_upvote <= ${NEARBY_CANDIDATES} or by_content <= ${NEARBY_CANDIDATES}
        union
        select user_id, paper_id from (
          select user_id, paper_id, row_number() over (partition by user_id order by co_readers desc, paper_id desc) as position from co_read
        ) proposed where position <= ${CO_READ_CANDIDATES}
        union
        select t.user_id, popular.paper_id from top_keywords t
        cross join lateral (
          select p.paper_id from most_upvoted p
          where t.keyword = any(p.keywords)
          order by p.votes desc, p.paper_id desc limit ${PAPERS_PER_KEYWORD}
        ) popular
        union
        -- The reader's votes probed through the votes' index, not the upvoted CTE: a CTE has no index, and scanning
        -- every reader's votes per probe made the tuner's 500 readers take 295 s here at the bench scale.
        select r.user_id, top.paper_id from readers r
        cross join lateral (
          select s.paper_id from ${paperStats} s
          where not exists (select 1 from ${votes} u where u.user_id = r.user_id and u.paper_id = s.paper_id)
          order by s.trend_key desc, s.paper_id desc limit ${GLOBAL_CANDIDATES}
        ) top
        union
        select r.user_id, newest.id from readers r
        cross join lateral (
          select paper.id from papers paper
          where not exists (select 1 from ${votes} u where u.user_id = r.user_id and u.paper_id = paper.id)
          order by coalesce(paper.submitted_at, '-infinity'::timestamptz) desc, paper.id desc limit ${GLOBAL_CANDIDATES}
        ) newest
      ),
      kept as (
        select c.user_id, c.paper_id from candidates c
        where not exists (select 1 from upvoted u where u.user_id = c.user_id and u.paper_id = c.paper_id)
          and not exists (select 1 from dismissed d where d.user_id = c.user_id and d.paper_id = c.paper_id)
      ),
      globals as (
        select (select max(trend_key) from ${paperStats} s) as top_key,
          ln(2 + coalesce((select max(votes) from ${paperStats} s), 0)) as top_popularity,
          -- Two index reads rather than a scan of every paper for max(coalesce(submitted_at, published_at)).
          greatest(
            (select max(submitted_at) from papers),
            (select published_at from papers order by published_at desc, id desc limit 1)
          ) as newest
      ),
      -- Materialized: one read of each candidate's keywords, not one per keyword of the reader (the planner's choice).
      kept_keywords as materialized (
        select k.user_id, k.paper_id, pk.keyword
        from kept k
        cross join lateral (select keywords from papers where id = k.paper_id limit 1) paper
        cross join lateral unnest(paper.keywords) as pk(keyword)
      ),
      affinity as (
        select kk.user_id, kk.paper_id, sum(ks.share) as affinity,
          (array_agg(ks.keyword order by ks.share desc, ks.keyword))[1] as keyword
        from kept_keywords kk
        join keyword_shares ks on ks.user_id = kk.user_id and ks.keyword = kk.keyword
        group by kk.user_id, kk.paper_id
      ),
      featured as (
        select k.user_id, k.paper_id,
          coalesce(sim.co_upvote, 0) as co_upvote, coalesce(sim.content, 0) as content,
          coalesce(a.affinity, 0) * ln(1 + greatest(s.votes, 0)) / g.top_popularity as readers,
          coalesce(cr.co_readers, 0) as co_readers,
          exp(greatest(s.trend_key - g.top_key, -700)) as trending,
          exp(-ln(2) * greatest(extract(epoch from (g.newest - coalesce(paper.submitted_at, paper.published_at)))::float8, 0)
              / ${FRESHNESS_HALF_LIFE_DAYS * 86_400}::float8) as freshness,
          coalesce(exp(-ln(2) * greatest(extract(epoch from (lu.latest - coalesce(paper.submitted_at, paper.published_at)))::float8, 0)
              / ${UNSEEN_HALF_LIFE_HOURS * 3600}::float8), 0) as unseen,
          sim.like_by_co_upvote, sim.like_by_content, a.keyword
        from kept k
        cross join globals g
        -- Lateral with limit (not flattened into a join): one index read per candidate, never a hash of every paper.
        cross join lateral (select submitted_at, published_at from papers where id = k.paper_id limit 1) paper
        cross join lateral (select votes, trend_key from ${paperStats} s where s.paper_id = k.paper_id limit 1) s
        left join nearby sim on sim.user_id = k.user_id and sim.paper_id = k.paper_id
        left join affinity a on a.user_id = k.user_id and a.paper_id = k.paper_id
        left join co_read cr on cr.user_id = k.user_id and cr.paper_id = k.paper_id
        left join last_upvote lu on lu.user_id = k.user_id
      )
      select user_id, paper_id,
        co_upvote / greatest(max(co_upvote) over reader, 1e-12) as co_upvote,
        content / greatest(max(content) over reader, 1e-12) as content,
        readers / greatest(max(readers) over reader, 1e-12) as readers,
        co_readers / greatest(max(co_readers) over reader, 1e-12) as co_readers,
        trending, freshness, unseen, like_by_co_upvote, like_by_content, keyword
      from featured
      window reader as (partition by user_id)
      order by user_id, paper_id
    `,
  );
  const byUser = new Map<number, Candidate[]>(userIds.map((userId) => [userId, []]));
  for (const row of rows) {
    byUser.get(row.user_id)!.push({
      paperId: row.paper_id,
      features: {
        coUpvote: row.co_upvote,
        content: row.content,
        readers: row.readers,
        coReaders: row.co_readers,
        trending: row.trending,
        freshness: row.freshness,
        unseen: row.unseen,
      },
      likeByCoUpvote: row.like_by_co_upvote,
      likeByContent: row.like_by_content,
      keyword: row.keyword,
    });
  }
  return byUser;
}

export type RecommendationReason =
  | { kind: 'SIMILAR_TO_UPVOTED'; paperId: number }
  | { kind: 'POPULAR_WITH_SIMILAR_READERS'; keyword: string }
  | { kind: 'UPVOTED_BY_SIMILAR_READERS' }
  | { kind: 'TRENDING' }
  | { kind: 'NEW' }
  | { kind: 'NEW_SINCE_LAST_UPVOTE' };

export interface RankedPaper {
  paperId: number;
  score: number;
  reasons: RecommendationReason[];
}

/** A signal is given as a reason when it adds at least this share of what the largest one adds. */
const REASON_SHARE = 0.25;
const PERSONAL_SIGNALS: ReadonlySet<Signal> = new Set(['coUpvote', 'content', 'readers', 'coReaders']);

/** The candidates' weighted scores, best first (ties: more trending, then newer id), the first `limit`. */
export function rankCandidates(candidates: readonly Candidate[], weights: RankingWeights, limit: number): Candidate[] {
  const scored = candidates.map((candidate) => ({ candidate, score: weightedScore(candidate, weights) }));
  scored.sort((a, b) => b.score - a.score || b.candidate.features.trending - a.candidate.features.trending || b.candidate.paperId - a.candidate.paperId);
  return scored.slice(0, limit).map((entry) => entry.candidate);
}

/** A signal's value at which it adds ln 2 times its weight to the score: it keeps a 0 from zeroing the product. */
const FLOOR = 0.01;

/**
 * What `signal` adds to the score: 0 at value 0, growing with the value; a
 * negative value (papers like a dismissed one) takes away as much as the
 * same positive value adds.
 */
function contribution(weights: RankingWeights, candidate: Candidate, signal: Signal): number {
  const value = candidate.features[signal];
  return weights[signal] * Math.sign(value) * Math.log1p(Math.abs(value) / FLOOR);
}

export function weightedScore(candidate: Candidate, weights: RankingWeights): number {
  let score = 0;
  for (const signal of SIGNALS) score += contribution(weights, candidate, signal);
  return score;
}

/** The ranking with each paper's score and the reasons read off the same weighted features. */
export function rankWithReasons(candidates: readonly Candidate[], weights: RankingWeights, limit: number): RankedPaper[] {
  return rankCandidates(candidates, weights, limit).map((candidate) => ({
    paperId: candidate.paperId,
    score: weightedScore(candidate, weights),
    reasons: reasonsFor(candidate, weights),
  }));
}

function reasonsFor(candidate: Candidate, weights: RankingWeights): RecommendationReason[] {
  const contributions = SIGNALS.map((signal) => ({ signal, value: contribution(weights, candidate, signal) }))
    .filter((contribution) => contribution.value > 0)
    .sort((a, b) => b.value - a.value);
  const largest = contributions[0]?.value ?? 0;
  // The largest personal signal is always given: what sets the paper apart for this reader, even when trending weighs more.
  const personal = contributions.find(({ signal }) => PERSONAL_SIGNALS.has(signal) && reasonOf(signal, candidate) !== null);
  const reasons: RecommendationReason[] = [];
  const likePapers = new Set<number>();
  for (const contribution of contributions) {
    const { signal, value } = contribution;
    if (value < REASON_SHARE * largest && contribution !== personal) continue;
    const reason = reasonOf(signal, candidate);
    if (!reason) continue;
    if (reason.kind === 'SIMILAR_TO_UPVOTED') {
      if (likePapers.has(reason.paperId)) continue;
      likePapers.add(reason.paperId);
    }
    reasons.push(reason);
  }
  // "New since your last upvote" says what "new" does, and more.
  return reasons.some((reason) => reason.kind === 'NEW_SINCE_LAST_UPVOTE') ? reasons.filter((reason) => reason.kind !== 'NEW') : reasons;
}

function reasonOf(signal: Signal, candidate: Candidate): RecommendationReason | null {
  switch (signal) {
    case 'coUpvote':
      return candidate.likeByCoUpvote === null ? null : { kind: 'SIMILAR_TO_UPVOTED', paperId: candidate.likeByCoUpvote };
    case 'content':
      return candidate.likeByContent === null ? null : { kind: 'SIMILAR_TO_UPVOTED', paperId: candidate.likeByContent };
    case 'readers':
      return candidate.keyword === null ? null : { kind: 'POPULAR_WITH_SIMILAR_READERS', keyword: candidate.keyword };
    case 'coReaders':
      return { kind: 'UPVOTED_BY_SIMILAR_READERS' };
    case 'trending':
      return { kind: 'TRENDING' };
    case 'freshness':
      return { kind: 'NEW' };
    case 'unseen':
      return { kind: 'NEW_SINCE_LAST_UPVOTE' };
  }
}
