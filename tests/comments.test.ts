import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authors, comments, paperAuthors, papers, users } from '../src/db/schema';
import { claimAuthorship, decideClaim } from '../src/modules/claims/claims';
import { paperRecord, rowCounts, savePaperRecords, trending, userWithToken } from './support/fixtures';
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

const THREAD_WITH_AUTHORSHIP = `query($id: ID!, $first: Int) {
  node(id: $id) { ... on Paper {
    comments(first: $first) {
      edges { node { isByPaperAuthor author { username } replies(first: 2) { totalCount edges { node { isByPaperAuthor author { username } } } } } }
    }
  } }
}`;

const EDIT = `mutation($id: ID!, $body: String!) { editComment(commentId: $id, body: $body) { id body editedAt createdAt } }`;
const DELETE = `mutation($id: ID!) {
  deleteComment(commentId: $id) { deletedCommentId placeholder { id body deletedAt author { username } replies { totalCount } } paper { id commentCount } }
}`;

/** Makes `userId` a verified author of the paper, as an approved claim does: a new author on the paper, claimed and approved. */
async function verifiedAuthor(userId: number, paperRowId: number) {
  const name = `Author of user ${userId}`;
  const [author] = await database.db.insert(authors).values({ name }).returning();
  const position = await database.db.$count(paperAuthors, eq(paperAuthors.paperId, paperRowId));
  await database.db.insert(paperAuthors).values({ paperId: paperRowId, position, authorId: author!.id, name });
  const [admin] = await database.db
    .insert(users)
    .values({ username: `admin${userId}`, role: 'admin' })
    .returning();
  const claim = await claimAuthorship(database.db, { authorId: author!.id, userId, at: new Date() });
  await decideClaim(database.db, trending, { claimId: claim.id, adminId: admin!.id, decision: 'approved', at: new Date() });
}

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
      const response = await testApp.request(THREAD_WITH_AUTHORSHIP, { id: paperId, first });
      expect(response.errors).toBeUndefined();
      expect(response.data!.node.comments.edges).toHaveLength(first);
      for (const { node } of response.data!.node.comments.edges) {
        expect(node.author.username).toMatch(/^person/);
        expect(node.isByPaperAuthor).toBe(['person0', 'person5'].includes(node.author.username));
        expect(node.replies.edges).toHaveLength(2);
        expect(node.replies.edges.map((edge: any) => edge.node.isByPaperAuthor)).toEqual([false, true]);
        expect(node.replies.totalCount).toBe(3);
      }
      return [...database.queries];
    };
    const repliers = await Promise.all(['r1', 'r2', 'r3'].map((name) => userWithToken(database.db, name)));
    // Some of them are verified authors of the paper, so isByPaperAuthor has both answers at each level.
    for (const person of [people[0]!, people[5]!, repliers[1]!]) await verifiedAuthor(person.user.id, paperRowIds[0]!);
    for (const [index, person] of people.entries()) {
      const parent = await comment(`Comment ${index}`, { token: person.token });
      for (const replier of repliers) await comment('A reply', { parentId: parent.id, token: replier.token });
    }
    const small = await statementsFor(2);
    const large = await statementsFor(12);
    // The paper, its comments, the replies and their counts, the authors and isByPaperAuthor of each level.
    expect(large).toHaveLength(8);
    expect(large.filter((query) => /from "paper_authors"/.test(query))).toHaveLength(2);
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

