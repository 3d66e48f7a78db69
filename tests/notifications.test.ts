import { and, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../jobs/registry';
import { loadConfig } from '../src/config';
import { authors, follows, notifications, papers, users } from '../src/db/schema';
import { createLogger } from '../src/logger';
import { TEST_PASSWORD_HASH_COST, paperRecord, savePaperRecords, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const NOW = new Date('2025-11-12T12:00:00Z');
const config = loadConfig({
  LOG_LEVEL: 'silent',
  PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
  MUTATION_RATE_LIMIT_PER_MINUTE: '1000000',
  COMMENT_RATE_LIMIT_PER_MINUTE: '1000000',
  // Never the real arXiv: the papers submitted here are known already.
  ARXIV_API_URL: 'http://127.0.0.1:9/api/query',
  RESPONSE_CACHE_TTL_SECONDS: '60',
});

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
const dependencies = () => ({ db: database.db, config, logger: createLogger('silent') });
const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');

const FOLLOW = `mutation($input: FollowInput!) { follow(input: $input) { id } }`;
const INBOX = `query($first: Int, $after: String, $unreadOnly: Boolean) { viewer { unreadNotificationCount
  notifications(first: $first, after: $after, unreadOnly: $unreadOnly) {
    totalCount
    edges { node { id kind readAt paper { arxivId } comment { body } claim { status } follow { id kind keyword author { name } } } }
    pageInfo { hasNextPage endCursor } } } }`;

async function ok(query: string, variables: Record<string, unknown>, token?: string) {
  const response = await testApp.request(query, variables, token);
  expect(response.errors).toBeUndefined();
  return response.data!;
}

const inboxOf = async (token: string, variables: Record<string, unknown> = {}) => (await ok(INBOX, { first: 50, ...variables }, token)).viewer;

async function notificationRows(paperId: number) {
  return database.db
    .select()
    .from(notifications)
    .where(and(eq(notifications.kind, 'NEW_PAPER'), eq(notifications.subjectId, paperId)));
}

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db, { config, clock: () => NOW });
});

afterAll(async () => {
  await testApp?.close();
  await database?.close();
});

