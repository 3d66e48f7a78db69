import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { loadConfig } from '../config';
import { openDatabase } from '../db/client';
import { queryRows } from '../db/rows';
import { refreshRecommendations } from '../modules/recommendations/recommendations';
import { refreshSimilarPapers } from '../modules/recommendations/similar-papers';
import { findValidationReaders, tuneRankingModel } from '../modules/recommendations/tuning';
import { addUpvote } from '../modules/upvotes/upvotes';
import { loadBenchDataset } from './bulk-load';

/**
 * `DATABASE_URL=postgres://... npx tsx src/bench/recs-bench.ts [--reuse] [--skip-neighbours] [--refresh-only] [--readers-only]`:
 * the personal ranking at the bench scale. Loads 100,000 papers, 20,000
 * users and 2,000,000 upvotes into its own database "recs_bench" (kept with
 * --reuse), then times the full similar-papers refresh (every paper's
 * neighbours, as the scheduled job computes them; skipped with
 * --skip-neighbours), the tune-recommendations fit and, for READERS readers,
 * one upvote followed by the refresh of their feed.
 */
const DATABASE = 'recs_bench';
const READERS = 20;
const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('needs DATABASE_URL (a Postgres server)');
const reuse = process.argv.includes('--reuse') || process.argv.includes('--refresh-only');
const skipNeighbours = process.argv.includes('--skip-neighbours');
/** Only the per-reader refresh, on a database a run before loaded and prepared. */
const refreshOnly = process.argv.includes('--refresh-only');
/** Neighbours of the timed readers' papers only, and no tuning: the refresh timing alone, in minutes rather than hours. */
const readersOnly = process.argv.includes('--readers-only');
const benchUrl = Object.assign(new URL(serverUrl), { pathname: `/${DATABASE}` }).toString();
const log = (message: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);

if (!reuse) {
  const admin = postgres(serverUrl, { max: 1, onnotice: () => undefined });
  await admin.unsafe(`drop database if exists ${DATABASE} with (force)`);
  await admin.unsafe(`create database ${DATABASE}`);
  await admin.end();
}
const config = loadConfig({ ...process.env, DATABASE_URL: benchUrl });
const handle = openDatabase({ url: benchUrl, dataDir: config.dataDir, poolSize: 2 });
try {
  await handle.migrate();
  const db = handle.db;
  if (!reuse) {
    const started = performance.now();
    const loaded = await loadBenchDataset(db, config.trending, { papers: 100_000, users: 20_000, upvotes: 2_000_000 });
    log(`loaded ${loaded.upvoteRows} upvotes in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  // The readers: a spread of users by id.
  const readers = await queryRows<{ id: number; upvotes: number }>(
    db,
    sql`select u.id, (select count(*)::int from upvotes v where v.user_id = u.id) as upvotes from users u order by hashtext(u.id::text) limit ${READERS}`,
  );
  if (!refreshOnly && !skipNeighbours) {
    const started = performance.now();
    // What the scheduled similar-papers refresh would have stored for the papers the tuner and the readers read.
    const validating = readersOnly ? [] : await findValidationReaders(db);
    const sources = await queryRows<{ paper_id: number }>(
      db,
      sql`select distinct paper_id from upvotes where user_id = any(${sql.param([...validating, ...readers.map((reader) => reader.id)])}::int[])`,
    );
    const refreshed = await refreshSimilarPapers(
      db,
      sources.map((row) => row.paper_id),
    );
    log(
      `similar papers and neighbours of the ${refreshed.papers} papers upvoted by ${validating.length} validating and ${readers.length} timed readers in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  }
  if (!refreshOnly && !readersOnly) {
    const started = performance.now();
    const tuned = await tuneRankingModel(db, config.trending);
    const { weights, validation, ...figures } = tuned;
    log(
      `tune-recommendations in ${((performance.now() - started) / 1000).toFixed(1)} s: ${JSON.stringify({ ...figures, weights, model: validation?.model, trending: validation?.trending })}`,
    );
  }

  const [target] = await queryRows<{ id: number }>(db, sql`select id from papers order by trending_key desc limit 1 offset 500`);
  const timings: number[] = [];
  for (const reader of readers) {
    const upvoteAt = performance.now();
    await addUpvote(db, config.trending, { paperId: target!.id, userId: reader.id, at: new Date() });
    await refreshRecommendations(db, reader.id);
    timings.push(performance.now() - upvoteAt);
  }
  timings.sort((a, b) => a - b);
  const at = (share: number) => timings[Math.min(timings.length - 1, Math.floor(share * timings.length))]!.toFixed(0);
  log(
    `upvote + refresh of the reader's feed, ${readers.length} readers (${readers.map((r) => r.upvotes).join(', ')} upvotes): median ${at(0.5)} ms, p90 ${at(0.9)} ms, max ${at(1)} ms`,
  );
} finally {
  await handle.close();
}
