import { eq, sql } from 'drizzle-orm';
import postgres from 'postgres';
import { XMLValidator } from 'fast-xml-parser';
import { atomParser as parser, fromHtml } from './support/atom';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { authors, feedLinks, organizations, recommendations } from '../src/db/schema';
import { queryRows } from '../src/db/rows';
import { FEED_PAPERS } from '../src/feeds/feeds-plugin';
import { TEST_PASSWORD_HASH_COST, paperRecord, savePaperRecords, userWithToken } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const NOW = new Date('2025-11-12T12:00:00Z');
const PUBLIC_URL = 'https://papers.example.org';

/** Everything a feed may have to escape, as in tests/feeds.test.ts. */
const TRICKY_TITLE = `Tom & Jerry <b>bold</b> "quoted" 'single' ]]> naïve café 🧪 &amp; end`;
const TRICKY_ABSTRACT = `If a < b && c > d then <script>alert("x")</script> ]]> holds; see &lt;1&gt;.\nSecond line.`;
const TRICKY_AUTHORS = ['AT&amp;T Labs', `Conan O'Brien <x>`, 'Zoë Ünal'];
const TRICKY_NAME = `R&D <i>picks</i> "best" ]]> &amp; 🧪`;

const config = loadConfig({
  LOG_LEVEL: 'silent',
  PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
  MUTATION_RATE_LIMIT_PER_MINUTE: '1000000',
  PUBLIC_URL,
  // On, as in production: private answers must never come out of it.
  RESPONSE_CACHE_TTL_SECONDS: '60',
});

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
let ada: string;
let bob: string;

type Entry = { id: string; title: { '#text': string }; content: { '#text': string }; author: { name: string }[] };
type Feed = { id: string; title: string; subtitle?: string; link: { href: string; rel: string }[]; entry: Entry[] };

async function getFeed(path: string, init?: RequestInit) {
  const response = await testApp.app.fetch(new Request(`http://test${path}`, init));
  return { response, body: await response.text() };
}

async function feedAt(path: string): Promise<Feed & { cacheControl: string | null; body: string }> {
  const { response, body } = await getFeed(path);
  expect(response.status, body).toBe(200);
  expect(response.headers.get('content-type')).toBe('application/atom+xml; charset=utf-8');
  expect(XMLValidator.validate(body)).toBe(true);
  const feed = (parser.parse(body) as { feed: Feed }).feed;
  return { ...feed, entry: feed.entry ?? [], cacheControl: response.headers.get('cache-control'), body };
}

const arxivIdsOf = (feed: Feed) => feed.entry.map((entry) => entry.id.replace(`${PUBLIC_URL}/papers/`, ''));
const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');

async function ok(query: string, variables: Record<string, unknown> = {}, token?: string) {
  const response = await testApp.request(query, variables, token);
  expect(response.errors).toBeUndefined();
  return response.data!;
}

const edgesOf = (connection: { edges: { node: { arxivId: string } }[] }) => connection.edges.map((edge) => edge.node.arxivId);

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db, { config, clock: () => NOW });
  await savePaperRecords(database.db, [
    ...Array.from({ length: 60 }, (_, index) =>
      paperRecord({
        arxivId: `2511.${String(50000 + index)}`,
        title: `Diffusion study ${index}`,
        keywords: index % 2 === 0 ? ['diffusion'] : ['robotics'],
        organization: { name: index % 3 === 0 ? 'OPPO' : 'other-lab', fullName: index % 3 === 0 ? 'OPPO Research' : null },
        authors: [{ name: index % 4 === 0 ? 'Grace Hopper' : `Someone ${index}` }],
        submittedBy: { username: index % 5 === 0 ? 'curator' : 'other' },
        publishedAt: new Date(Date.UTC(2025, 9, 1 + (index % 30))),
        upvoteBaseline: (index * 7) % 23,
      }),
    ),
    paperRecord({
      arxivId: '2511.59999',
      title: TRICKY_TITLE,
      abstract: TRICKY_ABSTRACT,
      authors: TRICKY_AUTHORS.map((name) => ({ name })),
      keywords: ['tricky'],
    }),
  ]);
  ada = (await userWithToken(database.db, 'ada')).token;
  bob = (await userWithToken(database.db, 'bob')).token;
});

