import { z } from 'zod';
import type { Logger } from './logger';
import { editionOf } from './modules/digest/editions';
import { RedisUnavailableError } from './redis';

/** The most papers one notify job makes NEW_PAPER notifications for (an import enqueues its papers in chunks of this). */
export const NOTIFY_PAPERS_PER_JOB = 500;
/** Most users one refresh-voters-recommendations job recomputes (one after another). */
export const VOTERS_PER_REFRESH_JOB = 50;

/**
 * Every job this system runs, with the schema its payload must satisfy.
 * Producers and processors share these names; payloads are validated again
 * by the processor, since a queue can hold anything.
 */
export const jobPayloadSchemas = {
  /** Reconcile trending for every paper (scheduled): recompute keys and counts from the rows, repair and announce what drifted. */
  'reconcile-trending': z.object({}).strict(),
  /**
   * Reconcile trending for one paper: enqueued, delayed, for each paper of an author whose claim was approved.
   * Named before the reconcile was; kept, because delayed jobs in Redis carry the name.
   */
  'refresh-paper-trending': z.object({ paperId: z.number().int().positive() }).strict(),
  /** Recompute one paper's similar papers and fold it into the semantic search's model (when it arrives; deduplicated per paper). */
  'refresh-similar-papers': z.object({ paperId: z.number().int().positive() }).strict(),
  /** Recompute every paper's similar papers (scheduled: votes and new papers change them all). */
  'refresh-all-similar-papers': z.object({}).strict(),
  /** Refit the semantic search's model (LSA vectors of every paper) and rewrite every paper's vector (scheduled, after an import, at start without a model). */
  'fit-search-model': z.object({}).strict(),
  /** Refit the personal ranking's weights on held-out votes and store the model (scheduled, and by `npm run tune:recs`). */
  'tune-recommendations': z.object({}).strict(),
  /** Recompute one user's recommendations (after their upvotes, or when theirs are missing or old; deduplicated per user). */
  'refresh-recommendations': z.object({ userId: z.number().int().positive() }).strict(),
  /** Recompute the recommendations of users who voted (gathered per API process, a burst's delay later); those refreshed since `votedBefore` are skipped. */
  'refresh-voters-recommendations': z
    .object({ userIds: z.array(z.number().int().positive()).min(1).max(VOTERS_PER_REFRESH_JOB), votedBefore: z.string().datetime() })
    .strict(),
  /** Take from arXiv the categories of the papers that never had them (scheduled: imported papers), in rate-limited batches. */
  'fill-arxiv-categories': z.object({}).strict(),
  /**
   * Make the notifications of an event (idempotent: one per user, kind and subject): NEW_PAPER for the followers of papers
   * just saved (a submission, an import), COMMENT_REPLY for the author of the comment a reply answers, CLAIM_DECIDED for a claimant.
   */
  notify: z.discriminatedUnion('kind', [
    z.object({ kind: z.literal('NEW_PAPER'), paperIds: z.array(z.number().int().positive()).min(1).max(NOTIFY_PAPERS_PER_JOB) }).strict(),
    z.object({ kind: z.literal('COMMENT_REPLY'), commentId: z.number().int().positive() }).strict(),
    z.object({ kind: z.literal('CLAIM_DECIDED'), claimId: z.number().int().positive() }).strict(),
  ]),
  /** Mail a new confirmation link to a pending digest subscription (after subscribeToDigest; deduplicated per subscription). */
  'send-digest-confirmation': z.object({ subscriptionId: z.number().int().positive() }).strict(),
  /** Mail a new account's pending address its verification link, or its existing owner a notice (after signUp). */
  'send-email-verification': z.object({ userId: z.number().int().positive() }).strict(),
  /** Send a digest edition to the subscribers who have not had it (scheduled): the one named by `period`, else the one due now. */
  'send-digests': z
    .object({ frequency: z.enum(['DAILY', 'WEEKLY']), period: z.string().optional() })
    .strict()
    .refine(({ frequency, period }) => period === undefined || editionOf(frequency, period) !== undefined, {
      message: 'period must name an edition: a weekday as YYYY-MM-DD for DAILY, an ISO week as YYYY-Www for WEEKLY',
      path: ['period'],
    }),
} as const;

export type JobName = keyof typeof jobPayloadSchemas;
export type JobPayload<Name extends JobName> = z.infer<(typeof jobPayloadSchemas)[Name]>;

export interface EnqueueOptions {
  /** Jobs with the same id that are still waiting are not added again. */
  deduplicationId?: string;
  /** Run no sooner than this: with a deduplicationId, one run then covers every request made meanwhile. */
  delayMs?: number;
}

/**
 * How the API side hands work to the workers (ctx.jobs): the port that jobs/
 * implements, BullMQ with REDIS_URL and in-process timers without. Code in
 * src/ enqueues through it and never imports jobs/.
 */
export interface JobQueue {
  enqueue<Name extends JobName>(name: Name, payload: JobPayload<Name>, options?: EnqueueOptions): Promise<void>;
}

/** How many jobs are in each state (waiting, active, ...), for metrics. */
export type JobCounts = Record<string, number>;

/**
 * Hands a job over without making the caller wait for or depend on the queue:
 * Postgres already holds the truth, and the scheduled reconcile repairs what
 * a lost job would have done. A failure is logged; the promise (which never
 * rejects) is for a caller that must know the hand-over is done, say before
 * the queue closes.
 */
export function enqueueInBackground<Name extends JobName>(
  queue: JobQueue,
  logger: Logger,
  name: Name,
  payload: JobPayload<Name>,
  options?: EnqueueOptions,
): Promise<void> {
  return queue.enqueue(name, payload, options).catch((error: unknown) => {
    // During a Redis outage every request would log one: the outage is logged once, by the queue's connection.
    const level = error instanceof RedisUnavailableError ? 'debug' : 'error';
    logger[level]({ err: error, job: name, payload }, 'could not enqueue a job; the scheduled reconcile will catch up');
  });
}
