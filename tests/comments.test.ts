import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { comments, papers } from '../src/db/schema';
import { paperRecord, savePaperRecords, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createRateLimiter } from '../src/rate-limit';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
/** Every request runs a second after the previous one, so comments have distinct times. */
let clock = Date.parse('2025-11-12T12:00:00Z');
let paperRowIds: number[];
let paperId: string;
let otherPaperId: string;
let token: string;

const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');
const rowIdOf = (id: string) => Number(Buffer.from(id, 'base64').toString().split(':')[1]);

const ADD = `mutation($paperId: ID!, $body: String!, $parentId: ID) {
  addComment(paperId: $paperId, body: $body, parentId: $parentId) {
    id body createdAt author { username } parent { id } paper { id commentCount }
  }
}`;

const THREAD = `query($id: ID!, $first: Int, $after: String) {
  node(id: $id) { ... on Paper {
    commentCount
    comments(first: $first, after: $after) {
      totalCount
      edges { node { body author { username } parent { id } replies(first: 2) { totalCount edges { node { body author { username } } } pageInfo { hasNextPage } } } }
      pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  } }
}`;

async function comment(body: string, options: { paper?: string; parentId?: string; token?: string } = {}) {
  const response = await testApp.request(ADD, { paperId: options.paper ?? paperId, body, parentId: options.parentId }, options.token ?? token);
  expect(response.errors).toBeUndefined();
  return response.data!.addComment as { id: string; body: string };
}

/** What is stored: the comment rows and each paper's commentCount. */
async function stored() {
  const counts = await database.db.select({ id: papers.id, commentCount: papers.commentCount }).from(papers).orderBy(papers.id);
  return { rows: await database.db.$count(comments), commentCounts: counts.map((paper) => paper.commentCount) };
}

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db, {
    clock: () => {
      clock += 1000;
      return new Date(clock);
    },
  });
});