describe('NEW_PAPER', () => {
  it('tells the followers of a submitted paper, naming the follow that matched, and never its submitter', async () => {
    const record = paperRecord({
      title: 'Sparse attention for lattice models',
      authors: [{ name: 'Notified Author' }],
      keywords: ['attention'],
      publishedAt: new Date(NOW.getTime() - 86_400_000),
      submittedAt: null,
    });
    await savePaperRecords(database.db, [record]);
    const [author] = await database.db.select().from(authors).where(eq(authors.name, 'Notified Author'));
    const ada = (await userWithToken(database.db, 'ada')).token;
    const bob = (await userWithToken(database.db, 'bob')).token;
    const carol = (await userWithToken(database.db, 'carol')).token;
    const dave = (await userWithToken(database.db, 'dave')).token;
    const adaFollow = (await ok(FOLLOW, { input: { authorId: globalId('Author', author!.id) } }, ada)).follow;
    await ok(FOLLOW, { input: { keyword: 'attention' } }, bob);
    await ok(FOLLOW, { input: { search: { query: 'lattice attention' } } }, bob);
    await ok(FOLLOW, { input: { keyword: 'attention' } }, carol);

    const submitted = await testApp.request(
      `mutation($input: SubmitPaperInput!) { submitPaper(input: $input) { id } }`,
      { input: { arxivId: record.arxivId } },
      carol,
    );
    expect(submitted.errors).toBeUndefined();
    await testApp.idle();

    const adaInbox = await inboxOf(ada);
    expect(adaInbox.unreadNotificationCount).toBe(1);
    expect(adaInbox.notifications.edges[0].node).toMatchObject({
      kind: 'NEW_PAPER',
      readAt: null,
      paper: { arxivId: record.arxivId },
      follow: { id: adaFollow.id, kind: 'AUTHOR', author: { name: 'Notified Author' } },
    });
    // Two of bob's follows match: one notification.
    expect((await inboxOf(bob)).notifications.totalCount).toBe(1);
    expect((await inboxOf(carol)).notifications.totalCount).toBe(0);
    expect((await inboxOf(dave)).notifications.totalCount).toBe(0);
  });

  it('is made once however often and however concurrently the job runs; withdrawn papers notify nobody', async () => {
    const [fresh, withdrawn] = [
      paperRecord({ title: 'Rerun paper', keywords: ['rerun-topic'] }),
      paperRecord({ title: 'Withdrawn paper', keywords: ['rerun-topic'], withdrawnAt: NOW }),
    ];
    await savePaperRecords(database.db, [fresh!, withdrawn!]);
    const [freshRow] = await database.db.select().from(papers).where(eq(papers.arxivId, fresh!.arxivId));
    const [withdrawnRow] = await database.db.select().from(papers).where(eq(papers.arxivId, withdrawn!.arxivId));
    const followers = await database.db
      .insert(users)
      .values(Array.from({ length: 40 }, (_, index) => ({ username: `rerun${index}` })))
      .returning({ id: users.id });
    await database.db
      .insert(follows)
      .values(followers.map((user) => ({ userId: user.id, kind: 'KEYWORD' as const, subjectKey: 'KEYWORD:rerun-topic', value: 'rerun-topic' })));

    const payload = { kind: 'NEW_PAPER', paperIds: [freshRow!.id, withdrawnRow!.id] };
    const results = await Promise.all([runJob('notify', payload, dependencies()), runJob('notify', payload, dependencies())]);
    // Between them the two runs made each notification once.
    expect((results as { made: number }[]).reduce((sum, result) => sum + result.made, 0)).toBe(40);
    await runJob('notify', payload, dependencies());
    const rows = await notificationRows(freshRow!.id);
    expect(rows).toHaveLength(40);
    expect(new Set(rows.map((row) => row.userId))).toEqual(new Set(followers.map((user) => user.id)));
    expect(await notificationRows(withdrawnRow!.id)).toHaveLength(0);
  });

  it('makes at most NOTIFICATION_FAN_OUT_LIMIT a run, and a saved search with a filter only when the filter holds', async () => {
    const [wide, filtered, other] = [
      paperRecord({ title: 'Wide fan-out', keywords: ['fan-topic'] }),
      paperRecord({ title: 'Migrating sparrows', keywords: ['ornithology'] }),
      paperRecord({ title: 'Migrating sparrows, part two', keywords: ['biology'] }),
    ];
    await savePaperRecords(database.db, [wide!, filtered!, other!]);
    const idOf = async (arxivId: string) => (await database.db.select().from(papers).where(eq(papers.arxivId, arxivId)))[0]!.id;
    const followers = await database.db
      .insert(users)
      .values(Array.from({ length: 15 }, (_, index) => ({ username: `fan${index}` })))
      .returning({ id: users.id });
    await database.db
      .insert(follows)
      .values(followers.map((user) => ({ userId: user.id, kind: 'KEYWORD' as const, subjectKey: 'KEYWORD:fan-topic', value: 'fan-topic' })));
    const limited = { ...dependencies(), config: { ...config, notificationFanOutLimit: 10 } };
    expect(await runJob('notify', { kind: 'NEW_PAPER', paperIds: [await idOf(wide!.arxivId)] }, limited)).toEqual({ made: 10, skipped: 5 });
    expect(await notificationRows(await idOf(wide!.arxivId))).toHaveLength(10);

    const { token } = await userWithToken(database.db, 'birder');
    await ok(FOLLOW, { input: { search: { query: 'migrating sparrows', filter: { keyword: 'ornithology' } } } }, token);
    await runJob('notify', { kind: 'NEW_PAPER', paperIds: [await idOf(filtered!.arxivId), await idOf(other!.arxivId)] }, dependencies());
    expect((await inboxOf(token)).notifications.edges.map((edge: any) => edge.node.paper.arxivId)).toEqual([filtered!.arxivId]);
  });
});

