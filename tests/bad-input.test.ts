import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/client';
import { paperRecord, savePaperRecords, testConfig } from './support/fixtures';
import { errorCodes, type graphqlClient } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let request: ReturnType<typeof graphqlClient>;
const paperId = Buffer.from('Paper:1').toString('base64');

beforeAll(async () => {
  database = await createTestDatabase();
  await savePaperRecords(database.db, [paperRecord({ arxivId: '2511.00001' }), paperRecord({ arxivId: '2511.00002' })]);
  request = createTestApp(database.db).request;
});

afterAll(async () => {
  await database.close();
});

/** Expects exactly one BAD_USER_INPUT error whose message matches `message`, and no data leak. */
async function expectBadInput(query: string, message: RegExp, variables?: Record<string, unknown>) {
  const response = await request(query, variables);
  expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
  expect(response.errors![0]!.message).toMatch(message);
  expect(response.errors![0]!.message).not.toMatch(/Unexpected error/);
}

describe('malformed IDs', () => {
  it.each([
    ['not base64 at all', '%%%'],
    ['base64 of garbage', Buffer.from('garbage').toString('base64')],
    ['a non-numeric id', Buffer.from('Paper:abc').toString('base64')],
    ['a zero id', Buffer.from('Paper:0').toString('base64')],
    ['an id beyond int4', Buffer.from('Paper:99999999999').toString('base64')],
    ['an empty string', ''],
  ])('rejects %s in node(id:)', async (_case, id) => {
    await expectBadInput(`query($id: ID!) { node(id: $id) { id } }`, /is not a valid ID/, { id });
  });

  it('rejects a malformed ID inside nodes(ids:) and in a filter', async () => {
    await expectBadInput(`{ nodes(ids: ["${paperId}", "nope"]) { id } }`, /is not a valid ID/);
    await expectBadInput(`{ papers(filter: { authorId: "nope" }) { totalCount } }`, /is not a valid ID/);
  });

  it('rejects the ID of another type where an Author ID is expected', async () => {
    await expectBadInput(`query($id: ID!) { author(id: $id) { name } }`, /is not of type: Author/, { id: paperId });
  });

  it('rejects more than 100 IDs in nodes', async () => {
    await expectBadInput(`query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, /at most 100/, {
      ids: Array.from({ length: 101 }, () => paperId),
    });
  });
});

describe('pagination arguments', () => {
  it.each([
    ['first above 100', '{ papers(first: 101) { totalCount } }', /`first` must be between 0 and 100/],
    ['negative first', '{ trendingPapers(first: -1) { totalCount } }', /`first` must be between 0 and 100/],
    ['last above 100', '{ papers(last: 1000) { totalCount } }', /`last` must be between 0 and 100/],
    [
      'first in the thousands, with fields to fill',
      '{ trendingPapers(first: 5000) { edges { node { title abstract authors { name } } } } }',
      /`first` must be between 0 and 100, got 5000/,
    ],
    ['both directions', '{ papers(first: 5, last: 5) { totalCount } }', /not both/],
    ['a cursor that is not ours', '{ papers(after: "bm9wZQ") { totalCount } }', /Invalid cursor/],
    ['a cursor of plain text', '{ papers(after: "hello world") { totalCount } }', /Invalid cursor/],
  ])('rejects %s', async (_case, query, message) => {
    await expectBadInput(query, message);
  });

  it.each([
    ['an integer key beyond int4', ['UPVOTES', 2 ** 40, 1], 'UPVOTES'],
    ['an id beyond int4', ['UPVOTES', 3, 2 ** 31], 'UPVOTES'],
    ['a float key that is a string', ['TRENDING', '1e3', 1], 'TRENDING'],
    ['a bare number as a time', ['PUBLISHED_AT', '1', 1], 'PUBLISHED_AT'],
    ['a bare year as a time', ['PUBLISHED_AT', '2025', 1], 'PUBLISHED_AT'],
    ['a time in prose', ['PUBLISHED_AT', 'March 7, 2025 10:00 PM GMT+0200', 1], 'PUBLISHED_AT'],
    ['a time before year 0', ['PUBLISHED_AT', '-271821-04-20T00:00:00.000Z', 1], 'PUBLISHED_AT'],
    ['a time in year 0000, which Postgres does not have', ['PUBLISHED_AT', '0000-01-01T00:00:00.000Z', 1], 'PUBLISHED_AT'],
  ])('rejects a forged cursor with %s', async (_case, payload, order) => {
    const after = Buffer.from(JSON.stringify(payload)).toString('base64url');
    await expectBadInput(`query($after: String) { papers(after: $after, orderBy: ${order}) { totalCount } }`, /Invalid cursor/, { after });
  });

  it('rejects a cursor made for another order, and a forged one', async () => {
    const page = await request(`{ papers(first: 1, orderBy: UPVOTES) { pageInfo { endCursor } } }`);
    const cursor = page.data!.papers.pageInfo.endCursor as string;
    await expectBadInput(`query($after: String) { papers(after: $after, orderBy: PUBLISHED_AT) { totalCount } }`, /UPVOTES order/, {
      after: cursor,
    });
    const forged = Buffer.from(JSON.stringify(['UPVOTES', '1; drop table papers', 1])).toString('base64url');
    await expectBadInput(`query($after: String) { papers(after: $after, orderBy: UPVOTES) { totalCount } }`, /Invalid cursor/, {
      after: forged,
    });
  });
});

describe('dailyPapers selectors', () => {
  it.each([
    ['no selector', '{ dailyPapers { totalCount } }', /exactly one of `date`/],
    ['two selectors', '{ dailyPapers(date: "2025-11-12", month: "2025-11") { totalCount } }', /got date and month/],
    ['an impossible date', '{ dailyPapers(date: "2025-02-30") { totalCount } }', /not a date as YYYY-MM-DD/],
    ['a date in another format', '{ dailyPapers(date: "12/11/2025") { totalCount } }', /not a date as YYYY-MM-DD/],
    ['a date that is not a string', '{ dailyPapers(date: 20251112) { totalCount } }', /YYYY-MM-DD/],
    ['week 54', '{ dailyPapers(week: "2025-W54") { totalCount } }', /not an ISO week/],
    ['week 53 of a 52-week year', '{ dailyPapers(week: "2025-W53") { totalCount } }', /not an ISO week/],
    ['week 0', '{ dailyPapers(week: "2025-W00") { totalCount } }', /not an ISO week/],
    ['a week without W', '{ dailyPapers(week: "2025-46") { totalCount } }', /not an ISO week/],
    ['month 13', '{ dailyPapers(month: "2025-13") { totalCount } }', /not a month/],
    ['the last day the calendar holds', '{ dailyPapers(date: "9999-12-31") { totalCount } }', /out of range/],
    ['the last month the calendar holds', '{ dailyPapers(month: "9999-12") { totalCount } }', /not a month/],
    ['the last week the calendar holds', '{ dailyPapers(week: "9999-W52") { totalCount } }', /not an ISO week/],
    ['a month with a day', '{ dailyPapers(month: "2025-11-01") { totalCount } }', /not a month/],
  ])('rejects %s', async (_case, query, message) => {
    await expectBadInput(query, message);
  });

  it('accepts week 53 of a year that has one', async () => {
    const response = await request('{ dailyPapers(week: "2020-W53") { totalCount } }');
    expect(response.errors).toBeUndefined();
    expect(response.data!.dailyPapers.totalCount).toBe(0);
  });

  it('rejects a malformed date passed as a variable too', async () => {
    await expectBadInput('query($date: Date) { dailyPapers(date: $date) { totalCount } }', /not a date as YYYY-MM-DD/, {
      date: '2025-13-01',
    });
  });
});

describe('NUL characters, which Postgres text cannot hold', () => {
  it.each([
    ['in a variable', 'query($name: String!) { organization(name: $name) { name } }', { name: 'OP\u0000PO' }],
    ['in a literal', '{ user(username: "ada\\u0000") { username } }', undefined],
    ['in a literal with a braced escape', '{ organization(name: "a\\u{0}b") { name } }', undefined],
    ['in a filter', 'query($k: String) { papers(filter: { keyword: $k }) { totalCount } }', { k: '\u0000' }],
  ])('are rejected %s', async (_case, query, variables) => {
    await expectBadInput(query, /NUL character/, variables);
    // Again: the parsed document is reused, and so is what was found in its literals.
    await expectBadInput(query, /NUL character/, variables);
  });

  it('in a variable, after the same document without one was served', async () => {
    const query = 'query($name: String!) { organization(name: $name) { name } }';
    expect((await request(query, { name: 'plain' })).errors).toBeUndefined();
    await expectBadInput(query, /NUL character/, { name: 'x\u0000' });
  });

  it('while the six characters "\\u0000" are just text', async () => {
    const response = await request('query($name: String!) { organization(name: $name) { name } }', { name: 'a\\u0000b' });
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({ organization: null });
  });
});

describe('filters', () => {
  it.each([
    ['without a time zone', '2025-11-12T10:00:00', /time zone/],
    ['on 30 February', '2025-02-30T00:00:00Z', /not an ISO-8601 date-time/],
    ['at 24:00', '2025-01-01T24:00:00Z', /not an ISO-8601 date-time/],
    ['in year 0', '0000-01-01T00:00:00Z', /out of range/],
    ['that lands in year 10000', '9999-12-31T23:59:59-23:59', /out of range/],
  ])('rejects a date-time %s', async (_case, value, message) => {
    await expectBadInput('query($t: DateTime) { papers(filter: { publishedAfter: $t }) { totalCount } }', message, { t: value });
  });
});

describe('refusals of the request itself', () => {
  const nested = (levels: number) => `{ ${'paper(arxivId: "x") { similarPapers { '.repeat(levels)}id${' } }'.repeat(levels)} }`;
  it.each([
    ['a syntax error', '{ papers { totalCount }', undefined, 'GRAPHQL_PARSE_FAILED', /Syntax Error: Expected Name/],
    ['an unknown field', '{ nope }', undefined, 'GRAPHQL_VALIDATION_FAILED', /Cannot query field "nope"/],
    ['a subscription, which this API has none of', 'subscription { __typename }', undefined, 'GRAPHQL_VALIDATION_FAILED', /no subscription operations/],
    [
      'a variable of the wrong type',
      'query($n: Int) { papers(first: $n) { totalCount } }',
      { n: 'ten' },
      'VARIABLES_INVALID',
      /Variable "\$n" got invalid value/,
    ],
    ['a missing required variable', 'query($id: ID!) { node(id: $id) { id } }', {}, 'VARIABLES_INVALID', /Variable "\$id" of required type/],
    ['too deep a query', nested(7), undefined, 'DEPTH_LIMIT', /^Query depth limit of 12 exceeded, found \d+\.$/],
    [
      'too many aliases',
      `{ ${Array.from({ length: 31 }, (_, index) => `a${index}: paper(arxivId: "x") { id }`).join(' ')} }`,
      undefined,
      'ALIAS_LIMIT',
      /^Aliases limit of 30 exceeded, found 31\.$/,
    ],
    [
      'too many directives',
      `{ __typename ${'@include(if: true) '.repeat(11)}}`,
      undefined,
      'DIRECTIVE_LIMIT',
      /^Directives limit of 10 exceeded, found 11\.$/,
    ],
    ['too many tokens', `{ ${'__typename '.repeat(3_000)}}`, undefined, 'TOKEN_LIMIT', /^Token limit of 3000 exceeded\.$/],
    [
      'too costly a query',
      `{ ${Array.from({ length: 3 }, (_, index) => `a${index}: papers(first: 100) { edges { node { upvoters(first: 100) { totalCount } } } }`).join(' ')} }`,
      undefined,
      'COST_LIMIT',
      /^Query cost limit of 25000 exceeded/,
    ],
  ])('are BAD_USER_INPUT with a reason: %s', async (_case, query, variables, reason, message) => {
    const response = await request(query, variables);
    expect(response.data ?? null).toBeNull();
    expect(response.errors!.length).toBeGreaterThan(0);
    for (const error of response.errors!) expect(error.extensions!.code).toBe('BAD_USER_INPUT');
    expect(response.errors!.map((error) => error.extensions!.reason)).toContain(reason);
    expect(response.errors!.find((error) => error.extensions!.reason === reason)!.message).toMatch(message);
  });

  it('refuses variables nested 5,000 deep before anything walks them, response cache on', async () => {
    const caching = createTestApp(database.db, { config: { ...testConfig, responseCache: { ...testConfig.responseCache, ttlMs: 60_000 } } });
    try {
      const deep = `${'{"a":'.repeat(5_000)}1${'}'.repeat(5_000)}`;
      const response = await caching.app.fetch(
        new Request('http://test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json' },
          body: `{"query":"query($filter: PaperFilter) { papers(filter: $filter) { totalCount } }","variables":{"filter":${deep}}}`,
        }),
      );
      expect(response.status).toBe(400);
      const body = (await response.json()) as { errors: { message: string; extensions: Record<string, unknown> }[] };
      expect(body.errors).toEqual([
        { message: 'Variables may nest at most 20 levels deep.', extensions: { code: 'BAD_USER_INPUT', reason: 'VARIABLES_TOO_DEEP' } },
      ]);
      // Nesting the schema's inputs need is served.
      const filtered = await caching.request('query($filter: PaperFilter) { papers(filter: $filter) { totalCount } }', {
        filter: { keyword: 'graphs' },
      });
      expect(filtered.errors).toBeUndefined();
    } finally {
      await caching.close();
    }
  });
});

describe('error masking', () => {
  it('masks a server failure as "Unexpected error." without leaking its details', async () => {
    const broken = openDatabase({ url: database.url, dataDir: '' });
    await broken.close();
    const brokenRequest = createTestApp(broken.db).request;
    const response = await brokenRequest('{ paper(arxivId: "2511.00001") { title } }');
    expect(response.errors).toHaveLength(1);
    expect(response.errors![0]!.message).toBe('Unexpected error.');
    expect(JSON.stringify(response.errors)).not.toMatch(/CONNECTION|ended|postgres/i);
  });
});
