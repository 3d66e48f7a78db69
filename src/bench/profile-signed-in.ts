import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { loadConfig } from '../config';
import { sql } from 'drizzle-orm';
import { openDatabase } from '../db/client';
import { queryRows } from '../db/rows';
import { createSession } from '../modules/accounts/sessions';
import { DAILY_QUERY, PAPER_QUERY, TRENDING_QUERY, TRENDING_SIGNED_IN_QUERY } from './api-pages';
import { busiestDay, createVoters, loadBenchDataset } from './bulk-load';
import { voteRequest } from './load-clients';

/**
 * CPU per request of one API process serving the signed-in trending page (the
 * bench's query; or another --query), and the top self-time functions of its CPU profile:
 *
 *   npx tsx src/bench/profile-signed-in.ts [--requests 3000] [--concurrency 10] [--papers 20000 --users 5000 --upvotes 200000]
 *     [--database profile_signed_in] [--keep] [--reuse] [--query signed-in|anonymous-fresh|anonymous-cached|typename|paper|daily|upvote]
 *     [--env NAME=value ...] [--api-dir path] [--no-profile] [--callers functionName] [--count-redis]
 *
 * `--query upvote` sends the bench's full-load upvotes: every request a new (voter, paper) pair, from 2003
 * voters made for the run (so a kept database serves several runs), rate limits raised out of the way.
 * It also prints the Postgres transactions per request (pg_stat_database of the scratch database) and,
 * with --count-redis, the Redis commands per request by name (MONITOR, filtered on the API's REDIS_PREFIX).
 * --count-syscalls prints the API process's system calls per request by name (`perf trace -s`, all its threads):
 * on this kind of virtual machine a system call, a socket write above all, costs more than most JavaScript.
 *
 * Loads the bench data set into a scratch database on the server of
 * DATABASE_URL (dropped at the end unless --keep; --reuse takes a kept one
 * as it is), starts `node --cpu-prof --import tsx src/server.ts api` on a free
 * port, warms it up, sends the requests (200 signed-in readers in turn) and
 * reads the process's user+system CPU from /proc/<pid>/stat before and after.
 * CPU per request is steadier than req/s on a shared machine: compare runs of
 * the same sitting.
 */
const { values: args } = parseArgs({
  options: {
    requests: { type: 'string', default: '3000' },
    warmup: { type: 'string', default: '1500' },
    concurrency: { type: 'string', default: '10' },
    papers: { type: 'string', default: '20000' },
    users: { type: 'string', default: '5000' },
    upvotes: { type: 'string', default: '200000' },
    database: { type: 'string', default: 'profile_signed_in' },
    query: { type: 'string', default: 'signed-in' },
    top: { type: 'string', default: '30' },
    keep: { type: 'boolean', default: false },
    reuse: { type: 'boolean', default: false },
    'no-profile': { type: 'boolean', default: false },
    'count-redis': { type: 'boolean', default: false },
    'count-syscalls': { type: 'boolean', default: false },
    /** Where the API's code is (default: here), e.g. a `git archive` of another commit, to compare in one sitting. */
    'api-dir': { type: 'string' },
    /** NAME=value settings for the API process (repeatable), e.g. RESPONSE_CACHE_LIST_MAX_AGE_SECONDS=0 to compare. */
    env: { type: 'string', multiple: true, default: [] },
    /** Also print the call stacks (self time) that end in functions whose name contains this. */
    callers: { type: 'string' },
  },
});

const serverUrl = process.env.DATABASE_URL;
if (!serverUrl) throw new Error('DATABASE_URL is required (a Postgres server; a scratch database is created on it)');
if (!/^[a-z_][a-z0-9_]*$/.test(args.database)) throw new Error('--database takes a plain lowercase name');
const databaseUrl = (() => {
  const url = new URL(serverUrl);
  url.pathname = `/${args.database}`;
  return url.toString();
})();

