import { parseArgs } from 'node:util';
import { loadConfig, type AppConfig } from '../config';
import { sql } from 'drizzle-orm';
import { openDatabase, type Database } from '../db/client';
import { queryRows } from '../db/rows';
import { chanceOfVoteAfter, generateDemoDataset, trueAppealFor, type DemoDataset, type DemoWorld } from '../demo/demo-dataset';
import { isDatabaseEmpty, loadDemoData } from '../demo/load-demo-data';
import { HAND_WEIGHTS, SIGNALS, scoreCandidates, signalAlone, type RankingWeights } from '../modules/recommendations/ranking';
import { refreshSimilarPapers } from '../modules/recommendations/similar-papers';
import { tuneRankingModel, validate, type ValidationScores } from '../modules/recommendations/tuning';
import { holdOutLatestUpvotes, type HoldoutSize } from './holdout';
import { scoreRankings } from './metrics';
import { copyEvaluationData, openScratchDatabase } from './scratch-database';

/**
 * `npm run eval:recs -- [--world NAME]... [--database] [--papers N] [--users N] [--holdout N or SHARE]`:
 * judges the recommenders offline, on several generated worlds (or, with
 * --database, on a copy of the configured Postgres). In each, every evaluated
 * user's latest upvote (or N, or a share) is held out and deleted (in a scratch PGlite); the tuner
 * then fits a model on what is left (holding out its own validation votes
 * from that), and every recommender ranks 10 papers per user. The table
 * reports hit-rate@10 and NDCG@10 against the evaluation's held-out upvotes,
 * which the tuner never saw.
 */
const USAGE = 'Usage: npm run eval:recs -- [--world NAME]... [--database] [--papers N] [--users N] [--holdout N or SHARE]';
const K = 10;
/** Leave one out: each reader's latest upvote, the one a feed should have shown next. */
const DEFAULT_HOLDOUT: HoldoutSize = { latest: 1 };
const DEFAULT_PAPERS = 300;
const DEFAULT_USERS = 150;
/** The generated worlds' "now": fixed, so the figures are the same on every run. */
const DEMO_NOW = new Date('2025-11-20T12:00:00Z');
const ORACLE = 'oracle (knows the world)';

/** The worlds, each a change to the demo world. */
export const WORLDS: Record<string, { description: string; world: Partial<DemoWorld> }> = {
  demo: { description: 'the demo world', world: {} },
  skewed: { description: 'strong popularity skew', world: { appealSpread: 2.2 } },
  mixed: { description: 'every reader mixes two topics evenly', world: { secondTopicChance: 1, secondTopicWeight: 1 } },
  'votes-only': { description: 'co-upvotes carry the signal, the text does not', world: { textUnrelatedToTopic: true } },
  'text-only': { description: 'the text carries the signal, votes are sparse', world: { voteRate: 0.2 } },
  'new-readers': { description: 'mostly new readers (2-3 upvotes)', world: { newReaderShare: 0.7 } },
  // Hugging Face features some 30-60 papers a day; the demo world 5, so there the newest papers alone find half of the next upvotes.
  dense: { description: '30 papers a day, as on Hugging Face (300 over 10 days)', world: { days: 10 } },
  'dense-votes-only': { description: '30 papers a day, co-upvotes carry the signal', world: { days: 10, textUnrelatedToTopic: true } },
};

interface EvaluationOptions {
  worlds: string[];
  database: boolean;
  paperCount: number;
  userCount: number;
  holdout: HoldoutSize;
}

interface WorldResult {
  name: string;
  data: string;
  heldOut: number;
  users: number;
  tuned: RankingWeights;
  served: boolean;
  rows: { name: string; scores: ValidationScores }[];
}

const config = loadConfig();
const options = parseOptions();
if (options) await evaluate(options);

async function evaluate(options: EvaluationOptions): Promise<void> {
  const startedAt = performance.now();
  const results: WorldResult[] = [];
  if (options.database) {
    results.push(await evaluateWorld('database', options, async (scratch) => ({ data: await copyConfiguredDatabase(scratch, config) })));
  } else {
    for (const name of options.worlds) {
      const { world } = WORLDS[name]!;
      results.push(
        await evaluateWorld(name, options, async (scratch) => {
          const worldOptions = { paperCount: options.paperCount, userCount: options.userCount, now: DEMO_NOW, world };
          const loaded = await loadDemoData(scratch, config.trending, worldOptions);
          // The same data again (it is deterministic), for what drew the votes.
          return { data: `${loaded.papers} papers, ${loaded.users} users, ${loaded.upvotes} upvotes`, dataset: generateDemoDataset(worldOptions) };
        }),
      );
    }
  }
  printReport(results, options.holdout, (performance.now() - startedAt) / 1000);
}