beforeEach(async () => {
  await database.truncate();
  const saved = await savePaperRecords(database.db, [paperRecord({ commentCount: 3 }), paperRecord()]);
  paperRowIds = saved.paperIds;
  [paperId, otherPaperId] = paperRowIds.map((id) => globalId('Paper', id)) as [string, string];
  ({ token } = await userWithToken(database.db, 'ada'));
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

describe('addComment', () => {
  it('stores a top-level comment, trimmed, and counts it on the paper on top of the imported count', async () => {
    const response = await testApp.request(ADD, { paperId, body: '  Great results!\r\nBut\tsee table 2.  \n' }, token);
    expect(response.errors).toBeUndefined();
    const added = response.data!.addComment;
    expect(added).toMatchObject({
      body: 'Great results!\nBut\tsee table 2.',
      author: { username: 'ada' },
      parent: null,
      paper: { id: paperId, commentCount: 4 },
    });
    expect(rowIdOf(added.id)).toBeGreaterThan(0);
    expect(await stored()).toEqual({ rows: 1, commentCounts: [4, 0] });

    const fetched = await testApp.request(`query($id: ID!) { node(id: $id) { id ... on Comment { body author { username } } } }`, { id: added.id });
    expect(fetched.data!.node).toEqual({ id: added.id, body: added.body, author: { username: 'ada' } });
  });

  it('asks to sign in first and writes nothing', async () => {
    const response = await testApp.request(ADD, { paperId, body: 'Hello' });
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(await stored()).toEqual({ rows: 0, commentCounts: [3, 0] });
  });

  it.each([
    ['an empty body', '', /Invalid body: may not be blank/],
    ['a whitespace-only body', ' \n\t\u00a0\u2003 \r\n', /may not be blank/],
    ['10,001 characters', 'x'.repeat(10_001), /at most 10,000 characters, got 10,001/],
    ['10,001 characters after trimming', ` ${'é'.repeat(10_001)} `, /at most 10,000 characters/],
    ['a control character', 'ring the bell \u0007', /control characters/],
    ['an escape sequence', '\u001b[31mred\u001b[0m', /control characters/],
    ['a C1 control character', 'next line\u0085here', /control characters/],
    ['a lone surrogate', 'broken \ud800 text', /not valid Unicode/],
  ])('refuses %s with BAD_USER_INPUT and writes nothing', async (_case, body, message) => {
    const response = await testApp.request(ADD, { paperId, body }, token);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.message).toMatch(message);
    expect(response.errors![0]!.extensions).toMatchObject({ field: 'body' });
    expect(await stored()).toEqual({ rows: 0, commentCounts: [3, 0] });
  });

  it('accepts exactly 10,000 characters, counted as a person counts them (code points)', async () => {
    expect((await comment('x'.repeat(10_000))).body).toHaveLength(10_000);
    // 10,000 emoji are 20,000 UTF-16 units but 10,000 characters.
    expect([...(await comment('🧪'.repeat(10_000))).body]).toHaveLength(10_000);
    expect(await stored()).toEqual({ rows: 2, commentCounts: [5, 0] });
  });

  it('rejects a foreign or malformed paper ID as BAD_USER_INPUT and an unknown paper as NOT_FOUND', async () => {
    const { user } = await userWithToken(database.db, 'grace');
    const foreign = await testApp.request(ADD, { paperId: globalId('User', user.id), body: 'Hi' }, token);
    expect(errorCodes(foreign)).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await testApp.request(ADD, { paperId: 'garbage', body: 'Hi' }, token))).toEqual(['BAD_USER_INPUT']);
    const missing = await testApp.request(ADD, { paperId: globalId('Paper', 999_999), body: 'Hi' }, token);
    expect(errorCodes(missing)).toEqual(['NOT_FOUND']);
    expect(await stored()).toEqual({ rows: 0, commentCounts: [3, 0] });
  });

  it('takes a reply on the same paper, but not on another paper nor to an unknown comment', async () => {
    const parent = await comment('Top-level');
    const reply = await testApp.request(ADD, { paperId, body: 'A reply', parentId: parent.id }, token);
    expect(reply.errors).toBeUndefined();
    expect(reply.data!.addComment).toMatchObject({ body: 'A reply', parent: { id: parent.id }, paper: { commentCount: 5 } });
    expect(await stored()).toEqual({ rows: 2, commentCounts: [5, 0] });

    const elsewhere = await testApp.request(ADD, { paperId: otherPaperId, body: 'Wrong place', parentId: parent.id }, token);
    expect(errorCodes(elsewhere)).toEqual(['BAD_USER_INPUT']);
    expect(elsewhere.errors![0]!.message).toMatch(/another paper/);
    const unknown = await testApp.request(ADD, { paperId, body: 'To nobody', parentId: globalId('Comment', 999_999) }, token);
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
    const foreign = await testApp.request(ADD, { paperId, body: 'To a paper', parentId: paperId }, token);
    expect(errorCodes(foreign)).toEqual(['BAD_USER_INPUT']);
    // The count was bumped before the parent was checked: the rollback undid it.
    expect(await stored()).toEqual({ rows: 2, commentCounts: [5, 0] });
  });

  it('counts exactly under 20 concurrent comments on one paper', async () => {
    const people = await Promise.all(Array.from({ length: 20 }, (_, index) => userWithToken(database.db, `person${index}`)));
    const responses = await Promise.all(people.map((person, index) => testApp.request(ADD, { paperId, body: `Comment ${index}` }, person.token)));
    expect(responses.filter((response) => response.errors)).toEqual([]);
    expect(await stored()).toEqual({ rows: 20, commentCounts: [23, 0] });
    const [paper] = await database.db.select().from(papers).where(eq(papers.id, paperRowIds[0]!));
    expect(paper!.commentCount).toBe(paper!.commentBaseline + 20);
  });
});