describe('editComment', () => {
  it("changes its author's comment and stamps editedAt; the same body again changes nothing", async () => {
    const posted = await comment('Frist');
    const edited = await testApp.request(EDIT, { id: posted.id, body: '  First, edited \r\n ' }, token);
    expect(edited.errors).toBeUndefined();
    expect(edited.data!.editComment).toMatchObject({ id: posted.id, body: 'First, edited' });
    const editedAt = edited.data!.editComment.editedAt;
    expect(Date.parse(editedAt)).toBeGreaterThan(Date.parse(edited.data!.editComment.createdAt));
    const same = await testApp.request(EDIT, { id: posted.id, body: 'First, edited' }, token);
    expect(same.data!.editComment.editedAt).toBe(editedAt);
    const [row] = await database.db
      .select()
      .from(comments)
      .where(eq(comments.id, rowIdOf(posted.id)));
    expect(row).toMatchObject({ body: 'First, edited', editedAt: new Date(editedAt) });
    // Listed with it.
    const listed = await testApp.request(`query($id: ID!) { node(id: $id) { ... on Paper { comments { edges { node { body editedAt } } } } } }`, {
      id: paperId,
    });
    expect(listed.data!.node.comments.edges).toEqual([{ node: { body: 'First, edited', editedAt } }]);
  });

  it('refuses anyone but the author, bad bodies and unknown comments, and changes nothing', async () => {
    const posted = await comment('Original');
    const grace = await userWithToken(database.db, 'grace');
    const cases: [string, Record<string, unknown>, string | undefined, string][] = [
      ['anonymous', { id: posted.id, body: 'Hijacked' }, undefined, 'UNAUTHENTICATED'],
      ['someone else', { id: posted.id, body: 'Hijacked' }, grace.token, 'FORBIDDEN'],
      ['blank body', { id: posted.id, body: '  \n ' }, token, 'BAD_USER_INPUT'],
      ['too long', { id: posted.id, body: 'x'.repeat(10_001) }, token, 'BAD_USER_INPUT'],
      ['control character', { id: posted.id, body: 'bad \u0007 bell' }, token, 'BAD_USER_INPUT'],
      ['unknown comment', { id: globalId('Comment', 999_999), body: 'Hello' }, token, 'NOT_FOUND'],
      ['a Paper ID', { id: paperId, body: 'Hello' }, token, 'BAD_USER_INPUT'],
    ];
    for (const [what, variables, as, code] of cases) {
      const response = await testApp.request(EDIT, variables, as);
      expect(errorCodes(response), what).toEqual([code]);
      expect(response.errors![0]!.message.length, what).toBeGreaterThan(10);
    }
    const [row] = await database.db
      .select()
      .from(comments)
      .where(eq(comments.id, rowIdOf(posted.id)));
    expect(row).toMatchObject({ body: 'Original', editedAt: null });
  });

  it('counts against the comment rate limit', async () => {
    const posted = await comment('Original');
    const limited = createTestApp(database.db, {
      limiters: { comments: createRateLimiter({ name: 'comments-edit-test', points: 1, durationSeconds: 60, action: 'comments' }) },
    });
    try {
      expect((await limited.request(EDIT, { id: posted.id, body: 'Once' }, token)).errors).toBeUndefined();
      expect(errorCodes(await limited.request(EDIT, { id: posted.id, body: 'Twice' }, token))).toEqual(['RATE_LIMITED']);
      expect(errorCodes(await limited.request(DELETE, { id: posted.id }, token))).toEqual(['RATE_LIMITED']);
      const [row] = await database.db
        .select()
        .from(comments)
        .where(eq(comments.id, rowIdOf(posted.id)));
      expect(row!.body).toBe('Once');
    } finally {
      await limited.close();
    }
  });
});

