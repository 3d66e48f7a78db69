import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { loadConfig } from '../config';
import type { Database } from '../db/client';
import { queryRows } from '../db/rows';
import { loadDemoData } from '../demo/load-demo-data';
import { importDailyPapers } from '../import/hf-daily-papers';
import {
  DEFAULT_FUSION,
  SEMANTIC_PROBES,
  normalizeSearchQuery,
  searchHintFor,
  searchPapers,
  semanticSearchFor,
  type Fusion,
} from '../modules/search/search.queries';
import { fitSearchModel } from '../modules/search/semantic-index';
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
const USAGE =
  'Usage: npm run eval:search -- [--split report|development] [--papers N] [--file HF.json] [--seed N] [--show-misses] [--sample N] [--tune (development split only)]';
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
  tune: boolean;
  /** At most this many queries of each kind (the first ones, in paper order); all by default, 60 with --tune. */
  sample: number;
}

function parseOptions(): Options | null {
  const { values } = parseArgs({
    options: {
      split: { type: 'string', default: 'report' },
      papers: { type: 'string', default: String(DEFAULT_PAPERS) },
      file: { type: 'string', default: DEFAULT_FILE },
      seed: { type: 'string', default: String(DEFAULT_SEED) },
      'show-misses': { type: 'boolean', default: false },
      tune: { type: 'boolean', default: false },
      sample: { type: 'string' },
    },
  });
  const papers = Number(values.papers);
  const sample = values.sample === undefined ? (values.tune ? 60 : Number.POSITIVE_INFINITY) : Number(values.sample);
  const seed = Number(values.seed);
  const badSplit = values.split !== 'report' && values.split !== 'development';
  // Tuning on the report split would make its figures a fit, not a judgement.
  if (
    badSplit ||
    !Number.isInteger(papers) ||
    papers < 1 ||
    !Number.isInteger(seed) ||
    !(sample >= 1) ||
    (values.tune && values.split !== 'development')
  ) {
    console.error(USAGE);
    process.exitCode = 1;
    return null;
  }
  return { split: values.split as Split, papers, file: values.file, seed, showMisses: values['show-misses'], tune: values.tune, sample };
}

