import { desc } from 'drizzle-orm';
import { XMLValidator } from 'fast-xml-parser';
import { atomParser as parser, fromHtml } from './support/atom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { papers } from '../src/db/schema';
import { paperRecord, savePaperRecords } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const NOW = new Date('2025-11-12T12:00:00Z');
const PUBLIC_URL = 'https://papers.example.org';

/** Everything a feed may have to escape: markup, entities, quotes, CDATA ends, non-ASCII, a control character. */
const TRICKY_TITLE = `Tom & Jerry <b>bold</b> "quoted" 'single' ]]> naïve café 🧪 &amp; end`;
const TRICKY_ABSTRACT = `If a < b && c > d then <script>alert("x")</script> ]]> holds; see &lt;1&gt;.\nSecond line.`;
const TRICKY_AUTHORS = ['AT&amp;T Labs', `Conan O'Brien <x>`, 'Zoë Ünal'];

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

type Entry = {
  id: string;
  title: { '#text': string; type: string };
  content: { '#text': string; type: string };
  link: { href: string; rel?: string; title?: string }[];
  author: { name: string }[];
  updated: string;
  published: string;
};

async function getFeed(path: string, init?: RequestInit) {
  const response = await testApp.app.fetch(new Request(`http://test${path}`, init));
  return { response, body: await response.text() };
}

function parseFeed(body: string) {
  expect(XMLValidator.validate(body)).toBe(true);
  const document = parser.parse(body) as { feed: { id: string; title: string; updated: string; entry?: Entry[]; link: { href: string; rel: string }[] } };
  return { ...document.feed, entry: document.feed.entry ?? [] };
}

const arxivIdOf = (entry: Entry) => entry.id.replace(`${PUBLIC_URL}/papers/`, '');

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db, {
    config: loadConfig({ LOG_LEVEL: 'silent', PASSWORD_HASH_COST: '10', PUBLIC_URL: `${PUBLIC_URL}/` }),
    clock: () => NOW,
  });
  await savePaperRecords(database.db, [
    // 35 papers featured the day before, more than the trending feed holds.
    ...Array.from({ length: 35 }, (_, index) =>
      paperRecord({ arxivId: `2511.${String(20000 + index)}`, upvoteBaseline: index, submittedAt: new Date('2025-11-11T08:00:00Z') }),
    ),
    paperRecord({ arxivId: '2511.30001', upvoteBaseline: 1, submittedAt: new Date('2025-11-12T08:00:00Z') }),
    paperRecord({ arxivId: '2511.30002', upvoteBaseline: 9, submittedAt: new Date('2025-11-12T09:00:00Z') }),
    paperRecord({ arxivId: '2511.30003', upvoteBaseline: 5, submittedAt: new Date('2025-11-12T23:59:59.999Z') }),
    paperRecord({
      arxivId: '2511.30004',
      title: `${TRICKY_TITLE}\u000C`,
      abstract: TRICKY_ABSTRACT,
      authors: TRICKY_AUTHORS.map((name) => ({ name })),
      upvoteBaseline: 3,
      publishedAt: new Date('2025-11-10T17:59:51Z'),
      submittedAt: new Date('2025-11-12T10:30:00Z'),
    }),
    // Never featured, and featured the next day: in no daily feed of the 12th.
    paperRecord({ arxivId: '2511.30005', upvoteBaseline: 50, submittedAt: null }),
    paperRecord({ arxivId: '2511.30006', upvoteBaseline: 50, submittedAt: new Date('2025-11-13T00:00:00Z') }),
  ]);
});

afterAll(async () => {
  await testApp?.close();
  await database?.close();
});

describe('GET /feeds/trending.atom', () => {
  it('is an Atom feed of the 30 top trending papers, in trending order', async () => {
    const { response, body } = await getFeed('/feeds/trending.atom');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('public, max-age=300');

    const feed = parseFeed(body);
    expect(feed.id).toBe(`${PUBLIC_URL}/feeds/trending.atom`);
    expect(feed.link).toContainEqual({ rel: 'self', href: `${PUBLIC_URL}/feeds/trending.atom` });
    expect(feed.updated).toBe(NOW.toISOString());
    const trending = await database.db.select({ arxivId: papers.arxivId }).from(papers).orderBy(desc(papers.trendingKey), desc(papers.id)).limit(30);
    expect(feed.entry.map(arxivIdOf)).toEqual(trending.map((paper) => paper.arxivId));
  });
});

