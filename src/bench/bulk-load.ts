import { sql } from 'drizzle-orm';
import type { TrendingSettings } from '../config';
import type { Database } from '../db/client';
import { queryRows } from '../db/rows';
import { createSession } from '../modules/accounts/sessions';
import { refreshSimilarPapers } from '../modules/recommendations/similar-papers';
import { refreshSearchDocuments } from '../modules/search/search-documents';
import { recomputeKeysAndCounts } from '../modules/trending/recompute';

export interface BenchScale {
  papers: number;
  users: number;
  upvotes: number;
}

export interface BenchDataset {
  /** The paper the "paper with similar papers" scenario reads. */
  featuredPaper: { id: number; arxivId: string };
  /** The UTC day (YYYY-MM-DD) with the most featured papers. */
  busyDay: string;
  upvoteRows: number;
}

/** Days the featured papers are spread over, ending today. */
const DAYS = 60;
/** Authors per paper. */
const AUTHORS_PER_PAPER = 4;
/** Words titles, abstracts and keywords are drawn from; "diffusion" is what the search scenario looks for. */
const WORDS = [
  'diffusion',
  'transformer',
  'language',
  'model',
  'vision',
  'reasoning',
  'agent',
  'benchmark',
  'scaling',
  'sparse',
  'attention',
  'retrieval',
  'video',
  'speech',
  'robot',
  'policy',
  'reinforcement',
  'learning',
  'graph',
  'neural',
  'efficient',
  'alignment',
  'preference',
  'multimodal',
  'generation',
  'segmentation',
  'detection',
  'quantization',
  'distillation',
  'mixture',
  'experts',
  'memory',
  'context',
  'long',
  'code',
  'math',
  'physics',
  'protein',
  'audio',
  'world',
];

const WORDS_SQL = `'{${WORDS.join(',')}}'::text[]`;

/** A word of WORDS picked by a deterministic hash of an SQL integer expression and a salt. */
const word = (seed: string, salt: number) => `(${WORDS_SQL})[1 + abs(hashint4(${seed} * ${salt}) % ${WORDS.length})]`;

/**
 * Loads a synthetic data set of the given scale with set-based SQL (one
 * statement per table; two papers in three under an organization), then derives what the site keeps: upvote counts,
 * trending keys, search documents, and the similar papers of one paper.
 */
export async function loadBenchDataset(db: Database, settings: TrendingSettings, scale: BenchScale): Promise<BenchDataset> {
  const authorCount = Math.max(10, Math.floor(scale.papers / 2));
  const organizationCount = Math.max(5, Math.floor(scale.papers / 200));

  await db.execute(
    sql.raw(`
    insert into users (username, display_name)
    select 'bench_user_' || g, 'Bench User ' || g from generate_series(1, ${scale.users}) g`),
  );

  await db.execute(
    sql.raw(`
    insert into authors (name) select 'Bench Author ' || g from generate_series(1, ${authorCount}) g`),
  );

  await db.execute(
    sql.raw(
      `insert into organizations (name, full_name) select 'bench-org-' || g, 'Bench Organization ' || g from generate_series(1, ${organizationCount}) g`,
    ),
  );

  // arXiv-style ids (yymm.nnnnn), 90,000 a month; featured one day after publication, spread over DAYS days.
  await db.execute(
    sql.raw(`
    insert into papers (arxiv_id, title, abstract, published_at, submitted_at, submitted_by_id, organization_id, keywords, trending_key)
    select
      format('%s.%s', 2401 + g / 90000, lpad((g % 90000 + 1)::text, 5, '0')),
      initcap(${word('g', 3)} || ' ' || ${word('g', 5)} || ' for ' || ${word('g', 7)} || ' ' || ${word('g', 11)}),
      'We study ' || ${word('g', 13)} || ' ' || ${word('g', 17)} || ' with ' || ${word('g', 19)} || ' and '
        || ${word('g', 23)} || '. Our ' || ${word('g', 29)} || ' method improves ' || ${word('g', 31)} || ' results.',
      published,
      published + interval '1 day',
      1 + (g % ${scale.users}),
      case when g % 3 = 0 then null else 1 + (g % ${organizationCount}) end,
      array[${word('g', 37)}, ${word('g', 41)}, ${word('g', 43)}],
      0
    from generate_series(1, ${scale.papers}) g,
      lateral (select date_trunc('hour', now()) - interval '1 day'
        - ((g % ${DAYS}) || ' days')::interval - ((g % 23) || ' hours')::interval as published) t`),
  );

  await db.execute(
    sql.raw(`
    insert into paper_authors (paper_id, position, author_id, name)
    select p.id, pos, a.id, a.name
    from papers p
    cross join generate_series(0, ${AUTHORS_PER_PAPER - 1}) pos
    join authors a on a.id = 1 + abs(hashint4(p.id * 7 + pos * 104729) % ${authorCount})`),
  );

  // Votes skewed towards some papers (power law on the paper), distinct per (paper, user); topped up until the target.
  let upvoteRows = 0;
  for (let round = 0; round < 6 && upvoteRows < scale.upvotes; round += 1) {
    const missing = scale.upvotes - upvoteRows;
    await db.execute(
      sql.raw(`
      insert into upvotes (paper_id, user_id, created_at)
      select v.paper_id, v.user_id, greatest(p.submitted_at, now() - random() * interval '${DAYS} days')
      from (
        select distinct 1 + floor(power(random(), 1.5) * ${scale.papers})::int as paper_id,
          1 + floor(random() * ${scale.users})::int as user_id
        from generate_series(1, ${Math.ceil(missing * 1.05)})
      ) v join papers p on p.id = v.paper_id
      limit ${missing}
      on conflict do nothing`),
    );
    const [counted] = await queryRows<{ n: number }>(db, sql`select count(*)::int as n from upvotes`);
    upvoteRows = counted!.n;
  }
  await db.execute(sql`analyze`);

  await recomputeKeysAndCounts(db, settings);
  const allIds = await queryRows<{ id: number }>(db, sql`select id from papers`);
  await refreshSearchDocuments(
    db,
    allIds.map((row) => row.id),
  );

  const [featured] = await queryRows<{ id: number; arxivId: string }>(
    db,
    sql`select id, arxiv_id as "arxivId" from papers order by trending_key desc, id desc limit 1`,
  );
  await refreshSimilarPapers(db, [featured!.id]);
  const busyDay = await busiestDay(db);
  await db.execute(sql`vacuum analyze`);
  return { featuredPaper: featured!, busyDay, upvoteRows };
}

/** The UTC day with the most papers submitted (the latest of equals): the bench's daily page. */
export async function busiestDay(db: Database): Promise<string> {
  const [busy] = await queryRows<{ day: string }>(
    db,
    sql`select to_char(submitted_at at time zone 'UTC', 'YYYY-MM-DD') as day from papers
        group by 1 order by count(*) desc, 1 desc limit 1`,
  );
  return busy!.day;
}

/** Voters with no votes yet (usernames `prefix` 1..count), each with a session of `sessionDays`; their ids and tokens. */
export async function createVoters(db: Database, prefix: string, count: number, now: Date, sessionDays = 30) {
  const rows = await queryRows<{ id: number }>(
    db,
    sql.raw(`insert into users (username) select '${prefix}' || g from generate_series(1, ${count}) g returning id`),
  );
  const voters: { id: number; token: string }[] = [];
  for (let start = 0; start < rows.length; start += 50) {
    const batch = rows.slice(start, start + 50);
    voters.push(...(await Promise.all(batch.map(async (row) => ({ id: row.id, token: await createSession(db, row.id, now, sessionDays) })))));
  }
  return voters;
}
