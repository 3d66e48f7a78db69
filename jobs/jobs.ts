import { z } from 'zod';
import type { AppConfig } from '../src/config';
import type { Database } from '../src/db/client';
import type { Logger } from '../src/logger';

/**
 * Every job this system runs, with the schema its payload must satisfy.
 * Producers and processors share these names; payloads are validated again
 * by the processor, since a queue can hold anything.
 */
export const jobPayloadSchemas = {
  /** Recompute every trending key and upvote count from the vote rows; repair and report drift. */
  'reconcile-trending': z.object({}).strict(),
  /** Recompute one paper's trending key and upvote count from its vote rows (after a vote whose update may need checking). */
  'refresh-paper-trending': z.object({ paperId: z.number().int().positive() }).strict(),
} as const;

export type JobName = keyof typeof jobPayloadSchemas;
export type JobPayload<Name extends JobName> = z.infer<(typeof jobPayloadSchemas)[Name]>;

export interface EnqueueOptions {
  /** Jobs with the same id that are still waiting are not added again. */
  deduplicationId?: string;
}

/** How the API side hands work to the workers: BullMQ with REDIS_URL, in-process timers without. */
export interface JobQueue {
  enqueue<Name extends JobName>(name: Name, payload: JobPayload<Name>, options?: EnqueueOptions): Promise<void>;
}

/** What a processor gets besides its payload. */
export interface JobDependencies {
  db: Database;
  config: AppConfig;
  logger: Logger;
}

/**
 * Hands a job over without making the caller wait for or depend on the queue:
 * Postgres already holds the truth, and the scheduled reconcile repairs what
 * a lost job would have done. A failure is logged.
 */
export function enqueueInBackground<Name extends JobName>(
  queue: JobQueue,
  logger: Logger,
  name: Name,
  payload: JobPayload<Name>,
  options?: EnqueueOptions,
): void {
  queue.enqueue(name, payload, options).catch((error: unknown) => {
    logger.error({ err: error, job: name, payload }, 'could not enqueue a job; the scheduled reconcile will catch up');
  });
}
