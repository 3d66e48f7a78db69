import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import os from 'node:os';
import { parseArgs } from 'node:util';
import { sql } from 'drizzle-orm';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { loadConfig } from '../config';
import { openDatabase } from '../db/client';
import { queryRows } from '../db/rows';
import { createLogger } from '../logger';
import { hashPassword } from '../modules/accounts/passwords';
import { createSession } from '../modules/accounts/sessions';
import { fitSearchModel } from '../modules/search/semantic-index';
import { reconcileTrending } from '../modules/trending/reconcile';
import { DAILY_QUERY, PAPER_QUERY, TRENDING_QUERY, TRENDING_SIGNED_IN_QUERY } from './api-pages';
import { createVoters, loadBenchDataset } from './bulk-load';
import { mergedFigure, percentile, startLoadClients, type HttpRequestSpec, type LoadFigure, type LoadSpec } from './load-clients';
import { installPeers } from './peers/install';
import { send, startVoteStream, type PageReader, type VoteStreamResult } from './vote-stream';

/**
 * `npm run bench -- [options]` (BENCHMARKS.md): loads a synthetic data set
 * into a fresh database `bench` on the server of DATABASE_URL; starts the API
 * (N processes on one port), a second API process, the bare node:http +
 * postgres.js peer and PostGraphile 5 (installed on demand into .bench-peers/)
 * as child processes on 127.0.0.1; drives them from several load-client
 * processes, alone and while upvotes and sign-ins arrive at steady rates;
 * prints each row's req/s and p99 with its ratio to both peers, the
 * vote-to-visible times, upvotes against the bare vote statement, and
 * throughput against the number of API processes; then times a full reconcile.
 */
const { values: args } = parseArgs({
  options: {
    papers: { type: 'string', default: '100000' },
    users: { type: 'string', default: '20000' },
    upvotes: { type: 'string', default: '2000000' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '20' },
    clients: { type: 'string', default: '2' },
    processes: { type: 'string', default: '1' },
    'scale-processes': { type: 'string', default: '1,2' },
    'vote-rates': { type: 'string', default: '0,20,200' },
    'sign-ins': { type: 'string', default: '2' },
    database: { type: 'string', default: 'bench' },
  },
});
const scale = { papers: Number(args.papers), users: Number(args.users), upvotes: Number(args.upvotes) };
const durationSeconds = Number(args.duration);
const connections = Number(args.connections);
const clientCount = Number(args.clients);
const apiProcesses = Number(args.processes);
const numberList = (text: string) => text.split(',').filter(Boolean).map(Number);
const scaleProcesses = numberList(args['scale-processes']);
const voteRates = numberList(args['vote-rates']);
const signInsPerSecond = Number(args['sign-ins']);
/** Voters per voting scenario: a prime, so (voter, paper) pairs cycle through papers without repeating. */
const VOTERS = 2003;
const POOL_SIZE = 10;
/** Dropped and recreated by every run. */
const BENCH_DATABASE = args.database;
if (!/^[a-z_][a-z0-9_]*$/.test(BENCH_DATABASE)) {
  console.error('--database takes a plain lowercase name (letters, digits, _).');
  process.exit(2);
}
const SIGN_IN_USERS = 50;
const READERS = 200;
const WARM_UP_SECONDS = 2;
const SIGN_IN_PASSWORD = 'bench-password-1';
/** One vote in PROBE_EVERY of a stream to the API is on a paper of the trending page, and timed until readers see it. */
const PROBE_EVERY = 4;
const PROBE_TIMEOUT_MS = 10_000;

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
const redisUrl = process.env.REDIS_URL;
/** The API processes' Redis keys and channels start with this; deleted at the end. */
const redisPrefix = `bench-${process.pid}`;

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

/**
 * Starts `node --import tsx <script>` on a free port and waits until GET /health
 * answers (and, with `readyMessage`, until the child says "ready" over IPC).
 */