afterAll(async () => {
  await testApp?.close();
  await database?.close();
});

describe('GET /feeds/papers.atom', () => {
  it.each([
    ['keyword=diffusion', { keyword: 'diffusion' }, 'PUBLISHED_AT'],
    ['keyword=diffusion&order=UPVOTES', { keyword: 'diffusion' }, 'UPVOTES'],
    ['organization=OPPO&submittedBy=curator&order=TRENDING', { organization: 'OPPO', submittedBy: 'curator' }, 'TRENDING'],
    [
      'publishedAfter=2025-10-10T00%3A00%3A00Z&publishedBefore=2025-10-20T00:00:00Z&order=SUBMITTED_AT',
      { publishedAfter: '2025-10-10T00:00:00Z', publishedBefore: '2025-10-20T00:00:00Z' },
      'SUBMITTED_AT',
    ],
    ['', {}, 'PUBLISHED_AT'],
  ])('?%s lists what papers(filter:) lists, in the same order', async (query, filter, orderBy) => {
    const feed = await feedAt(`/feeds/papers.atom?${query}`);
    const list = (
      await ok(
        `query($filter: PaperFilter, $orderBy: PaperOrder) { papers(first: ${FEED_PAPERS}, filter: $filter, orderBy: $orderBy) { edges { node { arxivId } } } }`,
        {
          filter,
          orderBy,
        },
      )
    ).papers;
    expect(arxivIdsOf(feed)).toEqual(edgesOf(list));
    expect(feed.entry.length).toBeGreaterThan(0);
    expect(feed.cacheControl).toBe('public, max-age=300');
    expect(feed.id.startsWith(`${PUBLIC_URL}/feeds/papers.atom`)).toBe(true);
  });

  it('takes an author by ID', async () => {
    const [grace] = await database.db.select().from(authors).where(eq(authors.name, 'Grace Hopper'));
    const feed = await feedAt(`/feeds/papers.atom?author=${encodeURIComponent(globalId('Author', grace!.id))}&keyword=diffusion`);
    const list = (
      await ok(`query($filter: PaperFilter) { papers(first: 50, filter: $filter, orderBy: PUBLISHED_AT) { edges { node { arxivId } } } }`, {
        filter: { authorId: globalId('Author', grace!.id), keyword: 'diffusion' },
      })
    ).papers;
    expect(arxivIdsOf(feed)).toEqual(edgesOf(list));
    expect(feed.entry).toHaveLength(15);
  });

  it.each([
    [
      '/feeds/papers.atom?colour=red',
      'Unknown parameter "colour": this feed takes keyword, organization, author, submittedBy, publishedAfter, publishedBefore, categories, excludeCategories, excludeKeywords, order.',
    ],
    ['/feeds/papers.atom?keyword=a&keyword=b', 'The parameter "keyword" is given twice.'],
    ['/feeds/papers.atom?order=NEWEST', 'Unknown order "NEWEST": use one of TRENDING, UPVOTES, PUBLISHED_AT, SUBMITTED_AT.'],
    ['/feeds/papers.atom?publishedAfter=yesterday', '"yesterday" is not an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00Z".'],
    ['/feeds/papers.atom?author=nonsense', '"nonsense" is not a valid Author ID: use an `id` from the API.'],
    [`/feeds/papers.atom?author=${globalId('Paper', 1)}`, `"${globalId('Paper', 1)}" is not a Author ID.`],
    ['/feeds/search.atom', 'The search query is empty: type at least one word.'],
    ['/feeds/search.atom?q=%20%01%20', 'The search query is empty: type at least one word.'],
    [`/feeds/search.atom?q=${'a'.repeat(251)}`, 'The search query must be 1 to 250 characters; it has 251.'],
    ['/feeds/author.atom', 'Give the Author ID as "id".'],
    [`/feeds/collection.atom?id=${globalId('Author', 1)}`, `"${globalId('Author', 1)}" is not a Collection ID.`],
    ['/feeds/personal.atom?token=a&user=ada', 'Unknown parameter "user": this feed takes token.'],
  ])('answers 400 with a plain-text reason for %s', async (path, message) => {
    const { response, body } = await getFeed(path);
    expect(response.status).toBe(400);
    expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    expect(body).toBe(`${message}\n`);
  });
});