const QUERIES: Record<string, { query: string; signedIn: boolean; fresh: boolean; paper?: boolean; day?: boolean }> = {
  'signed-in': { query: TRENDING_SIGNED_IN_QUERY, signedIn: true, fresh: false },
  'anonymous-fresh': { query: TRENDING_QUERY, signedIn: false, fresh: true },
  /** The bench's cached anonymous row: every request after the first a hit of the response cache. */
  'anonymous-cached': { query: TRENDING_QUERY, signedIn: false, fresh: false },
  typename: { query: '{ __typename }', signedIn: true, fresh: false },
  /** The bench's paper page, anonymous and fresh, for the paper whose similar papers were computed. */
  paper: { query: PAPER_QUERY, signedIn: false, fresh: true, paper: true },
  /** The bench's daily page, anonymous and fresh, for the day with the most papers. */
  daily: { query: DAILY_QUERY, signedIn: false, fresh: true, day: true },
  upvote: { query: '', signedIn: true, fresh: true },
};
const READERS = 200;
/** Voters of --query upvote: a prime, so (voter, paper) pairs cycle through papers without repeating (as in the bench). */
const VOTERS = 2003;

const log = (message: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${message}`);

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

/** User and system CPU of a process so far, in ms (from /proc, clock ticks of 10 ms). */
function cpuMs(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return { user: Number(fields[11]) * 10, system: Number(fields[12]) * 10 };
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

/** Self time by function (name and file:line) from a .cpuprofile, largest first. */
function topFunctions(path: string, count: number, window: { fromUs: number; untilUs: number }) {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number };
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<string, number>();
  // Self time by where the code is: a package, a folder of src, or (no file) the runtime's own functions.
  const byPlace = new Map<string, number>();
  const placeOf = ({ url }: ProfileNode['callFrame']) => {
    const inPackage = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (inPackage) return inPackage[1]!;
    const inSource = /\/(src|jobs)\/([^/]+\/)?/.exec(url);
    if (inSource) return `${inSource[1]}/${inSource[2] ?? ''}`;
    if (url.startsWith('node:')) return 'node:';
    return '(runtime)';
  };
  const parentOf = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parentOf.set(child, node.id);
  const frameName = (node: ProfileNode) => {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url
      .replace(/^file:\/\//, '')
      .replace(/.*node_modules\//, '')
      .replace(`${process.cwd()}/`, '');
    return `${functionName || '(anonymous)'} ${file ? `${file}:${lineNumber + 1}` : ''}`.trim();
  };
  const stacks = new Map<string, number>();
  let total = 0;
  // The profile's clock is the monotonic one of process.hrtime: only the samples of the measured requests count.
  let at = profile.startTime;
  profile.samples.forEach((id, index) => {
    const node = byId.get(id)!;
    const delta = profile.timeDeltas[index] ?? 0;
    at += delta;
    if (at < window.fromUs || at > window.untilUs) return;
    const { functionName } = node.callFrame;
    const key = frameName(node);
    if (functionName !== '(idle)') total += delta;
    if (args.callers && functionName.includes(args.callers)) {
      const stack: string[] = [];
      for (let id: number | undefined = node.id; id !== undefined && stack.length < 12; id = parentOf.get(id)) stack.push(frameName(byId.get(id)!));
      const text = stack.join('\n      <- ');
      stacks.set(text, (stacks.get(text) ?? 0) + delta);
    }
    selfUs.set(key, (selfUs.get(key) ?? 0) + delta);
    if (functionName !== '(idle)') byPlace.set(placeOf(node.callFrame), (byPlace.get(placeOf(node.callFrame)) ?? 0) + delta);
  });
  selfUs.delete('(idle)');
  for (const [stack, us] of [...stacks.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5)) console.log(`${(us / 1000).toFixed(0)} ms: ${stack}`);
  return {
    totalMs: total / 1000,
    places: [...byPlace.entries()].sort((a, b) => b[1] - a[1]).map(([place, us]) => ({ place, ms: us / 1000, share: us / total })),
    top: [...selfUs.entries()]
      .sort((a, b) => b[1] - a[1])
      .slice(0, count)
      .map(([name, us]) => ({ name, ms: us / 1000, share: us / total })),
  };
}

/** Transactions committed so far in the scratch database (each statement outside a transaction is one). */
async function committedTransactions(admin: postgres.Sql): Promise<number> {
  const [row] = await admin`select xact_commit::int8::text as n from pg_stat_database where datname = ${args.database}`;
  return Number(row?.n ?? 0);
}

/** Counts, by command name, what Redis runs on keys or channels under `prefix` until stop() (MONITOR). */
async function countRedisCommands(prefix: string) {
  const counts = new Map<string, number>();
  // monitor() opens a connection of its own: both are closed at stop().
  const client = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const monitor = await client.monitor();
  monitor.on('monitor', (_time: string, commandArgs: string[]) => {
    if (!commandArgs.some((arg) => arg.includes(prefix))) return;
    const name = commandArgs[0]!.toLowerCase();
    counts.set(name, (counts.get(name) ?? 0) + 1);
  });
  return {
    stop() {
      monitor.disconnect();
      client.disconnect();
      return counts;
    },
  };
}

/** Counts the system calls of process `pid` (all threads) until stop(): calls by name, with the time spent in them. */
function countSyscalls(pid: number) {
  const tracer = spawn('perf', ['trace', '-s', '-p', String(pid)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let summary = '';
  tracer.stderr.on('data', (chunk: Buffer) => {
    summary += chunk.toString('utf8');
  });
  const exited = new Promise((resolve) => tracer.once('exit', resolve));
  return {
    async stop() {
      tracer.kill('SIGINT');
      await exited;
      const calls = new Map<string, { calls: number; totalMs: number }>();
      // Summary rows: syscall, calls, errors, total ms, min, avg, max, stddev (one table per thread).
      for (const match of summary.matchAll(/^\s+([a-z_0-9]+)\s+(\d+)\s+\d+\s+([\d.]+)\s/gm)) {
        const known = calls.get(match[1]!) ?? { calls: 0, totalMs: 0 };
        calls.set(match[1]!, { calls: known.calls + Number(match[2]), totalMs: known.totalMs + Number(match[3]) });
      }
      return calls;
    },
  };
}

/** Deletes the API's keys (rate limits, jobs) of this run. */
async function deleteRedisKeys(prefix: string) {
  if (!process.env.REDIS_URL) return;
  const redis = new Redis(process.env.REDIS_URL);
  try {
    for await (const keys of redis.scanStream({ match: `${prefix}:*`, count: 1000 }) as AsyncIterable<string[]>) {
      if (keys.length > 0) await redis.del(...keys);
    }
  } finally {
    redis.disconnect();
  }
}

async function main() {
  const scenario = QUERIES[args.query];
  if (!scenario) throw new Error(`--query is one of ${Object.keys(QUERIES).join(', ')}`);
  const admin = postgres(serverUrl!, { max: 1, onnotice: () => {} });
  const config = loadConfig({ ...process.env, DATABASE_URL: databaseUrl });
  if (!args.reuse) {
    await admin.unsafe(`drop database if exists ${args.database} with (force)`);
    await admin.unsafe(`create database ${args.database}`);
  }
  const handle = openDatabase({ url: databaseUrl, dataDir: config.dataDir, poolSize: 4 });
  const profileDir = await mkdtemp(join(tmpdir(), 'profile-signed-in-'));
  let child: ReturnType<typeof spawn> | undefined;
  try {
    if (!args.reuse) {
      await handle.migrate();
      const started = Date.now();
      const scale = { papers: Number(args.papers), users: Number(args.users), upvotes: Number(args.upvotes) };
      const dataset = await loadBenchDataset(handle.db, config.trending, scale);
      log(`loaded ${scale.papers} papers, ${dataset.upvoteRows} upvotes in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    }
    const voting = args.query === 'upvote';
    const tokens = voting
      ? // A new name prefix per run, so a kept database gives new pairs.
        (await createVoters(handle.db, `profile_voter_${Date.now()}_`, VOTERS, new Date(), 1)).map((voter) => voter.token)
      : await Promise.all(Array.from({ length: READERS }, (_, i) => createSession(handle.db, 1 + i, new Date(), 1)));
    // Papers are numbered 1..n by the bulk load.
    const [paperRows] = await queryRows<{ papers: number }>(handle.db, sql`select count(*)::int as papers from papers`);
    const paperCount = paperRows?.papers ?? 0;
    const redisPrefix = `profile-${process.pid}`;

    const port = await freePort();
    const nodeArgs = [...(args['no-profile'] ? [] : ['--cpu-prof', '--cpu-prof-dir', profileDir]), '--import', 'tsx', 'src/server.ts', 'api'];
    child = spawn(process.execPath, nodeArgs, {
      env: {
        ...process.env,
        DATABASE_URL: databaseUrl,
        PORT: String(port),
        HOST: '127.0.0.1',
        LOG_LEVEL: 'warn',
        DEMO_DATA: 'false',
        DB_POOL_SIZE: '10',
        REDIS_PREFIX: redisPrefix,
        ...(voting ? { VOTE_RATE_LIMIT_PER_MINUTE: '1000000000', MUTATION_RATE_LIMIT_PER_MINUTE: '1000000000' } : {}),
        ...Object.fromEntries(args.env.map((setting) => [setting.slice(0, setting.indexOf('=')), setting.slice(setting.indexOf('=') + 1)])),
      },
      stdio: ['ignore', 'inherit', 'inherit'],
      cwd: args['api-dir'] ?? process.cwd(),
    });
    const base = `http://127.0.0.1:${port}`;
    for (let attempt = 0; ; attempt += 1) {
      if (child.exitCode !== null) throw new Error(`the API exited with ${child.exitCode}`);
      if (attempt > 600) throw new Error('the API did not become healthy');
      const healthy = await fetch(`${base}/health`).then(
        (response) => response.ok,
        () => false,
      );
      if (healthy) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    // The paper the bench data set computed similar papers for (the top trending one when loaded).
    const [featured] = scenario.paper
      ? await queryRows<{ arxivId: string }>(
          handle.db,
          sql`select p.arxiv_id as "arxivId" from similar_papers s join papers p on p.id = s.paper_id limit 1`,
        )
      : [];
    const variables = featured ? { arxivId: featured.arxivId } : scenario.day ? { date: await busiestDay(handle.db) } : {};
    const body = JSON.stringify({ query: scenario.query, variables });
    const requestOf = (i: number) =>
      voting
        ? voteRequest('api', tokens[i % tokens.length]!, 1 + (i % paperCount))
        : {
            headers: {
              'content-type': 'application/json',
              ...(scenario.signedIn ? { authorization: `Bearer ${tokens[i % tokens.length]}` } : {}),
              ...(scenario.fresh ? { 'cache-control': 'no-cache' } : {}),
            },
            body,
          };
    // The i-th request of the whole run (warm-up included): upvotes never repeat a pair.
    let sequence = 0;
    let sent = 0;
    let failures = 0;
    const fire = async (count: number) => {
      let next = 0;
      const worker = async () => {
        while (next < count) {
          next += 1;
          sent += 1;
          const { headers, body: requestBody } = requestOf(sequence++);
          const response = await fetch(`${base}/graphql`, { method: 'POST', headers, body: requestBody });
          const text = await response.text();
          if (!response.ok || text.includes('"errors"')) {
            failures += 1;
            if (failures === 1) console.error(text.slice(0, 500));
          }
        }
      };
      await Promise.all(Array.from({ length: Number(args.concurrency) }, worker));
    };
    await fire(Number(args.warmup));
    const requests = Number(args.requests);
    const redisCommands = args['count-redis'] ? await countRedisCommands(redisPrefix) : undefined;
    const syscalls = args['count-syscalls'] ? countSyscalls(child.pid!) : undefined;
    // perf attaches to every thread before counting.
    if (syscalls) await new Promise((resolve) => setTimeout(resolve, 1_000));
    const transactionsBefore = await committedTransactions(admin);
    const cpuBefore = cpuMs(child.pid!);
    const started = performance.now();
    const window = { fromUs: Number(process.hrtime.bigint() / 1000n), untilUs: 0 };
    await fire(requests);
    window.untilUs = Number(process.hrtime.bigint() / 1000n);
    const elapsed = performance.now() - started;
    const cpuAfter = cpuMs(child.pid!);
    const user = cpuAfter.user - cpuBefore.user;
    const system = cpuAfter.system - cpuBefore.system;
    log(
      `${args.query}: ${requests} requests (concurrency ${args.concurrency}) in ${(elapsed / 1000).toFixed(1)} s; ` +
        `API CPU ${user + system} ms = ${((user + system) / requests).toFixed(3)} ms per request ` +
        `(user ${(user / requests).toFixed(3)}, system ${(system / requests).toFixed(3)}); failures ${failures} of ${sent}`,
    );
    const counted = redisCommands?.stop();
    const syscallCounts = await syscalls?.stop();
    if (syscallCounts) {
      const rows = [...syscallCounts.entries()].sort((a, b) => b[1].calls - a[1].calls);
      const total = rows.reduce((sum, [, row]) => sum + row.calls, 0);
      const perRequest = rows.map(([name, row]) => `${name} ${(row.calls / requests).toFixed(2)} (${((row.totalMs * 1000) / row.calls).toFixed(0)} us)`);
      log(`system calls of the API: ${(total / requests).toFixed(2)} per request: ${perRequest.join(', ')}`);
    }
    // A backend reports its counts once idle for a second (Postgres 15): wait them out.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    const transactions = (await committedTransactions(admin)) - transactionsBefore;
    log(`Postgres transactions committed in ${args.database}: ${(transactions / requests).toFixed(2)} per request`);
    if (counted) {
      const total = [...counted.values()].reduce((sum, n) => sum + n, 0);
      const byName = [...counted.entries()].sort((a, b) => b[1] - a[1]).map(([name, n]) => `${name} ${(n / requests).toFixed(2)}`);
      log(`Redis commands under ${redisPrefix}: ${(total / requests).toFixed(2)} per request (${byName.join(', ')})`);
    }
    const exited = new Promise((resolve) => child!.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    child = undefined;
    if (!args['no-profile']) {
      const [file] = readdirSync(profileDir).filter((name) => name.endsWith('.cpuprofile'));
      if (!file) throw new Error('no CPU profile written');
      const { totalMs, top, places } = topFunctions(join(profileDir, file), Number(args.top), window);
      log(`profile of the measured requests: ${totalMs.toFixed(0)} ms of samples (${(totalMs / requests).toFixed(3)} ms per request); top self time:`);
      console.log(`by place: ${places.map(({ place, share }) => `${place} ${(share * 100).toFixed(1)}%`).join(', ')}`);
      for (const { name, ms, share } of top) console.log(`${(share * 100).toFixed(1).padStart(5)}%  ${ms.toFixed(0).padStart(6)} ms  ${name}`);
    }
  } finally {
    if (child) child.kill('SIGKILL');
    await handle.close();
    if (!args.keep) await admin.unsafe(`drop database if exists ${args.database} with (force)`);
    await admin.end();
    await rm(profileDir, { recursive: true, force: true });
    await deleteRedisKeys(`profile-${process.pid}`);
  }
}

await main();
