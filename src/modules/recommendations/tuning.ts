import { desc, eq, and, isNull, sql, type SQL } from 'drizzle-orm';
import type { TrendingSettings } from '../../config';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { rankingModels } from '../../db/schema';
import { scoreRankings } from '../../eval/metrics';
import { TRENDING_EPOCH_HOURS, decayRates } from '../trending/trending-key';
import { CO_UPVOTE_SHRINKAGE } from './co-upvotes';
import { HAND_WEIGHTS, SIGNALS, rankCandidates, scoreCandidates, signalAlone, type Candidate, type RankingSources, type RankingWeights } from './ranking';

/**
 * Fits the personal ranking's weights to the site's own votes. Each active
 * reader's latest upvote is held out as validation; the signals are computed
 * from the other votes only (co-upvote neighbours, upvote counts and trending
 * keys without the held-out votes), every candidate model ranks 10 papers per
 * reader, and the weights with the best hit-rate@10 + NDCG@10 are stored in
 * ranking_models with their figures. Only a model that beats trending on
 * validation is ever served.
 *
 * The learner is a coordinate search over a small grid of blend weights:
 * a few numbers a reader's reasons can be read from, fitted in seconds from
 * features computed once in SQL.
 */

export const VALIDATION_K = 10;
/** A reader needs this many upvotes to validate (and keep the rest to learn from). */
const MIN_UPVOTES_TO_VALIDATE = 3;
/** Below this many validation readers, nothing is fitted and the hand weights stay. */
export const MIN_VALIDATION_USERS = 20;
/** At most this many readers (a fixed pseudo-random sample) validate: tuning time stays bounded on a large site. */
export const MAX_VALIDATION_USERS = 500;
const WEIGHT_GRID = [0, 0.03, 0.1, 0.3, 1, 3] as const;
const SEARCH_ROUNDS = 3;

export interface ValidationScores {
  hitRate: number;
  ndcg: number;
}

export interface ModelValidation {
  model: ValidationScores;
  trending: ValidationScores;
  hand: ValidationScores;
  signals: Record<string, ValidationScores>;
}

export interface TuningResult {
  /** The stored model's id; null when there was too little data to fit one. */
  modelId: number | null;
  weights: RankingWeights;
  validation: ModelValidation | null;
  beatsTrending: boolean;
  validationUsers: number;
  trainingVotes: number;
}

export interface TuningOptions {
  maxUsers?: number;
  /** Readers who never validate (the offline evaluation's: their latest upvotes are missing). */
  excludeUserIds?: readonly number[];
  /** Weights to store as they are instead of searching (tests: a model worse than trending). */
  fixedWeights?: RankingWeights;
}

/** Fits and stores a ranking model; see the module comment. */
export async function tuneRankingModel(db: Database, trending: TrendingSettings, options: TuningOptions = {}): Promise<TuningResult> {
  const fit = await db.transaction(async (tx) => {
    await tx.execute(sql`set local work_mem = '64MB'`);
    const heldOut = await holdOutValidationVotes(tx, options.maxUsers ?? MAX_VALIDATION_USERS, options.excludeUserIds ?? []);
    const [{ votes: trainingVotes } = { votes: 0 }] = await queryRows<{ votes: number }>(
      tx,
      sql`select (select count(*) from upvotes)::int - (select count(*) from tuning_validation)::int as votes`,
    );
    if (heldOut.size < MIN_VALIDATION_USERS) return { heldOut, trainingVotes, candidates: null };
    const sources = await buildTrainingSources(tx, trending);
    const candidates = await scoreCandidates(tx, [...heldOut.keys()], sources);
    return { heldOut, trainingVotes, candidates };
  });
  if (!fit.candidates) {
    return {
      modelId: null,
      weights: HAND_WEIGHTS,
      validation: null,
      beatsTrending: false,
      validationUsers: fit.heldOut.size,
      trainingVotes: fit.trainingVotes,
    };
  }
  const judge = (weights: RankingWeights) => validate(fit.candidates!, fit.heldOut, weights);
  const weights = options.fixedWeights ?? searchWeights(judge);
  const validation: ModelValidation = {
    model: judge(weights),
    trending: judge(signalAlone('trending')),
    hand: judge(HAND_WEIGHTS),
    signals: Object.fromEntries(SIGNALS.map((signal) => [signal, judge(signalAlone(signal))])),
  };
  const beatsTrending = objective(validation.model) > objective(validation.trending) && validation.model.hitRate >= validation.trending.hitRate;
  const [stored] = await db
    .insert(rankingModels)
    .values({ weights, validation, beatsTrending, validationUsers: fit.heldOut.size, trainingVotes: fit.trainingVotes })
    .returning({ id: rankingModels.id });
  return { modelId: stored!.id, weights, validation, beatsTrending, validationUsers: fit.heldOut.size, trainingVotes: fit.trainingVotes };
}

