import { parseArgs } from 'node:util';
import { loadConfig } from '../config';
import { openDatabase } from '../db/client';
import { createLogger } from '../logger';
import { isDatabaseEmpty, loadDemoData, type DemoLoadResult } from './load-demo-data';

/**
 * `npm run seed -- [--papers N] [--force]`: loads the demo data set into the
 * configured database. A database that has papers is left alone unless
 * --force is given; then the demo set is added on top (papers are keyed by
 * arXiv id and votes by voter and paper, so nothing is duplicated).
 */
const USAGE = 'Usage: npm run seed -- [--papers N] [--force]';

const config = loadConfig();
const logger = createLogger(config.logLevel);
const options = parseOptions();

if (options) {
  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  const where = { database: database.kind, location: database.location };
  try {
    let loaded: (DemoLoadResult & { seconds: number }) | undefined;
    // Inside migrate's advisory lock, so a server seeding an empty database at the same moment cannot interleave.
    await database.migrate(async (db) => {
      if (options.force || (await isDatabaseEmpty(db))) {
        const startedAt = performance.now();
        const counts = await loadDemoData(db, config.trending, { paperCount: options.paperCount, now: new Date() });
        loaded = { ...counts, seconds: Math.round(performance.now() - startedAt) / 1000 };
      }
    });
    if (loaded) {
      logger.info({ ...where, ...loaded }, 'demo data loaded');
    } else {
      logger.error(where, 'The database already has papers, so nothing was loaded. Run `npm run seed -- --force` to add the demo data on top.');
      process.exitCode = 1;
    }
  } finally {
    await database.close();
  }
}

function parseOptions(): { paperCount: number; force: boolean } | undefined {
  try {
    const { values } = parseArgs({ options: { papers: { type: 'string' }, force: { type: 'boolean', default: false } } });
    const paperCount = values.papers === undefined ? config.demoPapers : Number(values.papers);
    if (!Number.isInteger(paperCount) || paperCount < 1) throw new Error(`--papers must be a whole number >= 1, got "${values.papers}"`);
    return { paperCount, force: values.force };
  } catch (error) {
    logger.error(`${(error as Error).message}. ${USAGE}`);
    process.exitCode = 1;
    return undefined;
  }
}
