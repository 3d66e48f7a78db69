import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Script } from 'node:vm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../src/http-server';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
let listener: Server;
let origin: string;

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
  // An idle connection outlives the test: with the 5 s default, a loaded machine let fetch reuse one the server had just closed (ECONNRESET).
  listener = createHttpServer(testApp.app, { timeouts: { headersMs: 10_000, requestMs: 30_000, keepAliveMs: 120_000 } });
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
});

afterAll(async () => {
  listener?.closeAllConnections();
  await new Promise((resolve) => listener?.close(resolve));
  await testApp.close();
  await database.close();
});

const openPage = () => fetch(`${origin}/graphql`, { headers: { accept: 'text/html' } });

/** Every absolute URL (with or without a scheme) in a text. */
const absoluteUrls = (text: string) => [...text.matchAll(/(?:https?:)?\/\/[^\s"'<>()]+/g)].map(([url]) => url);

describe('GraphiQL', () => {
  it('loads every file it needs from the API itself', async () => {
    const page = await openPage();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await page.text();

    for (const url of absoluteUrls(html)) expect(new URL(url, origin).origin, url).toBe(origin);

    // What the page references, by what it should be.
    const references = [...html.matchAll(/<(script|link)\b([^>]*)>/g)].flatMap(([, tag, attributes]) => {
      const url = /\s(?:src|href)="([^"]+)"/.exec(attributes!)?.[1];
      if (!url) return [];
      const rel = /\srel="([^"]+)"/.exec(attributes!)?.[1];
      const kind = tag === 'script' ? 'script' : rel === 'stylesheet' ? 'style' : rel === 'icon' ? 'icon' : `link rel=${rel}`;
      return [{ url: new URL(url, `${origin}/graphql`).href, kind }];
    });
    expect(references.map(({ kind }) => kind).sort()).toEqual(['icon', 'script', 'style']);

    const expectedType = { script: /^text\/javascript/, style: /^text\/css/, icon: /^image\// } as Record<string, RegExp>;
    const fetched = new Set<string>();
    while (references.length > 0) {
      const { url, kind } = references.shift()!;
      if (fetched.has(url)) continue;
      fetched.add(url);
      const answer = await fetch(url);
      expect(answer.status, url).toBe(200);
      expect(answer.headers.get('content-type'), url).toMatch(expectedType[kind]!);
      expect(new URL(url).origin).toBe(origin);
      if (kind === 'icon') {
        expect((await answer.arrayBuffer()).byteLength, url).toBeGreaterThan(0);
        continue;
      }
      const text = await answer.text();
      if (kind === 'script') expect(() => new Script(text, { filename: url }), url).not.toThrow();
      if (kind === 'style') {
        // Fonts and images of the stylesheet are inlined.
        const sources = [...text.matchAll(/url\(\s*["']?([^"')\s]+)/g)].map(([, source]) => source!);
        expect(sources.length).toBeGreaterThan(0);
        for (const source of sources) expect(source, source).toMatch(/^data:/);
      }
      // Files a script loads in turn (the editor's workers) are named by their path on the API.
      for (const [path] of text.matchAll(/\/graphiql\/assets\/[\w./-]+/g)) {
        references.push({ url: new URL(path, origin).href, kind: 'script' });
      }
    }
    // The page's script, the stylesheet, the icon and the editor's three workers.
    expect(fetched.size).toBe(6);
  });

  it('has a Content-Security-Policy that names no other host', async () => {
    const page = await openPage();
    const policy = page.headers.get('content-security-policy')!;
    const sources = policy.split(';').flatMap((directive) => directive.trim().split(/\s+/).slice(1));
    expect(sources.length).toBeGreaterThan(0);
    for (const source of sources) expect(source, policy).toMatch(/^('self'|'none'|'unsafe-inline'|data:)$/);
    expect(policy).toContain("script-src 'self';");
  });

  it('answers 404 for a file it does not have', async () => {
    const html = await (await openPage()).text();
    const script = /<script src="([^"]+)"/.exec(html)![1]!;
    const answer = await fetch(new URL(script.replace(/[^/]+$/, 'nothing.js'), origin));
    expect(answer.status).toBe(404);
  });
});