describe('GET /feeds/search.atom, author.atom and organization.atom', () => {
  it('lists a search in relevance order, as searchPapers does', async () => {
    const feed = await feedAt('/feeds/search.atom?q=diffusion%20study');
    const results = (await ok(`{ searchPapers(query: "diffusion study", first: ${FEED_PAPERS}) { edges { node { arxivId } } } }`)).searchPapers;
    expect(arxivIdsOf(feed)).toEqual(edgesOf(results));
    expect(feed.entry).toHaveLength(FEED_PAPERS);
    expect(feed.title).toBe('Daily Papers: search "diffusion study"');
    expect(feed.id).toBe(`${PUBLIC_URL}/feeds/search.atom?q=diffusion+study`);
  });

  it('takes the PaperFilter parameters of papers.atom, as searchPapers(filter:) does', async () => {
    const feed = await feedAt('/feeds/search.atom?q=diffusion%20study&keyword=diffusion&organization=OPPO');
    const results = (
      await ok(
        `query($filter: PaperFilter) { searchPapers(query: "diffusion study", first: ${FEED_PAPERS}, filter: $filter) { edges { node { arxivId } } } }`,
        {
          filter: { keyword: 'diffusion', organization: 'OPPO' },
        },
      )
    ).searchPapers;
    expect(arxivIdsOf(feed)).toEqual(edgesOf(results));
    // Every sixth paper of the 60 is both OPPO's and tagged diffusion.
    expect(feed.entry).toHaveLength(10);
    expect(feed.id).toBe(`${PUBLIC_URL}/feeds/search.atom?q=diffusion+study&keyword=diffusion&organization=OPPO`);
  });

  it.each([
    ['/feeds/search.atom?q=x&categories=CS.LG!', 'Invalid categories: "CS.LG!" is not an arXiv category (such as cs.LG, hep-th or math.AG).'],
    ['/feeds/search.atom?q=x&publishedAfter=yesterday', '"yesterday" is not an ISO-8601 date-time with a time zone, e.g. "2025-11-12T08:30:00Z".'],
    ['/feeds/search.atom?q=x&author=nonsense', '"nonsense" is not a valid Author ID: use an `id` from the API.'],
    [
      '/feeds/search.atom?q=x&order=UPVOTES',
      'Unknown parameter "order": this feed takes q, keyword, organization, author, submittedBy, publishedAfter, publishedBefore, categories, excludeCategories, excludeKeywords.',
    ],
  ])('search.atom answers 400 for a bad filter parameter: %s', async (path, message) => {
    const { response, body } = await getFeed(path);
    expect(response.status).toBe(400);
    expect(body).toBe(`${message}\n`);
  });

  it("lists an author's and an organization's papers, newest first; 404 for unknown ones", async () => {
    const [grace] = await database.db.select().from(authors).where(eq(authors.name, 'Grace Hopper'));
    const author = await feedAt(`/feeds/author.atom?id=${encodeURIComponent(globalId('Author', grace!.id))}`);
    expect(author.title).toBe('Daily Papers: Grace Hopper');
    const byAuthor = (
      await ok(`query($id: ID!) { author(id: $id) { papers(first: 50) { edges { node { arxivId } } } } }`, { id: globalId('Author', grace!.id) })
    ).author.papers;
    expect(arxivIdsOf(author)).toEqual(edgesOf(byAuthor));

    const [oppo] = await database.db.select().from(organizations).where(eq(organizations.name, 'OPPO'));
    const organization = await feedAt('/feeds/organization.atom?name=OPPO');
    expect(organization.title).toBe('Daily Papers: OPPO Research');
    const ofOrganization = (await ok(`{ organization(name: "OPPO") { papers(first: 50) { edges { node { arxivId } } } } }`)).organization.papers;
    expect(arxivIdsOf(organization)).toEqual(edgesOf(ofOrganization));
    expect(oppo).toBeDefined();

    for (const path of [`/feeds/author.atom?id=${globalId('Author', 999999)}`, '/feeds/organization.atom?name=nobody', '/feeds/organization.atom']) {
      const { response } = await getFeed(path);
      expect(response.status).toBe(404);
      expect(response.headers.get('content-type')).toBe('text/plain; charset=utf-8');
    }
  });
});

