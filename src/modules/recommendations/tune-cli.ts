import { parseArgs } from 'node:util';
import { loadConfig } from '../../config';
import { openDatabase } from '../../db/client';
import { rollBackRankingModel, tuneRankingModel } from './tuning';

/**
 * `npm run tune:recs [-- --rollback]`: refits the personal ranking's weights
 * on the configured database and stores the model (served if it beats
 * trending on validation); with --rollback, retires the served model so the
 * one before it serves again. Feeds follow when their readers next read them.
 */
const USAGE = 'Usage: npm run tune:recs [-- --rollback]';

const config = loadConfig();
let rollback = false;
try {
  rollback = parseArgs({ options: { rollback: { type: 'boolean', default: false } } }).values.rollback;
} catch (error) {
  process.stderr.write(`${(error as Error).message}. ${USAGE}\n`);
  process.exit(1);
}
const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
try {
  await database.migrate();
  if (rollback) {
    const { retired, served } = await rollBackRankingModel(database.db);
    process.stdout.write(
      `${retired === null ? 'No tuned model was served' : `Retired model ${retired}`}; now serving ${served.id === null ? 'the hand weights' : `model ${served.id}`}: ${JSON.stringify(served.weights)}\n`,
    );
  } else {
    const startedAt = performance.now();
    const result = await tuneRankingModel(database.db, config.trending);
    const seconds = ((performance.now() - startedAt) / 1000).toFixed(1);
    process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    process.stdout.write(
      result.modelId === null
        ? `Too little data (${result.validationUsers} validation readers): nothing stored, the hand weights serve. ${seconds} s.\n`
        : `Stored model ${result.modelId}; ${result.beatsTrending ? 'served' : 'not served: it does not beat trending on validation'}. ${seconds} s.\n`,
    );
  }
} finally {
  await database.close();
}
