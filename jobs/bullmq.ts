import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Queue, Worker, type DefaultJobOptions, type Job, type RepeatOptions } from 'bullmq';
import type { Redis } from 'ioredis';
import type { AppConfig } from '../src/config';
import { createLogger, type Logger } from '../src/logger';
import { connectRedis, RedisUnavailableError, reportRedisOutages } from '../src/redis';
import { withDeadline } from './deadline';
import { jobPayloadSchemas, type JobCounts, type JobDependencies, type JobQueue } from './jobs';
import { runJob } from './registry';
import { schedulerTable, type JobSchedule } from './schedulers';

/** Every job goes through one queue; the worker dispatches on the job name. Its keys are `<REDIS_PREFIX>:papers:*`. */
export const JOBS_QUEUE_NAME = 'papers';

/** Where the jobs live: the Redis server, and REDIS_PREFIX as BullMQ's prefix. */
export type JobsRedis = { redisUrl: string } & Pick<AppConfig, 'redisPrefix'>;

/** Producers (the API) fail at once while Redis is down; workers wait for it to come back. */
export type RedisRole = 'producer' | 'worker';

/** How long an enqueue waits for a connection attempt in progress (say, right after start) before failing. */
const PRODUCER_CONNECT_WAIT_MS = 1_000;

const jobOptions: DefaultJobOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 5_000 },
  // Enough history to look into recent runs; Redis holds queues, not archives.
  removeOnComplete: { age: 24 * 3600, count: 1_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 1_000 },
};

/**
 * The jobs queue on `connection`. A producer's queue neither waits for the
 * connection nor runs BullMQ's version check (an INFO at construction): with
 * the offline queue off, that INFO fails unless the connection is already up,
 * and BullMQ would then keep failing every call of that queue for good.
 */
export function createJobsQueue(connection: Redis, { role, prefix }: { role: RedisRole; prefix: string }) {
  const failFast = role === 'producer';
  return new Queue(JOBS_QUEUE_NAME, {
    connection,
    prefix,
    defaultJobOptions: jobOptions,
    skipWaitingForReady: failFast,
    skipVersionCheck: failFast,
  });
}

export interface BullJobQueue extends JobQueue {
  /** The BullMQ queue it adds to (for the admin dashboard: no second connection). */
  readonly queue: Queue;
  counts(): Promise<JobCounts>;
  close(): Promise<void>;
}

export interface BullJobQueueOptions {
  logger?: Logger;
}

/**
 * The producer side: enqueue adds a BullMQ job, or rejects within about a
 * second when Redis is unreachable instead of waiting for it.
 */
export function createBullJobQueue({ redisUrl, redisPrefix }: JobsRedis, { logger = createLogger('silent') }: BullJobQueueOptions = {}): BullJobQueue {
  const connection = connectRedis({ redisUrl, redisPrefix }, 'jobs-producer');
  const queue = createJobsQueue(connection, { role: 'producer', prefix: redisPrefix });
  reportRedisOutages(connection, logger, {
    role: 'jobs-producer',
    meanwhile: 'jobs are dropped (each logged at debug); the scheduled reconcile catches up',
    emitters: [queue],
  });
  const whenConnected = connectionWaiter(connection);
  const pending = new PendingDelayedJobs();
  return {
    queue,
    async enqueue(name, payload, options) {
      const data = jobPayloadSchemas[name].parse(payload);
      const deduplicationId = options?.deduplicationId === undefined ? undefined : `${name}:${options.deduplicationId}`;
      // A twin this process added has not started yet: Redis would drop this one (deduplication), so skip the round trip.
      if (deduplicationId !== undefined && pending.has(deduplicationId)) return;
      await whenConnected();
      // keepLastIfActive: a job added while its twin runs is kept (and runs after it), so no change goes unchecked.
      const deduplication = deduplicationId === undefined ? undefined : { id: deduplicationId, keepLastIfActive: true };
      const delayMs = options?.delayMs ?? 0;
      // An id of our own for a delayed twin, to tell whether Redis added it or kept an older one (whose time is unknown here).
      const jobId = deduplicationId !== undefined && delayMs > 0 ? randomUUID() : undefined;
      const addedAt = Date.now();
      const job = await queue.add(name, data, { deduplication, delay: options?.delayMs, jobId }).catch((error: unknown) => {
        // The connection went down while the job was on its way: part of the outage, not an error of its own.
        if (connection.status !== 'ready') throw new RedisUnavailableError(`Redis is unavailable: ${String(error)}`, { cause: error });
        throw error;
      });
      if (jobId !== undefined && job.id === jobId) pending.add(deduplicationId!, addedAt, delayMs);
    },
    async counts() {
      await whenConnected();
      return queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'failed', 'completed');
    },
    async close() {
      await queue.close();
      await closeConnection(connection);
    },
  };
}