const CREATE = `mutation($input: CreateCollectionInput!) { createCollection(input: $input) { id } }`;
const ADD = `mutation($c: ID!, $p: ID!) { addPaperToCollection(collectionId: $c, paperId: $p) { id } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCollectionInput!) { updateCollection(id: $id, input: $input) { id isPublic } }`;

async function paperId(arxivId: string): Promise<string> {
  return (await ok(`{ paper(arxivId: "${arxivId}") { id } }`)).paper.id;
}

describe('GET /feeds/collection.atom', () => {
  it("lists a public collection in its owner's order, names and papers escaped and carried through unchanged", async () => {
    const { id } = (await ok(CREATE, { input: { name: TRICKY_NAME, description: `About <this> & "that" ]]>`, isPublic: true } }, ada)).createCollection;
    for (const arxivId of ['2511.50003', '2511.59999', '2511.50001']) await ok(ADD, { c: id, p: await paperId(arxivId) }, ada);
    await ok(
      `mutation($c: ID!, $p: ID!) { movePaperInCollection(collectionId: $c, paperId: $p, position: 0) { id } }`,
      { c: id, p: await paperId('2511.50001') },
      ada,
    );

    const feed = await feedAt(`/feeds/collection.atom?id=${encodeURIComponent(id)}`);
    expect(feed.cacheControl).toBe('public, no-cache');
    expect(arxivIdsOf(feed)).toEqual(['2511.50001', '2511.50003', '2511.59999']);
    expect(feed.title).toBe(`Daily Papers: ${TRICKY_NAME}`);
    expect(feed.subtitle).toBe(`About <this> & "that" ]]>`);
    const tricky = feed.entry[2]!;
    expect(fromHtml(tricky.title['#text'])).toBe(TRICKY_TITLE);
    expect(fromHtml(tricky.content['#text'])).toBe(TRICKY_ABSTRACT);
    expect(tricky.author.map((author) => author.name)).toEqual(TRICKY_AUTHORS);
  });

  it('answers 404 for a private collection, to everyone, and once a public one is made private', async () => {
    const secret = (await ok(CREATE, { input: { name: 'Secret', isPublic: false } }, bob)).createCollection.id;
    await ok(ADD, { c: secret, p: await paperId('2511.50002') }, bob);
    const shown = (await ok(CREATE, { input: { name: 'Shown', isPublic: true } }, bob)).createCollection.id;
    const feedOf = (id: string) => getFeed(`/feeds/collection.atom?id=${encodeURIComponent(id)}`);

    const hidden = await feedOf(secret);
    expect(hidden.response.status).toBe(404);
    expect(hidden.body).not.toContain('2511.50002');
    expect((await feedOf(globalId('Collection', 999999))).response.status).toBe(404);

    expect((await feedOf(shown)).response.status).toBe(200);
    await ok(UPDATE, { id: shown, input: { isPublic: false } }, bob);
    expect((await feedOf(shown)).response.status).toBe(404);
  });
});

