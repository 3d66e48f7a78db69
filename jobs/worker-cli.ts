import { createPublicDataChanges } from '../src/cache/public-data-changes';
import { loadConfig } from '../src/config';
import { openDatabase } from '../src/db/client';
import { createLogger } from '../src/logger';
import { startBullWorker } from './bullmq';
import { withDeadline } from './deadline';

/**
 * `npm run worker`: a process that runs the BullMQ jobs (and registers their
 * schedulers) against Postgres, until SIGTERM or SIGINT close it gracefully.
 */
const SHUTDOWN_TIMEOUT_MS = 20_000;

const config = loadConfig();
const logger = createLogger(config.logLevel);

if (!config.redisUrl) {
  logger.fatal('REDIS_URL is not set: the worker takes its jobs from BullMQ on Redis (without Redis, `npm start` runs them in-process)');
  process.exit(1);
}
if (!config.databaseUrl) {
  // The embedded PGlite directory belongs to the server process; a second process must not open it.
  logger.fatal('DATABASE_URL is not set: the worker is a separate process and needs Postgres');
  process.exit(1);
}

const database = openDatabase({
  url: config.databaseUrl,
  dataDir: config.dataDir,
  poolSize: config.dbPoolSize,
  connectTimeoutSeconds: config.dbConnectTimeoutSeconds,
});
await database.migrate();
logger.info({ database: database.location }, 'database ready; starting the BullMQ worker (it waits for Redis)');

// The API replicas cache what anonymous readers see: tell them when a job changed it.
const publicDataChanges = createPublicDataChanges(config, logger);
const worker = await startBullWorker({
  dependencies: { db: database.db, config, logger, publicDataChanges },
  reconcileIntervalMinutes: config.reconcileIntervalMinutes,
});

let stopping = false;
async function shutdown(signal: NodeJS.Signals) {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting without waiting');
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal }, 'shutting down: waiting for running jobs');
  try {
    await withDeadline(
      (async () => {
        await worker.close();
        await publicDataChanges.close();
        logger.info('worker and Redis closed');
        await database.close();
        logger.info('database closed');
      })(),
      SHUTDOWN_TIMEOUT_MS,
      `shutdown did not finish within ${SHUTDOWN_TIMEOUT_MS} ms`,
    );
  } catch (error) {
    logger.error({ err: error }, 'shutdown failed');
    process.exit(1);
  }
  process.exit(0);
}
process.on('SIGTERM', (signal) => void shutdown(signal));
process.on('SIGINT', (signal) => void shutdown(signal));
