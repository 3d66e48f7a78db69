import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AppConfig } from '../src/config';
import { testConfig } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
const apps: ReturnType<typeof createTestApp>[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
});

afterAll(async () => {
  await Promise.all(apps.map((app) => app.close()));
  await database.close();
});

function appWith(corsOrigins: AppConfig['http']['corsOrigins']) {
  const testApp = createTestApp(database.db, { config: { ...testConfig, http: { ...testConfig.http, corsOrigins } } });
  apps.push(testApp);
  return testApp.app;
}

const query = (origin?: string) =>
  new Request('http://test/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(origin ? { origin } : {}) },
    body: JSON.stringify({ query: '{ __typename }' }),
  });

const preflight = (origin: string) =>
  new Request('http://test/graphql', {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
  });

describe('CORS', () => {
  it('with *, allows any origin as *, never with credentials', async () => {
    const app = appWith('*');
    const answer = await app.fetch(query('https://evil.example'));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('access-control-allow-origin')).toBe('*');
    expect(answer.headers.get('access-control-allow-credentials')).toBeNull();

    const before = await app.fetch(preflight('https://evil.example'));
    expect(before.status).toBe(204);
    expect(before.headers.get('access-control-allow-origin')).toBe('*');
    expect(before.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(before.headers.get('access-control-allow-methods')).toContain('POST');
    expect(before.headers.get('access-control-allow-credentials')).toBeNull();
  });

  it('with a list, echoes only a listed origin, without credentials', async () => {
    for (const list of [['https://papers.example'], ['https://papers.example', 'https://admin.papers.example']]) {
      const app = appWith(list);
      for (const request of [query('https://papers.example'), preflight('https://papers.example')]) {
        const answer = await app.fetch(request);
        expect(answer.headers.get('access-control-allow-origin')).toBe('https://papers.example');
        expect(answer.headers.get('vary')).toMatch(/\bOrigin\b/);
        expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
      }
      for (const origin of ['https://evil.example', 'null']) {
        for (const request of [query(origin), preflight(origin)]) {
          const answer = await app.fetch(request);
          expect(answer.headers.get('access-control-allow-origin'), origin).toBeNull();
          expect(answer.headers.get('access-control-allow-credentials')).toBeNull();
        }
      }
    }
  });
});

describe('security headers', () => {
  const expectSecurityHeaders = (answer: Response, what: string) => {
    expect(answer.headers.get('x-content-type-options'), what).toBe('nosniff');
    expect(answer.headers.get('x-frame-options'), what).toBe('DENY');
    expect(answer.headers.get('referrer-policy'), what).toBe('no-referrer');
    expect(answer.headers.get('content-security-policy'), what).toContain("frame-ancestors 'none'");
  };

  it("are on every answer, with a CSP that lets nothing load on all but GraphiQL's page", async () => {
    const app = appWith('*');
    const requests: [string, Request][] = [
      ['graphql', query()],
      ['graphql GET', new Request('http://test/graphql?query=%7B__typename%7D', { headers: { 'x-graphql-yoga-csrf': '1' } })],
      ['health', new Request('http://test/health')],
      ['ready', new Request('http://test/ready')],
      ['feed', new Request('http://test/feeds/trending.atom')],
      ['unsubscribe', new Request('http://test/digest/unsubscribe?token=nonsense', { method: 'POST' })],
      ['not found', new Request('http://test/nowhere')],
      ['preflight', preflight('https://evil.example')],
    ];
    for (const [what, request] of requests) {
      const answer = await app.fetch(request);
      expect(answer.status, what).toBeLessThan(500);
      expectSecurityHeaders(answer, what);
      expect(answer.headers.get('content-security-policy'), what).toBe("default-src 'none'; frame-ancestors 'none'");
    }
  });

  it("give GraphiQL's page a CSP that lets it load only from the API itself", async () => {
    const answer = await appWith('*').fetch(new Request('http://test/graphql', { headers: { accept: 'text/html' } }));
    expect(await answer.text()).toContain('GraphiQL');
    expectSecurityHeaders(answer, 'graphiql');
    expect(answer.headers.get('content-security-policy')).toBe(
      "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; font-src data:; img-src 'self' data:; " +
        "connect-src 'self'; worker-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
  });
});

describe('the root URL', () => {
  it('redirects to /graphql with a relative Location, whatever the Host header says', async () => {
    const answer = await appWith('*').fetch(new Request('http://evil.example/', { redirect: 'manual' }));
    expect(answer.status).toBe(302);
    expect(answer.headers.get('location')).toBe('/graphql');
  });
});