async function evaluateWorld(
  name: string,
  options: EvaluationOptions,
  load: (scratch: Database) => Promise<{ data: string; dataset?: DemoDataset }>,
): Promise<WorldResult> {
  const scratch = await openScratchDatabase();
  try {
    const { data, dataset } = await load(scratch.db);
    // Half the users (every other id) are evaluated, the other half validate the tuner: a user whose
    // latest upvotes were taken away would show the tuner a hole in time where the new papers are.
    const users = await queryRows<{ id: number }>(scratch.db, sql`select id from users order by id`);
    const evaluated = users.map((user) => user.id).filter((_, index) => index % 2 === 0);
    const heldOut = await holdOutLatestUpvotes(scratch.db, options.holdout, config.trending, evaluated);
    // Neighbours, counts and trending keys from what is left; the tuner then splits off its own validation votes.
    await refreshSimilarPapers(scratch.db, 'all');
    const tuning = await tuneRankingModel(scratch.db, config.trending, { excludeUserIds: evaluated });
    const served = tuning.beatsTrending ? tuning.weights : HAND_WEIGHTS;
    const candidates = await scoreCandidates(scratch.db, [...heldOut.keys()]);
    const judge = (weights: RankingWeights) => validate(candidates, heldOut, weights);
    const rows = [
      { name: 'trending', scores: judge(signalAlone('trending')) },
      ...SIGNALS.filter((signal) => signal !== 'trending').map((signal) => ({ name: `${signal} alone`, scores: judge(signalAlone(signal)) })),
      { name: 'hand defaults', scores: judge(HAND_WEIGHTS) },
      { name: 'tuned', scores: judge(tuning.weights) },
      { name: 'served', scores: judge(served) },
      ...(dataset ? [{ name: ORACLE, scores: await rankByTruth(scratch.db, dataset, heldOut) }] : []),
    ];
    const heldOutCount = [...heldOut.values()].reduce((total, papers) => total + papers.size, 0);
    return { name, data, heldOut: heldOutCount, users: heldOut.size, tuned: tuning.weights, served: tuning.beatsTrending, rows };
  } finally {
    await scratch.close();
  }
}

/**
 * The ceiling, near enough: what the generator's own model ranks first, knowing what no
 * recommender sees (each paper's appeal and each reader's topic affinities),
 * times the chance that the reader's vote on the paper came after their
 * latest remaining upvote. Papers the reader upvoted are left out, as the
 * recommenders leave them out.
 */
async function rankByTruth(db: Database, dataset: DemoDataset, heldOut: ReadonlyMap<number, ReadonlySet<number>>): Promise<ValidationScores> {
  const paperIds = new Map(
    (await queryRows<{ id: number; arxiv_id: string }>(db, sql`select id, arxiv_id from papers`)).map((row) => [row.arxiv_id, row.id]),
  );
  const userIds = new Map(
    (await queryRows<{ id: number; username: string }>(db, sql`select id, username from users`)).map((row) => [row.username, row.id]),
  );
  const votes = await queryRows<{ user_id: number; paper_id: number; created_at: Date }>(
    db,
    sql`select user_id, paper_id, created_at from upvotes where user_id = any(${sql.param([...heldOut.keys()])}::int[])`,
  );
  const votesByUser = new Map<number, { paperIds: Set<number>; latest: number }>();
  for (const vote of votes) {
    const own = votesByUser.get(vote.user_id) ?? { paperIds: new Set<number>(), latest: -Infinity };
    own.paperIds.add(vote.paper_id);
    own.latest = Math.max(own.latest, new Date(vote.created_at).getTime());
    votesByUser.set(vote.user_id, own);
  }
  const rankings = new Map<number, number[]>();
  dataset.users.forEach((user, userIndex) => {
    const userId = userIds.get(user.username)!;
    const own = votesByUser.get(userId);
    if (!heldOut.has(userId) || !own) return;
    const upvoted = own.paperIds;
    const latest = new Date(own.latest);
    const scored = dataset.papers
      .map((paper, paperIndex) => ({
        paperId: paperIds.get(paper.arxivId)!,
        score: trueAppealFor(dataset.truth, userIndex, paper, paperIndex) * chanceOfVoteAfter(paper.submittedAt, latest, DEMO_NOW),
      }))
      .filter((paper) => !upvoted.has(paper.paperId));
    scored.sort((a, b) => b.score - a.score || b.paperId - a.paperId);
    rankings.set(
      userId,
      scored.slice(0, K).map((paper) => paper.paperId),
    );
  });
  const { hitRate, ndcg } = scoreRankings(rankings, heldOut, K);
  return { hitRate, ndcg };
}

