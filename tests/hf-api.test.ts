import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { asc, eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { z } from 'zod';
import { createPublicDataChanges } from '../src/cache/public-data-changes';
import { loadConfig } from '../src/config';
import { openDatabase, type Database } from '../src/db/client';
import { authors, organizations, paperAuthors, papers, users } from '../src/db/schema';
import { importDailyPapers, parseDailyPapersItems } from '../src/import/hf-daily-papers';
import { createLogger } from '../src/logger';
import { castVotes, paperRecord, savePaperRecords, TEST_PASSWORD_HASH_COST, testConfig } from './support/fixtures';
import { PROCESS_TEST_TIMEOUT_MS, runScript } from './support/server-process';
import { createTestApp } from './support/test-app';
import { createTestDatabase, dropDatabase, recreateDatabase, urlFor, type TestDatabase } from './support/test-database';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const fixturePath = path.join(repoRoot, 'tests/fixtures/hf-daily-papers.json');

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

async function get(pathAndQuery: string, init?: RequestInit) {
  const response = await testApp.app.fetch(new Request(`http://test${pathAndQuery}`, init));
  return { response, status: response.status, body: (await response.text()) || 'null' };
}

async function getJson<Value = any>(pathAndQuery: string, init?: RequestInit): Promise<Value> {
  const { status, body } = await get(pathAndQuery, init);
  expect(status, `${pathAndQuery}: ${body}`).toBe(200);
  return JSON.parse(body) as Value;
}

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

/**
 * Hugging Face's documented types (huggingface_hub's PaperInfo, PaperAuthor,
 * User and Organization, and the keys they read), strict: a key HF does not
 * have fails the parse.
 */
const isoTime = z.iso.datetime({ offset: true });
const hfAuthor = z.strictObject({ name: z.string(), hidden: z.boolean().nullable() });
const hfOrganization = z.strictObject({ name: z.string(), fullname: z.string().nullable(), avatar: z.string().nullable() });
const hfUser = { fullname: z.string().nullable(), avatarUrl: z.string().nullable(), type: z.literal('user') };
const hfPaper = z.strictObject({
  id: z.string().regex(/^\d{4}\.\d{4,5}$/),
  authors: z.array(hfAuthor),
  publishedAt: isoTime,
  submittedOnDailyAt: isoTime.nullable(),
  submittedOnDailyBy: z.strictObject({ user: z.string(), ...hfUser }).nullable(),
  title: z.string(),
  summary: z.string(),
  upvotes: z.number().int().nonnegative(),
  githubRepo: z.string().nullable(),
  githubStars: z.number().int().nullable(),
  projectPage: z.string().nullable(),
  ai_summary: z.string().nullable(),
  ai_keywords: z.array(z.string()),
  organization: hfOrganization.nullable(),
});
const hfDailyPaper = z.strictObject({
  paper: hfPaper,
  publishedAt: isoTime,
  title: z.string(),
  summary: z.string(),
  thumbnail: z.string().nullable(),
  numComments: z.number().int().nonnegative(),
  submittedBy: z.strictObject({ name: z.string(), ...hfUser }).nullable(),
  organization: hfOrganization.nullable(),
});
const hfPaperPage = hfPaper.extend({ numComments: z.number().int().nonnegative() });

type FixtureItem = Record<string, any> & { paper: Record<string, any> };

/** What the importer keeps of a value: trimmed text, blank as null. */
const kept = (value: unknown) => (typeof value === 'string' ? value.trim() || null : (value ?? null));

/** The fixture item as this API serves it back: HF's fields with the importer's normalizations (src/import/hf-daily-papers.ts). */
function expectedItem(item: FixtureItem) {
  const { paper } = item;
  const submitter = item.submittedBy ?? paper.submittedOnDailyBy ?? null;
  const organization = item.organization ?? paper.organization ?? null;
  const user = submitter && { fullname: kept(submitter.fullname), avatarUrl: kept(submitter.avatarUrl), type: 'user' };
  const expectedOrganization = organization && { name: organization.name, fullname: kept(organization.fullname), avatar: kept(organization.avatar) };
  const title = kept(paper.title);
  const summary = kept(paper.summary) ?? '';
  return {
    paper: {
      id: paper.id.replace(/v\d+$/, ''),
      authors: paper.authors.map((author: { name: string; hidden?: boolean | null }) => ({ name: author.name.trim(), hidden: author.hidden ?? false })),
      publishedAt: paper.publishedAt,
      submittedOnDailyAt: paper.submittedOnDailyAt ?? null,
      submittedOnDailyBy: user && { user: submitter.name ?? submitter.user, ...user },
      title,
      summary,
      upvotes: paper.upvotes ?? 0,
      githubRepo: kept(paper.githubRepo),
      githubStars: paper.githubStars ?? null,
      projectPage: kept(paper.projectPage),
      ai_summary: kept(paper.ai_summary),
      // Stored lower-cased (README, Decisions).
      ai_keywords: (paper.ai_keywords ?? []).map((keyword: string) => keyword.trim().toLowerCase()),
      organization: expectedOrganization,
    },
    publishedAt: paper.submittedOnDailyAt ?? paper.publishedAt,
    title,
    // The paper's abstract: HF may send a shorter text here; this API stores one.
    summary,
    thumbnail: kept(item.thumbnail),
    numComments: item.numComments ?? 0,
    submittedBy: user && { name: submitter.name ?? submitter.user, ...user },
    organization: expectedOrganization,
  };
}

/** Each field of `served` against `expected`, named in the failure. */
function expectFieldByField(served: Record<string, unknown>, expected: Record<string, unknown>, where: string) {
  expect(Object.keys(served).sort(), `${where}: keys`).toEqual(Object.keys(expected).sort());
  for (const [key, value] of Object.entries(expected)) {
    if (key === 'paper') expectFieldByField(served.paper as Record<string, unknown>, value as Record<string, unknown>, `${where}.paper`);
    else expect(served[key], `${where}.${key}`).toEqual(value);
  }
}

/** Where a key the API serves is also in the fixture item, both values have the same JSON type (when neither is null). */
function expectFixtureTypes(served: Record<string, unknown>, fixture: Record<string, unknown>, where: string) {
  const typeOf = (value: unknown) => (Array.isArray(value) ? 'array' : typeof value);
  for (const [key, value] of Object.entries(served)) {
    const given = fixture[key];
    if (value === null || given === null || given === undefined) continue;
    expect(typeOf(value), `${where}.${key}`).toBe(typeOf(given));
    if (typeOf(value) === 'object') expectFixtureTypes(value as Record<string, unknown>, given as Record<string, unknown>, `${where}.${key}`);
  }
}

describe('the shapes, against the fixture the import tests use and HF documented types', () => {
  let fixture: FixtureItem[];

  beforeAll(async () => {
    await database.truncate();
    fixture = JSON.parse(await readFile(fixturePath, 'utf8')) as FixtureItem[];
    const result = await importDailyPapers(database.db, testConfig.trending, fixture);
    expect(result.imported).toBe(7);
  });

  /** The imported items: the one with bad upvotes (index 3) is skipped by the importer. */
  const importedItems = () => fixture.filter((_, index) => index !== 3);

  it('serves each featured item of /api/daily_papers as the fixture has it, field by field', async () => {
    const featured = importedItems().filter((item) => item.paper.submittedOnDailyAt);
    expect(featured).toHaveLength(5);
    for (const item of featured) {
      const day = item.paper.submittedOnDailyAt.slice(0, 10);
      const served = await getJson<Record<string, any>[]>(`/api/daily_papers?date=${day}`);
      const id = item.paper.id.replace(/v\d+$/, '');
      const found = served.find((candidate) => candidate.paper.id === id);
      expect(found, `${id} on ${day}`).toBeDefined();
      hfDailyPaper.parse(found);
      expectFieldByField(found!, expectedItem(item), id);
      expectFixtureTypes(found!, item, id);
    }
  });

  it('serves never-featured papers through search as items, and every paper at /api/papers/{id}', async () => {
    for (const item of importedItems()) {
      const expected = expectedItem(item);
      const id = expected.paper.id;
      // The id as the fixture wrote it, version suffix included.
      const page = await getJson(`/api/papers/${item.paper.id}`);
      hfPaperPage.parse(page);
      expectFieldByField(page, { ...expected.paper, numComments: expected.numComments }, `/api/papers/${id}`);
      expectFixtureTypes(page, item.paper, `/api/papers/${id}`);

      const results = await getJson<Record<string, any>[]>(`/api/papers/search?q=${encodeURIComponent(String(expected.paper.title))}&limit=3`);
      expect(results[0]!.paper.id, `search for ${expected.paper.title}`).toBe(id);
      hfDailyPaper.parse(results[0]);
      expectFieldByField(results[0]!, expected, `search ${id}`);
    }
  });

  it('reads back through the importer as the records the fixture gave', async () => {
    const served = await Promise.all(
      importedItems().map((item) => getJson(`/api/papers/search?q=${encodeURIComponent(item.paper.title.trim())}&limit=1`)),
    );
    const { records: fromApi, problems } = parseDailyPapersItems(served.flat());
    expect(problems).toEqual([]);
    // Keywords are stored lower-cased and trimmed; the item-level summary is not read (the paper's is).
    const { records: fromFixture } = parseDailyPapersItems(importedItems());
    expect(fromApi).toEqual(fromFixture.map((record) => ({ ...record, keywords: record.keywords.map((keyword) => keyword.trim().toLowerCase()) })));
  });
});

describe('parameters', () => {
  beforeAll(async () => {
    await database.truncate();
    await savePaperRecords(database.db, [
      paperRecord({ arxivId: '2511.30001', submittedAt: new Date('2025-11-12T08:00:00Z'), upvoteBaseline: 5, submittedBy: { username: 'ada' } }),
      paperRecord({ arxivId: '2511.30002', submittedAt: new Date('2025-11-13T08:00:00Z'), upvoteBaseline: 9 }),
      paperRecord({ arxivId: '2511.30003', submittedAt: new Date('2025-10-01T08:00:00Z'), upvoteBaseline: 1, submittedBy: { username: 'ada' } }),
      paperRecord({ arxivId: '2511.30004', submittedAt: null, upvoteBaseline: 20 }),
    ]);
  });

  const ids = (items: { paper: { id: string } }[]) => items.map((item) => item.paper.id);

  it('lists the featured papers, newest featured first by default, by day, week, month and submitter', async () => {
    expect(ids(await getJson('/api/daily_papers'))).toEqual(['2511.30002', '2511.30001', '2511.30003']);
    expect(ids(await getJson('/api/daily_papers?date=2025-11-12'))).toEqual(['2511.30001']);
    expect(ids(await getJson('/api/daily_papers?week=2025-W46&sort=upvotes'))).toEqual(['2511.30002', '2511.30001']);
    expect(ids(await getJson('/api/daily_papers?month=2025-10'))).toEqual(['2511.30003']);
    expect(ids(await getJson('/api/daily_papers?submitter=ADA&sort=publishedAt'))).toEqual(['2511.30001', '2511.30003']);
    expect(ids(await getJson('/api/daily_papers?sort=trending&limit=1'))).toHaveLength(1);
  });

  it('pages by number with p and limit', async () => {
    const pages = await Promise.all([0, 1, 2, 3].map((p) => getJson(`/api/daily_papers?limit=1&p=${p}`)));
    expect(pages.map(ids)).toEqual([['2511.30002'], ['2511.30001'], ['2511.30003'], []]);
  });

  it('lists all papers at /api/papers, trending first by default, and by arXiv time or upvotes', async () => {
    const byUpvotes = await getJson<{ id: string; upvotes: number }[]>('/api/papers?sort=upvotes');
    expect(byUpvotes.map((paper) => paper.id)).toEqual(['2511.30004', '2511.30002', '2511.30001', '2511.30003']);
    for (const paper of byUpvotes) hfPaperPage.parse(paper);
    expect((await getJson<unknown[]>('/api/papers')).length).toBe(4);
    expect((await getJson<{ id: string }[]>('/api/papers?submitter=ada&sort=upvotes')).map((paper) => paper.id)).toEqual(['2511.30001', '2511.30003']);
    expect(await getJson('/api/papers?organization=nobody')).toEqual([]);
  });

  it('answers 404 with JSON for an unknown or malformed arXiv id and an unknown path', async () => {
    for (const target of ['/api/papers/2511.39999', '/api/papers/not-an-id', '/api/papers/%E0%A4%A', '/api/models']) {
      const { status, body, response } = await get(target);
      expect(status, target).toBe(404);
      expect(response.headers.get('content-type')).toMatch(/^application\/json/);
      expect(JSON.parse(body)).toMatchObject({ error: expect.any(String), code: 'NOT_FOUND' });
    }
  });

  it.each([
    ['/api/daily_papers?limit=0', 'limit', /from 1 to 100/],
    ['/api/daily_papers?limit=101', 'limit', /from 1 to 100/],
    ['/api/daily_papers?limit=ten', 'limit', /integer/],
    ['/api/daily_papers?p=-1', 'p', /integer/],
    ['/api/daily_papers?p=100&limit=100', 'p', /at most 99/],
    ['/api/daily_papers?sort=hot', 'sort', /publishedAt, trending, upvotes/],
    ['/api/daily_papers?date=2025-02-30', 'date', /not a date/],
    ['/api/daily_papers?week=2025-W54', 'week', /not an ISO week/],
    ['/api/daily_papers?month=2025-13', 'month', /not a month/],
    ['/api/daily_papers?date=2025-11-12&week=2025-W46', 'date,week', /at most one/],
    ['/api/daily_papers?submitter=%1B', 'submitter', /must be 1 to 100|control/],
    ['/api/daily_papers?submitter=a%00b', 'submitter', /control characters/],
    ['/api/daily_papers?limit=5&limit=6', 'limit', /once/],
    ['/api/papers?sort=submittedAt', 'sort', /trending, publishedAt, upvotes/],
    ['/api/papers?organization=', 'organization', /1 to 100/],
    ['/api/papers/search', 'q', /`q`/],
    ['/api/papers/search?q=%20%01', 'q', /empty/],
    [`/api/papers/search?q=${'a'.repeat(251)}`, 'q', /1 to 250/],
    ['/api/papers/search?q=x&limit=500', 'limit', /from 1 to 100/],
  ])('%s answers 400 naming %s', async (target, parameter, message) => {
    const before = database.queries.length;
    const { status, body } = await get(target);
    expect(status).toBe(400);
    const error = JSON.parse(body) as { error: string; code: string; parameter: string };
    expect(error).toEqual({ error: expect.stringMatching(message), code: 'BAD_USER_INPUT', parameter });
    // Refused before any SQL.
    expect(database.queries.length).toBe(before);
  });

  it('is read-only: other methods get 405 with Allow; HEAD gets the headers alone', async () => {
    const post = await get('/api/daily_papers', { method: 'POST', body: '{}' });
    expect(post.status).toBe(405);
    expect(post.response.headers.get('allow')).toBe('GET, HEAD');
    const head = await testApp.app.fetch(new Request('http://test/api/daily_papers', { method: 'HEAD' }));
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toMatch(/^application\/json/);
    expect(await head.text()).toBe('');
  });

  it('carries the same CORS and security headers as /graphql', async () => {
    const corsApp = createTestApp(database.db, { config: { ...testConfig, http: { ...testConfig.http, corsOrigins: ['https://reader.example'] } } });
    try {
      const allowed = await corsApp.app.fetch(new Request('http://test/api/daily_papers', { headers: { origin: 'https://reader.example' } }));
      expect(allowed.headers.get('access-control-allow-origin')).toBe('https://reader.example');
      expect(allowed.headers.get('x-content-type-options')).toBe('nosniff');
      expect(allowed.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
      expect(allowed.headers.get('x-request-id')).toBeTruthy();
      const other = await corsApp.app.fetch(new Request('http://test/api/papers/search?q=paper', { headers: { origin: 'https://evil.example' } }));
      expect(other.status).toBe(200);
      expect(other.headers.get('access-control-allow-origin')).toBeNull();
      const preflight = await corsApp.app.fetch(
        new Request('http://test/api/daily_papers', {
          method: 'OPTIONS',
          headers: { origin: 'https://reader.example', 'access-control-request-method': 'GET' },
        }),
      );
      expect(preflight.status).toBe(204);
      expect(preflight.headers.get('access-control-allow-methods')).toContain('GET');
    } finally {
      await corsApp.close();
    }
  });
});

describe('the response cache', () => {
  const cachingConfig = loadConfig({ LOG_LEVEL: 'silent', PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST), RESPONSE_CACHE_TTL_SECONDS: '60' });

  beforeAll(async () => {
    await database.truncate();
    await savePaperRecords(database.db, [
      paperRecord({ arxivId: '2511.40001', upvoteBaseline: 3 }),
      paperRecord({ arxivId: '2511.40002', upvoteBaseline: 2 }),
    ]);
  });

  it('answers a repeat from the cache with an ETag, 304s a matching If-None-Match, and ends with a change to public data', async () => {
    const changes = createPublicDataChanges(cachingConfig, createLogger('silent'));
    const cached = createTestApp(database.db, { config: cachingConfig, publicDataChanges: changes });
    const fetchApi = (init?: RequestInit) => cached.app.fetch(new Request('http://test/api/daily_papers?date=2025-11-12&sort=upvotes', init));
    try {
      const first = await fetchApi();
      const etag = first.headers.get('etag');
      expect(etag).toMatch(/^".+"$/);
      const firstBody = await first.text();

      let before = database.queries.length;
      const second = await fetchApi();
      expect(await second.text()).toBe(firstBody);
      expect(second.headers.get('etag')).toBe(etag);
      expect(database.queries.length).toBe(before);

      const notModified = await fetchApi({ headers: { 'if-none-match': etag! } });
      expect(notModified.status).toBe(304);
      expect(await notModified.text()).toBe('');

      // Signed-in or asking for a fresh answer: computed again, no ETag.
      before = database.queries.length;
      const fresh = await fetchApi({ headers: { 'cache-control': 'no-cache' } });
      expect(fresh.headers.get('etag')).toBeNull();
      expect(database.queries.length).toBeGreaterThan(before);

      await database.db.update(papers).set({ title: 'Retitled' }).where(eq(papers.arxivId, '2511.40001'));
      // A REST answer names no entities: it ends with a change to everything, or within the list max age (1 s).
      await changes.announce({ kind: 'everything' });
      const afterChange = await fetchApi({ headers: { 'if-none-match': etag! } });
      expect(afterChange.status).toBe(200);
      expect(afterChange.headers.get('etag')).not.toBe(etag);
      expect(((await afterChange.json()) as { title: string }[]).map((item) => item.title)).toContain('Retitled');
    } finally {
      await cached.close();
      await changes.close();
    }
  });
});

/**
 * What a database holds about `arxivIds`: the papers with their counts, their
 * authorships, and the authors, organizations and submitters they name, all
 * by natural keys (ids differ between databases).
 */
async function describePapers(db: Database, arxivIds: string[]) {
  const paperRows = await db
    .select({
      arxivId: papers.arxivId,
      title: papers.title,
      abstract: papers.abstract,
      publishedAt: papers.publishedAt,
      submittedAt: papers.submittedAt,
      upvoteCount: papers.upvoteCount,
      commentCount: papers.commentCount,
      githubRepo: papers.githubRepo,
      githubStars: papers.githubStars,
      projectPage: papers.projectPage,
      thumbnailUrl: papers.thumbnailUrl,
      aiSummary: papers.aiSummary,
      keywords: papers.keywords,
      organization: organizations.name,
      submitter: users.username,
    })
    .from(papers)
    .leftJoin(organizations, eq(organizations.id, papers.organizationId))
    .leftJoin(users, eq(users.id, papers.submittedById))
    .where(inArray(papers.arxivId, arxivIds))
    .orderBy(asc(papers.arxivId));
  const authorships = await db
    .select({ arxivId: papers.arxivId, position: paperAuthors.position, name: paperAuthors.name, hidden: paperAuthors.hidden, author: authors.name })
    .from(paperAuthors)
    .innerJoin(papers, eq(papers.id, paperAuthors.paperId))
    .innerJoin(authors, eq(authors.id, paperAuthors.authorId))
    .where(inArray(papers.arxivId, arxivIds))
    .orderBy(asc(papers.arxivId), asc(paperAuthors.position));
  const organizationRows = await db
    .selectDistinct({ name: organizations.name, fullName: organizations.fullName, avatarUrl: organizations.avatarUrl })
    .from(organizations)
    .innerJoin(papers, eq(papers.organizationId, organizations.id))
    .where(inArray(papers.arxivId, arxivIds))
    .orderBy(asc(organizations.name));
  const submitterRows = await db
    .selectDistinct({ username: users.username, displayName: users.displayName, avatarUrl: users.avatarUrl })
    .from(users)
    .innerJoin(papers, eq(papers.submittedById, users.id))
    .where(inArray(papers.arxivId, arxivIds))
    .orderBy(asc(users.username));
  return {
    papers: paperRows,
    authorships,
    authors: [...new Set(authorships.map((authorship) => authorship.author))].sort(),
    organizations: organizationRows,
    submitters: submitterRows,
  };
}

describe('round trip: what /api/daily_papers serves, given to npm run import on an empty database', () => {
  let tempDir: string;
  const emptyDatabases: string[] = [];
  let submittedTimes: Date[] = [];

  beforeAll(async () => {
    tempDir = await mkdtemp(path.join(tmpdir(), 'hf-api-round-trip-'));
    await database.truncate();
    const orgs = [
      { name: 'openai', fullName: 'OpenAI', avatarUrl: 'https://avatars.example/openai.png' },
      { name: 'stanford', fullName: 'Stanford University', avatarUrl: null },
      { name: 'bare-org', fullName: null, avatarUrl: null },
    ];
    const submitters = [
      { username: 'akhaliq', displayName: 'AK', avatarUrl: 'https://avatars.example/ak.png' },
      { username: 'taesiri', displayName: null, avatarUrl: null },
    ];
    // 130 papers featured across November 2025 (more than one page of a month), 10 in October, 5 never.
    const featured = Array.from({ length: 145 }, (_, index) =>
      paperRecord({
        arxivId: `2511.${String(50000 + index)}`,
        title: `Round trip paper ${index}: ${index % 2 ? 'diffusion' : 'reasoning'}`,
        abstract: index % 17 === 0 ? '' : `Abstract ${index}.\nSecond line.`,
        publishedAt: new Date(Date.UTC(2025, 9, 1 + (index % 28), 17, 30)),
        submittedAt:
          index < 130
            ? new Date(Date.UTC(2025, 10, 1 + (index % 30), index % 24, 7, 11, 123))
            : index < 140
              ? new Date(Date.UTC(2025, 9, 1 + index - 130))
              : null,
        submittedBy: index % 5 === 4 ? null : submitters[index % 2]!,
        organization: index % 4 === 3 ? null : orgs[index % 3]!,
        authors: [
          { name: `Author ${index}` },
          { name: `Shared Author ${index % 7}`, hidden: index % 9 === 0 },
          ...(index % 3 === 0 ? [{ name: 'Zoë Ünal' }] : []),
        ],
        githubRepo: index % 6 === 0 ? `https://github.com/example/repo-${index}` : null,
        githubStars: index % 6 === 0 ? index * 10 : null,
        projectPage: index % 8 === 0 ? `https://example.org/${index}` : null,
        thumbnailUrl: index % 2 === 0 ? `https://thumbs.example/${index}.png` : null,
        aiSummary: index % 3 === 1 ? `Summary ${index}.` : null,
        keywords: index % 4 === 0 ? ['diffusion', `topic ${index % 5}`] : [],
        upvoteBaseline: (index * 7) % 50,
        commentCount: index % 11,
      }),
    );
    submittedTimes = featured.flatMap((record) => (record.submittedAt ? [record.submittedAt] : []));
    const { paperIds } = await savePaperRecords(database.db, featured);
    // Upvotes cast here, on top of the imported baseline: the count a client sees is their sum.
    await castVotes(
      database.db,
      paperIds.slice(0, 40).map((paperId, index) => ({ username: `voter${index % 3}`, paperId, at: new Date('2025-11-20T10:00:00Z') })),
    );
  });

  afterAll(async () => {
    await rm(tempDir, { recursive: true, force: true });
    for (const name of emptyDatabases) await dropDatabase(name);
  });

  /** Every page of /api/daily_papers for `selector`, 100 at a time. */
  async function servedItems(selector: string) {
    const items: { paper: { id: string } }[] = [];
    for (let p = 0; ; p += 1) {
      const page = await getJson<{ paper: { id: string } }[]>(`/api/daily_papers?${selector}&limit=100&p=${p}`);
      items.push(...page);
      if (page.length < 100) return items;
    }
  }

  it('reproduces the papers, authors, organizations and counts of a day, a week and a month', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    const featuredWithin = (from: string, until: string) =>
      submittedTimes.filter((time) => time >= new Date(`${from}T00:00:00Z`) && time < new Date(`${until}T00:00:00Z`)).length;
    const windows = [
      { name: 'day', selector: 'date=2025-11-12', expected: featuredWithin('2025-11-12', '2025-11-13') },
      { name: 'week', selector: 'week=2025-W46', expected: featuredWithin('2025-11-10', '2025-11-17') },
      { name: 'month', selector: 'month=2025-11', expected: featuredWithin('2025-11-01', '2025-12-01') },
    ];
    // A day of a few, a week of a few dozen, a month of more than one page.
    expect(windows.map((window) => window.expected)).toEqual([4, 29, 130]);
    const template = inject('templateDatabase');
    await Promise.all(
      windows.map(async (window) => {
        const items = await servedItems(window.selector);
        expect(items, window.name).toHaveLength(window.expected);
        const file = path.join(tempDir, `${window.name}.json`);
        await writeFile(file, JSON.stringify(items));

        const name = `${template}_hfapi_${window.name}_w${process.env.VITEST_POOL_ID ?? '0'}`;
        emptyDatabases.push(name);
        await recreateDatabase(name, template);
        const run = await runScript(['src/import/import-cli.ts', file], { DATABASE_URL: urlFor(name), LOG_LEVEL: 'silent' });
        expect(run.stderr, window.name).toBe('');
        expect(run.code, window.name).toBe(0);
        expect(run.stdout).toContain(`${window.expected} papers written, 0 unchanged, 0 items skipped`);

        const copy = openDatabase({ url: urlFor(name), dataDir: '' });
        try {
          const arxivIds = items.map((item) => item.paper.id);
          const original = await describePapers(database.db, arxivIds);
          const imported = await describePapers(copy.db, arxivIds);
          expect(imported.papers).toHaveLength(window.expected);
          expect(imported).toEqual(original);
          // Nothing else: the empty database now holds exactly these.
          expect(await copy.db.$count(papers)).toBe(window.expected);
          expect(await copy.db.$count(authors)).toBe(original.authors.length);
          expect(await copy.db.$count(organizations)).toBe(original.organizations.length);
          expect(await copy.db.$count(users)).toBe(original.submitters.length);
        } finally {
          await copy.close();
        }
      }),
    );
  });
});
