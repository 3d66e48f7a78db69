import { UnrecoverableError } from 'bullmq';
import type { PublicDataChange } from '../src/cache/public-data-changes';
import { z } from 'zod';
import { jobPayloadSchemas, type JobDependencies, type JobName, type JobPayload } from './jobs';
import { fillCategories } from './processors/fill-arxiv-categories';
import { fitSearchModelJob } from './processors/fit-search-model';
import { notify } from './processors/notify';
import { reconcileEveryPaper, reconcileOnePaper } from './processors/reconcile-trending';
import { refreshAllSimilarPapers } from './processors/refresh-all-similar-papers';
import { refreshUserRecommendations } from './processors/refresh-recommendations';
import { refreshPaperSimilarPapers } from './processors/refresh-similar-papers';
import { refreshVotersRecommendations } from './processors/refresh-voters-recommendations';
import { sendDigestConfirmation } from './processors/send-digest-confirmation';
import { sendDigests } from './processors/send-digests';
import { sendEmailVerification } from './processors/send-email-verification';
import { tuneRecommendations } from './processors/tune-recommendations';

export type JobProcessor<Name extends JobName> = (payload: JobPayload<Name>, dependencies: JobDependencies) => Promise<unknown>;

/** The processor of every job name; a job name without one does not compile. */
const jobProcessors: { [Name in JobName]: JobProcessor<Name> } = {
  'reconcile-trending': reconcileEveryPaper,
  'refresh-paper-trending': reconcileOnePaper,
  'refresh-similar-papers': refreshPaperSimilarPapers,
  'refresh-all-similar-papers': refreshAllSimilarPapers,
  'refresh-recommendations': refreshUserRecommendations,
  'refresh-voters-recommendations': refreshVotersRecommendations,
  'tune-recommendations': tuneRecommendations,
  'fit-search-model': fitSearchModelJob,
  'fill-arxiv-categories': fillCategories,
  notify,
  'send-digest-confirmation': sendDigestConfirmation,
  'send-email-verification': sendEmailVerification,
  'send-digests': sendDigests,
};

/**
 * What the jobs whose writes always change what anonymous readers see (similar
 * papers) announce when they finish. The trending reconciles announce
 * themselves, only what they repaired.
 */
const publicChangeOf: { [Name in JobName]?: (payload: JobPayload<Name>) => PublicDataChange } = {
  'refresh-similar-papers': ({ paperId }) => ({ kind: 'entities', entities: [{ typename: 'Paper', id: paperId }] }),
  // Any paper may now be similar to any other.
  'refresh-all-similar-papers': () => ({ kind: 'everything' }),
  // Every search may now answer differently.
  'fit-search-model': () => ({ kind: 'everything' }),
};

export function isJobName(name: string): name is JobName {
  return Object.hasOwn(jobPayloadSchemas, name);
}

/**
 * Runs job `name` on its payload once the payload passes the job's schema.
 * A job that can never succeed (unknown name, invalid payload) throws
 * UnrecoverableError, which BullMQ fails at once instead of retrying.
 */
export async function runJob(name: string, payload: unknown, dependencies: JobDependencies): Promise<unknown> {
  if (!isJobName(name)) throw new UnrecoverableError(`unknown job "${name}"`);
  return runValidated(name, payload, dependencies);
}

async function runValidated<Name extends JobName>(name: Name, payload: unknown, dependencies: JobDependencies) {
  const parsed = jobPayloadSchemas[name].safeParse(payload);
  if (!parsed.success) {
    throw new UnrecoverableError(`invalid payload for job "${name}": ${z.prettifyError(parsed.error)}`);
  }
  const processor: JobProcessor<Name> = jobProcessors[name];
  // safeParse on the schema picked by a generic name widens its output to every payload; it is this job's.
  const result = await processor(parsed.data as JobPayload<Name>, dependencies);
  const change = publicChangeOf[name]?.(parsed.data as JobPayload<Name>);
  if (change) void dependencies.publicDataChanges?.announce(change);
  return result;
}