/** A read-only snapshot of the configured Postgres, copied into the scratch database. */
async function copyConfiguredDatabase(scratch: Database, config: AppConfig): Promise<string> {
  if (!config.databaseUrl) throw new Error('--database needs DATABASE_URL');
  const source = openDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    if (await isDatabaseEmpty(source.db)) throw new Error(`${source.location} has no papers`);
    // One snapshot, read only: no upvote refers to a paper or user the copy missed.
    const copied = await source.db.transaction((tx) => copyEvaluationData(tx, scratch), {
      isolationLevel: 'repeatable read',
      accessMode: 'read only',
    });
    return `a copy of ${source.location}: ${copied.papers} papers, ${copied.users} users, ${copied.upvotes} upvotes`;
  } finally {
    await source.close();
  }
}

function formatWeights(weights: RankingWeights): string {
  return SIGNALS.map((signal) => `${signal} ${weights[signal]}`).join(', ');
}

function printReport(results: WorldResult[], holdout: HoldoutSize, seconds: number): void {
  const names = results[0]?.rows.map((row) => row.name) ?? [];
  const cell = (scores: ValidationScores) => `${scores.hitRate.toFixed(3)} / ${scores.ndcg.toFixed(3)}`;
  const lines = [
    `Held out: ${'latest' in holdout ? `the latest ${holdout.latest} upvote(s)` : `the latest ${Math.round(holdout.share * 100)}% (at least 1) of the upvotes`} of each evaluated user. Cells: hit-rate@${K} / NDCG@${K}.`,
    '',
    `| recommender | ${results.map((result) => result.name).join(' | ')} |`,
    `| --- | ${results.map(() => '---:').join(' | ')} |`,
    ...names.map((name) => `| ${name} | ${results.map((result) => cell(result.rows.find((row) => row.name === name)!.scores)).join(' | ')} |`),
    `| tuned / trending (hit-rate) | ${results
      .map((result) => {
        const trending = result.rows[0]!.scores.hitRate;
        const tuned = result.rows.find((row) => row.name === 'served')!.scores.hitRate;
        return trending === 0 ? '-' : `${(tuned / trending).toFixed(2)}x`;
      })
      .join(' | ')} |`,
    ...(names.includes(ORACLE)
      ? [
          `| oracle / trending (hit-rate) | ${results
            .map((result) => {
              const trending = result.rows[0]!.scores.hitRate;
              const oracle = result.rows.find((row) => row.name === ORACLE)!.scores.hitRate;
              return trending === 0 ? '-' : `${(oracle / trending).toFixed(2)}x`;
            })
            .join(' | ')} |`,
        ]
      : []),
    '',
    ...results.map(
      (result) =>
        `- ${result.name} (${WORLDS[result.name]?.description ?? 'configured database'}): ${result.data}; ${result.heldOut} held-out upvotes of ${result.users} users; tuned weights ${formatWeights(result.tuned)}${result.served ? '' : ' (did not beat trending on validation: the hand defaults serve)'}`,
    ),
    '',
    `Took ${seconds.toFixed(1)} s.`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

/** --holdout N (the latest N upvotes) or a share between 0 and 1. */
function parseHoldout(value: string | undefined): HoldoutSize {
  if (value === undefined) return DEFAULT_HOLDOUT;
  const number = Number(value);
  if (Number.isInteger(number) && number >= 1) return { latest: number };
  if (number > 0 && number < 1) return { share: number };
  throw new Error(`--holdout must be a whole number of upvotes >= 1 or a share between 0 and 1, got "${value}"`);
}

function parseOptions(): EvaluationOptions | undefined {
  try {
    const { values } = parseArgs({
      options: {
        world: { type: 'string', multiple: true },
        database: { type: 'boolean', default: false },
        papers: { type: 'string' },
        users: { type: 'string' },
        holdout: { type: 'string' },
      },
    });
    const worlds = values.world ?? Object.keys(WORLDS);
    for (const world of worlds) {
      if (!Object.hasOwn(WORLDS, world)) throw new Error(`unknown world "${world}" (one of ${Object.keys(WORLDS).join(', ')})`);
    }
    const paperCount = values.papers === undefined ? DEFAULT_PAPERS : Number(values.papers);
    if (!Number.isInteger(paperCount) || paperCount < 1) throw new Error(`--papers must be a whole number >= 1, got "${values.papers}"`);
    const userCount = values.users === undefined ? DEFAULT_USERS : Number(values.users);
    if (!Number.isInteger(userCount) || userCount < 1) throw new Error(`--users must be a whole number >= 1, got "${values.users}"`);
    return { worlds, database: values.database, paperCount, userCount, holdout: parseHoldout(values.holdout) };
  } catch (error) {
    process.stderr.write(`${(error as Error).message}. ${USAGE}\n`);
    process.exitCode = 1;
    return undefined;
  }
}
