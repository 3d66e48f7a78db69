import { jobPayloadSchemas, type JobDependencies, type JobName, type JobQueue } from './jobs';
import { runJob } from './registry';
import { schedulerTable } from './schedulers';

export interface InProcessJobs {
  queue: JobQueue;
  /** Stops the timers and waits for the jobs already handed over. */
  close(): Promise<void>;
}

export interface InProcessJobsOptions {
  dependencies: JobDependencies;
  reconcileIntervalMinutes: number;
}

/**
 * The same processors without Redis: an enqueued job runs on the next turn of
 * the event loop, a scheduled one on a timer (first one interval after start).
 * Failures are logged, never retried: nothing survives a restart either, and
 * the scheduled reconcile repairs what a lost job would have done.
 */
export function createInProcessJobs({ dependencies, reconcileIntervalMinutes }: InProcessJobsOptions): InProcessJobs {
  const { logger } = dependencies;
  /** Deduplication keys of jobs handed over but not started. */
  const pending = new Set<string>();
  const running = new Set<Promise<void>>();
  let closed = false;

  function submit(name: JobName, payload: unknown, deduplicationKey?: string): void {
    if (closed) {
      logger.warn({ job: name }, 'job dropped: the in-process jobs are closed');
      return;
    }
    if (deduplicationKey !== undefined) {
      if (pending.has(deduplicationKey)) return;
      pending.add(deduplicationKey);
    }
    const execution = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => {
        if (deduplicationKey !== undefined) pending.delete(deduplicationKey);
        return runJob(name, payload, { ...dependencies, logger: logger.child({ job: name }) });
      })
      .then(
        (result) => logger.debug({ job: name, result }, 'job completed'),
        (error: unknown) => logger.error({ err: error, job: name }, 'job failed'),
      )
      .finally(() => running.delete(execution));
    running.add(execution);
  }

  const timers = schedulerTable({ reconcileIntervalMinutes }).map((schedule) =>
    setInterval(() => submit(schedule.name, schedule.payload, `scheduler:${schedule.id}`), schedule.everyMs).unref(),
  );

  return {
    queue: {
      async enqueue(name, payload, options) {
        const data = jobPayloadSchemas[name].parse(payload);
        submit(name, data, options?.deduplicationId === undefined ? undefined : `${name}:${options.deduplicationId}`);
      },
    },
    async close() {
      closed = true;
      for (const timer of timers) clearInterval(timer);
      // Jobs already handed over still run: the caller was told they would.
      await Promise.all(running);
    },
  };
}