describe('the notify job', () => {
  it('refuses a malformed payload for good (UnrecoverableError), making nothing', async () => {
    const before = await database.db.$count(notifications);
    for (const payload of [
      { kind: 'NEW_PAPER', paperIds: [] },
      { kind: 'SOMETHING', paperId: 1 },
      { kind: 'COMMENT_REPLY', commentId: 1, extra: true },
    ]) {
      await expect(runJob('notify', payload, dependencies())).rejects.toMatchObject({ name: 'UnrecoverableError' });
    }
    expect(await database.db.$count(notifications)).toBe(before);
  });
});

describe('COMMENT_REPLY and CLAIM_DECIDED', () => {
  const COMMENT = `mutation($paper: ID!, $body: String!, $parent: ID) { addComment(paperId: $paper, body: $body, parentId: $parent) { id } }`;

  it("tells a comment's author of a reply by someone else, once, and not of their own replies", async () => {
    const record = paperRecord({ title: 'Discussed paper' });
    await savePaperRecords(database.db, [record]);
    const [paper] = await database.db.select().from(papers).where(eq(papers.arxivId, record.arxivId));
    const erin = (await userWithToken(database.db, 'erin')).token;
    const frank = (await userWithToken(database.db, 'frank')).token;
    const paperId = globalId('Paper', paper!.id);
    const top = (await ok(COMMENT, { paper: paperId, body: 'First!' }, erin)).addComment;
    await ok(COMMENT, { paper: paperId, body: 'Replying to myself', parent: top.id }, erin);
    const reply = (await ok(COMMENT, { paper: paperId, body: 'A reply from Frank', parent: top.id }, frank)).addComment;
    await testApp.idle();

    const inbox = await inboxOf(erin);
    expect(inbox.notifications.edges.map((edge: any) => edge.node)).toEqual([
      expect.objectContaining({ kind: 'COMMENT_REPLY', comment: { body: 'A reply from Frank' }, paper: { arxivId: record.arxivId } }),
    ]);
    expect((await inboxOf(frank)).notifications.totalCount).toBe(0);
    const replyId = Number(Buffer.from(reply.id, 'base64').toString().split(':')[1]);
    await Promise.all([
      runJob('notify', { kind: 'COMMENT_REPLY', commentId: replyId }, dependencies()),
      runJob('notify', { kind: 'COMMENT_REPLY', commentId: replyId }, dependencies()),
    ]);
    expect((await inboxOf(erin)).notifications.totalCount).toBe(1);
  });

  it('tells a claimant their claim was decided, but not an admin who decided their own', async () => {
    await savePaperRecords(database.db, [paperRecord({ authors: [{ name: 'Claimed Author' }, { name: 'Self Claimed' }] })]);
    const [claimed] = await database.db.select().from(authors).where(eq(authors.name, 'Claimed Author'));
    const [selfClaimed] = await database.db.select().from(authors).where(eq(authors.name, 'Self Claimed'));
    const gina = (await userWithToken(database.db, 'gina')).token;
    const admin = await userWithToken(database.db, 'admin');
    await database.db.update(users).set({ role: 'admin' }).where(eq(users.id, admin.user.id));
    const CLAIM = `mutation($author: ID!) { claimAuthorship(authorId: $author) { id } }`;
    const REJECT = `mutation($claim: ID!) { rejectAuthorshipClaim(claimId: $claim) { status } }`;
    const claim = (await ok(CLAIM, { author: globalId('Author', claimed!.id) }, gina)).claimAuthorship;
    expect((await ok(REJECT, { claim: claim.id }, admin.token)).rejectAuthorshipClaim.status).toBe('REJECTED');
    const own = (await ok(CLAIM, { author: globalId('Author', selfClaimed!.id) }, admin.token)).claimAuthorship;
    await ok(REJECT, { claim: own.id }, admin.token);
    await testApp.idle();
    const inbox = await inboxOf(gina);
    expect(inbox.notifications.edges.map((edge: any) => edge.node)).toEqual([
      expect.objectContaining({ kind: 'CLAIM_DECIDED', claim: { status: 'REJECTED' } }),
    ]);
    expect((await inboxOf(admin.token)).notifications.totalCount).toBe(0);
  });
});

