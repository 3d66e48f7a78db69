import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../config';
import type { Database } from '../db/client';
import { queryRows } from '../db/rows';
import { loadDemoData } from '../demo/load-demo-data';
import { importDailyPapers } from '../import/hf-daily-papers';
import { normalizeSearchQuery, searchHintFor, searchPapers } from '../modules/search/search.queries';
import { openScratchDatabase } from './scratch-database';
import { QUERY_KINDS, generateQueries, type CorpusPaper, type JudgedQuery, type Split } from './search-queries';

/**
 * `npm run eval:search -- [--split report|development] [--papers N] [--file HF.json] [--seed N] [--show-misses]`:
 * judges searchPapers on the demo data (N generated papers) plus an imported
 * Hugging Face daily_papers file, in a scratch embedded database. Every paper
 * falls in one of two splits by a seeded hash; the queries of the
 * development split are the ones to look at while changing the search or
 * the generator, the report split's only get scored. Prints hit@1, hit@10
 * and MRR (reciprocal rank in the first 10) per kind of query.
 */
const USAGE = 'Usage: npm run eval:search -- [--split report|development] [--papers N] [--file HF.json] [--seed N] [--show-misses]';
const K = 10;
const DEMO_NOW = new Date('2025-11-20T12:00:00Z');
const DEFAULT_PAPERS = 1000;
const DEFAULT_FILE = 'tests/fixtures/hf-daily-papers.json';
const DEFAULT_SEED = 15;

interface Options {
  split: Split;
  papers: number;
  file: string;
  seed: number;
  showMisses: boolean;
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      split: { type: 'string', default: 'report' },
      papers: { type: 'string', default: String(DEFAULT_PAPERS) },
      file: { type: 'string', default: DEFAULT_FILE },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      'show-misses': { type: 'boolean', default: false },
    },
  });
  const papers = Number(values.papers);
  const seed = Number(values.seed);
  if ((values.split !== 'report' && values.split !== 'development') || !Number.isInteger(papers) || papers < 1 || !Number.isInteger(seed)) {
    console.error(USAGE);
    process.exitCode = 1;
    return null;
  }
  return { split: values.split, papers, file: values.file, seed, showMisses: values['show-misses'] };
}

async function readCorpus(db: Database): Promise<CorpusPaper[]> {
  return queryRows<CorpusPaper & Record<string, unknown>>(
    db,
    sql`select p.arxiv_id as "arxivId", p.title, p.abstract,
          coalesce((select array_agg(pa.name order by pa.position) from paper_authors pa where pa.paper_id = p.id), '{}') as authors,
          (select json_build_object('name', o.name, 'fullName', o.full_name) from organizations o where o.id = p.organization_id) as organization
        from papers p order by p.id`,
  );
}

interface Judged {
  query: JudgedQuery;
  /** 1-based position of the expected paper in the first K, or null; for an absent id, 1 when the answer is empty with a "not found" hint. */
  rank: number | null;
}

async function judge(db: Database, query: JudgedQuery): Promise<Judged> {
  const normalized = normalizeSearchQuery(query.query);
  const page = await searchPapers(db, normalized, { direction: 'forward', size: K, cursor: null });
  if (query.expected === null) {
    const hint = await searchHintFor(db, normalized, 14);
    return { query, rank: page.rows.length === 0 && hint?.found === false ? 1 : null };
  }
  const index = page.rows.findIndex((row) => row.arxivId === query.expected);
  return { query, rank: index === -1 ? null : index + 1 };
}

function summarize(results: readonly Judged[]) {
  return QUERY_KINDS.map((kind) => {
    const ofKind = results.filter((result) => result.query.kind === kind);
    const count = ofKind.length;
    const share = (predicate: (result: Judged) => boolean) => (count === 0 ? 0 : ofKind.filter(predicate).length / count);
    const mrr = count === 0 ? 0 : ofKind.reduce((sum, result) => sum + (result.rank ? 1 / result.rank : 0), 0) / count;
    return { kind, count, hitAt1: share((result) => result.rank === 1), hitAt10: share((result) => result.rank !== null), mrr };
  });
}

async function main(options: Options): Promise<void> {
  const startedAt = performance.now();
  const config = loadConfig();
  const scratch = await openScratchDatabase();
  try {
    const demo = await loadDemoData(scratch.db, config.trending, { paperCount: options.papers, now: DEMO_NOW });
    const file = path.resolve(options.file);
    const imported = await importDailyPapers(scratch.db, config.trending, JSON.parse(await readFile(file, 'utf8')));
    const corpus = await readCorpus(scratch.db);
    const { queries, unaskable } = generateQueries(corpus, options.split, options.seed);
    const results: Judged[] = [];
    for (const query of queries) results.push(await judge(scratch.db, query));

    console.log(
      `${corpus.length} papers (${demo.papers} demo, ${imported.imported} from ${path.basename(file)}); ${options.split} split, seed ${options.seed}: ${queries.length} queries\n`,
    );
    console.log(
      `Not asked (the paper's most distinctive title word is in more than 10 titles of that name): ${unaskable['name + word']} name + word, ${unaskable['organization + word']} organization + word\n`,
    );
    console.log('| kind | queries | hit@1 | hit@10 | MRR |');
    console.log('| --- | ---: | ---: | ---: | ---: |');
    for (const row of summarize(results)) {
      console.log(`| ${row.kind} | ${row.count} | ${row.hitAt1.toFixed(3)} | ${row.hitAt10.toFixed(3)} | ${row.mrr.toFixed(3)} |`);
    }
    if (options.showMisses) {
      for (const result of results.filter((candidate) => candidate.rank !== 1)) {
        console.log(`${result.query.kind}\t${result.rank ?? '-'}\t${result.query.query}\t${result.query.expected}`);
      }
    }
    console.log(`\n${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
  } finally {
    await scratch.close();
  }
}

const options = parseOptions();
if (options) await main(options);