/**
 * The delayed, deduplicated jobs this producer added, while they certainly
 * wait: one added at `t` with delay `d` runs no sooner than `t + d` (the
 * worker's clock); until `t + d / 2` (half the delay left for clocks that
 * differ between hosts) a request for a twin is one Redis would drop, and the
 * job, running later, covers what the request was for. Entries are kept in
 * insertion order and dropped from the front once past; at most MAX_PENDING.
 */
export class PendingDelayedJobs {
  static readonly MAX_PENDING = 100_000;
  private readonly until = new Map<string, number>();

  constructor(private readonly now: () => number = Date.now) {}

  add(deduplicationId: string, addedAt: number, delayMs: number): void {
    this.until.delete(deduplicationId);
    this.until.set(deduplicationId, addedAt + delayMs / 2);
    this.prune();
  }

  has(deduplicationId: string): boolean {
    const until = this.until.get(deduplicationId);
    if (until === undefined) return false;
    if (this.now() < until) return true;
    this.until.delete(deduplicationId);
    return false;
  }

  private prune(): void {
    const now = this.now();
    for (const [id, until] of this.until) {
      if (until > now && this.until.size <= PendingDelayedJobs.MAX_PENDING) break;
      this.until.delete(id);
    }
  }
}

export interface BullWorkerOptions {
  /** Its config's REDIS_URL and REDIS_PREFIX say where the jobs are. */
  dependencies: JobDependencies;
  reconcileIntervalMinutes: number;
  concurrency?: number;
  /** How long close() waits for running jobs before it disconnects. */
  closeTimeoutMs?: number;
  /**
   * How long a running job's lock lasts without renewal: a worker that dies
   * mid-job has its job taken up by another after about this long.
   */
  lockDurationMs?: number;
}

export interface BullWorker {
  /** Stops taking jobs, waits for the running ones, then closes the queue and Redis; disconnects after the timeout. */
  close(): Promise<void>;
}

/**
 * Registers the schedulers of the table and starts a worker that runs every
 * job of the queue through the registry.
 */
export async function startBullWorker({
  dependencies,
  reconcileIntervalMinutes,
  concurrency = 4,
  closeTimeoutMs = 10_000,
  lockDurationMs = 30_000,
}: BullWorkerOptions): Promise<BullWorker> {
  const { logger } = dependencies;
  const { redisUrl, redisPrefix: prefix } = dependencies.config;
  if (!redisUrl) throw new Error('The BullMQ worker needs REDIS_URL');
  const connection = connectRedis({ redisUrl, redisPrefix: prefix }, 'jobs-worker');
  const queue = createJobsQueue(connection, { role: 'worker', prefix });
  const worker = new Worker(
    JOBS_QUEUE_NAME,
    (job) => runJob(job.name, job.data, { ...dependencies, logger: logger.child({ job: job.name, jobId: job.id }) }),
    { connection, prefix, concurrency, lockDuration: lockDurationMs, stalledInterval: lockDurationMs },
  );
  reportRedisOutages(connection, logger, {
    role: 'jobs-worker',
    meanwhile: 'no jobs run; they wait in Redis',
    emitters: [queue, worker],
  });
  worker.on('failed', (job, error) => logJobFailure(logger, job, error));
  worker.on('stalled', (jobId) => logger.warn({ jobId }, 'job stalled: its worker lost the lock; it runs again'));
  worker.on('completed', (job, result) => logger.debug({ job: job.name, jobId: job.id, result }, 'job completed'));

  let closing: Promise<void> | undefined;
  async function closeWorker(): Promise<void> {
    const graceful = (async () => {
      await worker.close();
      await queue.close();
      await closeConnection(connection);
    })();
    try {
      await withDeadline(graceful, closeTimeoutMs, `BullMQ worker did not close within ${closeTimeoutMs} ms`);
    } catch (error) {
      // Jobs still running lose their lock and run again elsewhere: delivery is at-least-once, processors idempotent.
      connection.disconnect();
      await worker.disconnect().catch((disconnectError: unknown) => logger.warn({ err: disconnectError }, 'disconnecting the worker failed'));
      throw error;
    }
  }

  try {
    const schedules = schedulerTable({
      reconcileIntervalMinutes,
      similarPapersRefreshHours: dependencies.config.recommendations.similarPapersRefreshHours,
      tuneRecommendationsHours: dependencies.config.recommendations.tuneHours,
      digestHourUtc: dependencies.config.digest.hourUtc,
      categoriesFillHours: dependencies.config.arxiv.categoriesFillHours,
      searchModelRefitHours: dependencies.config.search.modelRefitHours,
    });
    await registerSchedulers(queue, schedules, logger);
    await worker.waitUntilReady();
    const schedulers = schedules.map((schedule) => ({ id: schedule.id, ...repeatOptionsOf(schedule) }));
    logger.info({ queue: JOBS_QUEUE_NAME, prefix, concurrency, schedulers }, 'BullMQ worker started');
  } catch (error) {
    // The start's own error is the one to report; closing is best effort.
    await closeWorker().catch(() => undefined);
    throw error;
  }
  return { close: () => (closing ??= closeWorker()) };
}

