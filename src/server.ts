import { startJobs } from '../jobs/runtime';
import { createQueueDashboard } from './admin/queue-dashboard';
import { createApp } from './app';
import { createPublicDataChanges } from './cache/public-data-changes';
import { createHttpServer } from './http-server';
import { loadConfig } from './config';
import { openDatabase } from './db/client';
import { isDatabaseEmpty, loadDemoData } from './demo/load-demo-data';
import { createLogger } from './logger';
import { lacksPaperNeighbors } from './modules/recommendations/similar-papers';
import { lacksSearchModel } from './modules/search/semantic-index';
import { connectRateLimitRedis, createRateLimiters } from './rate-limit';

/**
 * `npm start` serves the API and runs the job processors in one process;
 * `npm run start:api` (argument "api") serves the API only, leaving the jobs
 * to `npm run worker`. The database is embedded PGlite unless DATABASE_URL is
 * set; the jobs run on BullMQ with REDIS_URL and in-process timers without.
 */
const apiOnly = process.argv[2] === 'api';
const config = loadConfig();
const logger = createLogger(config.logLevel);
const database = openDatabase({
  url: config.databaseUrl,
  dataDir: config.dataDir,
  poolSize: config.dbPoolSize,
  connectTimeoutSeconds: config.dbConnectTimeoutSeconds,
});

/** Postgres connections of the response cache's background refreshes (see AppDependencies.refreshDb). */
const REFRESH_POOL_SIZE = 2;
// PGlite is one connection in this process: refreshes share it.
const refreshDatabase = config.databaseUrl
  ? openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: REFRESH_POOL_SIZE, connectTimeoutSeconds: config.dbConnectTimeoutSeconds })
  : undefined;

await database.migrate(async (db) => {
  if (!config.demoData || !(await isDatabaseEmpty(db))) return;
  const loaded = await loadDemoData(db, config.trending, { paperCount: config.demoPapers, now: new Date() });
  logger.info(loaded, 'empty database: demo data loaded');
});

const redis = config.redisUrl ? connectRateLimitRedis({ ...config, redisUrl: config.redisUrl }, logger) : undefined;
const publicDataChanges = createPublicDataChanges(config, logger);
const jobs = await startJobs({ config, db: database.db, logger, runWorker: !apiOnly, publicDataChanges });
// Papers stored before paper_neighbors existed get their neighbours now, not at the next scheduled refresh.
if (await lacksPaperNeighbors(database.db)) await jobs.queue.enqueue('refresh-all-similar-papers', {});
// Papers but no semantic search model yet (a fresh demo database, or one filled before it existed): fit one now.
if (await lacksSearchModel(database.db)) await jobs.queue.enqueue('fit-search-model', {}, { deduplicationId: 'start' });
const limiters = createRateLimiters(config, redis);
const app = createApp({
  db: database.db,
  config,
  logger,
  jobs: jobs.queue,
  limiters,
  redis,
  jobCounts: jobs.counts,
  publicDataChanges,
  refreshDb: refreshDatabase?.db,
});
const queueDashboard = createQueueDashboard({
  db: database.db,
  config,
  logger,
  queues: jobs.bullQueues,
  signInLimiters: limiters,
});
const server = createHttpServer(app, {
  queueDashboard,
  maxRequestBytes: config.http.maxRequestBytes,
  logger,
  timeouts: config.listenerTimeouts,
});

server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    {
      port,
      database: `${database.kind === 'pglite' ? 'embedded PGlite' : 'Postgres'} at ${database.location}`,
      jobs: apiOnly ? `${jobs.mode} (producer only)` : jobs.mode,
    },
    `Daily Papers API ready: GraphiQL at http://localhost:${port}/graphql`,
  );
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down: finishing requests in flight and running jobs');
  const forceExit = setTimeout(() => {
    logger.error('shutdown took too long; exiting');
    process.exit(1);
  }, 15_000);
  forceExit.unref();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  await app.dispose();
  await jobs.close();
  await publicDataChanges.close();
  redis?.disconnect();
  await refreshDatabase?.close();
  await database.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
