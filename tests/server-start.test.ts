import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { PROCESS_START_MS, PROCESS_TEST_TIMEOUT_MS, postGraphQL, startServer, type ServerProcess } from './support/server-process';
import { dropDatabase, recreateDatabase, urlFor } from './support/test-database';

const TRENDING = '{ trendingPapers(first: 5) { totalCount edges { node { arxivId title authors { name } } } } }';
const servers: ServerProcess[] = [];
const dataDirs: string[] = [];

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  for (const directory of dataDirs) rmSync(directory, { recursive: true, force: true });
});

describe('npm start', () => {
  // A first start on PGlite creates the database in the folder, migrates it and loads the demo data: the slowest start.
  it('with no environment: embedded PGlite with demo data, GraphiQL at /graphql', { timeout: 2 * PROCESS_START_MS }, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'papers-embedded-'));
    dataDirs.push(dataDir);
    const server = await startServer({ DATA_DIR: dataDir, DEMO_PAPERS: '120' }, 2 * PROCESS_START_MS);
    servers.push(server);

    const graphiql = await fetch(`${server.url}/graphql`, { headers: { accept: 'text/html' } });
    expect(graphiql.status).toBe(200);
    expect(await graphiql.text()).toContain('GraphiQL');
    const root = await fetch(server.url, { redirect: 'manual' });
    expect(root.headers.get('location')).toBe('/graphql');

    const { body } = await postGraphQL(server.url, TRENDING);
    expect(body.errors).toBeUndefined();
    expect(body.data.trendingPapers.totalCount).toBe(120);
    expect(body.data.trendingPapers.edges).toHaveLength(5);
    expect(body.data.trendingPapers.edges[0].node.authors.length).toBeGreaterThan(0);
    expect(server.output).toContain('embedded PGlite');
  });

  it('on Postgres: two instances started together migrate once and seed once', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    // An empty database, not a copy of the migrated template: migrating is what this is about.
    const name = `${inject('templateDatabase')}_server_start`;
    await recreateDatabase(name);
    const environment = { DATABASE_URL: urlFor(name), DEMO_DATA: 'true', DEMO_PAPERS: '80' };
    const [first, second] = await Promise.all([startServer(environment), startServer(environment)]);
    servers.push(first!, second!);

    for (const server of [first!, second!]) {
      const { body } = await postGraphQL(server.url, TRENDING);
      expect(body.errors).toBeUndefined();
      expect(body.data.trendingPapers.totalCount).toBe(80);
      expect(body.data.trendingPapers.edges).toHaveLength(5);
    }
    const sql = postgres(urlFor(name), { max: 1 });
    try {
      const [applied] = await sql`select count(*)::int as count from drizzle.__drizzle_migrations`;
      const [papers] = await sql`select count(*)::int as count from papers`;
      expect(applied!.count).toBeGreaterThan(0);
      expect(papers!.count).toBe(80);
    } finally {
      await sql.end();
      await Promise.all([first!.stop(), second!.stop()]);
      await dropDatabase(name);
    }
  });

  it('with REDIS_URL: the API and a BullMQ worker in one process, its reconcile scheduler registered', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    const name = `${inject('templateDatabase')}_server_redis`;
    await recreateDatabase(name, inject('templateDatabase'));
    // A Redis database of its own, emptied before and after.
    const redisUrl = 'redis://127.0.0.1:6379/7';
    const redis = new Redis(redisUrl);
    await redis.flushdb();
    try {
      const metricsToken = 'metrics-token-for-the-tests';
      const server = await startServer({
        DATABASE_URL: urlFor(name),
        REDIS_URL: redisUrl,
        DEMO_DATA: 'true',
        DEMO_PAPERS: '20',
        METRICS_TOKEN: metricsToken,
      });
      servers.push(server);
      expect(server.output).toContain('"jobs":"bullmq"');
      const { body } = await postGraphQL(server.url, TRENDING);
      expect(body.data.trendingPapers.totalCount).toBe(20);
      expect(await redis.keys('daily-papers:papers:repeat*')).not.toEqual([]);
      const metrics = await (await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` } })).text();
      expect(metrics).toMatch(/job_queue_jobs\{state="waiting"\} \d+/);
      const ready = await fetch(`${server.url}/ready`);
      expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres: true, redis: true } });
      await server.stop();
      expect(await server.exited).toBe(0);
    } finally {
      await redis.flushdb();
      redis.disconnect();
      await dropDatabase(name);
    }
  });
});