/** What the search maximises. */
const objective = (scores: ValidationScores) => scores.hitRate + scores.ndcg;

/**
 * Coordinate search: start from the best of each signal alone and the hand
 * weights, then set one weight at a time to its best grid value, for a few
 * rounds or until nothing improves. Ties keep the current weights.
 */
export function searchWeights(judge: (weights: RankingWeights) => ValidationScores): RankingWeights {
  const starts = [HAND_WEIGHTS, ...SIGNALS.map(signalAlone)];
  let best = starts[0]!;
  let bestValue = objective(judge(best));
  for (const start of starts.slice(1)) {
    const value = objective(judge(start));
    if (value > bestValue) [best, bestValue] = [start, value];
  }
  for (let round = 0; round < SEARCH_ROUNDS; round++) {
    let improved = false;
    for (const signal of SIGNALS) {
      for (const value of WEIGHT_GRID) {
        if (value === best[signal]) continue;
        const trial = { ...best, [signal]: value };
        if (SIGNALS.every((s) => trial[s] === 0)) continue;
        const trialValue = objective(judge(trial));
        if (trialValue > bestValue + 1e-12) {
          [best, bestValue] = [trial, trialValue];
          improved = true;
        }
      }
    }
    if (!improved) break;
  }
  return best;
}

/** Mean hit@10 and NDCG@10 of `weights` over the validation readers. */
export function validate(
  candidates: ReadonlyMap<number, readonly Candidate[]>,
  heldOut: ReadonlyMap<number, ReadonlySet<number>>,
  weights: RankingWeights,
): ValidationScores {
  const rankings = new Map(
    [...heldOut.keys()].map((userId) => [
      userId,
      rankCandidates(candidates.get(userId) ?? [], weights, VALIDATION_K).map((candidate) => candidate.paperId),
    ]),
  );
  const { hitRate, ndcg } = scoreRankings(rankings, heldOut, VALIDATION_K);
  return { hitRate, ndcg };
}

/**
 * The validating readers of `ranked` (user_id, recency, upvotes per reader):
 * those with MIN_UPVOTES_TO_VALIDATE or more, at most `maxUsers` of them, a
 * sample fixed by a hash of their ids.
 */
function validationSampleSql(ranked: SQL, maxUsers: number): SQL {
  return sql`
    select user_id from ${ranked} as ranked where recency = 1 and upvotes >= ${MIN_UPVOTES_TO_VALIDATE}
    order by hashtext(user_id::text), user_id
    limit ${maxUsers}
  `;
}

/** The readers the tuner would validate on (the bench computes their papers' neighbours first). */
export async function findValidationReaders(db: Database, maxUsers = MAX_VALIDATION_USERS): Promise<number[]> {
  const rows = await queryRows<{ user_id: number }>(
    db,
    validationSampleSql(sql`(select user_id, count(*) as upvotes, 1 as recency from upvotes group by user_id)`, maxUsers),
  );
  return rows.map((row) => row.user_id);
}

/**
 * pg_temp.tuning_validation(user_id, paper_id, created_at): the latest
 * upvote (leave one out: the paper a feed should have shown next) of every reader with
 * MIN_UPVOTES_TO_VALIDATE or more, for at most `maxUsers` readers (a sample
 * fixed by a hash of their ids).
 */