describe('the anonymous response cache', () => {
  it('never serves a private collection: an answer cached while public ends when it is made private', async () => {
    const { id } = (await ok(CREATE, { input: { name: 'Soon private', isPublic: true } }, ada)).createCollection;
    const READ = `query($id: ID!) { collection(id: $id) { name } }`;
    // Read twice anonymously: the second answer comes from the cache.
    expect((await ok(READ, { id })).collection).toEqual({ name: 'Soon private' });
    const statements = database.queries.length;
    expect((await ok(READ, { id })).collection).toEqual({ name: 'Soon private' });
    expect(database.queries.length).toBe(statements);
    await ok(UPDATE, { id, input: { isPublic: false } }, ada);
    expect((await ok(READ, { id })).collection).toBeNull();
    // The owner's signed-in answer is neither taken from nor put in the cache.
    expect((await ok(READ, { id }, ada)).collection).toEqual({ name: 'Soon private' });
    expect((await ok(READ, { id })).collection).toBeNull();
  });
});

describe('GET /feeds/personal.atom', () => {
  const CREATE_LINK = `mutation { createPersonalFeedLink { url token createdAt } }`;
  const REVOKE_LINK = `mutation { revokePersonalFeedLink }`;

  it('serves the recommendations by a private link, never cached, until the link is revoked', async () => {
    const link = (await ok(CREATE_LINK, {}, ada)).createPersonalFeedLink;
    expect(link.url).toBe(`${PUBLIC_URL}/feeds/personal.atom?token=${link.token}`);
    expect(link.token).toMatch(/^dpf_[\w-]{43}$/);
    // Only the token's hash is stored.
    const stored = await database.db.select().from(feedLinks);
    expect(JSON.stringify(stored)).not.toContain(link.token);
    expect((await ok(`{ viewer { personalFeedLinkCreatedAt } }`, {}, ada)).viewer.personalFeedLinkCreatedAt).toBe(NOW.toISOString());

    const path = new URL(link.url).pathname + new URL(link.url).search;
    const feed = await feedAt(path);
    expect(feed.cacheControl).toBe('private, no-store');
    const recommended = (await ok(`{ viewer { recommendedPapers(first: ${FEED_PAPERS}) { arxivId } } }`, {}, ada)).viewer.recommendedPapers;
    expect(arxivIdsOf(feed)).toEqual(recommended.map((paper: { arxivId: string }) => paper.arxivId));
    expect(feed.entry.length).toBeGreaterThan(0);
    // The token stays out of what a reader shows or shares.
    expect(feed.body).not.toContain(link.token);
    expect(feed.id).toBe(`${PUBLIC_URL}/feeds/personal.atom`);

    expect((await ok(REVOKE_LINK, {}, ada)).revokePersonalFeedLink).toBe(true);
    const revoked = await getFeed(path);
    expect(revoked.response.status).toBe(404);
    expect(revoked.response.headers.get('cache-control')).toBe('no-store');
    expect(revoked.body).not.toContain('<entry>');
    expect((await ok(REVOKE_LINK, {}, ada)).revokePersonalFeedLink).toBe(false);
    expect((await ok(`{ viewer { personalFeedLinkCreatedAt } }`, {}, ada)).viewer.personalFeedLinkCreatedAt).toBeNull();
  });

  it('refreshes a feed with nothing stored in the background, for the next poll', async () => {
    const { user, token } = await userWithToken(database.db, 'cyd');
    const link = (await ok(CREATE_LINK, {}, token)).createPersonalFeedLink;
    expect(await database.db.$count(recommendations, eq(recommendations.userId, user.id))).toBe(0);
    // Trending papers meanwhile.
    expect((await feedAt(`/feeds/personal.atom?token=${link.token}`)).entry.length).toBeGreaterThan(0);
    await testApp.idle();
    expect(await database.db.$count(recommendations, eq(recommendations.userId, user.id))).toBeGreaterThan(0);
  });

  it('has one live link per user: a new one revokes the old', async () => {
    const first = (await ok(CREATE_LINK, {}, bob)).createPersonalFeedLink;
    const second = (await ok(CREATE_LINK, {}, bob)).createPersonalFeedLink;
    expect(second.token).not.toBe(first.token);
    expect((await getFeed(`/feeds/personal.atom?token=${first.token}`)).response.status).toBe(404);
    expect((await getFeed(`/feeds/personal.atom?token=${second.token}`)).response.status).toBe(200);
    // Someone else's view of bob tells nothing.
    expect((await ok(`{ user(username: "bob") { personalFeedLinkCreatedAt } }`, {}, ada)).user.personalFeedLinkCreatedAt).toBeNull();
  });

  it('answers 404 to a missing or unknown token, and UNAUTHENTICATED to making a link anonymously', async () => {
    for (const path of ['/feeds/personal.atom', '/feeds/personal.atom?token=', '/feeds/personal.atom?token=dpf_nothing']) {
      expect((await getFeed(path)).response.status).toBe(404);
    }
    const response = await testApp.request(CREATE_LINK);
    expect(response.errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});

describe('GET /feeds/following.atom', () => {
  const CREATE_LINK = `mutation { createFollowingFeedLink { url token createdAt } }`;
  const REVOKE_LINK = `mutation { revokeFollowingFeedLink }`;

  it('serves the following feed by a private link, never cached, until the link is revoked; the personal link is another', async () => {
    const { token } = await userWithToken(database.db, 'follower');
    expect((await testApp.request(`mutation { follow(input: { keyword: "robotics" }) { id } }`, {}, token)).errors).toBeUndefined();
    const link = (await ok(CREATE_LINK, {}, token)).createFollowingFeedLink;
    expect(link.url).toBe(`${PUBLIC_URL}/feeds/following.atom?token=${link.token}`);
    expect(link.token).toMatch(/^dpf_[\w-]{43}$/);
    expect(JSON.stringify(await database.db.select().from(feedLinks))).not.toContain(link.token);
    expect((await ok(`{ viewer { followingFeedLinkCreatedAt personalFeedLinkCreatedAt } }`, {}, token)).viewer).toEqual({
      followingFeedLinkCreatedAt: NOW.toISOString(),
      personalFeedLinkCreatedAt: null,
    });
    // A personal-feed link of the same user does not open this feed, nor this link that one.
    const personal = (await ok(`mutation { createPersonalFeedLink { token } }`, {}, token)).createPersonalFeedLink;
    expect((await getFeed(`/feeds/following.atom?token=${personal.token}`)).response.status).toBe(404);
    expect((await getFeed(`/feeds/personal.atom?token=${link.token}`)).response.status).toBe(404);

    const path = `/feeds/following.atom?token=${link.token}`;
    const feed = await feedAt(path);
    expect(feed.cacheControl).toBe('private, no-store');
    const listed = (await ok(`{ viewer { followingFeed(first: ${FEED_PAPERS}) { edges { node { arxivId } } } } }`, {}, token)).viewer.followingFeed;
    expect(arxivIdsOf(feed)).toEqual(edgesOf(listed));
    // The odd half of the 60 papers is tagged robotics.
    expect(feed.entry).toHaveLength(30);
    expect(feed.title).toBe('Daily Papers: following');
    expect(feed.body).not.toContain(link.token);
    expect(feed.id).toBe(`${PUBLIC_URL}/feeds/following.atom`);

    // Someone else's view of the user tells nothing.
    expect((await ok(`{ user(username: "follower") { followingFeedLinkCreatedAt } }`, {}, ada)).user.followingFeedLinkCreatedAt).toBeNull();
    // A new link revokes the old one.
    const second = (await ok(CREATE_LINK, {}, token)).createFollowingFeedLink;
    expect((await getFeed(path)).response.status).toBe(404);
    expect((await getFeed(`/feeds/following.atom?token=${second.token}`)).response.status).toBe(200);

    expect((await ok(REVOKE_LINK, {}, token)).revokeFollowingFeedLink).toBe(true);
    const revoked = await getFeed(`/feeds/following.atom?token=${second.token}`);
    expect(revoked.response.status).toBe(404);
    expect(revoked.response.headers.get('cache-control')).toBe('no-store');
    expect(revoked.body).not.toContain('<entry>');
    expect((await ok(REVOKE_LINK, {}, token)).revokeFollowingFeedLink).toBe(false);
    expect((await ok(`{ viewer { followingFeedLinkCreatedAt } }`, {}, token)).viewer.followingFeedLinkCreatedAt).toBeNull();
    // The personal link lives on.
    expect((await getFeed(`/feeds/personal.atom?token=${personal.token}`)).response.status).toBe(200);
  });

  it('makes one live link when two are asked for at once (a double click): both answer, the later one opens the feed', async () => {
    const { user, token } = await userWithToken(database.db, 'double-clicker');
    await ok(CREATE_LINK, {}, token);
    // Hold the live link's row, so that both requests are inside their transaction, waiting on it, at once.
    const holder = postgres(database.url, { max: 1, onnotice: () => {} });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let held!: () => void;
    const holding = new Promise<void>((resolve) => {
      held = resolve;
    });
    const transaction = holder.begin(async (tx) => {
      await tx`select id from feed_links where user_id = ${user.id} and kind = 'FOLLOWING' and revoked_at is null for update`;
      held();
      await released;
    });
    try {
      await holding;
      const requests = [testApp.request(CREATE_LINK, {}, token), testApp.request(CREATE_LINK, {}, token)];
      // Until both wait on a lock (polled: no fixed wait).
      for (;;) {
        const [row] = await queryRows<{ waiting: number }>(
          database.db,
          sql`select count(*)::int as waiting from pg_stat_activity
            where datname = current_database() and wait_event_type = 'Lock'`,
        );
        if (row!.waiting >= 2) break;
        await new Promise((resolve) => setImmediate(resolve));
      }
      release();
      await transaction;
      const responses = await Promise.all(requests);
      expect(responses.map((response) => response.errors)).toEqual([undefined, undefined]);
      const statuses = await Promise.all(
        responses.map(async (response) => (await getFeed(`/feeds/following.atom?token=${response.data!.createFollowingFeedLink.token}`)).response.status),
      );
      expect([...statuses].sort()).toEqual([200, 404]);
      const live = (await database.db.select().from(feedLinks).where(eq(feedLinks.userId, user.id))).filter((link) => link.revokedAt === null);
      expect(live).toHaveLength(1);
    } finally {
      release();
      await transaction.catch(() => {});
      await holder.end();
    }
  });

  it('answers 404 to a missing or unknown token, 400 to another parameter, and UNAUTHENTICATED to making a link anonymously', async () => {
    for (const path of ['/feeds/following.atom', '/feeds/following.atom?token=', '/feeds/following.atom?token=dpf_nothing']) {
      expect((await getFeed(path)).response.status).toBe(404);
    }
    const { response, body } = await getFeed('/feeds/following.atom?token=a&user=ada');
    expect(response.status).toBe(400);
    expect(body).toBe('Unknown parameter "user": this feed takes token.\n');
    expect((await testApp.request(CREATE_LINK)).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
    expect((await testApp.request(REVOKE_LINK)).errors![0]!.extensions!.code).toBe('UNAUTHENTICATED');
  });
});
