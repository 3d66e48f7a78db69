import type { TrendingSettings } from '../../config';

/**
 * The forward-decay trending key (README, Trending):
 *
 *   K = ln( alpha*e^(lambda*s) + sum_v w_v*e^(lambda*t_v) ) + mu*s
 *
 * with t in hours since TRENDING_EPOCH, lambda = ln2/H, mu = ln2/A and s the
 * paper's start (featured time, else arXiv date). Ordering by K is the
 * trending order at every moment; the score now is exp(K - (lambda+mu)*now).
 * Imported upvotes without voters count as votes cast at s.
 */
export const TRENDING_EPOCH_MS = Date.UTC(2020, 0, 1);
export const TRENDING_EPOCH_HOURS = TRENDING_EPOCH_MS / 3_600_000;

export function decayRates(settings: TrendingSettings) {
  return { lambda: Math.LN2 / settings.voteHalfLifeHours, mu: Math.LN2 / settings.ageHalfLifeHours };
}

export function hoursSinceEpoch(time: Date): number {
  return (time.getTime() - TRENDING_EPOCH_MS) / 3_600_000;
}

/** ln(sum(e^x)) without overflow, whatever the magnitudes. */
export function logSumExp(terms: readonly number[]): number {
  const max = Math.max(...terms);
  if (!Number.isFinite(max)) return max;
  let sum = 0;
  for (const term of terms) sum += Math.exp(term - max);
  return max + Math.log(sum);
}

export interface TrendingInputs {
  /** When the paper was featured, else its arXiv date. */
  start: Date;
  /** Upvotes without voters, counted at `start`. */
  baseline: number;
  /** The times of the upvotes that weigh 1. */
  voteTimes: readonly Date[];
}

/** K computed from scratch. */
export function trendingKey(inputs: TrendingInputs, settings: TrendingSettings): number {
  const { lambda, mu } = decayRates(settings);
  const start = hoursSinceEpoch(inputs.start);
  const terms = [Math.log(settings.prior + inputs.baseline) + lambda * start, ...inputs.voteTimes.map((time) => lambda * hoursSinceEpoch(time))];
  return logSumExp(terms) + mu * start;
}

/**
 * K after one more upvote at `voteTime`, in O(1):
 * K' = logaddexp(K - mu*s, lambda*t) + mu*s.
 */
export function keyWithVote(key: number, start: Date, voteTime: Date, settings: TrendingSettings): number {
  const { lambda, mu } = decayRates(settings);
  const ageTerm = mu * hoursSinceEpoch(start);
  return logSumExp([key - ageTerm, lambda * hoursSinceEpoch(voteTime)]) + ageTerm;
}

/** The current decayed score: exp(K - (lambda+mu)*now); 0 once it underflows. */
export function trendingScore(key: number, now: Date, settings: TrendingSettings): number {
  const { lambda, mu } = decayRates(settings);
  return Math.exp(key - (lambda + mu) * hoursSinceEpoch(now));
}
