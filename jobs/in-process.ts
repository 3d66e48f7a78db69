import { getNextMillis } from 'bullmq';
import { jobPayloadSchemas, type JobDependencies, type JobName, type JobQueue, type JobCounts } from './jobs';
import { runJob } from './registry';
import { schedulerTable, type JobCadence } from './schedulers';

/** How often a cron schedule checks whether its time has come: its runs start up to this late. */
const PATTERN_CHECK_MS = 60_000;

export interface InProcessJobs {
  queue: JobQueue;
  /** Waits until no job handed over is due or running (jobs they enqueue included); delayed jobs not yet due are not waited for. */
  idle(): Promise<void>;
  /** Jobs handed over and not finished (waiting or running), for metrics. */
  counts(): Promise<JobCounts>;
  /** Stops the timers, drops the delayed jobs still waiting and waits for the jobs already handed over. */
  close(): Promise<void>;
}

export interface InProcessJobsOptions {
  dependencies: JobDependencies;
  reconcileIntervalMinutes: number;
}

/**
 * The same processors without Redis: an enqueued job runs on the next turn of
 * the event loop, a scheduled one on a timer (an interval schedule first
 * fires one interval after start, a cron one at its next time, up to a
 * minute late).
 * Failures are logged, never retried: nothing survives a restart either, and
 * the scheduled reconcile repairs what a lost job would have done.
 */
export function createInProcessJobs({ dependencies, reconcileIntervalMinutes }: InProcessJobsOptions): InProcessJobs {
  const { logger } = dependencies;
  /** Deduplication keys of jobs handed over but not started. */
  const pending = new Set<string>();
  const running = new Set<Promise<void>>();
  /** Cancels each delayed job still waiting (not yet running), for close(). */
  const delayed = new Set<() => void>();
  let closed = false;

  function start(name: JobName, payload: unknown, deduplicationKey: string | undefined): void {
    const execution = new Promise<void>((resolve) => setImmediate(resolve))
      .then(async () => {
        if (deduplicationKey !== undefined) pending.delete(deduplicationKey);
        try {
          const result = await runJob(name, payload, { ...dependencies, logger: logger.child({ job: name }) });
          logger.debug({ job: name, result }, 'job completed');
        } catch (error) {
          logger.error({ err: error, job: name }, 'job failed');
        }
      })
      .finally(() => running.delete(execution));
    running.add(execution);
  }

  function submit(name: JobName, payload: unknown, deduplicationKey?: string, delayMs = 0): void {
    if (closed) {
      logger.warn({ job: name }, 'job dropped: the in-process jobs are closed');
      return;
    }
    if (deduplicationKey !== undefined) {
      if (pending.has(deduplicationKey)) return;
      pending.add(deduplicationKey);
    }
    if (delayMs <= 0) {
      start(name, payload, deduplicationKey);
      return;
    }
    // A delayed job counts as running only once its time has come: idle() does not sit out delays.
    const cancel = () => {
      clearTimeout(timer);
      delayed.delete(cancel);
      if (deduplicationKey !== undefined) pending.delete(deduplicationKey);
      logger.info({ job: name }, 'delayed job dropped: the in-process jobs closed before its time');
    };
    const timer = setTimeout(() => {
      delayed.delete(cancel);
      start(name, payload, deduplicationKey);
    }, delayMs);
    delayed.add(cancel);
  }

  const schedules = schedulerTable({
    reconcileIntervalMinutes,
    similarPapersRefreshHours: dependencies.config.recommendations.similarPapersRefreshHours,
    tuneRecommendationsHours: dependencies.config.recommendations.tuneHours,
    digestHourUtc: dependencies.config.digest.hourUtc,
    categoriesFillHours: dependencies.config.arxiv.categoriesFillHours,
    searchModelRefitHours: dependencies.config.search.modelRefitHours,
  });
  const timers = schedules.map((schedule) => onCadence(schedule, () => submit(schedule.name, schedule.payload, `scheduler:${schedule.id}`)));

  return {
    queue: {
      async enqueue(name, payload, options) {
        const data = jobPayloadSchemas[name].parse(payload);
        const deduplicationKey = options?.deduplicationId === undefined ? undefined : `${name}:${options.deduplicationId}`;
        submit(name, data, deduplicationKey, options?.delayMs);
      },
    },
    async counts() {
      return { active: running.size, delayed: delayed.size };
    },
    async idle() {
      while (running.size > 0) await Promise.all(running);
    },
    async close() {
      closed = true;
      for (const timer of timers) clearInterval(timer);
      // Delayed jobs are only ever deferrable work (a burst's recommendations): a stop need not sit them out.
      for (const cancel of [...delayed]) cancel();
      // Jobs already handed over still run: the caller was told they would.
      await Promise.all(running);
    },
  };
}

/**
 * Calls `run` on the cadence. A cron pattern is checked against the wall
 * clock every minute rather than slept towards, so a suspended machine or a
 * changed clock cannot push a run far off; times missed meanwhile run once.
 */
function onCadence(cadence: JobCadence, run: () => void): NodeJS.Timeout {
  if ('everyMs' in cadence) return setInterval(run, cadence.everyMs).unref();
  const repeat = { pattern: cadence.pattern, tz: cadence.tz };
  let due = getNextMillis(Date.now(), repeat);
  return setInterval(() => {
    const now = Date.now();
    if (due === undefined || now < due) return;
    run();
    due = getNextMillis(now, repeat);
  }, PATTERN_CHECK_MS).unref();
}
