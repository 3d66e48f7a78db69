import { loadConfig } from '../config';
import { createLogger } from '../logger';
import { openDatabase } from './client';

/** `npm run db:migrate`: applies pending migrations to the configured database. */
const config = loadConfig();
const logger = createLogger(config.logLevel);
const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
try {
  await database.migrate();
  logger.info({ database: database.kind, location: database.location }, 'migrations applied');
} finally {
  await database.close();
}
