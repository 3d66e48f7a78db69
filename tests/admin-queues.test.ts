import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBullJobQueue, JOBS_QUEUE_NAME, type BullJobQueue } from '../jobs/bullmq';
import { startJobs } from '../jobs/runtime';
import { createQueueDashboard, QUEUE_DASHBOARD_CHALLENGE, type QueueDashboardOptions } from '../src/admin/queue-dashboard';
import { users } from '../src/db/schema';
import { createHttpServer } from '../src/http-server';
import { createLogger } from '../src/logger';
import { hashPassword } from '../src/modules/accounts/passwords';
import { createSession } from '../src/modules/accounts/sessions';
import { createRateLimiter, createRateLimiters } from '../src/rate-limit';
import { redisTestConfig, testConfig } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** This file's own BullMQ keys (REDIS_PREFIX), removed at the end. */
const redisConfig = redisTestConfig('admin-queues');
const ADMIN_PASSWORD = 'admin password 1';
const MEMBER_PASSWORD = 'member password 1';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
let producer: BullJobQueue;
let adminToken: string;
let memberToken: string;
let adminId: number;
const servers: Server[] = [];

const basic = (name: string, password: string) => `Basic ${Buffer.from(`${name}:${password}`).toString('base64')}`;

/** A real listener on a free port, the dashboard in front of the app; returns its base URL. */
async function listen(options: Partial<QueueDashboardOptions> = {}): Promise<string> {
  const queueDashboard = createQueueDashboard({
    db: database.db,
    config: testConfig,
    logger: createLogger('silent'),
    queues: [producer.queue],
    signInLimiters: createRateLimiters(testConfig),
    ...options,
  });
  const server = createHttpServer(testApp.app, { queueDashboard });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

let url: string;
const get = (path: string, authorization?: string) => fetch(`${url}${path}`, { headers: authorization ? { authorization } : {} });

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
  producer = createBullJobQueue(redisConfig);
  const cost = testConfig.passwordHashCost;
  const [admin, member] = await database.db
    .insert(users)
    .values([
      { username: 'grace', email: 'grace@example.org', role: 'admin', passwordHash: await hashPassword(ADMIN_PASSWORD, cost) },
      { username: 'linus', email: 'linus@example.org', role: 'member', passwordHash: await hashPassword(MEMBER_PASSWORD, cost) },
    ])
    .returning();
  adminId = admin!.id;
  adminToken = await createSession(database.db, admin!.id, new Date(), testConfig.sessionTtlDays);
  memberToken = await createSession(database.db, member!.id, new Date(), testConfig.sessionTtlDays);
  // No worker runs on this prefix: the job stays waiting for the dashboard to list.
  await producer.enqueue('refresh-paper-trending', { paperId: 4242 });
  url = await listen();
});

afterAll(async () => {
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  await producer?.queue.obliterate({ force: true });
  await producer?.close();
  await testApp?.close();
  await database?.close();
});