describe('comment rate limit', () => {
  it('answers RATE_LIMITED with a retry-after past the limit, and stores nothing more', async () => {
    const limited = createTestApp(database.db, {
      clock: () => {
        clock += 1000;
        return new Date(clock);
      },
      limiters: { comments: createRateLimiter({ name: 'comments-test', points: 2, durationSeconds: 60, action: 'comments' }) },
    });
    try {
      for (const body of ['one', 'two']) {
        expect((await limited.request(ADD, { paperId, body }, token)).errors).toBeUndefined();
      }
      const refused = await limited.request(ADD, { paperId, body: 'three' }, token);
      expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
      expect(refused.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
      expect((await stored()).rows).toBe(2);
    } finally {
      await limited.close();
    }
  });
});

describe('Paper.comments and Comment.replies', () => {
  it('list top-level comments and replies oldest first, with cursors and counts', async () => {
    const grace = await userWithToken(database.db, 'grace');
    const first = await comment('First');
    const second = await comment('Second', { token: grace.token });
    await comment('Third');
    await comment('Reply 1', { parentId: first.id, token: grace.token });
    const reply2 = await comment('Reply 2', { parentId: first.id });
    await comment('Reply 3', { parentId: first.id });
    await comment('Nested reply', { parentId: reply2.id, token: grace.token });
    await comment('Elsewhere', { paper: otherPaperId });

    const page = await testApp.request(THREAD, { id: paperId, first: 2 });
    expect(page.errors).toBeUndefined();
    const paper = page.data!.node;
    expect(paper.commentCount).toBe(3 + 7);
    expect(paper.comments.totalCount).toBe(3);
    expect(paper.comments.edges.map((edge: any) => edge.node)).toEqual([
      {
        body: 'First',
        author: { username: 'ada' },
        parent: null,
        replies: {
          totalCount: 3,
          edges: [{ node: { body: 'Reply 1', author: { username: 'grace' } } }, { node: { body: 'Reply 2', author: { username: 'ada' } } }],
          pageInfo: { hasNextPage: true },
        },
      },
      { body: 'Second', author: { username: 'grace' }, parent: null, replies: { totalCount: 0, edges: [], pageInfo: { hasNextPage: false } } },
    ]);
    expect(paper.comments.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });

    const next = await testApp.request(THREAD, { id: paperId, first: 2, after: paper.comments.pageInfo.endCursor });
    expect(next.data!.node.comments.edges.map((edge: any) => edge.node.body)).toEqual(['Third']);
    expect(next.data!.node.comments.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });

    const nested = await testApp.request(
      `query($id: ID!) { node(id: $id) { ... on Comment { parent { body } replies { totalCount edges { node { body parent { id } } } } } } }`,
      { id: reply2.id },
    );
    expect(nested.data!.node).toEqual({
      parent: { body: 'First' },
      replies: { totalCount: 1, edges: [{ node: { body: 'Nested reply', parent: { id: reply2.id } } }] },
    });

    const backward = await testApp.request(
      `query($id: ID!) { node(id: $id) { ... on Paper { comments(last: 2) { edges { node { id body } } pageInfo { hasPreviousPage } } } } }`,
      { id: paperId },
    );
    expect(backward.data!.node.comments.edges.map((edge: any) => edge.node.body)).toEqual(['Second', 'Third']);
    expect(backward.data!.node.comments.edges[0].node.id).toBe(second.id);
    expect(backward.data!.node.comments.pageInfo).toEqual({ hasPreviousPage: true });
  });

  it('refuses a cursor of another list', async () => {
    const parent = await comment('Parent');
    await comment('Reply', { parentId: parent.id });
    const replies = await testApp.request(`query($id: ID!) { node(id: $id) { ... on Comment { replies { edges { cursor } } } } }`, { id: parent.id });
    const cursor = replies.data!.node.replies.edges[0].cursor;
    const misused = await testApp.request(THREAD, { id: paperId, after: cursor });
    expect(errorCodes(misused)).toEqual(['BAD_USER_INPUT']);
    expect(misused.errors![0]!.message).toMatch(/made for the REPLIES order, not COMMENTS/);
  });

  it('costs a fixed number of statements for a page of comments with authors and replies', async () => {
    const people = await Promise.all(Array.from({ length: 12 }, (_, index) => userWithToken(database.db, `person${index}`)));
    const statementsFor = async (first: number) => {
      database.queries.length = 0;
      const response = await testApp.request(THREAD, { id: paperId, first });
      expect(response.errors).toBeUndefined();
      expect(response.data!.node.comments.edges).toHaveLength(first);
      for (const { node } of response.data!.node.comments.edges) {
        expect(node.author.username).toMatch(/^person/);
        expect(node.replies.edges).toHaveLength(2);
        expect(node.replies.totalCount).toBe(3);
      }
      return [...database.queries];
    };
    const repliers = await Promise.all(['r1', 'r2', 'r3'].map((name) => userWithToken(database.db, name)));
    for (const [index, person] of people.entries()) {
      const parent = await comment(`Comment ${index}`, { token: person.token });
      for (const replier of repliers) await comment('A reply', { parentId: parent.id, token: replier.token });
    }
    const small = await statementsFor(2);
    const large = await statementsFor(12);
    // The paper, its comments and their count, the replies and their counts, the authors of each level.
    expect(large).toHaveLength(7);
    expect(small).toHaveLength(large.length);
    expect(large.filter((query) => /from "users"/.test(query))).toHaveLength(2);
    expect(large.filter((query) => /cross join lateral/.test(query))).toHaveLength(2);
  });

  it('lists the first comments of a whole page of papers in one statement', async () => {
    await comment('On the first paper');
    await comment('On the second paper', { paper: otherPaperId });
    database.queries.length = 0;
    const response = await testApp.request(
      `{ papers(first: 10, orderBy: PUBLISHED_AT) { edges { node { arxivId comments(first: 1) { totalCount edges { node { body } } } } } } }`,
    );
    expect(response.errors).toBeUndefined();
    const bodies = response.data!.papers.edges.flatMap((edge: any) => edge.node.comments.edges.map((e: any) => e.node.body));
    expect(bodies.sort()).toEqual(['On the first paper', 'On the second paper']);
    expect(database.queries.filter((query) => /from "comments"|lateral/.test(query))).toHaveLength(2);
  });
});
