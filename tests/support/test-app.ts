import { createInProcessJobs } from '../../jobs/in-process';
import type { JobQueue } from '../../jobs/jobs';
import { createApp } from '../../src/app';
import { createPublicDataChanges, type PublicDataChanges } from '../../src/cache/public-data-changes';
import type { AppConfig } from '../../src/config';
import type { Database } from '../../src/db/client';
import { createLogger, type Logger } from '../../src/logger';
import { createRateLimiters, type RateLimiters } from '../../src/rate-limit';
import { testConfig } from './fixtures';
import { graphqlClient } from './graphql-client';

export interface TestAppOptions {
  config?: AppConfig;
  clock?: () => Date;
  jobs?: JobQueue;
  limiters?: Partial<RateLimiters>;
  logger?: Logger;
  /** Where mutations and jobs announce data changes; a process-local one by default. */
  publicDataChanges?: PublicDataChanges;
  /** Where the response cache's background refreshes read (the app's `db` by default). */
  refreshDb?: Database;
}

/**
 * The app as the embedded default runs it (in-process jobs, in-memory rate
 * limits) on a test database. `idle()` waits for the background jobs a request
 * set off (before truncating, say); `close()` stops the job timers.
 */
export function createTestApp(db: Database, options: TestAppOptions = {}) {
  const config = options.config ?? testConfig;
  const logger = options.logger ?? createLogger('silent');
  const publicDataChanges = options.publicDataChanges ?? createPublicDataChanges(config, logger);
  const inProcess = createInProcessJobs({
    dependencies: { db, config, logger, publicDataChanges },
    reconcileIntervalMinutes: config.reconcileIntervalMinutes,
  });
  const app = createApp({
    db,
    config,
    logger,
    clock: options.clock,
    jobs: options.jobs ?? inProcess.queue,
    limiters: { ...createRateLimiters(config), ...options.limiters },
    jobCounts: inProcess.counts,
    publicDataChanges,
    refreshDb: options.refreshDb,
  });
  return {
    app,
    request: graphqlClient(app),
    jobs: options.jobs ?? inProcess.queue,
    idle: () => inProcess.idle(),
    close: async () => {
      // Background refreshes of cached answers first: they run requests that may enqueue jobs.
      await app.dispose();
      await inProcess.close();
    },
  };
}
