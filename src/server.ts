import { createServer } from 'node:http';
import { createApp } from './app';
import { loadConfig } from './config';
import { openDatabase } from './db/client';
import { isDatabaseEmpty, loadDemoData } from './demo/load-demo-data';
import { createLogger } from './logger';

/**
 * `npm start`: migrates the configured database (embedded PGlite unless
 * DATABASE_URL is set), loads demo data into an empty embedded one, and
 * serves the API.
 */
const config = loadConfig();
const logger = createLogger(config.logLevel);
const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: config.dbPoolSize });

await database.migrate(async (db) => {
  if (!config.demoData || !(await isDatabaseEmpty(db))) return;
  const loaded = await loadDemoData(db, config.trending, { paperCount: config.demoPapers, now: new Date() });
  logger.info(loaded, 'empty database: demo data loaded');
});

const app = createApp({ db: database.db, config, logger });
const server = createServer(app);

server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  logger.info(
    {
      port,
      database: `${database.kind === 'pglite' ? 'embedded PGlite' : 'Postgres'} at ${database.location}`,
    },
    `Daily Papers API ready: GraphiQL at http://localhost:${port}/graphql`,
  );
});

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  logger.info({ signal }, 'shutting down');
  server.close();
  await database.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
