import { describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client';
import { createLogger } from '../src/logger';
import { testConfig } from './support/fixtures';
import { database, setUpFileApp, testApp } from './support/file-app';
import { createTestApp } from './support/test-app';

setUpFileApp({}, { truncateBeforeEach: false });

describe('health and readiness', () => {
  it('/health says the process is alive and /ready that Postgres answers', async () => {
    const health = await testApp.app.fetch(new Request('http://test/health'));
    expect(health.status).toBe(200);
    const ready = await testApp.app.fetch(new Request('http://test/ready'));
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: 'ready', checks: { postgres: true } });
  });

  it('/ready fails with 503 when Postgres does not answer', async () => {
    const down = openDatabase({ url: database.url, dataDir: '' });
    await down.close();
    const unready = createTestApp(down.db);
    try {
      const response = await unready.app.fetch(new Request('http://test/ready'));
      expect(response.status).toBe(503);
      expect(await response.json()).toEqual({ status: 'unavailable', checks: { postgres: false } });
    } finally {
      await unready.close();
    }
  });
});

describe('request ids', () => {
  it('every response carries one; a caller may choose it', async () => {
    const chosen = await testApp.app.fetch(
      new Request('http://test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-request-id': 'frontend-1234' },
        body: JSON.stringify({ query: '{ __typename }' }),
      }),
    );
    expect(chosen.headers.get('x-request-id')).toBe('frontend-1234');
    const made = await testApp.app.fetch(new Request('http://test/ready'));
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an unexpected error is masked, logged with the request id, and carries that id', async () => {
    const logged: Record<string, unknown>[] = [];
    const logger = createLogger('error');
    logger.error = ((object: Record<string, unknown>) => {
      logged.push(object);
    }) as typeof logger.error;
    const down = openDatabase({ url: database.url, dataDir: '' });
    await down.close();
    const failing = createTestApp(down.db, { logger });
    try {
      const response = await failing.app.fetch(
        new Request('http://test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ query: '{ paper(arxivId: "2511.00001") { title } }' }),
        }),
      );
      const body = (await response.json()) as { errors: { message: string; extensions: { requestId: string } }[] };
      const requestId = response.headers.get('x-request-id');
      expect(body.errors[0]!.message).toBe('Unexpected error.');
      expect(body.errors[0]!.extensions.requestId).toBe(requestId);
      expect(logged.map((entry) => entry.requestId)).toContain(requestId);
    } finally {
      await failing.close();
    }
  });
});

describe('metrics', () => {
  const token = 'metrics-token-for-the-tests';

  it('/metrics reports request latency by route and the job queue by state, to a scraper with the token', async () => {
    const scraped = createTestApp(database.db, { config: { ...testConfig, metricsToken: token } });
    try {
      await scraped.request('{ trendingPapers(first: 1) { totalCount } }');
      const response = await scraped.app.fetch(new Request('http://test/metrics', { headers: { authorization: `Bearer ${token}` } }));
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
      const text = await response.text();
      expect(text).toMatch(/http_request_duration_seconds_count\{method="POST",route="\/graphql",status="200"\} [1-9]/);
      expect(text).toMatch(/job_queue_jobs\{state="active"\} \d+/);
      expect(text).toContain('process_cpu_seconds_total');

      for (const authorization of [undefined, 'Bearer wrong-token', `Basic ${token}`]) {
        const refused = await scraped.app.fetch(new Request('http://test/metrics', { headers: authorization ? { authorization } : {} }));
        expect(refused.status, authorization).toBe(401);
        expect(refused.headers.get('www-authenticate')).toMatch(/^Bearer/);
        expect(await refused.text()).not.toContain('process_cpu_seconds_total');
      }
    } finally {
      await scraped.close();
    }
  });

  it('/metrics is not served without a token set', async () => {
    const response = await testApp.app.fetch(new Request('http://test/metrics', { headers: { authorization: `Bearer ${token}` } }));
    expect(response.status).toBe(404);
    expect(await response.text()).not.toContain('process_cpu_seconds_total');
  });
});