async function holdOutValidationVotes(tx: Database, maxUsers: number, excludeUserIds: readonly number[]): Promise<Map<number, Set<number>>> {
  await tx.execute(sql`drop table if exists pg_temp.tuning_validation`);
  await tx.execute(sql`
    create temp table tuning_validation on commit drop as
    with ranked as (
      select user_id, paper_id, created_at,
        row_number() over (partition by user_id order by created_at desc, paper_id desc) as recency,
        count(*) over (partition by user_id) as upvotes
      from upvotes
      where not user_id = any(${sql.param(excludeUserIds)}::int[])
    ),
    sample as (${validationSampleSql(sql`ranked`, maxUsers)})
    select r.user_id, r.paper_id, r.created_at from ranked r join sample using (user_id)
    where r.recency = 1
  `);
  await tx.execute(sql`alter table tuning_validation add primary key (user_id, paper_id)`);
  await tx.execute(sql`create index on tuning_validation (paper_id)`);
  await tx.execute(sql`analyze tuning_validation`);
  const rows = await queryRows<{ user_id: number; paper_id: number }>(tx, sql`select user_id, paper_id from tuning_validation`);
  const byUser = new Map<number, Set<number>>();
  for (const row of rows) byUser.set(row.user_id, (byUser.get(row.user_id) ?? new Set()).add(row.paper_id));
  return byUser;
}

/**
 * The signals' sources without the validation votes: the other upvotes;
 * upvote counts and trending keys with the held-out votes taken back out
 * (K' = K + ln(1 - sum over them of e^(lambda*t + mu*s - K))); the stored
 * co-upvote neighbours with the held-out votes' own co-occurrences taken out
 * of each similarity (recomputing them from the training votes took the
 * tuner past 18 minutes at 2,000,000 upvotes). Content neighbours do not
 * depend on votes: the stored ones.
 */