async function startChild(
  script: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  { readyMessage = false } = {},
): Promise<{ base: string; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'inherit', 'inherit', ...(readyMessage ? (['ipc'] as const) : [])],
  });
  children.push(child);
  let ready = !readyMessage;
  child.on('message', (message) => {
    if (message === 'ready') ready = true;
  });
  const base = `http://127.0.0.1:${port}`;
  for (let attempt = 0; attempt < 1200; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`${script} exited with ${child.exitCode}`);
    try {
      if (ready && (await fetch(`${base}/health`)).ok) return { base, child };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${script} did not become healthy`);
}

const stopChild = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });

const stopChildren = () => Promise.all(children.map(stopChild));

/**
 * A GraphQL request. `fresh` sends Cache-Control: no-cache, which the API's
 * response cache honours: every API row but "anonymous (cached)" measures the
 * GraphQL stack, not the cache.
 */
const graphqlRequest = (
  query: string,
  variables: Record<string, unknown>,
  { token, fresh = true }: { token?: string; fresh?: boolean } = {},
): HttpRequestSpec => ({
  method: 'POST',
  path: '/graphql',
  headers: {
    'content-type': 'application/json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
    ...(fresh ? { 'cache-control': 'no-cache' } : {}),
  },
  body: JSON.stringify({ query, variables }),
});

/** TRENDING_QUERY as PostGraphile names it: the same 50 papers and fields. */
const POSTGRAPHILE_TRENDING_QUERY = `query Trending { allPapers(first: 50, orderBy: [TRENDING_KEY_DESC, ROW_ID_DESC]) { nodes {
  arxivId title abstract publishedAt upvotes: upvoteCount organizationByOrganizationId { name }
  paperAuthorsByPaperId(orderBy: PRIMARY_KEY_ASC) { nodes { name } } } } }`;
const SEARCH_QUERY = `query ($q: String!) { searchPapers(query: $q, first: 20) { edges { node { id arxivId title upvotes } } } }`;
const LOG_IN_MUTATION = `mutation ($login: String!, $password: String!) { logIn(usernameOrEmail: $login, password: $password) { token } }`;
const SEARCH_TERMS = 'diffusion transformer';

/** A trending paper as every server's answer is compared: the same 50, in the same order, with the same fields. */
interface TrendingPaper {
  arxivId: string;
  title: string;
  abstract: string;
  publishedAt: number;
  upvotes: number;
  organization: string | null;
  authors: string[];
  viewerHasUpvoted?: boolean;
}
interface RawPaper {
  arxivId: string;
  title: string;
  abstract: string;
  publishedAt: string;
  upvotes: number;
  viewerHasUpvoted?: boolean;
}
const normalize = (paper: RawPaper, organization: { name: string } | null, authors: { name: string }[]): TrendingPaper => ({
  arxivId: paper.arxivId,
  title: paper.title,
  abstract: paper.abstract,
  publishedAt: Date.parse(paper.publishedAt),
  upvotes: paper.upvotes,
  organization: organization?.name ?? null,
  authors: authors.map((author) => author.name),
  ...(paper.viewerHasUpvoted === undefined ? {} : { viewerHasUpvoted: paper.viewerHasUpvoted }),
});
type ApiPaper = RawPaper & { organization: { name: string } | null; authors: { name: string }[] };
const readApiTrending = (body: string): TrendingPaper[] =>
  (JSON.parse(body) as { data: { trendingPapers: { edges: { node: ApiPaper }[] } } }).data.trendingPapers.edges.map(({ node }) =>
    normalize(node, node.organization, node.authors),
  );
const readBareTrending = (body: string): TrendingPaper[] =>
  (JSON.parse(body) as { data: ApiPaper[] }).data.map((paper) => normalize(paper, paper.organization, paper.authors));
type PostGraphilePaper = RawPaper & { organizationByOrganizationId: { name: string } | null; paperAuthorsByPaperId: { nodes: { name: string }[] } };
const readPostGraphileTrending = (body: string): TrendingPaper[] =>
  (JSON.parse(body) as { data: { allPapers: { nodes: PostGraphilePaper[] } } }).data.allPapers.nodes.map((paper) =>
    normalize(paper, paper.organizationByOrganizationId, paper.paperAuthorsByPaperId.nodes),
  );
const readApiPage: PageReader = (body) => new Map(readApiTrending(body).map((paper) => [paper.arxivId, paper]));

/** Sends one request and fails the bench unless the answer is a clean 200; returns the body. */
async function checkOnce(base: string, request: HttpRequestSpec, label: string): Promise<string> {
  const answer = await send(base, request);
  if (answer.status !== 200 || answer.body.includes('"errors"') || answer.body.includes('"error"')) {
    throw new Error(`${label} at ${base} answered ${answer.status}: ${answer.body.slice(0, 500)}`);
  }
  return answer.body;
}

const fixed = (value: number, digits = 0) => (Number.isFinite(value) ? value.toFixed(digits) : '-');
const ratio = (value: number, reference: number | undefined) => (reference ? fixed(value / reference, 2) : '-');

function printTable(header: string[], rows: string[][]) {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  const line = (cells: string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`);
  for (const row of rows) console.log(line(row));
}

