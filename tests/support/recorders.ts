import { pino, type Logger } from 'pino';
import type { JobName, JobQueue } from '../../jobs/jobs';

export interface EnqueuedJob {
  name: JobName;
  payload: unknown;
  deduplicationId?: string;
  delayMs?: number;
}

/**
 * A job queue that records what it is asked to run, then hands each job on to
 * `next` (by default to nothing: the job is only recorded). Options left
 * undefined are not recorded, so `toEqual` compares what a test names.
 */
export function recordingJobQueue(next?: JobQueue) {
  const enqueued: EnqueuedJob[] = [];
  const queue: JobQueue = {
    async enqueue(name, payload, options) {
      enqueued.push({
        name,
        payload,
        ...(options?.deduplicationId !== undefined && { deduplicationId: options.deduplicationId }),
        ...(options?.delayMs !== undefined && { delayMs: options.delayMs }),
      });
      await next?.enqueue(name, payload, options);
    },
  };
  return {
    queue,
    enqueued,
    /** Forgets what was recorded so far. */
    clear: () => void enqueued.splice(0),
  };
}

export interface LogLine {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A logger that keeps its JSON lines, to see what was logged and which jobs ran. */
export function recordingLogger(level = 'debug'): {
  logger: Logger;
  lines: LogLine[];
  /** What each completed run of `job` returned, in order (the in-process runner logs it at debug). */
  completed(job: string): unknown[];
} {
  const lines: LogLine[] = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const completed = (job: string) => lines.filter((line) => line.msg === 'job completed' && line.job === job).map((line) => line.result);
  return { logger, lines, completed };
}
