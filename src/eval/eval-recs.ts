import { parseArgs } from 'node:util';
import { loadConfig, type AppConfig } from '../config';
import { openDatabase, type Database } from '../db/client';
import { isDatabaseEmpty, loadDemoData } from '../demo/load-demo-data';
import {
  DEFAULT_RECOMMENDATION_PARAMETERS,
  DEFAULT_SIMILARITY_WEIGHTS,
  type RecommendationParameters,
  type SimilarityWeights,
} from '../modules/recommendations/ranking-parameters';
import { computeRecommendations } from '../modules/recommendations/recommendations';
import { refreshSimilarPapers } from '../modules/recommendations/similar-papers';
import { holdOutLatestUpvotes } from './holdout';
import { scoreRankings, type RankingScores } from './metrics';
import { copyEvaluationData, openScratchDatabase } from './scratch-database';

/**
 * `npm run eval:recs -- [--demo] [--papers N] [--holdout SHARE]`: judges the
 * recommenders offline. Each user's latest upvotes are held out; every
 * recommender then ranks 10 papers per user from the remaining data, and the
 * table reports hit-rate@10 and NDCG@10 against those held-out upvotes.
 *
 * The data comes from the configured Postgres (DATABASE_URL), copied into a
 * scratch PGlite; with --demo, without DATABASE_URL, or when that database
 * has no papers, it is the demo data set instead (topic structure: users
 * favour one or two topics), generated into the scratch PGlite.
 */
const USAGE = 'Usage: npm run eval:recs -- [--demo] [--papers N] [--holdout SHARE]';
const K = 10;
const DEFAULT_HOLDOUT_SHARE = 0.2;
/** The demo data's "now": fixed, so the figures are the same on every run. */
const DEMO_NOW = new Date('2025-11-20T12:00:00Z');

interface Recommender {
  name: string;
  /** The similar papers it reads; none when it does not read them. */
  similarity?: SimilarityWeights;
  parameters: RecommendationParameters;
}

const RECOMMENDERS: Recommender[] = [
  { name: 'trending only', parameters: { ...DEFAULT_RECOMMENDATION_PARAMETERS, trendingShare: 1 } },
  {
    name: 'content only',
    similarity: { content: 1, coUpvote: 0, trending: 0 },
    parameters: { ...DEFAULT_RECOMMENDATION_PARAMETERS, trendingShare: 0 },
  },
  {
    name: 'co-upvote only',
    similarity: { content: 0, coUpvote: 1, trending: 0 },
    parameters: { ...DEFAULT_RECOMMENDATION_PARAMETERS, trendingShare: 0 },
  },
  { name: 'blend (defaults)', similarity: DEFAULT_SIMILARITY_WEIGHTS, parameters: DEFAULT_RECOMMENDATION_PARAMETERS },
];

interface EvaluationOptions {
  demo: boolean;
  paperCount: number;
  holdoutShare: number;
}

const config = loadConfig();
const options = parseOptions();
if (options) await evaluate(options);

async function evaluate(options: EvaluationOptions): Promise<void> {
  const startedAt = performance.now();
  const scratch = await openScratchDatabase();
  try {
    const data = await loadEvaluationData(scratch.db, config, options);
    const heldOut = await holdOutLatestUpvotes(scratch.db, options.holdoutShare, config.trending);
    const users = [...heldOut.keys()];
    const heldOutCount = [...heldOut.values()].reduce((total, papers) => total + papers.size, 0);
    const results: (RankingScores & { name: string })[] = [];
    for (const recommender of RECOMMENDERS) {
      if (recommender.similarity) await refreshSimilarPapers(scratch.db, 'all', recommender.similarity);
      const recommendations = await computeRecommendations(scratch.db, users, recommender.parameters, K);
      const rankings = new Map([...recommendations].map(([user, picks]) => [user, picks.map((pick) => pick.paperId)]));
      results.push({ name: recommender.name, ...scoreRankings(rankings, heldOut, K) });
    }
    const seconds = (performance.now() - startedAt) / 1000;
    printReport({ data, users: users.length, heldOutCount, results, seconds, holdoutShare: options.holdoutShare });
  } finally {
    await scratch.close();
  }
}

/** Fills the scratch database and says what with. */
async function loadEvaluationData(scratch: Database, config: AppConfig, options: EvaluationOptions): Promise<string> {
  if (!options.demo && config.databaseUrl) {
    const source = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
    try {
      if (!(await isDatabaseEmpty(source.db))) {
        // One snapshot, read only: no upvote refers to a paper or user the copy missed.
        const copied = await source.db.transaction((tx) => copyEvaluationData(tx as unknown as Database, scratch), {
          isolationLevel: 'repeatable read',
          accessMode: 'read only',
        });
        return `a copy of ${source.location}: ${copied.papers} papers, ${copied.users} users, ${copied.upvotes} upvotes`;
      }
    } finally {
      await source.close();
    }
  }
  const loaded = await loadDemoData(scratch, config.trending, { paperCount: options.paperCount, now: DEMO_NOW });
  return `demo data: ${loaded.papers} papers, ${loaded.users} users, ${loaded.upvotes} upvotes`;
}

function printReport(report: {
  data: string;
  users: number;
  heldOutCount: number;
  results: (RankingScores & { name: string })[];
  seconds: number;
  holdoutShare: number;
}): void {
  const lines = [
    `Data: ${report.data}`,
    `Held out: the latest ${Math.round(report.holdoutShare * 100)}% (at least 1) of each user's upvotes; ${report.heldOutCount} upvotes of ${report.users} users`,
    '',
    `| recommender | hit-rate@${K} | NDCG@${K} |`,
    '| --- | ---: | ---: |',
    ...report.results.map((result) => `| ${result.name} | ${result.hitRate.toFixed(3)} | ${result.ndcg.toFixed(3)} |`),
    '',
    `Took ${report.seconds.toFixed(1)} s.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

function parseOptions(): EvaluationOptions | undefined {
  try {
    const { values } = parseArgs({
      options: {
        demo: { type: 'boolean', default: false },
        papers: { type: 'string' },
        holdout: { type: 'string' },
      },
    });
    const paperCount = values.papers === undefined ? config.demoPapers : Number(values.papers);
    if (!Number.isInteger(paperCount) || paperCount < 1) throw new Error(`--papers must be a whole number >= 1, got "${values.papers}"`);
    const holdoutShare = values.holdout === undefined ? DEFAULT_HOLDOUT_SHARE : Number(values.holdout);
    if (!(holdoutShare > 0 && holdoutShare < 1)) throw new Error(`--holdout must be a share between 0 and 1, got "${values.holdout}"`);
    return { demo: values.demo, paperCount, holdoutShare };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}. ${USAGE}\n`);
    process.exitCode = 1;
    return undefined;
  }
}
