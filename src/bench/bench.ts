import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { sql } from 'drizzle-orm';
import postgres from 'postgres';
import { loadConfig } from '../config';
import { openDatabase, type Database } from '../db/client';
import { queryRows } from '../db/rows';
import { createLogger } from '../logger';
import { createSession } from '../modules/accounts/sessions';
import { reconcileTrending } from '../modules/trending/reconcile';
import { loadBenchDataset } from './bulk-load';

/**
 * `npm run bench -- [--papers N] [--users N] [--upvotes N] [--duration s] [--connections n]`:
 * loads a synthetic data set into a fresh database `bench` on the server of
 * DATABASE_URL, starts the API and a bare node:http + postgres.js baseline as
 * child processes on 127.0.0.1, drives both with autocannon and prints the
 * ratios; then times a full reconcile against a bare GROUP BY.
 */
const { values: args } = parseArgs({
  options: {
    papers: { type: 'string', default: '100000' },
    users: { type: 'string', default: '20000' },
    upvotes: { type: 'string', default: '2000000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
  },
});
const scale = { papers: Number(args.papers), users: Number(args.users), upvotes: Number(args.upvotes) };
const durationSeconds = Number(args.duration);
const connections = Number(args.connections);
/** Voters of the upvote scenario, per server: a prime, so (voter, paper) pairs cycle through papers without repeating. */
const VOTERS = 2003;
const POOL_SIZE = 10;
const BENCH_DATABASE = 'bench';

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) {
  console.error('npm run bench needs DATABASE_URL (a Postgres server; the bench creates and uses its own database "bench").');
  process.exit(2);
}
const benchUrl = (() => {
  const url = new URL(serverUrl);
  url.pathname = `/${BENCH_DATABASE}`;
  return url.toString();
})();

const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);
const children: ChildProcess[] = [];

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Starts `node --import tsx <script>` with env, and waits until GET /health answers. */
async function startChild(script: string, args: string[], env: NodeJS.ProcessEnv, port: number): Promise<string> {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  children.push(child);
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 600; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/health`)).ok) return base;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${script} did not become healthy`);
}

async function stopChildren() {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
          child.once('exit', () => {
            clearTimeout(force);
            resolve();
          });
          child.kill('SIGTERM');
        }),
    ),
  );
}

interface LoadFigure {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  failures: number;
}

/** One autocannon run: `request` builds each request (so every upvote can be a new pair). */
async function drive(url: string, request: () => autocannon.Request, onResponse?: (status: number, body: string) => void): Promise<LoadFigure> {
  const host = new URL(url).host;
  const result = await autocannon({
    url,
    connections,
    duration: durationSeconds,
    requests: [
      {
        // A request's own headers replace autocannon's defaults, Host included: put it back.
        setupRequest: () => {
          const built = request();
          return { ...built, headers: { host, ...built.headers } };
        },
        ...(onResponse ? { onResponse: (status, body) => onResponse(status, body) } : {}),
      },
    ],
  });
  return {
    requestsPerSecond: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    failures: result.non2xx + result.errors + result.timeouts,
  };
}

/**
 * A GraphQL request. `fresh` sends Cache-Control: no-cache, which the API's
 * response cache honours: every scenario but the cached anonymous trending
 * page measures the GraphQL stack, not the cache.
 */
const graphqlRequest = (
  query: string,
  variables: Record<string, unknown>,
  { token, fresh = true }: { token?: string; fresh?: boolean } = {},
): autocannon.Request => ({
  method: 'POST',
  path: '/graphql',
  headers: {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(fresh ? { 'cache-control': 'no-cache' } : {}),
  },
  body: JSON.stringify({ query, variables }),
});