describe('/admin/queues with jobs on BullMQ', () => {
  it('asks an anonymous visitor to sign in: 401 with a Basic challenge', async () => {
    for (const path of ['/admin/queues', '/admin/queues/api/queues', '/admin/queues/static/css/x.css']) {
      const response = await get(path);
      expect(response.status, path).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(QUEUE_DASHBOARD_CHALLENGE);
      expect(response.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('refuses a wrong password, an unknown account and a dead session with 401', async () => {
    for (const authorization of [
      basic('grace', 'not the password'),
      basic('nobody', ADMIN_PASSWORD),
      basic('grace', ''),
      'Basic not-base64-with-a-colon',
      'Bearer dp_not-a-session',
      'Digest username="grace"',
    ]) {
      const response = await get('/admin/queues', authorization);
      expect(response.status, authorization).toBe(401);
      expect(response.headers.get('www-authenticate')).toBe(QUEUE_DASHBOARD_CHALLENGE);
      expect(await response.text()).not.toContain('<html');
    }
  });

  it('forbids a member, by password or by session: 403', async () => {
    for (const authorization of [basic('linus', MEMBER_PASSWORD), `Bearer ${memberToken}`]) {
      const response = await get('/admin/queues', authorization);
      expect(response.status, authorization).toBe(403);
      expect(response.headers.get('www-authenticate')).toBeNull();
      expect(await response.text()).toBe('Only admins may see the queue dashboard.');
    }
  });

  it('shows an admin signed in with Basic auth (username or email) the bull-board page and its assets', async () => {
    for (const name of ['grace', 'GRACE@example.org']) {
      const response = await get('/admin/queues', basic(name, ADMIN_PASSWORD));
      expect(response.status, name).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/html/);
      const html = await response.text();
      expect(html).toContain('<base href="/admin/queues/" />');
      expect(html).toContain('<title>Daily Papers jobs</title>');
      expect(response.headers.get('x-powered-by')).toBeNull();
      // Not to be framed by another site (clickjacking its buttons with the browser's remembered credentials).
      expect(response.headers.get('x-frame-options')).toBe('DENY');
      expect(response.headers.get('content-security-policy')).toBe("frame-ancestors 'none'");
      // The page's script is served from under the same path, to the same credentials.
      const script = /src="(static\/js\/main\.[^"]+\.js)"/.exec(html)?.[1];
      expect(script).toBeDefined();
      const asset = await get(`/admin/queues/${script}`, basic(name, ADMIN_PASSWORD));
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(/javascript/);
    }
  });

  it('shows an admin signed in with a Bearer session token the page too', async () => {
    const response = await get('/admin/queues/queue/papers', `Bearer ${adminToken}`);
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('<base href="/admin/queues/" />');
  });

  it("lists our queue and its waiting job through the dashboard's JSON API", async () => {
    const response = await get(
      `/admin/queues/api/queues?activeQueue=${JOBS_QUEUE_NAME}&status=waiting&page=1&jobsPerPage=10`,
      basic('grace', ADMIN_PASSWORD),
    );
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      queues: { name: string; counts: Record<string, number>; jobs: { name: string; data: unknown }[] }[];
    };
    expect(body.queues.map((queue) => queue.name)).toEqual([JOBS_QUEUE_NAME]);
    const [papers] = body.queues;
    expect(papers!.counts.waiting).toBe(1);
    expect(papers!.jobs.map((job) => [job.name, job.data])).toEqual([['refresh-paper-trending', { paperId: 4242 }]]);
  });

  it('lets an admin pause the queue from the dashboard, but not a page on another site', async () => {
    const pause = (headers: Record<string, string>) =>
      fetch(`${url}/admin/queues/api/queues/${JOBS_QUEUE_NAME}/pause`, {
        method: 'PUT',
        headers: { authorization: basic('grace', ADMIN_PASSWORD), ...headers },
      });
    const crossSite = await pause({ origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(crossSite.status).toBe(403);
    const otherOrigin = await pause({ origin: 'https://evil.example' });
    expect(otherOrigin.status).toBe(403);
    expect(await producer.queue.isPaused()).toBe(false);

    const sameOrigin = await pause({ origin: url, 'sec-fetch-site': 'same-origin' });
    expect(sameOrigin.status).toBe(200);
    expect(await producer.queue.isPaused()).toBe(true);
    await producer.queue.resume();
  });

  it('takes a changed password or a lost admin role into account at once', async () => {
    const authorization = basic('grace', ADMIN_PASSWORD);
    expect((await get('/admin/queues/api/queues', authorization)).status).toBe(200);
    const [before] = await database.db.select().from(users).where(eq(users.id, adminId));
    try {
      await database.db.update(users).set({ role: 'member' }).where(eq(users.id, adminId));
      expect((await get('/admin/queues/api/queues', authorization)).status).toBe(403);
      await database.db
        .update(users)
        .set({ role: 'admin', passwordHash: await hashPassword('a new password', testConfig.passwordHashCost) })
        .where(eq(users.id, adminId));
      expect((await get('/admin/queues/api/queues', authorization)).status).toBe(401);
      expect((await get('/admin/queues/api/queues', basic('grace', 'a new password'))).status).toBe(200);
    } finally {
      await database.db.update(users).set({ role: 'admin', passwordHash: before!.passwordHash }).where(eq(users.id, adminId));
    }
  });

  it('limits password guessing with the sign-in limiters: 429 with Retry-After', async () => {
    const limited = await listen({
      signInLimiters: {
        ...createRateLimiters(testConfig),
        // Two failed passwords per (name, address): refused once the key holds more than one.
        signInFailures: createRateLimiter({ name: 'test-admin-failures', points: 1, durationSeconds: 60, action: 'failed sign-ins' }),
      },
    });
    const statuses = [];
    for (const password of ['guess 1', 'guess 2', 'guess 3', ADMIN_PASSWORD]) {
      const response = await fetch(`${limited}/admin/queues`, { headers: { authorization: basic('grace', password) } });
      statuses.push(response.status);
      if (response.status === 429) expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
  });

  it("lets the admin in from an address that has not failed, however often others failed with the admin's name", async () => {
    const limits = {
      ...createRateLimiters(testConfig),
      auth: createRateLimiter({ name: `test-admin-addresses-${randomUUID()}`, points: 10, durationSeconds: 60, action: 'sign-in attempts' }),
      // Three failed passwords per (name, address): refused once the key holds more than two.
      signInFailures: createRateLimiter({ name: `test-admin-pairs-${randomUUID()}`, points: 2, durationSeconds: 60, action: 'failed sign-ins' }),
    };
    const proxied = await listen({ config: { ...testConfig, http: { ...testConfig.http, trustedProxyHops: 1 } }, signInLimiters: limits });
    const signIn = (client: string, password: string) =>
      fetch(`${proxied}/admin/queues/api/queues`, {
        headers: { authorization: basic('grace', password), 'x-forwarded-for': client },
      }).then((response) => response.status);
    // Twelve failures for "grace", three from each of four addresses: more than any one address may even attempt.
    for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']) {
      for (let guess = 0; guess < 3; guess += 1) expect(await signIn(client, `guess ${guess}`)).toBe(401);
    }
    // An address that spent its failures on the name is refused, even with the right password...
    expect(await signIn('198.51.100.1', ADMIN_PASSWORD)).toBe(429);
    // ...and the admin, from an address that has not failed, is let in.
    expect(await signIn('198.51.100.9', ADMIN_PASSWORD)).toBe(200);
  });

  it("checks an admin's password once, not on each of the dashboard's polls", async () => {
    const strict = await listen({
      signInLimiters: {
        ...createRateLimiters(testConfig),
        auth: createRateLimiter({ name: 'test-admin-polls', points: 1, durationSeconds: 60, action: 'sign-in attempts' }),
      },
    });
    const statuses = [];
    for (let poll = 0; poll < 5; poll += 1) {
      const response = await fetch(`${strict}/admin/queues/api/queues`, { headers: { authorization: basic('grace', ADMIN_PASSWORD) } });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200]);
  });

  it('leaves every other path to the app', async () => {
    const health = await get('/health');
    expect(health.status).toBe(200);
    const lookalike = await get('/admin/queuesque');
    expect(lookalike.status).toBe(404);
    expect(lookalike.headers.get('www-authenticate')).toBeNull();
    const graphql = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(await graphql.json()).toEqual({ data: { __typename: 'Query' } });
  });

  it('gets the queue from the job runtime: BullMQ mode exposes its producer queue, in-process none', async () => {
    const common = { db: database.db, logger: createLogger('silent'), runWorker: false };
    const bull = await startJobs({ ...common, config: redisConfig });
    const inProcess = await startJobs({ ...common, config: testConfig });
    try {
      expect(bull.bullQueues.map((queue) => [queue.name, queue.opts.prefix])).toEqual([[JOBS_QUEUE_NAME, redisConfig.redisPrefix]]);
      expect(inProcess.bullQueues).toEqual([]);
    } finally {
      await bull.close();
      await inProcess.close();
    }
  });
});

describe('/admin/queues with jobs in-process', () => {
  it('answers 404 saying the dashboard needs REDIS_URL, signed in or not', async () => {
    const inProcess = await listen({ queues: [] });
    for (const authorization of [undefined, basic('grace', ADMIN_PASSWORD)]) {
      const response = await fetch(`${inProcess}/admin/queues/`, { headers: authorization ? { authorization } : {} });
      expect(response.status).toBe(404);
      expect(await response.text()).toMatch(/needs REDIS_URL/);
      expect(response.headers.get('www-authenticate')).toBeNull();
    }
  });
});
