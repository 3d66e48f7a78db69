import type { Queue } from 'bullmq';
import type { PublicDataChanges } from '../src/cache/public-data-changes';
import type { AppConfig } from '../src/config';
import type { Database } from '../src/db/client';
import type { Logger } from '../src/logger';
import { createBullJobQueue, startBullWorker } from './bullmq';
import { createInProcessJobs } from './in-process';
import type { JobCounts, JobQueue } from './jobs';

export interface Jobs {
  queue: JobQueue;
  mode: 'bullmq' | 'in-process';
  /** The BullMQ queues, for the admin dashboard; none in-process. */
  bullQueues: Queue[];
  /** Jobs by state, for metrics. */
  counts(): Promise<JobCounts>;
  /** Closes the worker (waiting for its running jobs), then the producer. */
  close(): Promise<void>;
}

export interface StartJobsOptions {
  config: AppConfig;
  db: Database;
  logger: Logger;
  /** With REDIS_URL: also run a BullMQ worker in this process. Without, the processors always run here. */
  runWorker: boolean;
  /** Where jobs announce changes to public data (the API's response cache listens). */
  publicDataChanges?: PublicDataChanges;
}

/** BullMQ when REDIS_URL is set, the in-process runner otherwise. */
export async function startJobs({ config, db, logger, runWorker, publicDataChanges }: StartJobsOptions): Promise<Jobs> {
  const dependencies = { db, config, logger, publicDataChanges };
  const { redisUrl, reconcileIntervalMinutes } = config;
  if (!redisUrl) {
    const inProcess = createInProcessJobs({ dependencies, reconcileIntervalMinutes });
    return {
      queue: inProcess.queue,
      mode: 'in-process',
      bullQueues: [],
      counts: inProcess.counts,
      close: inProcess.close,
    };
  }
  const producer = createBullJobQueue({ redisUrl, redisPrefix: config.redisPrefix }, { logger });
  try {
    const worker = runWorker ? await startBullWorker({ dependencies, reconcileIntervalMinutes }) : undefined;
    return {
      queue: producer,
      mode: 'bullmq',
      bullQueues: [producer.queue],
      counts: () => producer.counts(),
      async close() {
        try {
          await worker?.close();
        } finally {
          await producer.close();
        }
      },
    };
  } catch (error) {
    await producer.close();
    throw error;
  }
}