describe('deleteComment', () => {
  it('removes a comment without replies and uncounts it', async () => {
    const posted = await comment('Regrettable');
    const deleted = await testApp.request(DELETE, { id: posted.id }, token);
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data!.deleteComment).toEqual({ deletedCommentId: posted.id, placeholder: null, paper: { id: paperId, commentCount: 3 } });
    expect(await stored()).toEqual({ rows: 0, commentCounts: [3, 0] });
    expect((await testApp.request(`query($id: ID!) { node(id: $id) { id } }`, { id: posted.id })).data!.node).toBeNull();
    // Once gone, it is gone.
    expect(errorCodes(await testApp.request(DELETE, { id: posted.id }, token))).toEqual(['NOT_FOUND']);
  });

  it('keeps a comment with replies as a placeholder, and removes it with its last reply', async () => {
    const grace = await userWithToken(database.db, 'grace');
    const parent = await comment('Parent with secrets');
    const reply = await comment('A reply', { parentId: parent.id, token: grace.token });
    const deleted = await testApp.request(DELETE, { id: parent.id }, token);
    expect(deleted.errors).toBeUndefined();
    expect(deleted.data!.deleteComment).toMatchObject({
      deletedCommentId: parent.id,
      placeholder: { id: parent.id, body: '', author: { username: 'ada' }, replies: { totalCount: 1 } },
      paper: { commentCount: 3 + 1 },
    });
    expect(deleted.data!.deleteComment.placeholder.deletedAt).not.toBeNull();
    const thread = await testApp.request(THREAD, { id: paperId });
    expect(thread.data!.node.comments.edges.map((edge: any) => [edge.node.body, edge.node.replies.totalCount])).toEqual([['', 1]]);
    const [row] = await database.db
      .select()
      .from(comments)
      .where(eq(comments.id, rowIdOf(parent.id)));
    expect(row!.body).toBe('');

    // A placeholder can be neither edited, deleted again nor replied to.
    expect(errorCodes(await testApp.request(EDIT, { id: parent.id, body: 'Back' }, token))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await testApp.request(DELETE, { id: parent.id }, token))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await testApp.request(ADD, { paperId, body: 'Late reply', parentId: parent.id }, token))).toEqual(['BAD_USER_INPUT']);
    expect(await stored()).toEqual({ rows: 2, commentCounts: [3 + 1, 0] });

    // The last reply gone, the placeholder has nothing left to hold.
    const last = await testApp.request(DELETE, { id: reply.id }, grace.token);
    expect(last.data!.deleteComment).toMatchObject({ placeholder: null, paper: { commentCount: 3 } });
    expect(await stored()).toEqual({ rows: 0, commentCounts: [3, 0] });
  });

  it('refuses anyone but the author and writes nothing', async () => {
    const posted = await comment('Mine');
    const grace = await userWithToken(database.db, 'grace');
    expect(errorCodes(await testApp.request(DELETE, { id: posted.id }))).toEqual(['UNAUTHENTICATED']);
    expect(errorCodes(await testApp.request(DELETE, { id: posted.id }, grace.token))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await testApp.request(DELETE, { id: globalId('Comment', 999_999) }, token))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await testApp.request(DELETE, { id: 'not an id' }, token))).toEqual(['BAD_USER_INPUT']);
    expect(await stored()).toEqual({ rows: 1, commentCounts: [3 + 1, 0] });
    expect(await rowCounts(database.db, { comments })).toEqual({ comments: 1 });
  });

  it('keeps the count exact when a paper is imported again after a deletion', async () => {
    const grace = await userWithToken(database.db, 'grace');
    const parent = await comment('Parent');
    await comment('Reply', { parentId: parent.id, token: grace.token });
    await testApp.request(DELETE, { id: parent.id }, token);
    const [paper] = await database.db.select().from(papers).where(eq(papers.id, paperRowIds[0]!));
    await savePaperRecords(database.db, [paperRecord({ arxivId: paper!.arxivId, commentCount: 3 })]);
    expect((await stored()).commentCounts).toEqual([3 + 1, 0]);
  });
});

describe('Comment.isByPaperAuthor', () => {
  it('is true for a verified author of the paper only: not for a pending claim, nor on another paper', async () => {
    const grace = await userWithToken(database.db, 'grace');
    await verifiedAuthor(grace.user.id, paperRowIds[0]!);
    const [author] = await database.db.insert(authors).values({ name: 'Pending Person' }).returning();
    await database.db.insert(paperAuthors).values({ paperId: paperRowIds[0]!, position: 5, authorId: author!.id, name: 'Pending Person' });
    const { user: ada } = await database.db
      .select()
      .from(users)
      .where(eq(users.username, 'ada'))
      .then(([user]) => ({ user: user! }));
    await claimAuthorship(database.db, { authorId: author!.id, userId: ada.id, at: new Date() });

    const byGrace = await comment('I wrote this', { token: grace.token });
    const byAda = await comment('Pending claim');
    const elsewhere = await comment('Another paper', { paper: otherPaperId, token: grace.token });
    const flags = await testApp.request(`query($ids: [ID!]!) { nodes(ids: $ids) { ... on Comment { isByPaperAuthor } } }`, {
      ids: [byGrace.id, byAda.id, elsewhere.id],
    });
    expect(flags.data!.nodes).toEqual([{ isByPaperAuthor: true }, { isByPaperAuthor: false }, { isByPaperAuthor: false }]);
  });
});
