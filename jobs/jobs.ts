import type { PublicDataChanges } from '../src/cache/public-data-changes';
import type { AppConfig } from '../src/config';
import type { Database } from '../src/db/client';
import type { Logger } from '../src/logger';

// The job names, payloads and queue are src/'s port (src/job-queue.ts): jobs/ implements it.
export {
  jobPayloadSchemas,
  type JobCounts,
  type JobName,
  type JobPayload,
  type JobQueue,
} from '../src/job-queue';

/** What a processor gets besides its payload. */
export interface JobDependencies {
  db: Database;
  config: AppConfig;
  logger: Logger;
  /** Where jobs that change what readers see announce it (cached answers end); absent where nothing caches. */
  publicDataChanges?: PublicDataChanges;
}
