import type { JobName, JobPayload } from './jobs';

/** When a scheduled job runs: every `everyMs`, or at the times of a cron `pattern` read in UTC. */
export type JobCadence = { everyMs: number } | { pattern: string; tz: 'UTC' };

/** A scheduled job; `id` names its scheduler (BullMQ keeps one per id). */
export type JobSchedule = {
  [Name in JobName]: { id: string; name: Name; payload: JobPayload<Name> } & JobCadence;
}[JobName];

/**
 * Every scheduled job, in one table: the BullMQ worker registers them with
 * upsertJobScheduler, the in-process runner puts them on timers.
 */
export function schedulerTable(config: {
  reconcileIntervalMinutes: number;
  similarPapersRefreshHours: number;
  tuneRecommendationsHours: number;
  digestHourUtc: number;
  categoriesFillHours: number;
  searchModelRefitHours: number;
}): JobSchedule[] {
  return [
    {
      id: 'reconcile-trending',
      name: 'reconcile-trending',
      payload: {},
      everyMs: Math.round(config.reconcileIntervalMinutes * 60_000),
    },
    {
      id: 'refresh-all-similar-papers',
      name: 'refresh-all-similar-papers',
      payload: {},
      everyMs: Math.round(config.similarPapersRefreshHours * 3_600_000),
    },
    {
      id: 'tune-recommendations',
      name: 'tune-recommendations',
      payload: {},
      everyMs: Math.round(config.tuneRecommendationsHours * 3_600_000),
    },
    {
      id: 'fit-search-model',
      name: 'fit-search-model',
      payload: {},
      everyMs: Math.round(config.searchModelRefitHours * 3_600_000),
    },
    {
      id: 'fill-arxiv-categories',
      name: 'fill-arxiv-categories',
      payload: {},
      everyMs: Math.round(config.categoriesFillHours * 3_600_000),
    },
    {
      id: 'send-daily-digests',
      name: 'send-digests',
      payload: { frequency: 'DAILY' },
      pattern: `0 ${config.digestHourUtc} * * 1-5`,
      tz: 'UTC',
    },
    {
      id: 'send-weekly-digests',
      name: 'send-digests',
      payload: { frequency: 'WEEKLY' },
      pattern: `0 ${config.digestHourUtc} * * 1`,
      tz: 'UTC',
    },
  ];
}