describe('GET /feeds/daily.atom', () => {
  it("lists a UTC day's featured papers, most upvoted first", async () => {
    const { response, body } = await getFeed('/feeds/daily.atom?date=2025-11-12');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    const feed = parseFeed(body);
    expect(feed.id).toBe(`${PUBLIC_URL}/feeds/daily.atom?date=2025-11-12`);
    expect(feed.title).toBe('Daily Papers: 2025-11-12');
    expect(feed.entry.map(arxivIdOf)).toEqual(['2511.30002', '2511.30003', '2511.30004', '2511.30001']);

    const previousDay = parseFeed((await getFeed('/feeds/daily.atom?date=2025-11-11')).body);
    expect(previousDay.entry).toHaveLength(35);
    expect(arxivIdOf(previousDay.entry[0]!)).toBe('2511.20034');
    expect(parseFeed((await getFeed('/feeds/daily.atom?date=2025-11-10')).body).entry).toEqual([]);
  });

  it('is today (UTC) without a date', async () => {
    const today = parseFeed((await getFeed('/feeds/daily.atom')).body);
    expect(today.id).toBe(`${PUBLIC_URL}/feeds/daily.atom`);
    expect(today.entry.map(arxivIdOf)).toEqual(['2511.30002', '2511.30003', '2511.30004', '2511.30001']);
  });

  it('carries titles, abstracts and names through escaping unchanged, with links to the paper page and arXiv', async () => {
    const { body } = await getFeed('/feeds/daily.atom?date=2025-11-12');
    const entry = parseFeed(body).entry.find((candidate) => arxivIdOf(candidate) === '2511.30004')!;
    expect(entry.title.type).toBe('html');
    // The form feed cannot be written in XML 1.0 and is dropped; everything else survives.
    expect(fromHtml(entry.title['#text'])).toBe(TRICKY_TITLE);
    expect(entry.content.type).toBe('html');
    expect(fromHtml(entry.content['#text'])).toBe(TRICKY_ABSTRACT);
    expect(entry.author.map((author) => author.name)).toEqual(TRICKY_AUTHORS);
    expect(entry.link).toEqual([
      { rel: 'alternate', type: 'text/html', href: `${PUBLIC_URL}/papers/2511.30004` },
      { rel: 'related', type: 'text/html', title: 'arXiv', href: 'https://arxiv.org/abs/2511.30004' },
    ]);
    expect(entry.id).toBe(`${PUBLIC_URL}/papers/2511.30004`);
    expect(entry.updated).toBe('2025-11-12T10:30:00.000Z');
    expect(entry.published).toBe('2025-11-10T17:59:51.000Z');
  });

  it.each([
    ['2025-13-01', '"2025-13-01" is not a date as YYYY-MM-DD, e.g. "2025-11-12".'],
    ['2025-02-30', '"2025-02-30" is not a date as YYYY-MM-DD, e.g. "2025-11-12".'],
    ['yesterday', '"yesterday" is not a date as YYYY-MM-DD, e.g. "2025-11-12".'],
    ['', '"" is not a date as YYYY-MM-DD, e.g. "2025-11-12".'],
    ['0999-01-01', '"0999-01-01" is out of range: use a date in the years 1000 to 9998.'],
  ])('answers 400 with a plain-text reason for the date %j', async (date, message) => {
    const { response, body } = await getFeed(`/feeds/daily.atom?date=${encodeURIComponent(date)}`);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(body).toBe(`${message}\n`);
  });
});

describe('feed requests', () => {
  it('answers HEAD without a body and refuses other methods', async () => {
    const head = await getFeed('/feeds/trending.atom', { method: 'HEAD' });
    expect(head.response.status).toBe(200);
    expect(head.response.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
    expect(head.body).toBe('');

    const post = await getFeed('/feeds/daily.atom', { method: 'POST' });
    expect(post.response.status).toBe(405);
    expect(post.response.headers.get('allow')).toBe('GET, HEAD');
  });

  it('leaves other paths alone', async () => {
    expect((await getFeed('/feeds/unknown.atom')).response.status).toBe(404);
  });
});
