import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { createBullJobQueue, createJobsQueue, type BullJobQueue } from '../jobs/bullmq';
import { DAY_MS } from '../src/calendar';
import { loadConfig, type AppConfig } from '../src/config';
import { authors, organizations, paperAuthors, papers } from '../src/db/schema';
import { TEST_PASSWORD_HASH_COST, paperRecord, rowCounts, savePaperRecords, testRedisUrl as redisUrl, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

// arXiv is played by a real HTTP server on a free port, answering each id_list
// with a fixture or a failure; the app reaches it through ARXIV_API_URL.

type Behaviour = (response: ServerResponse) => void;

const fixture = (name: string) => readFileSync(new URL(`./fixtures/arxiv/${name}`, import.meta.url), 'utf8');

const atom =
  (name: string): Behaviour =>
  (response) => {
    response.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8' });
    response.end(fixture(name));
  };

const failure =
  (status: number, headers: Record<string, string> = {}): Behaviour =>
  (response) => {
    response.writeHead(status, { 'content-type': 'text/html', ...headers });
    response.end(`<html><body><h1>${status}</h1></body></html>`);
  };

/** Answers only once `count` requests wait, so every caller has passed its checks before any goes on. */
function heldUntil(count: number, behaviour: Behaviour): Behaviour {
  const waiting: ServerResponse[] = [];
  return (response) => {
    waiting.push(response);
    if (waiting.length === count) waiting.splice(0).forEach(behaviour);
  };
}

/** An arXiv answer for one paper, as the fixtures have them but with the given fields (plain text: nothing is escaped). */
function arxivEntry(arxivId: string, published: string, fields: { title?: string; abstract?: string; authors?: string[] } = {}): Behaviour {
  const { title = `Paper ${arxivId}`, abstract = `Abstract of ${arxivId}.`, authors = ['Grace Hopper'] } = fields;
  const entry = `<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <id>http://arxiv.org/api/generated</id>
  <entry>
    <id>http://arxiv.org/abs/${arxivId}v1</id>
    <published>${published}</published>
    <title>${title}</title>
    <summary>${abstract}</summary>
    ${authors.map((name) => `<author><name>${name}</name></author>`).join('\n    ')}
  </entry>
</feed>`;
  return (response) => {
    response.writeHead(200, { 'content-type': 'application/atom+xml; charset=utf-8' });
    response.end(entry);
  };
}

/** Long enough that a loaded machine's fake arXiv always answers in time; the timeout case never answers at all. */
const TIMEOUT_MS = 3_000;

const standardBehaviours: Record<string, Behaviour> = {
  '2511.01234': atom('2511.01234.xml'),
  '2510.00042': atom('2510.00042.xml'),
  '2511.99999': atom('error-entry.xml'),
  '2511.99998': atom('empty-feed.xml'),
  '2511.33333': atom('missing-fields.xml'),
  '2511.66666': atom('malformed.xml'),
  '2511.50000': failure(500, { 'retry-after': '120' }),
  '2511.40400': failure(404),
  '2511.88888': (response) => response.destroy(),
  // Never answers: only the lookup's timeout ends the request.
  '2511.77777': () => {},
  // arXiv has no paper 0001.0001: a well-formed id it does not know answers an empty feed.
  '0001.0001': atom('empty-feed.xml'),
  // Papers that exist, as completeInput describes them.
  ...Object.fromEntries(
    ['2511.42424', '2511.04000', '2511.05001', '2511.05002', '2511.05003', '2511.05004', '2511.06001', '2511.06002', '2511.06003', '2511.06004'].map(
      (arxivId) => [arxivId, arxivEntry(arxivId, '2025-11-11T10:00:00Z')],
    ),
  ),
};

let behaviours: Record<string, Behaviour>;
/** The id_list of every request arXiv received, in order. */
let arxivRequests: string[];
let arxiv: Server;

const NOW = new Date('2025-11-12T12:00:00Z');
let now: Date;
let config: AppConfig;
let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
/** The app's jobs go to a real BullMQ queue of this file's own, with no worker: the tests read what was enqueued. */
const queuePrefix = `test-submissions-${randomUUID()}`;
let jobs: BullJobQueue;
let queueConnection: Redis;
let queue: Queue;

async function enqueued() {
  const waiting = await queue.getJobs(['waiting', 'delayed', 'prioritized']);
  return waiting.map((job) => ({ name: job.name, payload: job.data, deduplicationId: job.opts.deduplication?.id }));
}

const SUBMIT = `mutation ($input: SubmitPaperInput!) {
  submitPaper(input: $input) {
    id arxivId title abstract publishedAt submittedAt authorCount upvotes keywords categories githubRepo projectPage
    authors { name position }
    submittedBy { username }
    organization { name }
  }
}`;

type Submitted = { submitPaper: Record<string, any> };
const submit = (input: Record<string, unknown>, token?: string) => testApp.request<Submitted>(SUBMIT, { input }, token);

/** A submission that says everything about the paper (arXiv is asked all the same). */
const completeInput = (arxivId: string, overrides: Record<string, unknown> = {}) => ({
  arxivId,
  title: `Paper ${arxivId}`,
  abstract: `Abstract of ${arxivId}.`,
  authors: ['Grace Hopper'],
  publishedAt: '2025-11-11T10:00:00Z',
  ...overrides,
});

const paperRows = () => rowCounts(database.db, { papers, paperAuthors, authors, organizations });

const nothingWritten = { papers: 0, paperAuthors: 0, authors: 0, organizations: 0 };

beforeAll(async () => {
  arxiv = createServer((request, response) => {
    const id = new URL(request.url!, 'http://arxiv.test').searchParams.get('id_list') ?? '';
    arxivRequests.push(id);
    (behaviours[id] ?? failure(418))(response);
  });
  arxiv.listen(0, '127.0.0.1');
  await once(arxiv, 'listening');
  const { port } = arxiv.address() as AddressInfo;
  config = loadConfig({
    LOG_LEVEL: 'silent',
    PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
    ARXIV_API_URL: `http://127.0.0.1:${port}/api/query`,
    ARXIV_TIMEOUT_MS: String(TIMEOUT_MS),
    SUBMISSION_MAX_AGE_DAYS: '14',
    SUBMISSIONS_PER_USER_PER_DAY: '2',
    // Room for the over-long fields below to reach their own checks (at the default, the body limit answers first).
    MAX_REQUEST_BYTES: '1000000',
  });
  database = await createTestDatabase();
  jobs = createBullJobQueue({ redisUrl, redisPrefix: queuePrefix });
  queueConnection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  queue = createJobsQueue(queueConnection, { role: 'worker', prefix: queuePrefix });
  testApp = createTestApp(database.db, { config, clock: () => now, jobs });
});

beforeEach(async () => {
  await database.truncate();
  behaviours = { ...standardBehaviours };
  arxivRequests = [];
  await queue.obliterate({ force: true });
  now = NOW;
});

afterAll(async () => {
  await testApp?.close();
  await jobs?.close();
  await queue?.obliterate({ force: true });
  await queue?.close();
  await queueConnection?.quit();
  await database?.close();
  arxiv.closeAllConnections();
  arxiv.close();
});

describe('submitPaper', () => {
  it('features a new paper with what arXiv says about it', async () => {
    const { token } = await userWithToken(database.db, 'ada');
    const response = await submit({ arxivId: '2511.01234v2' }, token);
    expect(response.errors).toBeUndefined();
    expect(response.data!.submitPaper).toMatchObject({
      arxivId: '2511.01234',
      // arXiv's line breaks are layout: the title is one line, the abstract one paragraph.
      title: 'Forward-Decayed Ranking & Co-Upvote Similarity for Community Paper Feeds: Lessons from Daily Papers',
      publishedAt: '2025-11-10T17:59:51.000Z',
      submittedAt: NOW.toISOString(),
      submittedBy: { username: 'ada' },
      authorCount: 3,
      authors: [
        { name: 'Zoë Martínez', position: 0 },
        { name: 'Kenji Watanabe', position: 1 },
        { name: "Siobhán O'Neill", position: 2 },
      ],
      organization: null,
      githubRepo: null,
      upvotes: 0,
      keywords: [],
      // arXiv's primary category first, then the rest once each.
      categories: ['cs.IR', 'cs.LG'],
    });
    const { abstract } = response.data!.submitPaper;
    expect(abstract).toMatch(/^Community-curated paper feeds rank submissions by upvotes, yet a raw count favours old papers/);
    expect(abstract).toContain('co-upvote similarity <and> a tf-idf baseline');
    expect(abstract).not.toContain('\n');
    // The version is dropped before asking: arXiv answers the latest version and the first publication date.
    expect(arxivRequests).toEqual(['2511.01234']);
    // Enqueued in the background, after the response: wait for it.
    const byName = async () => (await enqueued()).sort((a, b) => a.name.localeCompare(b.name));
    await expect.poll(byName).toEqual([
      {
        name: 'notify',
        payload: { kind: 'NEW_PAPER', paperIds: [expect.any(Number)] },
        deduplicationId: expect.stringMatching(/^notify:new-paper:\d+$/),
      },
      {
        name: 'refresh-similar-papers',
        payload: { paperId: expect.any(Number) },
        deduplicationId: expect.stringMatching(/^refresh-similar-papers:paper:\d+$/),
      },
    ]);

    const read = await testApp.request(`{ paper(arxivId: "2511.01234") { submittedBy { username } } dailyPapers(date: "2025-11-12") { totalCount } }`);
    expect(read.data).toEqual({ paper: { submittedBy: { username: 'ada' } }, dailyPapers: { totalCount: 1 } });
  });

  it("stores arXiv's title, abstract, authors and date over the client's, and keeps the client's organization and links", async () => {
    const { token } = await userWithToken(database.db, 'mallory');
    const response = await submit(
      {
        arxivId: '2511.01234',
        title: 'A Title arXiv Never Printed',
        abstract: 'Buy now.',
        authors: ['Mallory'],
        publishedAt: '2025-11-12T00:00:00Z',
        organization: 'AnalyticalLab',
        githubRepo: 'https://github.com/example/forward-decay',
        projectPage: 'http://example.org/forward-decay',
      },
      token,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.submitPaper).toMatchObject({
      title: 'Forward-Decayed Ranking & Co-Upvote Similarity for Community Paper Feeds: Lessons from Daily Papers',
      authors: [
        { name: 'Zoë Martínez', position: 0 },
        { name: 'Kenji Watanabe', position: 1 },
        { name: "Siobhán O'Neill", position: 2 },
      ],
      publishedAt: '2025-11-10T17:59:51.000Z',
      submittedBy: { username: 'mallory' },
      organization: { name: 'AnalyticalLab' },
      githubRepo: 'https://github.com/example/forward-decay',
      projectPage: 'http://example.org/forward-decay',
    });
    expect(response.data!.submitPaper.abstract).toMatch(/^Community-curated/);
    expect(arxivRequests).toEqual(['2511.01234']);
    const [stored] = await database.db.select().from(papers);
    expect(stored!.title).toMatch(/^Forward-Decayed Ranking/);
    expect(await database.db.select({ name: authors.name }).from(authors).orderBy(authors.name)).toEqual([
      { name: 'Kenji Watanabe' },
      { name: "Siobhán O'Neill" },
      { name: 'Zoë Martínez' },
    ]);
  });

  it.each([
    ['an id arXiv answers with an empty feed for', '0001.0001'],
    ['an id arXiv answers with an error entry for', '2511.99999'],
  ])('features no invented paper under %s, however complete the input (%s)', async (_case, arxivId) => {
    const { token } = await userWithToken(database.db, 'mallory');
    const response = await submit(completeInput(arxivId, { organization: 'MadeUpLab', githubRepo: 'https://github.com/mallory/fake' }), token);
    expect(errorCodes(response)).toEqual(['NOT_FOUND']);
    expect(response.errors![0]!.message).toBe(`arXiv has no paper ${arxivId}: check the id.`);
    expect(response.data).toBeNull();
    expect(arxivRequests).toEqual([arxivId]);
    expect(await paperRows()).toEqual(nothingWritten);
    expect(await enqueued()).toEqual([]);
  });

  it('counts the length of what the client keeps in characters (code points)', async () => {
    const { token } = await userWithToken(database.db, 'ada');
    const response = await submit({ arxivId: '2511.42424', organization: '🧪'.repeat(100) }, token);
    expect(response.errors).toBeUndefined();
    expect(response.data!.submitPaper.organization).toEqual({ name: '🧪'.repeat(100) });
  });

  it('features a paper known but never featured, keeping what is stored and asking arXiv nothing', async () => {
    await savePaperRecords(database.db, [
      paperRecord({
        arxivId: '2511.02000',
        title: 'Known From An Author Page',
        submittedAt: null,
        publishedAt: new Date('2025-11-09T00:00:00Z'),
        organization: { name: 'OPPO', fullName: 'OPPO Research' },
        authors: [{ name: 'Hidden Author', hidden: true }, { name: 'Shown Author' }],
        keywords: ['diffusion'],
        upvoteBaseline: 3,
        aiSummary: 'A summary.',
      }),
    ]);
    const { token } = await userWithToken(database.db, 'ada');
    // What the site knows about the paper is kept: the client's title does not rename it.
    const response = await submit({ arxivId: '2511.02000', title: 'Renamed', githubRepo: 'https://github.com/oppo/known' }, token);
    expect(response.errors).toBeUndefined();
    expect(response.data!.submitPaper).toMatchObject({
      title: 'Known From An Author Page',
      submittedAt: NOW.toISOString(),
      submittedBy: { username: 'ada' },
      organization: { name: 'OPPO' },
      keywords: ['diffusion'],
      upvotes: 3,
      githubRepo: 'https://github.com/oppo/known',
      authors: [
        { name: 'Hidden Author', position: 0 },
        { name: 'Shown Author', position: 1 },
      ],
    });
    expect(arxivRequests).toEqual([]);
    const [stored] = await database.db.select().from(papers);
    expect(stored).toMatchObject({ aiSummary: 'A summary.', upvoteBaseline: 3 });
    const authorships = await database.db.select().from(paperAuthors).orderBy(paperAuthors.position);
    expect(authorships.map((authorship) => authorship.hidden)).toEqual([true, false]);
    expect(await database.db.$count(papers)).toBe(1);
  });

  it('refuses anonymous submissions before doing anything', async () => {
    const response = await submit({ arxivId: '2511.01234' });
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(arxivRequests).toEqual([]);
    expect(await paperRows()).toEqual(nothingWritten);
  });

  it.each([
    ['a short sequence number', '2306.1322'],
    ['a month that does not exist', '2313.12345'],
    ['four digits after 2015', '2306.1322v2'],
    ['five digits before 2015', '1412.12345'],
    ['an old-style id', 'hep-th/9901001'],
    ['a prefix', 'arXiv:2306.13229'],
    ['a URL', 'https://arxiv.org/abs/2306.13229'],
    ['a bare version suffix', '2306.13229v'],
    ['nothing', '  '],
  ])('rejects %s as arxivId (%j)', async (_case, arxivId) => {
    const { token } = await userWithToken(database.db, 'ada');
    const response = await submit({ arxivId }, token);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions).toMatchObject({ field: 'arxivId' });
    expect(response.errors![0]!.message).toContain('new-style arXiv id');
    expect(arxivRequests).toEqual([]);
  });

  it.each([
    ['title', 'over 1000 characters', { title: 'x'.repeat(1001) }, 'at most 1,000 characters, got 1,001'],
    ['title', 'of white space only', { title: ' \n ' }, 'may not be blank'],
    ['abstract', 'over 100000 characters', { abstract: 'x'.repeat(100_001) }, 'at most 100,000 characters'],
    ['authors', 'with no name', { authors: [] }, 'at least one name'],
    ['authors', 'of 501 names', { authors: Array.from({ length: 501 }, (_, index) => `Author ${index}`) }, 'at most 500 names'],
    ['authors', 'with a name over 500 characters', { authors: ['Fine', 'y'.repeat(501)] }, '(name 2): at most 500 characters'],
    ['authors', 'with a blank name', { authors: ['Fine', '   '] }, 'may not be blank'],
    ['githubRepo', 'on ftp', { githubRepo: 'ftp://github.com/example/repo' }, 'http(s) URL'],
    ['githubRepo', 'of javascript:', { githubRepo: 'javascript:alert(1)' }, 'http(s) URL'],
    ['githubRepo', 'over 2000 characters', { githubRepo: `https://github.com/${'a'.repeat(2000)}` }, 'at most 2,000 characters'],
    ['projectPage', 'without a scheme', { projectPage: 'example.org' }, 'http(s) URL'],
    ['organization', 'that is empty', { organization: '' }, 'may not be blank'],
    ['organization', 'over 100 characters', { organization: 'o'.repeat(101) }, 'at most 100 characters'],
    ['organization', 'of 101 emoji', { organization: '🧪'.repeat(101) }, 'at most 100 characters, got 101'],
    ['publishedAt', 'in the future', { publishedAt: '2025-11-13T00:00:00Z' }, 'in the future'],
  ])('rejects %s %s', async (field, _case, overrides, expected) => {
    const { token } = await userWithToken(database.db, 'ada');
    const response = await submit(completeInput('2511.01234', overrides), token);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions).toMatchObject({ field });
    expect(response.errors![0]!.message).toContain(expected);
    expect(await paperRows()).toEqual(nothingWritten);
  });

  it('is a CONFLICT when the paper is already featured, by anyone', async () => {
    await savePaperRecords(database.db, [paperRecord({ arxivId: '2511.03000', submittedAt: new Date('2025-11-11T08:00:00Z') })]);
    const { token: ada } = await userWithToken(database.db, 'ada');
    const { token: grace } = await userWithToken(database.db, 'grace');

    const imported = await submit({ arxivId: '2511.03000v3' }, ada);
    expect(errorCodes(imported)).toEqual(['CONFLICT']);
    expect(imported.errors![0]!.message).toBe('2511.03000 is already in Daily Papers (featured on 2025-11-11).');

    expect((await submit({ arxivId: '2511.01234' }, ada)).errors).toBeUndefined();
    const again = await submit({ arxivId: '2511.01234' }, grace);
    expect(errorCodes(again)).toEqual(['CONFLICT']);
    // Neither refusal asked arXiv.
    expect(arxivRequests).toEqual(['2511.01234']);
    const [paper] = await database.db.select().from(papers).where(eq(papers.arxivId, '2511.01234'));
    expect(paper!.submittedAt).toEqual(NOW);
  });

  it("refuses papers older than the submission window by arXiv's date, whatever date the client claims", async () => {
    const { token } = await userWithToken(database.db, 'ada');
    const old = await submit({ arxivId: '2510.00042', publishedAt: '2025-11-11T00:00:00Z' }, token);
    expect(errorCodes(old)).toEqual(['BAD_USER_INPUT']);
    expect(old.errors![0]!.extensions).toMatchObject({ field: 'arxivId' });
    expect(old.errors![0]!.message).toBe('2510.00042 appeared on arXiv on 2025-10-01: papers may be submitted up to 14 days after their arXiv date.');
    expect(await paperRows()).toEqual(nothingWritten);

    const maxAgeMs = 14 * DAY_MS;
    behaviours['2511.04000'] = arxivEntry('2511.04000', new Date(NOW.getTime() - maxAgeMs - 1000).toISOString());
    const tooOld = await submit(completeInput('2511.04000', { publishedAt: '2025-11-11T00:00:00Z' }), token);
    expect(errorCodes(tooOld)).toEqual(['BAD_USER_INPUT']);
    expect(tooOld.errors![0]!.extensions).toMatchObject({ field: 'arxivId' });
    expect(await paperRows()).toEqual(nothingWritten);

    behaviours['2511.04000'] = arxivEntry('2511.04000', new Date(NOW.getTime() - maxAgeMs).toISOString());
    const justInTime = await submit(completeInput('2511.04000'), token);
    expect(justInTime.errors).toBeUndefined();
  });

  it("refuses a paper too old by the client's date where arXiv's entry has none", async () => {
    const { token } = await userWithToken(database.db, 'ada');
    const tooOld = await submit({ arxivId: '2511.33333', authors: ['Someone'], publishedAt: '2025-10-01T00:00:00Z' }, token);
    expect(errorCodes(tooOld)).toEqual(['BAD_USER_INPUT']);
    expect(tooOld.errors![0]!.extensions).toMatchObject({ field: 'publishedAt' });
    expect(await paperRows()).toEqual(nothingWritten);
  });

  it('allows a limited number of submissions per user and UTC day', async () => {
    const { user, token: ada } = await userWithToken(database.db, 'ada');
    const { token: grace } = await userWithToken(database.db, 'grace');
    // Yesterday's submission does not count against today.
    await savePaperRecords(database.db, [
      paperRecord({ arxivId: '2511.05000', submittedBy: { username: user.username }, submittedAt: new Date('2025-11-11T23:59:59Z') }),
    ]);

    for (const arxivId of ['2511.05001', '2511.05002']) {
      expect((await submit(completeInput(arxivId), ada)).errors).toBeUndefined();
    }
    const third = await submit(completeInput('2511.05003'), ada);
    expect(errorCodes(third)).toEqual(['RATE_LIMITED']);
    // Twelve hours to the next midnight UTC.
    expect(third.errors![0]!.extensions).toMatchObject({ retryAfter: 43_200, reason: 'DAILY_SUBMISSION_LIMIT' });
    expect(third.errors![0]!.message).toBe('You have submitted 2 papers today, the most a day allows: submit again after midnight UTC, in 12 h.');
    expect(await database.db.$count(papers)).toBe(3);

    expect((await submit(completeInput('2511.05003'), grace)).errors).toBeUndefined();
    now = new Date('2025-11-13T00:00:00Z');
    expect((await submit(completeInput('2511.05004'), ada)).errors).toBeUndefined();
  });

  it('holds the daily limit under concurrent submissions of different papers', async () => {
    const { token } = await userWithToken(database.db, 'ada');
    const responses = await Promise.all(['2511.06001', '2511.06002', '2511.06003', '2511.06004'].map((arxivId) => submit(completeInput(arxivId), token)));
    expect(responses.filter((response) => response.errors === undefined)).toHaveLength(2);
    expect(responses.flatMap(errorCodes)).toEqual(['RATE_LIMITED', 'RATE_LIMITED']);
    expect(await database.db.$count(papers)).toBe(2);
  });

  describe('when the arXiv lookup fails, nothing is written', () => {
    it.each([
      ['an unknown id (arXiv error entry)', '2511.99999', 'NOT_FOUND', 'arXiv has no paper 2511.99999: check the id.'],
      ['an unknown id (empty feed)', '2511.99998', 'NOT_FOUND', 'arXiv has no paper 2511.99998: check the id.'],
      ['HTTP 500', '2511.50000', 'RATE_LIMITED', 'Could not look 2511.50000 up on arXiv: arXiv answered HTTP 500.'],
      ['HTTP 404', '2511.40400', 'RATE_LIMITED', 'Could not look 2511.40400 up on arXiv: arXiv answered HTTP 404.'],
      ['a dropped connection', '2511.88888', 'RATE_LIMITED', 'Could not look 2511.88888 up on arXiv: arXiv could not be reached. Try again in 30 s'],
      ['a timeout', '2511.77777', 'RATE_LIMITED', `Could not look 2511.77777 up on arXiv: arXiv did not answer within ${TIMEOUT_MS} ms.`],
      ['malformed XML', '2511.66666', 'RATE_LIMITED', 'Could not look 2511.66666 up on arXiv: arXiv answered with malformed XML. Try again in 30 s'],
      [
        'an entry missing fields',
        '2511.33333',
        'RATE_LIMITED',
        "arXiv's entry for 2511.33333 has no authors, publishedAt: send them with the submission.",
      ],
    ])('%s', async (_case, arxivId, code, message) => {
      const { token } = await userWithToken(database.db, 'ada');
      // Every field given changes nothing: the paper is not featured unless arXiv vouches for it (the incomplete entry aside, whose gaps they would fill).
      const input = arxivId === '2511.33333' ? { arxivId, organization: 'NewLab' } : completeInput(arxivId, { organization: 'NewLab' });
      const response = await submit(input, token);
      expect(errorCodes(response)).toEqual([code]);
      expect(response.errors![0]!.message).toContain(message);
      if (code === 'RATE_LIMITED') {
        expect(response.errors![0]!.extensions).toMatchObject({ reason: 'ARXIV_UNAVAILABLE', retryAfter: arxivId === '2511.50000' ? 120 : 30 });
        expect(response.errors![0]!.message).toMatch(/ Try again in \d+ (s|min)\.$/);
      }
      expect(response.data).toBeNull();
      expect(arxivRequests).toEqual([arxivId]);
      expect(await paperRows()).toEqual(nothingWritten);
      expect(await enqueued()).toEqual([]);
    });

    it('but fields the client gives fill the gaps of an incomplete entry, and only those', async () => {
      const { token } = await userWithToken(database.db, 'ada');
      const response = await submit({ arxivId: '2511.33333', title: 'Not This Title', authors: ['Someone'], publishedAt: '2025-11-11T00:00:00Z' }, token);
      expect(response.errors).toBeUndefined();
      expect(response.data!.submitPaper).toMatchObject({
        title: 'A Paper Whose Entry Lost Its Authors and Date',
        authors: [{ name: 'Someone', position: 0 }],
        publishedAt: '2025-11-11T00:00:00.000Z',
      });
    });
  });

  it('features a paper once when two people submit it at the same moment', async () => {
    const { token: ada } = await userWithToken(database.db, 'ada');
    const { token: grace } = await userWithToken(database.db, 'grace');
    // arXiv answers neither until both asked: both passed the first checks before either writes.
    behaviours['2511.01234'] = heldUntil(2, atom('2511.01234.xml'));
    const responses = await Promise.all([submit({ arxivId: '2511.01234' }, ada), submit({ arxivId: '2511.01234v1' }, grace)]);

    expect(arxivRequests).toEqual(['2511.01234', '2511.01234']);
    expect(responses.map((response) => response.status)).toEqual([200, 200]);
    const winners = responses.filter((response) => response.errors === undefined);
    expect(winners).toHaveLength(1);
    expect(responses.flatMap(errorCodes)).toEqual(['CONFLICT']);
    expect(await database.db.$count(papers)).toBe(1);
    expect(await database.db.$count(paperAuthors)).toBe(3);
    const read = await testApp.request(`{ paper(arxivId: "2511.01234") { submittedBy { username } } }`);
    expect(read.data!.paper.submittedBy).toEqual(winners[0]!.data!.submitPaper.submittedBy);
  });
});