/** Deletes the bench's keys from Redis (jobs the API enqueued with no worker to run them). */
async function clearRedisKeys(url: string) {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${redisPrefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

type Server = 'api' | 'bare' | 'postgraphile';
interface Row {
  /** What is read, e.g. "trending" (rows of one page share their peers' figures). */
  page: 'trending' | 'daily' | 'paper' | 'search' | 'hello';
  name: string;
  server: Server;
  /** Sent in turn. */
  requests: HttpRequestSpec[];
}

async function main() {
  log(`machine: ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${fixed(os.totalmem() / 2 ** 30, 1)} GiB, node ${process.version}`);
  log(
    `scale: ${scale.papers} papers, ${scale.users} users, ${scale.upvotes} upvotes; ${durationSeconds}s x ${connections} connections` +
      ` from ${clientCount} load processes; API ${apiProcesses} process(es); votes/s ${voteRates.join(', ')}`,
  );
  const peersDirectory = installPeers(log);

  const admin = postgres(serverUrl!, { max: 1, onnotice: () => {} });
  const [{ server_version: postgresVersion } = { server_version: '?' }] = await admin<{ server_version: string }[]>`show server_version`;
  log(`Postgres ${postgresVersion}; (re)creating database ${BENCH_DATABASE}`);
  await admin.unsafe(`drop database if exists ${BENCH_DATABASE} with (force)`);
  await admin.unsafe(`create database ${BENCH_DATABASE}`);
  await admin.end();

  const config = loadConfig({ ...process.env, DATABASE_URL: benchUrl });
  const handle = openDatabase({ url: benchUrl, dataDir: config.dataDir, poolSize: POOL_SIZE });
  const loadClients = startLoadClients(clientCount);
  try {
    await handle.migrate();
    let started = Date.now();
    const dataset = await loadBenchDataset(handle.db, config.trending, scale);
    log(`loaded ${dataset.upvoteRows} upvote rows in ${fixed((Date.now() - started) / 1000, 1)}s; busy day ${dataset.busyDay}`);
    // The search rows measure the search as served: lexical and semantic, fused (the job a server runs at start).
    started = Date.now();
    const fit = await fitSearchModel(handle.db, { dimensions: config.search.modelDimensions });
    log(`fitted the semantic search model in ${fixed((Date.now() - started) / 1000, 1)}s: ${JSON.stringify(fit)}`);

    const now = new Date();
    // Signed-in readers: bench users with votes, taken in turn (no row is one user's answer served over and over).
    const readerTokens = await Promise.all(Array.from({ length: Math.min(READERS, scale.users) }, (_, i) => createSession(handle.db, 1 + i, now, 30)));
    const apiVoters = await createVoters(handle.db, 'bench_api_voter_', VOTERS, now);
    const bareVoters = await createVoters(handle.db, 'bench_bare_voter_', VOTERS, now);
    const streamVoters = await createVoters(handle.db, 'bench_stream_voter_', VOTERS, now);
    // One hash for every sign-in user (the salt is in it), at the configured cost.
    const passwordHash = await hashPassword(SIGN_IN_PASSWORD, config.passwordHashCost);
    await handle.db.execute(
      sql`insert into users (username, password_hash) select 'bench_signin_' || g, ${passwordHash} from generate_series(1, ${SIGN_IN_USERS}) g`,
    );

    const apiEnv: NodeJS.ProcessEnv = {
      ...process.env,
      DATABASE_URL: benchUrl,
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DEMO_DATA: 'false',
      DB_POOL_SIZE: String(POOL_SIZE),
      VOTE_RATE_LIMIT_PER_MINUTE: '1000000000',
      MUTATION_RATE_LIMIT_PER_MINUTE: '1000000000',
      AUTH_RATE_LIMIT_PER_MINUTE: '1000000000',
      ...(redisUrl ? { REDIS_URL: redisUrl, REDIS_PREFIX: redisPrefix } : {}),
    };
    const startApi = (processes: number) =>
      processes === 1
        ? startChild('src/server.ts', ['api'], apiEnv)
        : startChild('src/bench/api-cluster.ts', [], { ...apiEnv, BENCH_API_PROCESSES: String(processes) }, { readyMessage: true });
    const peerEnv = { ...process.env, DATABASE_URL: benchUrl, DB_POOL_SIZE: String(POOL_SIZE), NODE_ENV: 'production', BENCH_PEERS_DIR: peersDirectory };
    // The second API process: the vote-to-visible times of another replica (its cache hears of changes through Redis only).
    const [api, second, bare, postgraphile] = await Promise.all([
      startApi(apiProcesses),
      redisUrl ? startChild('src/server.ts', ['api'], apiEnv) : undefined,
      startChild('src/bench/peers/bare-server.ts', [], peerEnv),
      startChild('src/bench/peers/postgraphile-server.ts', [], peerEnv),
    ]);
    const bases: Record<Server, string> = { api: api.base, bare: bare.base, postgraphile: postgraphile.base };
    log(
      `API at ${api.base} (${apiProcesses} process(es); ${redisUrl ? `Redis, prefix ${redisPrefix}` : 'no Redis: jobs in-process'}), ` +
        `second API ${second ? `at ${second.base}` : 'not started (needs REDIS_URL)'}, bare at ${bare.base}, PostGraphile at ${postgraphile.base}`,
    );
    if (!redisUrl && apiProcesses > 1) log("without REDIS_URL the API processes do not hear of each other's votes: their caches end with the TTL only");

    const postgraphileTrending = graphqlRequest(POSTGRAPHILE_TRENDING_QUERY, {});
    const bareTrending: HttpRequestSpec = { method: 'GET', path: '/trending' };
    // Every server answers the same 50 papers, in the same order, with the same fields.
    const pages = {
      api: readApiTrending(await checkOnce(api.base, graphqlRequest(TRENDING_QUERY, {}), 'trending')),
      bare: readBareTrending(await checkOnce(bare.base, bareTrending, 'trending')),
      postgraphile: readPostGraphileTrending(await checkOnce(postgraphile.base, postgraphileTrending, 'trending')),
    };
    for (const [server, page] of Object.entries(pages)) {
      if (page.length !== 50 || JSON.stringify(page) !== JSON.stringify(pages.api)) {
        throw new Error(`${server}'s trending page differs from the API's:\n${JSON.stringify(page[0])}\n${JSON.stringify(pages.api[0])}`);
      }
    }
    log('API, bare and PostGraphile answer the same 50 trending papers (titles, abstracts, times, upvotes, organizations, authors in order)');

    // As a browser sends them: without no-cache.
    const signedInTrending = readerTokens.map((token) => graphqlRequest(TRENDING_SIGNED_IN_QUERY, {}, { token, fresh: false }));
    const rows: Row[] = [
      { page: 'trending', name: 'trending, anonymous (cached)', server: 'api', requests: [graphqlRequest(TRENDING_QUERY, {}, { fresh: false })] },
      { page: 'trending', name: 'trending, anonymous, no-cache', server: 'api', requests: [graphqlRequest(TRENDING_QUERY, {})] },
      { page: 'trending', name: 'trending, signed in', server: 'api', requests: signedInTrending },
      { page: 'trending', name: 'trending: bare', server: 'bare', requests: [bareTrending] },
      { page: 'trending', name: 'trending: PostGraphile', server: 'postgraphile', requests: [postgraphileTrending] },
      { page: 'daily', name: `daily ${dataset.busyDay}, no-cache`, server: 'api', requests: [graphqlRequest(DAILY_QUERY, { date: dataset.busyDay })] },
      { page: 'daily', name: 'daily: bare', server: 'bare', requests: [{ method: 'GET', path: `/daily?date=${dataset.busyDay}` }] },
      {
        page: 'paper',
        name: 'paper + similarPapers, no-cache',
        server: 'api',
        requests: [graphqlRequest(PAPER_QUERY, { arxivId: dataset.featuredPaper.arxivId })],
      },
      { page: 'paper', name: 'paper: bare', server: 'bare', requests: [{ method: 'GET', path: `/paper?arxivId=${dataset.featuredPaper.arxivId}` }] },
    ];
    // Rows run at 0 votes/s only.
    const quietRows: Row[] = [
      { page: 'search', name: `search "${SEARCH_TERMS}", no-cache`, server: 'api', requests: [graphqlRequest(SEARCH_QUERY, { q: SEARCH_TERMS })] },
      { page: 'search', name: 'search: bare', server: 'bare', requests: [{ method: 'GET', path: `/search?q=${encodeURIComponent(SEARCH_TERMS)}` }] },
      { page: 'hello', name: 'hello-world JSON: bare node:http', server: 'bare', requests: [{ method: 'GET', path: '/hello' }] },
    ];
    for (const row of [...rows, ...quietRows]) await checkOnce(bases[row.server], row.requests[0]!, row.name);
    for (const server of ['api', 'bare', 'postgraphile'] as const) {
      log(`warm-up: ${server}, ${WARM_UP_SECONDS} s`);
      await loadClients.run(bases[server], connections, WARM_UP_SECONDS, {
        kind: 'requests',
        requests: rows.find((row) => row.server === server)!.requests,
      });
    }

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
    const topPapers = () =>
      queryRows<{ id: number; arxivId: string }>(
        handle.db,
        sql`select id, arxiv_id as "arxivId" from papers order by trending_key desc, id desc limit 50`,
      );

    const streamCounter = { next: 0 };
    const acceptedStreamPairs = new Set<string>();
    const streamTotals = new Map<number, VoteStreamResult[]>();
    /** The row each stream ran during: where the slow probes were. */
    const rowOfStream = new Map<VoteStreamResult, string>();
    /** Drives `base` with `spec` while (at `votesPerSecond` > 0) votes stream in: to the API for API rows, to the bare vote statement for the peers'. */
    const measure = async (
      server: Server,
      base: string,
      spec: LoadSpec,
      votesPerSecond: number,
      label: string,
      seconds = durationSeconds,
    ): Promise<LoadFigure> => {
      await waitForIdle();
      log(`${label}${votesPerSecond > 0 ? `, ${votesPerSecond} votes/s` : ''}`);
      const toApi = server === 'api';
      const stream =
        votesPerSecond > 0
          ? await startVoteStream({
              base: toApi ? base : bare.base,
              target: toApi ? 'api' : 'bare',
              votesPerSecond,
              voters: streamVoters,
              paperCount: scale.papers,
              counter: streamCounter,
              acceptedPairs: acceptedStreamPairs,
              ...(toApi
                ? {
                    signIns: {
                      perSecond: signInsPerSecond,
                      request: (i: number) =>
                        graphqlRequest(LOG_IN_MUTATION, { login: `bench_signin_${1 + (i % SIGN_IN_USERS)}`, password: SIGN_IN_PASSWORD }),
                    },
                    probes: {
                      everyNth: PROBE_EVERY,
                      topPapers: await topPapers(),
                      watch: [{ name: 'api', base }, ...(second ? [{ name: 'second', base: second.base }] : [])],
                      anonymousPage: graphqlRequest(TRENDING_QUERY, {}, { fresh: false }),
                      signedInPage: (token: string) => graphqlRequest(TRENDING_SIGNED_IN_QUERY, {}, { token, fresh: false }),
                      readPage: readApiPage,
                      voterCheckEveryNth: 5,
                      timeoutMs: PROBE_TIMEOUT_MS,
                    },
                  }
                : {}),
            })
          : undefined;
      const figure = await loadClients.run(base, connections, seconds, spec);
      if (stream) {
        const streamed = await stream.stop();
        streamTotals.set(votesPerSecond, [...(streamTotals.get(votesPerSecond) ?? []), streamed]);
        rowOfStream.set(streamed, label);
      }
      return figure;
    };

    /**
     * Measures loads side by side: each for half the duration, in the order given and then in the reverse
     * order (A B C C B A), a load's figure merging its two halves. A machine whose speed drifts during the
     * pass (this kind's varied by up to 2x within minutes) then weighs on every load alike, and the ratios
     * between them hold; measured one after the other, a ratio also measured the drift.
     */
    const measureInTurns = async (
      turns: { server: Server; base: string; spec: (half: 0 | 1) => LoadSpec; label: string }[],
      votesPerSecond: number,
    ): Promise<LoadFigure[]> => {
      const halves: LoadFigure[][] = turns.map(() => []);
      const order = [...turns.keys(), ...[...turns.keys()].reverse()];
      for (const [step, index] of order.entries()) {
        const turn = turns[index]!;
        const half = step < turns.length ? 0 : 1;
        halves[index]!.push(await measure(turn.server, turn.base, turn.spec(half), votesPerSecond, `${turn.label} (${half + 1}/2)`, durationSeconds / 2));
      }
      return halves.map(mergedFigure);
    };
    const rowTurn = (row: Row) => ({
      server: row.server,
      base: bases[row.server],
      spec: (): LoadSpec => ({ kind: 'requests', requests: row.requests }),
      label: row.name,
    });

    const figures = new Map<string, LoadFigure>();
    const key = (row: Row, votesPerSecond: number) => `${row.name}@${votesPerSecond}`;
    // The quiet rows run in the 0 votes/s pass, which runs for them alone when --vote-rates leaves 0 out.
    const readsAlone = voteRates.includes(0);
    for (const votesPerSecond of readsAlone ? voteRates : [...voteRates, 0]) {
      const measured = votesPerSecond > 0 ? rows : readsAlone ? [...rows, ...quietRows] : quietRows;
      const results = await measureInTurns(measured.map(rowTurn), votesPerSecond);
      for (const [index, row] of measured.entries()) figures.set(key(row, votesPerSecond), results[index]!);
    }

    // Upvotes at full load: every request a new (voter, paper) pair (the second half starts halfway round the pairs).
    const apiTokens = apiVoters.map((voter) => voter.token);
    const bareTokens = bareVoters.map((voter) => voter.token);
    const upvotes =
      (target: 'api' | 'bare', tokens: string[]) =>
      (half: 0 | 1): LoadSpec => ({
        kind: 'upvotes',
        target,
        tokens,
        paperCount: scale.papers,
        // Halfway round the voters x papers distinct pairs.
        first: half * Math.floor((tokens.length * scale.papers) / 2),
      });
    const [apiUpvotes, bareUpvotes] = (await measureInTurns(
      [
        { server: 'api', base: api.base, spec: upvotes('api', apiTokens), label: 'upvotes: API' },
        { server: 'bare', base: bare.base, spec: upvotes('bare', bareTokens), label: 'upvotes: bare' },
      ],
      0,
    )) as [LoadFigure, LoadFigure];

    // Throughput against the number of API processes on one port (node:cluster), reads only: every count's
    // cluster runs side by side (idle while another is measured), its rows in turns as above.
    await stopChild(api.child);
    const clusters = await Promise.all(
      scaleProcesses.map(async (processes) => {
        const cluster = await startChild('src/bench/api-cluster.ts', [], { ...apiEnv, BENCH_API_PROCESSES: String(processes) }, { readyMessage: true });
        return { processes, ...cluster };
      }),
    );
    for (const cluster of clusters) {
      await loadClients.run(cluster.base, connections, WARM_UP_SECONDS, { kind: 'requests', requests: signedInTrending });
    }
    const scalingRows = clusters.flatMap(({ processes, base }) => [
      {
        server: 'api' as const,
        base,
        spec: (): LoadSpec => ({ kind: 'requests', requests: signedInTrending }),
        label: `trending, signed in: ${processes} API process(es)`,
      },
      {
        server: 'api' as const,
        base,
        spec: (): LoadSpec => ({ kind: 'requests', requests: [graphqlRequest(TRENDING_QUERY, {})] }),
        label: `trending, anonymous, no-cache: ${processes} API process(es)`,
      },
    ]);
    const scalingFigures = await measureInTurns(scalingRows, 0);
    const scaling = clusters.map(({ processes }, index) => ({
      processes,
      signedIn: scalingFigures[2 * index]!,
      fresh: scalingFigures[2 * index + 1]!,
    }));
    for (const cluster of clusters) await stopChild(cluster.child);
    await stopChildren();

    const storedVotes = async (userIds: number[]) => {
      const [row] = await queryRows<{ n: number }>(
        handle.db,
        sql`select count(*)::int as n from upvotes where user_id = any(${sql.param(userIds)}::int[])`,
      );
      return row!.n;
    };
    const storedApi = await storedVotes(apiVoters.map((voter) => voter.id));
    const storedBare = await storedVotes(bareVoters.map((voter) => voter.id));
    const storedStream = await storedVotes(streamVoters.map((voter) => voter.id));
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
    // The first reconcile repairs what the load left (the bare peer's votes skip the vote-weight check); the second is the steady state.
    const firstReconcileMs = await timeIt(() => reconcileTrending({ db: handle.db, config, logger }));
    const reconcileMs = await timeIt(() => reconcileTrending({ db: handle.db, config, logger }));

    console.log('');
    console.log(
      `Reads: ${durationSeconds} s x ${connections} connections from ${clientCount} load processes each; ratios to the peers at the same vote rate.`,
    );
    const peerOf = (page: Row['page'], server: Server, votesPerSecond: number) => {
      const peer = rows.find((row) => row.page === page && row.server === server) ?? quietRows.find((row) => row.page === page && row.server === server);
      return peer ? figures.get(key(peer, votesPerSecond))?.requestsPerSecond : undefined;
    };
    const readTable: string[][] = [];
    for (const votesPerSecond of voteRates) {
      for (const row of votesPerSecond === 0 ? [...rows, ...quietRows] : rows) {
        const figure = figures.get(key(row, votesPerSecond))!;
        readTable.push([
          row.name,
          String(votesPerSecond),
          fixed(figure.requestsPerSecond),
          fixed(figure.p50, 1),
          fixed(figure.p99, 1),
          ratio(figure.requestsPerSecond, peerOf(row.page, 'bare', votesPerSecond)),
          ratio(figure.requestsPerSecond, peerOf(row.page, 'postgraphile', votesPerSecond)),
          String(figure.failures),
        ]);
      }
    }
    printTable(['row', 'votes/s', 'req/s', 'p50 ms', 'p99 ms', 'vs bare', 'vs PostGraphile', 'failures'], readTable);

    console.log('');
    console.log(
      `Votes streamed to the API during its rows (one in ${PROBE_EVERY} on a trending paper, timed until the anonymous page shows it;` +
        ` the voter's own signed-in page checked for one probe in 5) and to the bare vote statement during the peers' rows:`,
    );
    const streamTable: string[][] = [];
    const medianAndTail = (sorted: number[]) => `${fixed(percentile(sorted, 50))} / ${fixed(percentile(sorted, 99))} ms`;
    for (const [votesPerSecond, streams] of streamTotals) {
      const sum = (pick: (result: VoteStreamResult) => number) => streams.reduce((total, result) => total + pick(result), 0);
      const times = (name: string) => streams.flatMap((result) => result.visible[name] ?? []).sort((a, b) => a - b);
      const visibility = (name: string) => {
        const sorted = times(name);
        const notSeen = sum((result) => result.notSeen[name] ?? 0);
        if (sorted.length + notSeen === 0) return '-';
        return `${medianAndTail(sorted)} (n ${sorted.length}${notSeen ? `, ${notSeen} not seen in ${PROBE_TIMEOUT_MS / 1000} s` : ''})`;
      };
      const voteLatency = (target: VoteStreamResult['target']) => {
        const sorted = streams.flatMap((result) => (result.target === target ? result.voteMs : [])).sort((a, b) => a - b);
        return sorted.length === 0 ? '-' : medianAndTail(sorted);
      };
      streamTable.push([
        String(votesPerSecond),
        `${sum((r) => r.sent)} / ${sum((r) => r.accepted)} / ${sum((r) => r.failed)} / ${sum((r) => r.skipped)}`,
        `${voteLatency('api')}; bare ${voteLatency('bare')}`,
        `${sum((r) => r.signIns.sent)} / ${sum((r) => r.signIns.accepted)}`,
        visibility('api'),
        second ? visibility('second') : 'needs REDIS_URL',
        `${sum((r) => r.voterChecks.sawOwnVote)} of ${sum((r) => r.voterChecks.checked)}`,
      ]);
    }
    const failureSamples = [...streamTotals.values()].flat().flatMap((result) => result.failures);
    printTable(
      [
        'votes/s',
        'votes sent / accepted / failed / skipped',
        'vote answered p50 / p99: API; bare',
        'sign-ins sent / ok',
        'visible p50 / p99: API',
        'second API process',
        'voter saw own vote',
      ],
      streamTable,
    );
    for (const sample of failureSamples.slice(0, 5)) console.log(`  failed: ${sample}`);
    for (const [votesPerSecond, streams] of streamTotals) {
      for (const result of streams) {
        for (const [name, visible] of Object.entries(result.visible)) {
          const slow = visible.flatMap((ms, index) => (ms > 1000 ? [{ ms, read: result.showingRead[name]![index]! }] : []));
          if (slow.length === 0 && !result.notSeen[name]) continue;
          // A slow read of the page (the process overloaded) or a late refresh (many quick reads before it showed)?
          const reads = slow.map((probe) => probe.read).sort((a, b) => a - b);
          console.log(
            `  slow to show (> 1 s) on ${name} during "${rowOfStream.get(result)}" at ${votesPerSecond} votes/s: ` +
              `${slow.length} of ${visible.length} probes, longest ${fixed(Math.max(0, ...slow.map((probe) => probe.ms)))} ms, ` +
              `${result.notSeen[name] ?? 0} not seen` +
              (reads.length > 0 ? `; the read that showed them took p50 ${fixed(percentile(reads, 50))} ms, longest ${fixed(reads.at(-1)!)} ms` : '') +
              `; the bench process's own event loop was up to ${fixed(result.clientLoopDelayMaxMs)} ms late`,
          );
        }
      }
    }

    console.log('');
    printTable(
      ['upvotes, full load (distinct pairs)', 'req/s', 'p99 ms', 'vs bare', 'clean 2xx', 'rows stored', 'lost', 'failures'],
      [
        [
          'API',
          fixed(apiUpvotes.requestsPerSecond),
          fixed(apiUpvotes.p99, 1),
          ratio(apiUpvotes.requestsPerSecond, bareUpvotes.requestsPerSecond),
          String(apiUpvotes.clean),
          String(storedApi),
          String(Math.max(0, apiUpvotes.clean - storedApi)),
          String(apiUpvotes.failures),
        ],
        [
          'bare vote statement',
          fixed(bareUpvotes.requestsPerSecond),
          fixed(bareUpvotes.p99, 1),
          '1.00',
          String(bareUpvotes.clean),
          String(storedBare),
          String(Math.max(0, bareUpvotes.clean - storedBare)),
          String(bareUpvotes.failures),
        ],
      ],
    );
    console.log(
      `streamed votes: ${acceptedStreamPairs.size} distinct (voter, paper) pairs accepted, ${storedStream} rows stored, lost ${Math.max(0, acceptedStreamPairs.size - storedStream)}`,
    );
    console.log(`papers whose upvote_count differs from their rows: ${drift!.n}`);

    if (scaling.length > 0) {
      console.log('');
      const one = scaling[0]!;
      printTable(
        ['API processes (one port)', 'signed in req/s', 'p99 ms', `vs ${one.processes}`, 'anonymous no-cache req/s', 'p99 ms', `vs ${one.processes}`],
        scaling.map((entry) => [
          String(entry.processes),
          fixed(entry.signedIn.requestsPerSecond),
          fixed(entry.signedIn.p99, 1),
          ratio(entry.signedIn.requestsPerSecond, one.signedIn.requestsPerSecond),
          fixed(entry.fresh.requestsPerSecond),
          fixed(entry.fresh.p99, 1),
          ratio(entry.fresh.requestsPerSecond, one.fresh.requestsPerSecond),
        ]),
      );
    }
    // The targets of issue 14, from this run's figures (a target whose rows did not run is left out).
    const perSecond = (page: Row['page'], server: Server, votesPerSecond: number, name?: string) => {
      const row = [...rows, ...quietRows].find(
        (candidate) => candidate.page === page && candidate.server === server && (!name || candidate.name === name),
      );
      return row ? figures.get(key(row, votesPerSecond))?.requestsPerSecond : undefined;
    };
    const cachedName = rows[0]!.name;
    const signedInName = rows[2]!.name;
    const targets: string[][] = [];
    const target = (what: string, wanted: number, measured: number | undefined, unit = 'x') => {
      if (measured === undefined || !Number.isFinite(measured)) return;
      const met = unit === 'ms' ? measured <= wanted : measured >= wanted;
      targets.push([
        what,
        `${unit === 'ms' ? '<=' : '>='} ${wanted} ${unit}`,
        `${fixed(measured, unit === 'ms' ? 0 : 2)} ${unit}`,
        met ? 'met' : 'missed',
      ]);
    };
    const over = (value: number | undefined, reference: number | undefined) => (value !== undefined && reference ? value / reference : undefined);
    target('signed-in trending vs PostGraphile', 1.5, over(perSecond('trending', 'api', 0, signedInName), perSecond('trending', 'postgraphile', 0)));
    target('signed-in trending vs bare', 0.6, over(perSecond('trending', 'api', 0, signedInName), perSecond('trending', 'bare', 0)));
    for (const [votesPerSecond, wanted] of [
      [20, 1.0],
      [200, 0.5],
    ] as const) {
      target(
        `anonymous trending at ${votesPerSecond} votes/s vs bare`,
        wanted,
        over(perSecond('trending', 'api', votesPerSecond, cachedName), perSecond('trending', 'bare', votesPerSecond)),
      );
    }
    for (const [name, label] of [
      ['api', 'anonymous readers'],
      ['second', 'a second API process'],
    ] as const) {
      // A probe never seen counts as slower than any seen.
      const times = [...streamTotals.values()]
        .flat()
        .flatMap((result) => [...(result.visible[name] ?? []), ...Array<number>(result.notSeen[name] ?? 0).fill(Number.POSITIVE_INFINITY)])
        .sort((a, b) => a - b);
      if (times.length > 0) target(`vote-to-visible p99, ${label}, all vote rates`, 1000, percentile(times, 99), 'ms');
    }
    const checks = [...streamTotals.values()].flat().map((result) => result.voterChecks);
    if (checks.length > 0) {
      const checked = checks.reduce((total, check) => total + check.checked, 0);
      const saw = checks.reduce((total, check) => total + check.sawOwnVote, 0);
      targets.push(['the voter sees their vote at once', 'all', `${saw} of ${checked}`, saw === checked ? 'met' : 'missed']);
    }
    target('upvotes vs the bare vote statement', 0.6, over(apiUpvotes.requestsPerSecond, bareUpvotes.requestsPerSecond));
    const lost = Math.max(0, apiUpvotes.clean - storedApi) + Math.max(0, acceptedStreamPairs.size - storedStream);
    targets.push(['upvotes lost', '0', String(lost), lost === 0 && drift!.n === 0 ? 'met' : 'missed']);
    target('paper page vs bare', 0.5, over(perSecond('paper', 'api', 0), perSecond('paper', 'bare', 0)));
    target('daily page vs bare', 0.5, over(perSecond('daily', 'api', 0), perSecond('daily', 'bare', 0)));
    target('cached anonymous trending vs hello-world JSON', 0.25, over(perSecond('trending', 'api', 0, cachedName), perSecond('hello', 'bare', 0)));
    console.log('');
    printTable(['target (issue 14)', 'wanted', 'this run', ''], targets);

    console.log('');
    console.log(
      `full reconcile ${fixed(reconcileMs)} ms vs bare GROUP BY ${fixed(groupByMs)} ms: ${fixed(reconcileMs / groupByMs, 2)}x` +
        ` (first reconcile after the load, with repairs: ${fixed(firstReconcileMs)} ms)`,
    );
  } finally {
    await stopChildren();
    await loadClients.close();
    await handle.close();
    if (redisUrl) await clearRedisKeys(redisUrl);
  }
}

process.once('SIGINT', () => {
  void stopChildren().then(() => process.exit(130));
});

main().then(
  () => process.exit(0),
  async (error: unknown) => {
    console.error(error);
    await stopChildren();
    process.exit(1);
  },
);