/** A schedule's cadence as BullMQ's repeat options. */
function repeatOptionsOf(schedule: JobSchedule): RepeatOptions {
  return 'everyMs' in schedule ? { every: schedule.everyMs } : { pattern: schedule.pattern, tz: schedule.tz };
}

/** Upserts every schedule of the table (one scheduler per id however often this runs) and removes the others. */
async function registerSchedulers(queue: Queue, schedules: JobSchedule[], logger: Logger): Promise<void> {
  for (const schedule of schedules) {
    await queue.upsertJobScheduler(schedule.id, repeatOptionsOf(schedule), {
      name: schedule.name,
      data: schedule.payload,
    });
  }
  // A scheduler dropped from the table would otherwise keep adding jobs forever.
  const wanted = new Set(schedules.map((schedule) => schedule.id));
  for (const scheduler of await queue.getJobSchedulers()) {
    if (wanted.has(scheduler.key)) continue;
    await queue.removeJobScheduler(scheduler.key);
    logger.info({ scheduler: scheduler.key }, 'removed a job scheduler that is no longer in the table');
  }
}

function logJobFailure(logger: Logger, job: Job | undefined, error: Error): void {
  // By the time 'failed' fires, attemptsMade counts this attempt.
  const retrying = job !== undefined && error.name !== 'UnrecoverableError' && job.attemptsMade < (job.opts.attempts ?? 1);
  const fields = { err: error, job: job?.name, jobId: job?.id, attemptsMade: job?.attemptsMade };
  if (retrying) logger.warn(fields, 'job failed; it will be retried');
  else logger.error(fields, 'job failed for good');
}

/**
 * A function that resolves once the producer connection is ready: at once if
 * it is, after the attempt in progress if it is connecting (callers share one
 * wait); it rejects otherwise, since a producer's commands must not wait.
 */
function connectionWaiter(connection: Redis): () => Promise<void> {
  let attempt: Promise<void> | undefined;
  return () => {
    if (connection.status === 'ready') return Promise.resolve();
    if (connection.status !== 'connecting' && connection.status !== 'connect') {
      return Promise.reject(new RedisUnavailableError(`Redis is unavailable (connection ${connection.status})`));
    }
    // once() also rejects on the 'error' that a refused connection emits.
    attempt ??= once(connection, 'ready', { signal: AbortSignal.timeout(PRODUCER_CONNECT_WAIT_MS) })
      .then(
        () => undefined,
        (error: Error) => {
          throw new RedisUnavailableError(`Redis is unavailable: ${error.message}`, { cause: error });
        },
      )
      .finally(() => {
        attempt = undefined;
      });
    return attempt;
  };
}

async function closeConnection(connection: Redis): Promise<void> {
  if (connection.status === 'ready') await connection.quit();
  else connection.disconnect();
}
