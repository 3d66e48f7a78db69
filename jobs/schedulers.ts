import type { JobName, JobPayload } from './jobs';

/** A job that runs every `everyMs`; `id` names its scheduler (BullMQ keeps one per id). */
export type JobSchedule = {
  [Name in JobName]: { id: string; name: Name; payload: JobPayload<Name>; everyMs: number };
}[JobName];

/**
 * Every scheduled job, in one table: the BullMQ worker registers them with
 * upsertJobScheduler, the in-process runner puts them on timers.
 */
export function schedulerTable(config: { reconcileIntervalMinutes: number }): JobSchedule[] {
  return [
    {
      id: 'reconcile-trending',
      name: 'reconcile-trending',
      payload: {},
      everyMs: Math.round(config.reconcileIntervalMinutes * 60_000),
    },
  ];
}