async function buildTrainingSources(tx: Database, trending: TrendingSettings): Promise<RankingSources> {
  const votes = sql`(select u.user_id, u.paper_id, u.created_at from upvotes u
    where not exists (select 1 from tuning_validation h where h.user_id = u.user_id and h.paper_id = u.paper_id))`;
  const { lambda, mu } = decayRates(trending);
  const hours = (time: string) => sql.raw(`(date_part('epoch', ${time}) / 3600.0 - ${TRENDING_EPOCH_HOURS})`);
  await tx.execute(sql`drop table if exists pg_temp.tuning_stats, pg_temp.tuning_co_held, pg_temp.tuning_neighbors`);
  // voters: the vote rows (no imported baseline) without the held-out ones; held: how many were held out.
  await tx.execute(sql`
    create temp table tuning_stats on commit drop as
    select p.id as paper_id, p.upvote_count - coalesce(h.held, 0) as votes,
      greatest(p.upvote_count - p.upvote_baseline, 0) - coalesce(h.held, 0) as voters, coalesce(h.held, 0) as held,
      case when h.held is null then p.trending_key
        else p.trending_key + ln(greatest(1 - h.share, 1e-12)) end as trend_key
    from papers p
    left join lateral (
      select count(*) as held,
        sum(exp(least(greatest(${lambda}::float8 * ${hours('v.created_at')} + ${mu}::float8 * ${hours('coalesce(p.submitted_at, p.published_at)')} - p.trending_key, -700), 0))) as share
      from tuning_validation v where v.paper_id = p.id
    ) h on h.held > 0
  `);
  await tx.execute(sql`alter table tuning_stats add primary key (paper_id)`);
  await tx.execute(sql`create index on tuning_stats (trend_key desc, paper_id desc)`);
  await tx.execute(sql`create index on tuning_stats (votes desc, paper_id desc)`);
  await tx.execute(sql`analyze tuning_stats`);

  // (a, b, co): how many held-out votes pair a with b (a reader held out one and upvoted the other), both ways.
  await tx.execute(sql`
    create temp table tuning_co_held on commit drop as
    select a, b, count(*)::float8 as co from (
      select h.paper_id as a, v.paper_id as b from tuning_validation h
      join upvotes v on v.user_id = h.user_id and v.paper_id <> h.paper_id
      union all
      select v.paper_id, h.paper_id from tuning_validation h
      join upvotes v on v.user_id = h.user_id and v.paper_id <> h.paper_id
      where not exists (select 1 from tuning_validation o where o.user_id = v.user_id and o.paper_id = v.paper_id)
    ) pairs
    group by a, b
  `);
  await tx.execute(sql`alter table tuning_co_held add primary key (a, b)`);
  await tx.execute(sql`analyze tuning_co_held`);
  // similarity = co / (sqrt(voters a * voters b) + shrinkage): co recovered from the stored value, less the held-out pairs.
  // The content neighbours are copied alongside: one indexed, analyzed table, rather than a union the planner
  // sorted whole (2,275,402 rows) to merge-join 4,804 profile papers at the bench scale.
  await tx.execute(sql`
    create temp table tuning_neighbors on commit drop as
    select paper_id, signal, neighbor_id, similarity from paper_neighbors where signal = 'content'
    union all
    select paper_id, signal, neighbor_id, similarity from (
      select n.paper_id, n.signal, n.neighbor_id,
        case when c.co is null and a.held = 0 and b.held = 0 then n.similarity
          else (n.similarity * (sqrt((a.voters + a.held) * (b.voters + b.held)) + ${CO_UPVOTE_SHRINKAGE}::float8) - coalesce(c.co, 0))
            / (sqrt(greatest(a.voters, 0) * greatest(b.voters, 0)) + ${CO_UPVOTE_SHRINKAGE}::float8)
        end as similarity
      from paper_neighbors n
      join tuning_stats a on a.paper_id = n.paper_id
      join tuning_stats b on b.paper_id = n.neighbor_id
      left join tuning_co_held c on c.a = n.paper_id and c.b = n.neighbor_id
      where n.signal = 'co_upvote'
    ) corrected
    where similarity > 1e-9
  `);
  await tx.execute(sql`create index on tuning_neighbors (paper_id, signal)`);
  await tx.execute(sql`create index on tuning_neighbors (neighbor_id, signal, similarity desc)`);
  await tx.execute(sql`analyze tuning_neighbors`);
  return {
    votes,
    neighbors: sql`tuning_neighbors`,
    paperStats: sql`tuning_stats`,
  };
}

export interface ServedModel {
  /** Null: no tuned model beats trending, the hand weights serve. */
  id: number | null;
  weights: RankingWeights;
}

/** The latest model that beat trending on validation and is not retired; else the hand weights. */
export async function findServedModel(db: Database): Promise<ServedModel> {
  const [model] = await db
    .select({ id: rankingModels.id, weights: rankingModels.weights })
    .from(rankingModels)
    .where(and(eq(rankingModels.beatsTrending, true), isNull(rankingModels.retiredAt)))
    .orderBy(desc(rankingModels.id))
    .limit(1);
  // A signal added after the model was fitted weighs 0 in it: the model serves as it was validated.
  const unfitted = Object.fromEntries(SIGNALS.map((signal) => [signal, 0])) as RankingWeights;
  return model ? { id: model.id, weights: { ...unfitted, ...(model.weights as Partial<RankingWeights>) } } : { id: null, weights: HAND_WEIGHTS };
}

/**
 * Rollback: retires the served model, so the one before it (or the hand
 * weights) serves again; feeds follow on their next read. Returns what is
 * served now.
 */
export async function rollBackRankingModel(db: Database): Promise<{ retired: number | null; served: ServedModel }> {
  const current = await findServedModel(db);
  if (current.id !== null) {
    await db.update(rankingModels).set({ retiredAt: new Date() }).where(eq(rankingModels.id, current.id));
  }
  return { retired: current.id, served: await findServedModel(db) };
}