describe('the inbox', () => {
  it('pages newest first, marks read by ID and all at once, counts the unread; unreadOnly leaves the read out', async () => {
    const { user, token } = await userWithToken(database.db, 'reader');
    const saved = await savePaperRecords(
      database.db,
      Array.from({ length: 5 }, (_, index) => paperRecord({ title: `Inbox paper ${index}` })),
    );
    // Made one after another: newest first means the last made first.
    for (const paperId of saved.paperIds) {
      await database.db
        .insert(notifications)
        .values({ userId: user.id, kind: 'NEW_PAPER', subjectId: paperId, paperId, createdAt: new Date(NOW.getTime() + paperId) });
    }
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: { edges: any[]; pageInfo: { hasNextPage: boolean; endCursor: string } } = (await inboxOf(token, { first: 2, after })).notifications;
      seen.push(...page.edges.map((edge: any) => edge.node.paper.arxivId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    const arxivIds = await Promise.all(
      [...saved.paperIds].reverse().map(async (id) => (await database.db.select().from(papers).where(eq(papers.id, id)))[0]!.arxivId),
    );
    expect(seen).toEqual(arxivIds);

    const inbox = await inboxOf(token);
    expect(inbox.unreadNotificationCount).toBe(5);
    const [first, second] = inbox.notifications.edges.map((edge: any) => edge.node.id);
    const MARK = `mutation($ids: [ID!]!) { markNotificationsRead(ids: $ids) }`;
    expect((await ok(MARK, { ids: [first, second] }, token)).markNotificationsRead).toBe(2);
    expect((await ok(MARK, { ids: [first] }, token)).markNotificationsRead).toBe(0);
    const after2 = await inboxOf(token, { unreadOnly: true });
    expect(after2.unreadNotificationCount).toBe(3);
    expect(after2.notifications.totalCount).toBe(3);
    expect(after2.notifications.edges.map((edge: any) => edge.node.id)).not.toContain(first);

    // Someone else's IDs change nothing, and their inbox is not theirs to read.
    const other = (await userWithToken(database.db, 'nosy')).token;
    const third = after2.notifications.edges[0].node.id;
    expect((await ok(MARK, { ids: [third] }, other)).markNotificationsRead).toBe(0);
    expect((await inboxOf(token)).unreadNotificationCount).toBe(3);
    for (const query of [
      `{ user(username: "reader") { unreadNotificationCount } }`,
      `{ user(username: "reader") { notifications(first: 5) { totalCount } } }`,
    ]) {
      expect(errorCodes(await testApp.request(query, {}, other))).toEqual(['FORBIDDEN']);
    }
    const anonymous = await testApp.request(INBOX, {}, undefined);
    expect(anonymous.errors).toBeUndefined();
    expect(anonymous.data!.viewer).toBeNull();
    expect(errorCodes(await testApp.request(MARK, { ids: ['nonsense'] }, token))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await testApp.request(`mutation { markAllNotificationsRead }`, {}, undefined))).toEqual(['UNAUTHENTICATED']);

    expect((await ok(`mutation { markAllNotificationsRead }`, {}, token)).markAllNotificationsRead).toBe(3);
    const read = await inboxOf(token);
    expect(read.unreadNotificationCount).toBe(0);
    expect(read.notifications.edges.every((edge: any) => edge.node.readAt === NOW.toISOString())).toBe(true);
  });
});