async function readCorpus(db: Database): Promise<CorpusPaper[]> {
  return queryRows<CorpusPaper & Record<string, unknown>>(
    db,
    sql`select p.arxiv_id as "arxivId", p.title, p.abstract, p.keywords,
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

/** How the semantic layer is used: not at all (lexical only), or with these probes and this fusion. */
type Layer = { probes: number; fusion: Fusion } | null;

async function judge(db: Database, query: JudgedQuery, layer: Layer): Promise<Judged> {
  const normalized = normalizeSearchQuery(query.query);
  const semantic = layer ? await semanticSearchFor(db, normalized, layer) : null;
  const page = await searchPapers(db, normalized, { direction: 'forward', size: K, cursor: null }, {}, semantic);
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

async function judgeAll(db: Database, queries: readonly JudgedQuery[], layer: Layer, kinds: readonly string[] = QUERY_KINDS): Promise<Judged[]> {
  const results: Judged[] = [];
  for (const query of queries) if (kinds.includes(query.kind)) results.push(await judge(db, query, layer));
  return results;
}

/**
 * `--tune`: on the development split, every fusion in a small grid
 * (semantic weight, whether every-word matches stay first, whether papers on both
 * lists gain the semantic term, buckets probed);
 * prints each one's paraphrase MRR and the largest drop of any lexical
 * kind's hit@1, hit@10 or MRR against the lexical search alone. The default
 * in search.queries.ts is the best paraphrase MRR among those with no drop.
 */
async function tune(db: Database, allQueries: readonly JudgedQuery[], sample: number): Promise<void> {
  // Identifier queries never reach the semantic layer.
  const kinds: readonly string[] = QUERY_KINDS.filter((kind) => kind !== 'id' && kind !== 'absent id');
  const queries = allQueries.filter((query) => kinds.includes(query.kind));
  console.log(`${queries.length} queries, at most ${sample} of each kind\n`);
  const baseline = summarize(await judgeAll(db, queries, null, kinds));
  console.log('| weight | every word first | boost lexical | probes | paraphrase hit@1 | paraphrase hit@10 | paraphrase MRR | worst lexical drop |');
  console.log('| ---: | --- | --- | ---: | ---: | ---: | ---: | ---: |');
  const run = async (weight: number, everyWordFirst: boolean, boostLexical: boolean, probes: number) => {
    const rows = summarize(await judgeAll(db, queries, { probes, fusion: { ...DEFAULT_FUSION, weight, everyWordFirst, boostLexical } }, kinds));
    let drop = 0;
    for (const row of rows.filter((candidate) => candidate.kind !== 'paraphrase' && candidate.count > 0)) {
      const before = baseline.find((candidate) => candidate.kind === row.kind)!;
      drop = Math.max(drop, before.hitAt1 - row.hitAt1, before.hitAt10 - row.hitAt10, before.mrr - row.mrr);
    }
    const paraphrase = rows.find((row) => row.kind === 'paraphrase')!;
    const cells = [paraphrase.hitAt1, paraphrase.hitAt10, paraphrase.mrr, drop].map((value) => value.toFixed(3));
    console.log(`| ${weight} | ${everyWordFirst} | ${boostLexical} | ${probes} | ${cells.join(' | ')} |`);
    return { weight, everyWordFirst, boostLexical, probes, mrr: paraphrase.mrr, drop };
  };
  // The fusion first (at the default probes), then the probes for the best fusion that loses nothing lexical.
  const fusions = [];
  for (const boostLexical of [false, true]) {
    for (const everyWordFirst of [true, false]) {
      for (const weight of [0.3, 1]) fusions.push(await run(weight, everyWordFirst, boostLexical, SEMANTIC_PROBES));
    }
  }
  const best = fusions.filter((fusion) => fusion.drop <= 0).sort((a, b) => b.mrr - a.mrr)[0] ?? fusions.sort((a, b) => a.drop - b.drop)[0]!;
  for (const probes of [2, 4, 16]) await run(best.weight, best.everyWordFirst, best.boostLexical, probes);
}

async function main(options: Options): Promise<void> {
  const startedAt = performance.now();
  const config = loadConfig();
  const scratch = await openScratchDatabase();
  try {
    const demo = await loadDemoData(scratch.db, config.trending, { paperCount: options.papers, now: DEMO_NOW });
    const file = path.resolve(options.file);
    const imported = await importDailyPapers(scratch.db, config.trending, JSON.parse(await readFile(file, 'utf8')));
    const fit = await fitSearchModel(scratch.db, { dimensions: config.search.modelDimensions });
    const corpus = await readCorpus(scratch.db);
    const generated = generateQueries(corpus, options.split, options.seed);
    const { unaskable } = generated;
    const queries = QUERY_KINDS.flatMap((kind) => generated.queries.filter((query) => query.kind === kind).slice(0, options.sample));
    console.log(
      `${corpus.length} papers (${demo.papers} demo, ${imported.imported} from ${path.basename(file)}); ${options.split} split, seed ${options.seed}: ${queries.length} queries`,
    );
    console.log(
      `Semantic model: ${fit.dimensions} dimensions, ${fit.vocabulary} words, ${fit.buckets} buckets, fitted in ${(fit.ms / 1000).toFixed(1)} s\n`,
    );
    if (options.tune) {
      await tune(scratch.db, queries, options.sample);
      return;
    }
    const lexical = await judgeAll(scratch.db, queries, null);
    // An arXiv id never reaches the semantic layer (semanticSearchFor answers null): its results are the lexical ones.
    const semanticKinds: readonly string[] = QUERY_KINDS.filter((kind) => kind !== 'id' && kind !== 'absent id');
    const fused = [
      ...lexical.filter((result) => !semanticKinds.includes(result.query.kind)),
      ...(await judgeAll(scratch.db, queries, { probes: SEMANTIC_PROBES, fusion: DEFAULT_FUSION }, semanticKinds)),
    ];
    console.log(
      `Not asked (the paper's most distinctive title word is in more than 10 titles of that name): ${unaskable['name + word']} name + word, ${unaskable['organization + word']} organization + word\n`,
    );
    console.log('Lexical only, then with the semantic layer (the default fusion):\n');
    console.log('| kind | queries | hit@1 | hit@10 | MRR | hit@1 fused | hit@10 fused | MRR fused |');
    console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    const fusedRows = summarize(fused);
    for (const row of summarize(lexical)) {
      const withLayer = fusedRows.find((candidate) => candidate.kind === row.kind)!;
      const cells = [row.hitAt1, row.hitAt10, row.mrr, withLayer.hitAt1, withLayer.hitAt10, withLayer.mrr].map((value) => value.toFixed(3));
      console.log(`| ${row.kind} | ${row.count} | ${cells.join(' | ')} |`);
    }
    if (options.showMisses) {
      for (const result of fused.filter((candidate) => candidate.rank !== 1)) {
        console.log(`${result.query.kind}\t${result.rank ?? '-'}\t${result.query.query}\t${result.query.expected}`);
      }
    }
  } finally {
    console.log(`\n${((performance.now() - startedAt) / 1000).toFixed(0)} s`);
    await scratch.close();
  }
}

const options = parseOptions();
if (options) await main(options);