const PAPER_LIST_FIELDS = 'id arxivId title upvotes trendingScore authors { name author { id name } }';
const TRENDING_QUERY = `{ trendingPapers(first: 50) { edges { node { ${PAPER_LIST_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const TRENDING_SIGNED_IN_QUERY = `{ trendingPapers(first: 50) { edges { node { ${PAPER_LIST_FIELDS} viewerHasUpvoted } } pageInfo { hasNextPage endCursor } } }`;
const DAILY_QUERY = `query ($date: Date!) { dailyPapers(date: $date, first: 50) { edges { node { ${PAPER_LIST_FIELDS} } } pageInfo { hasNextPage endCursor } } }`;
const PAPER_QUERY = `query ($arxivId: String!) { paper(arxivId: $arxivId) { id arxivId title abstract upvotes authors { name author { id name } } similarPapers(first: 5) { id arxivId title upvotes } } }`;
const SEARCH_QUERY = `query ($q: String!) { searchPapers(query: $q, first: 20) { edges { node { id arxivId title upvotes } } } }`;
const UPVOTE_MUTATION = `mutation ($id: ID!) { upvotePaper(paperId: $id) { upvotes viewerHasUpvoted } }`;
const SEARCH_TERMS = 'diffusion transformer';

/** Sends one request and fails the bench if the answer is not a clean 200. */
async function checkOnce(base: string, request: autocannon.Request, label: string) {
  const response = await fetch(`${base}${request.path}`, {
    method: request.method ?? 'GET',
    headers: request.headers as Record<string, string> | undefined,
    body: request.body as string | undefined,
  });
  const text = await response.text();
  if (!response.ok || text.includes('"errors"') || text.includes('"error"')) {
    throw new Error(`${label} at ${base} answered ${response.status}: ${text.slice(0, 500)}`);
  }
}

/** Voters with no votes yet, each with a session; returns their ids and tokens. */
async function createVoters(db: Database, prefix: string, count: number, now: Date) {
  const rows = await queryRows<{ id: number }>(
    db,
    sql.raw(`insert into users (username) select '${prefix}' || g from generate_series(1, ${count}) g returning id`),
  );
  const voters: { id: number; token: string }[] = [];
  for (let start = 0; start < rows.length; start += 50) {
    const batch = rows.slice(start, start + 50);
    voters.push(...(await Promise.all(batch.map(async (row) => ({ id: row.id, token: await createSession(db, row.id, now, 30) })))));
  }
  return voters;
}

interface ScenarioResult {
  name: string;
  api: LoadFigure;
  baseline: LoadFigure;
}

const fixed = (value: number, digits = 0) => value.toFixed(digits);

function printTable(results: ScenarioResult[]) {
  const header = ['scenario', 'api req/s', 'p50 ms', 'p99 ms', 'bare req/s', 'p50 ms', 'p99 ms', 'ratio', 'failures api/bare'];
  const rows = results.map((r) => [
    r.name,
    fixed(r.api.requestsPerSecond),
    fixed(r.api.p50),
    fixed(r.api.p99),
    fixed(r.baseline.requestsPerSecond),
    fixed(r.baseline.p50),
    fixed(r.baseline.p99),
    `${fixed((100 * r.api.requestsPerSecond) / r.baseline.requestsPerSecond)}%`,
    `${r.api.failures}/${r.baseline.failures}`,
  ]);
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

async function main() {
  log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${fixed(os.totalmem() / 2 ** 30, 1)} GiB, node ${process.version}`);
  log(`scale: ${scale.papers} papers, ${scale.users} users, ${scale.upvotes} upvotes; ${durationSeconds}s x ${connections} connections`);

  const admin = postgres(serverUrl!, { max: 1, onnotice: () => {} });
  const [{ server_version: postgresVersion } = { server_version: '?' }] = await admin<{ server_version: string }[]>`show server_version`;
  log(`Postgres ${postgresVersion}; (re)creating database ${BENCH_DATABASE}`);
  await admin.unsafe(`drop database if exists ${BENCH_DATABASE} with (force)`);
  await admin.unsafe(`create database ${BENCH_DATABASE}`);
  await admin.end();

  const config = loadConfig({ ...process.env, DATABASE_URL: benchUrl });
  const handle = openDatabase({ url: benchUrl, dataDir: config.dataDir, poolSize: POOL_SIZE });
  try {
    await handle.migrate();
    let started = Date.now();
    const dataset = await loadBenchDataset(handle.db, config.trending, scale);
    log(`loaded ${dataset.upvoteRows} upvote rows in ${fixed((Date.now() - started) / 1000, 1)}s; busy day ${dataset.busyDay}`);

    const now = new Date();
    const readerToken = await createSession(handle.db, 1, now, 30);
    const apiVoters = await createVoters(handle.db, 'bench_api_voter_', VOTERS, now);
    const bareVoters = await createVoters(handle.db, 'bench_bare_voter_', VOTERS, now);

    const apiPort = await freePort();
    const apiBase = await startChild(
      'src/server.ts',
      ['api'],
      {
        ...process.env,
        DATABASE_URL: benchUrl,
        PORT: String(apiPort),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        DEMO_DATA: 'false',
        DB_POOL_SIZE: String(POOL_SIZE),
        VOTE_RATE_LIMIT_PER_MINUTE: '1000000000',
        MUTATION_RATE_LIMIT_PER_MINUTE: '1000000000',
        AUTH_RATE_LIMIT_PER_MINUTE: '1000000000',
      },
      apiPort,
    );
    const barePort = await freePort();
    const bareBase = await startChild(
      'src/bench/baseline-server.ts',
      [],
      { ...process.env, DATABASE_URL: benchUrl, PORT: String(barePort), DB_POOL_SIZE: String(POOL_SIZE) },
      barePort,
    );
    log(`API at ${apiBase} (jobs: ${process.env.REDIS_URL ? 'BullMQ on REDIS_URL' : 'in-process, no Redis'}), baseline at ${bareBase}`);

    interface ReadScenario {
      name: string;
      api: autocannon.Request;
      bare: autocannon.Request;
    }
    const readScenarios: ReadScenario[] = [
      {
        name: 'trending 50, anonymous (cached)',
        api: graphqlRequest(TRENDING_QUERY, {}, { fresh: false }),
        bare: { method: 'GET', path: '/trending' },
      },
      { name: 'trending 50, anonymous, no cache', api: graphqlRequest(TRENDING_QUERY, {}), bare: { method: 'GET', path: '/trending' } },
      {
        name: 'trending 50, signed in',
        api: graphqlRequest(TRENDING_SIGNED_IN_QUERY, {}, { token: readerToken }),
        bare: { method: 'GET', path: '/trending', headers: { authorization: `Bearer ${readerToken}` } },
      },
      {
        name: `daily ${dataset.busyDay}`,
        api: graphqlRequest(DAILY_QUERY, { date: dataset.busyDay }),
        bare: { method: 'GET', path: `/daily?date=${dataset.busyDay}` },
      },
      {
        name: 'paper + similarPapers',
        api: graphqlRequest(PAPER_QUERY, { arxivId: dataset.featuredPaper.arxivId }),
        bare: { method: 'GET', path: `/paper?arxivId=${dataset.featuredPaper.arxivId}` },
      },
      {
        name: `search "${SEARCH_TERMS}"`,
        api: graphqlRequest(SEARCH_QUERY, { q: SEARCH_TERMS }),
        bare: { method: 'GET', path: `/search?q=${encodeURIComponent(SEARCH_TERMS)}` },
      },
    ];

    /** Waits (up to a minute) until no statement runs in the bench database: no run inherits the last one's backlog. */
    const waitForIdle = async () => {
      for (let attempt = 0; attempt < 600; attempt += 1) {
        const [row] = await queryRows<{ n: number }>(
          handle.db,
          sql`select count(*)::int as n from pg_stat_activity
              where datname = ${BENCH_DATABASE} and state = 'active' and pid <> pg_backend_pid()`,
        );
        if (row!.n === 0) return;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    };
    const results: ScenarioResult[] = [];
    const runReadScenario = async (scenario: ReadScenario) => {
      await checkOnce(apiBase, scenario.api, scenario.name);
      await checkOnce(bareBase, scenario.bare, scenario.name);
      await waitForIdle();
      log(`${scenario.name}: API`);
      const api = await drive(apiBase, () => scenario.api);
      await waitForIdle();
      log(`${scenario.name}: baseline`);
      const baseline = await drive(bareBase, () => scenario.bare);
      results.push({ name: scenario.name, api, baseline });
    };
    for (const scenario of readScenarios) await runReadScenario(scenario);

    // Upvotes: the i-th request is voter i mod VOTERS on paper i mod papers, a new pair every time.
    const votePair = (counter: { next: number }) => {
      const i = counter.next++;
      return { voterIndex: i % VOTERS, paperId: 1 + (i % scale.papers) };
    };
    const apiCounter = { next: 0 };
    const bareCounter = { next: 0 };
    const accepted = { api: 0, bare: 0 };
    const isClean = (status: number, body: string) => status >= 200 && status < 300 && !body.includes('"error');
    await waitForIdle();
    log('upvotes: API');
    const apiUpvotes = await drive(
      apiBase,
      () => {
        const { voterIndex, paperId } = votePair(apiCounter);
        const paperGlobalId = Buffer.from(`Paper:${paperId}`).toString('base64');
        return graphqlRequest(UPVOTE_MUTATION, { id: paperGlobalId }, { token: apiVoters[voterIndex]!.token });
      },
      (status, body) => {
        if (isClean(status, body)) accepted.api += 1;
      },
    );
    await waitForIdle();
    log('upvotes: baseline');
    const bareUpvotes = await drive(
      bareBase,
      () => {
        const { voterIndex, paperId } = votePair(bareCounter);
        return {
          method: 'POST',
          path: '/upvote',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${bareVoters[voterIndex]!.token}` },
          body: JSON.stringify({ paperId }),
        };
      },
      (status, body) => {
        if (isClean(status, body)) accepted.bare += 1;
      },
    );
    results.push({ name: 'upvote (distinct pairs)', api: apiUpvotes, baseline: bareUpvotes });

    await stopChildren();

    const storedVotes = async (voters: { id: number }[]) => {
      const [row] = await queryRows<{ n: number }>(
        handle.db,
        sql`select count(*)::int as n from upvotes where user_id = any(${sql.param(voters.map((v) => v.id))}::int[])`,
      );
      return row!.n;
    };
    const storedApi = await storedVotes(apiVoters);
    const storedBare = await storedVotes(bareVoters);
    const [drift] = await queryRows<{ n: number }>(
      handle.db,
      sql`select count(*)::int as n from papers p where p.upvote_count <> p.upvote_baseline + (select count(*) from upvotes u where u.paper_id = p.id)`,
    );

    // Full reconcile against the bare GROUP BY: a warm-up read each, then the median of three GROUP BYs and one reconcile.
    const logger = createLogger('warn');
    const timeIt = async (work: () => Promise<unknown>) => {
      started = performance.now();
      await work();
      return performance.now() - started;
    };
    const groupBy = () => handle.db.execute(sql`select paper_id, count(*) from upvotes group by paper_id`);
    await groupBy();
    const groupByTimes = [await timeIt(groupBy), await timeIt(groupBy), await timeIt(groupBy)].sort((a, b) => a - b);
    const groupByMs = groupByTimes[1]!;
    // The first reconcile repairs what the load left (the baseline's votes skip the vote-weight check); the second is the steady state.
    const firstReconcileMs = await timeIt(() => reconcileTrending({ db: handle.db, config, logger }));
    const reconcileMs = await timeIt(() => reconcileTrending({ db: handle.db, config, logger }));

    console.log('');
    printTable(results);
    console.log('');
    console.log(`upvotes API:      ${accepted.api} clean 2xx, ${storedApi} rows stored, lost ${Math.max(0, accepted.api - storedApi)}`);
    console.log(`upvotes baseline: ${accepted.bare} clean 2xx, ${storedBare} rows stored, lost ${Math.max(0, accepted.bare - storedBare)}`);
    console.log(`papers whose upvote_count differs from their rows: ${drift!.n}`);
    console.log(
      `full reconcile ${fixed(reconcileMs)} ms vs bare GROUP BY ${fixed(groupByMs)} ms: ${fixed(reconcileMs / groupByMs, 2)}x` +
        ` (first reconcile after the load, with repairs: ${fixed(firstReconcileMs)} ms)`,
    );
  } finally {
    await stopChildren();
    await handle.close();
  }
}

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    console.error(error);
    await stopChildren();
    process.exit(1);
  },
);
