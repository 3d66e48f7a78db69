import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { createBullJobQueue } from '../../jobs/bullmq';
import { createPublicDataChanges } from '../cache/public-data-changes';
import { loadConfig, type AppConfig } from '../config';
import { NOTIFY_PAPERS_PER_JOB } from '../job-queue';
import { createLogger } from '../logger';
import { openDatabase } from '../db/client';
import { refreshSimilarPapers } from '../modules/recommendations/similar-papers';
import { fitSearchModel } from '../modules/search/semantic-index';
import { tuneRankingModel } from '../modules/recommendations/tuning';
import { importDailyPapers, type ImportProblem } from './hf-daily-papers';

/**
 * `npm run import -- FILE`: loads a saved Hugging Face /api/daily_papers
 * response into the configured database. Bad items are reported on stderr and
 * skipped while the rest load (exit 0); a file that cannot be used at all
 * (missing, not JSON, not an array) exits 1.
 */
async function main(args: readonly string[]): Promise<number> {
  const [file] = args;
  if (!file) {
    console.error('usage: npm run import -- FILE.json');
    return 1;
  }
  const filePath = path.resolve(file);

  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    console.error(`cannot read ${filePath}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error)}`);
    return 1;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    console.error(`${filePath} is not valid JSON: ${(error as Error).message}`);
    return 1;
  }

  const config = loadConfig();
  const database = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir });
  try {
    await database.migrate();
    const result = await importDailyPapers(database.db, config.trending, json);
    for (const problem of result.problems) console.error(describeProblem(filePath, problem));
    const fileProblem = result.problems.some((problem) => problem.index === undefined);
    if (fileProblem) return 1;
    // A bulk load: recompute every paper's similar papers once rather than one job per paper, then refit the ranking and the search's model on them.
    if (result.imported > 0) {
      await refreshSimilarPapers(database.db, 'all');
      await tuneRankingModel(database.db, config.trending);
      await fitSearchModel(database.db, { dimensions: config.search.modelDimensions });
      await announcePublicDataChange(config);
      await askForCategories(config, result.newPaperIds);
    }
    console.log(
      `${filePath}: ${plural(result.imported, 'paper')} written, ${result.unchanged} unchanged, ` +
        `${plural(result.problems.length, 'item')} skipped (${database.kind} ${database.location})`,
    );
    return 0;
  } finally {
    await database.close();
  }
}

/** Tells the running API processes (through Redis, when there is one) that their cached answers are stale. */
async function announcePublicDataChange(config: AppConfig) {
  if (!config.redisUrl) return;
  const changes = createPublicDataChanges(config, createLogger('warn'));
  await changes.announce({ kind: 'everything' });
  await changes.close();
}

/**
 * Hands the arXiv categories of the new papers to the workers (through Redis,
 * when there is one): at one request every few seconds that is a job's work,
 * not this command's. Without Redis the server's schedule gets to them. The
 * new papers' NEW_PAPER notifications go the same way, in chunks (without
 * Redis none are made: an import without workers is a local load); papers
 * already stored are not new, whatever the import changed in them.
 */
async function askForCategories(config: AppConfig, newPaperIds: readonly number[]) {
  if (!config.redisUrl) return;
  const queue = createBullJobQueue({ redisUrl: config.redisUrl, redisPrefix: config.redisPrefix });
  try {
    await queue.enqueue('fill-arxiv-categories', {}, { deduplicationId: 'import' });
    for (let offset = 0; offset < newPaperIds.length; offset += NOTIFY_PAPERS_PER_JOB) {
      await queue.enqueue('notify', { kind: 'NEW_PAPER', paperIds: newPaperIds.slice(offset, offset + NOTIFY_PAPERS_PER_JOB) });
    }
  } finally {
    await queue.close();
  }
}

function describeProblem(filePath: string, problem: ImportProblem): string {
  if (problem.index === undefined) return `${filePath}: ${problem.message}`;
  const item = problem.arxivId ? `item ${problem.index} (${problem.arxivId})` : `item ${problem.index}`;
  return `${item}: ${problem.message}`;
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

process.exitCode = await main(process.argv.slice(2)).catch((error: unknown) => {
  console.error(`import failed: ${error instanceof Error ? error.message : String(error)}`);
  return 1;
});
