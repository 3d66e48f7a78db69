import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authors, authorshipClaims, papers, users } from '../src/db/schema';
import { VERIFICATION_REPAIR_DELAY_MS } from '../src/modules/claims/claims';
import { recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { paperRecord, savePaperRecords, trending, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { expectedTrending } from './support/trending-oracle';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
let clock = Date.parse('2025-11-12T12:00:00Z');

interface Account {
  id: number;
  token: string;
}
let ada: Account;
let grace: Account;
let admin: Account;
/** Row ids: ada's two papers (the second with grace as a co-author) and a paper by someone else. */
let adaPaper: number;
let sharedPaper: number;
let otherPaper: number;
let adaAuthorId: string;
let graceAuthorId: string;

const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');

const CLAIM = `mutation($id: ID!) { claimAuthorship(authorId: $id) { id status createdAt decidedAt author { id name } user { username } } }`;
const APPROVE = `mutation($id: ID!) { approveAuthorshipClaim(claimId: $id) { id status decidedAt author { user { username } } } }`;
const REJECT = `mutation($id: ID!) { rejectAuthorshipClaim(claimId: $id) { id status decidedAt author { user { username } } } }`;
const PENDING = `query($first: Int, $after: String) {
  pendingAuthorshipClaims(first: $first, after: $after) {
    totalCount edges { node { id status author { name } user { username } } } pageInfo { hasNextPage endCursor }
  }
}`;
const UPVOTE = `mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`;

async function account(username: string, role: 'member' | 'admin' = 'member'): Promise<Account> {
  const { user, token } = await userWithToken(database.db, username);
  if (role === 'admin') await database.db.update(users).set({ role }).where(eq(users.id, user.id));
  return { id: user.id, token };
}

async function claim(authorId: string, who: Account): Promise<string> {
  const response = await testApp.request(CLAIM, { id: authorId }, who.token);
  expect(response.errors).toBeUndefined();
  return response.data!.claimAuthorship.id;
}

/** What the claims and verifications stored, to show that a failed call wrote nothing. */
async function stored() {
  const claims = await database.db.select().from(authorshipClaims).orderBy(authorshipClaims.id);
  const verified = await database.db.select({ name: authors.name, userId: authors.userId }).from(authors).orderBy(authors.name);
  return { claims: claims.map((row) => [row.authorId, row.userId, row.status, row.decidedAt]), verified };
}

async function keyOf(paperId: number) {
  const [paper] = await database.db.select().from(papers).where(eq(papers.id, paperId));
  return paper!.trendingKey;
}

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db, {
    clock: () => {
      clock += 60_000;
      return new Date(clock);
    },
  });
});

beforeEach(async () => {
  await testApp.idle();
  await database.truncate();
  const saved = await savePaperRecords(database.db, [
    paperRecord({ authors: [{ name: 'Ada Lovelace' }], upvoteBaseline: 2 }),
    paperRecord({ authors: [{ name: 'Grace Hopper' }, { name: 'Ada Lovelace', hidden: true }] }),
    paperRecord({ authors: [{ name: 'Someone Else' }] }),
  ]);
  [adaPaper, sharedPaper, otherPaper] = saved.paperIds as [number, number, number];
  const rows = await database.db.select().from(authors);
  const authorId = (name: string) => globalId('Author', rows.find((row) => row.name === name)!.id);
  adaAuthorId = authorId('Ada Lovelace');
  graceAuthorId = authorId('Grace Hopper');
  ada = await account('ada');
  grace = await account('grace');
  admin = await account('root', 'admin');
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

describe('claimAuthorship', () => {
  it('files a pending claim that the claimant can read back', async () => {
    const response = await testApp.request(CLAIM, { id: adaAuthorId }, ada.token);
    expect(response.errors).toBeUndefined();
    const filed = response.data!.claimAuthorship;
    expect(filed).toMatchObject({ status: 'PENDING', decidedAt: null, author: { id: adaAuthorId, name: 'Ada Lovelace' }, user: { username: 'ada' } });
    const mine = await testApp.request(`{ viewer { authorshipClaims { totalCount edges { node { id status } } } } }`, {}, ada.token);
    expect(mine.data!.viewer.authorshipClaims).toEqual({ totalCount: 1, edges: [{ node: { id: filed.id, status: 'PENDING' } }] });
    const author = await testApp.request(`query($id: ID!) { author(id: $id) { user { username } } }`, { id: adaAuthorId });
    expect(author.data!.author.user).toBeNull();
  });

  it('asks to sign in, refuses a foreign or malformed ID and answers NOT_FOUND for an unknown author', async () => {
    expect(errorCodes(await testApp.request(CLAIM, { id: adaAuthorId }))).toEqual(['UNAUTHENTICATED']);
    const foreign = await testApp.request(CLAIM, { id: globalId('Paper', adaPaper) }, ada.token);
    expect(errorCodes(foreign)).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await testApp.request(CLAIM, { id: 'nonsense' }, ada.token))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await testApp.request(CLAIM, { id: globalId('Author', 999_999) }, ada.token))).toEqual(['NOT_FOUND']);
    expect((await stored()).claims).toEqual([]);
  });

  it('refuses a second claim of the same author, even sent twice at once', async () => {
    const [first, second] = await Promise.all([
      testApp.request(CLAIM, { id: adaAuthorId }, ada.token),
      testApp.request(CLAIM, { id: adaAuthorId }, ada.token),
    ]);
    expect([...errorCodes(first), ...errorCodes(second)]).toEqual(['CONFLICT']);
    const again = await testApp.request(CLAIM, { id: adaAuthorId }, ada.token);
    expect(errorCodes(again)).toEqual(['CONFLICT']);
    expect(again.errors![0]!.message).toMatch(/already claimed this author \(that claim is pending\)/);
    expect((await stored()).claims).toHaveLength(1);
    // Another person may claim the same author meanwhile: the admin decides between them.
    await claim(adaAuthorId, grace);
    expect((await stored()).claims).toHaveLength(2);
  });

  it('refuses to claim an author already verified, for someone else or for oneself', async () => {
    await testApp.request(APPROVE, { id: await claim(adaAuthorId, ada) }, admin.token);
    const before = await stored();
    const other = await testApp.request(CLAIM, { id: adaAuthorId }, grace.token);
    expect(errorCodes(other)).toEqual(['CONFLICT']);
    expect(other.errors![0]!.message).toMatch(/already verified for another account/);
    const self = await testApp.request(CLAIM, { id: adaAuthorId }, ada.token);
    expect(errorCodes(self)).toEqual(['CONFLICT']);
    expect(await stored()).toEqual(before);
  });
});

describe('approveAuthorshipClaim and rejectAuthorshipClaim', () => {
  it('are for admins only: UNAUTHENTICATED when anonymous, FORBIDDEN for members, the claimant included', async () => {
    const claimId = await claim(adaAuthorId, ada);
    const before = await stored();
    for (const mutation of [APPROVE, REJECT]) {
      expect(errorCodes(await testApp.request(mutation, { id: claimId }))).toEqual(['UNAUTHENTICATED']);
      expect(errorCodes(await testApp.request(mutation, { id: claimId }, ada.token))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await testApp.request(mutation, { id: claimId }, grace.token))).toEqual(['FORBIDDEN']);
    }
    expect(await stored()).toEqual(before);
  });

  it('approval verifies the author for the claimant and rejects the other pending claims of that author', async () => {
    const adaClaim = await claim(adaAuthorId, ada);
    const graceClaim = await claim(adaAuthorId, grace);
    const graceOwnClaim = await claim(graceAuthorId, grace);
    const response = await testApp.request(APPROVE, { id: adaClaim }, admin.token);
    expect(response.errors).toBeUndefined();
    expect(response.data!.approveAuthorshipClaim).toMatchObject({ id: adaClaim, status: 'APPROVED', author: { user: { username: 'ada' } } });
    expect(Date.parse(response.data!.approveAuthorshipClaim.decidedAt)).toBeGreaterThan(Date.parse('2025-11-12T12:00:00Z'));

    const author = await testApp.request(`query($id: ID!) { author(id: $id) { name user { username } } }`, { id: adaAuthorId });
    expect(author.data!.author).toEqual({ name: 'Ada Lovelace', user: { username: 'ada' } });
    const graces = await testApp.request(`{ viewer { authorshipClaims { edges { node { id status decidedAt } } } } }`, {}, grace.token);
    expect(graces.data!.viewer.authorshipClaims.edges.map((edge: any) => edge.node)).toEqual([
      { id: graceOwnClaim, status: 'PENDING', decidedAt: null },
      { id: graceClaim, status: 'REJECTED', decidedAt: expect.any(String) },
    ]);
  });

  it('rejection leaves the author unverified; a rejected claim cannot be filed again', async () => {
    const claimId = await claim(adaAuthorId, ada);
    const response = await testApp.request(REJECT, { id: claimId }, admin.token);
    expect(response.errors).toBeUndefined();
    expect(response.data!.rejectAuthorshipClaim).toMatchObject({ id: claimId, status: 'REJECTED', author: { user: null } });
    const again = await testApp.request(CLAIM, { id: adaAuthorId }, ada.token);
    expect(errorCodes(again)).toEqual(['CONFLICT']);
    expect(again.errors![0]!.message).toMatch(/that claim is rejected/);
  });

  it('answers CONFLICT for a claim that is no longer pending, and changes nothing', async () => {
    const approved = await claim(adaAuthorId, ada);
    const rejected = await claim(graceAuthorId, grace);
    await testApp.request(APPROVE, { id: approved }, admin.token);
    await testApp.request(REJECT, { id: rejected }, admin.token);
    const before = await stored();
    for (const [mutation, id] of [
      [APPROVE, approved],
      [REJECT, approved],
      [APPROVE, rejected],
      [REJECT, rejected],
    ] as const) {
      const response = await testApp.request(mutation, { id }, admin.token);
      expect(errorCodes(response)).toEqual(['CONFLICT']);
      expect(response.errors![0]!.message).toMatch(/already (approved|rejected)/);
    }
    expect(await stored()).toEqual(before);
  });

  it('refuses to approve a claim on an author verified meanwhile by other means, and changes nothing', async () => {
    const claimId = await claim(adaAuthorId, ada);
    await claim(adaAuthorId, grace);
    await database.db.update(authors).set({ userId: admin.id }).where(eq(authors.name, 'Ada Lovelace'));
    const before = await stored();
    const response = await testApp.request(APPROVE, { id: claimId }, admin.token);
    expect(errorCodes(response)).toEqual(['CONFLICT']);
    expect(await stored()).toEqual(before);
  });

  it('approves only one of two claims on an author approved at the same moment', async () => {
    const claims = [await claim(adaAuthorId, ada), await claim(adaAuthorId, grace)];
    const other = await account('root2', 'admin');
    const responses = await Promise.all([
      testApp.request(APPROVE, { id: claims[0] }, admin.token),
      testApp.request(APPROVE, { id: claims[1] }, other.token),
    ]);
    expect(responses.flatMap(errorCodes)).toEqual(['CONFLICT']);
    const statuses = (await stored()).claims.map((row) => row[2]).sort();
    expect(statuses).toEqual(['approved', 'rejected']);
  });

  it('refuses a foreign ID and answers NOT_FOUND for an unknown claim', async () => {
    expect(errorCodes(await testApp.request(APPROVE, { id: adaAuthorId }, admin.token))).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await testApp.request(REJECT, { id: globalId('AuthorshipClaim', 999_999) }, admin.token))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await testApp.request(APPROVE, { id: globalId('AuthorshipClaim', 999_999) }, admin.token))).toEqual(['NOT_FOUND']);
  });
});

describe('trending after approval', () => {
  it("recomputes the keys of the author's papers without their earlier upvotes, hidden authorships included", async () => {
    const outsider = await account('outsider');
    for (const paperId of [adaPaper, sharedPaper, otherPaper]) {
      for (const voter of [ada, outsider]) await testApp.request(UPVOTE, { id: globalId('Paper', paperId) }, voter.token);
    }
    const keysBefore = await Promise.all([adaPaper, sharedPaper, otherPaper].map(keyOf));
    await testApp.request(APPROVE, { id: await claim(adaAuthorId, ada) }, admin.token);

    expect(await keyOf(adaPaper)).toBeLessThan(keysBefore[0]!);
    expect(await keyOf(sharedPaper)).toBeLessThan(keysBefore[1]!);
    // From the rows, only the outsider's votes weigh on her papers now; the stored keys agree.
    const expected = await expectedTrending(database.db, trending, [adaPaper, sharedPaper]);
    for (const paperId of [adaPaper, sharedPaper]) {
      expect(expected.get(paperId)!.weighingVoters).toEqual([outsider.id]);
      expect(Math.abs((await keyOf(paperId)) - expected.get(paperId)!.key)).toBeLessThan(1e-9);
    }
    // Not her paper: her vote still weighs.
    expect(await keyOf(otherPaper)).toBe(keysBefore[2]);
    expect(await recomputeKeysAndCounts(database.db, trending)).toEqual({ keyIds: [], countIds: [] });
    // The upvotes themselves still count.
    const counted = await testApp.request(`query($id: ID!) { node(id: $id) { ... on Paper { upvotes } } }`, { id: globalId('Paper', adaPaper) });
    expect(counted.data!.node.upvotes).toBe(2 + 2);
  });

  it('gives no weight to an upvote the verified author casts afterwards', async () => {
    await testApp.request(APPROVE, { id: await claim(adaAuthorId, ada) }, admin.token);
    const before = await keyOf(adaPaper);
    const response = await testApp.request(UPVOTE, { id: globalId('Paper', adaPaper) }, ada.token);
    expect(response.data!.upvotePaper.upvotes).toBe(3);
    expect(await keyOf(adaPaper)).toBe(before);
    expect(await recomputeKeysAndCounts(database.db, trending)).toEqual({ keyIds: [], countIds: [] });
    // A rejected claimant's vote still weighs.
    await testApp.request(REJECT, { id: await claim(graceAuthorId, grace) }, admin.token);
    await testApp.request(UPVOTE, { id: globalId('Paper', sharedPaper) }, grace.token);
    const expected = (await expectedTrending(database.db, trending, [sharedPaper])).get(sharedPaper)!;
    expect(expected.weighingVoters).toContain(grace.id);
    expect(Math.abs((await keyOf(sharedPaper)) - expected.key)).toBeLessThan(1e-9);
  });
});

describe('votes in flight at an approval', () => {
  it("asks for a recompute of each of the author's papers once they have landed", async () => {
    const enqueued: { name: string; payload: unknown; deduplicationId?: string; delayMs?: number }[] = [];
    const recording = createTestApp(database.db, {
      clock: () => new Date(clock),
      jobs: { enqueue: async (name, payload, options) => void enqueued.push({ name, payload, ...options }) },
    });
    try {
      const approved = await recording.request(APPROVE, { id: await claim(adaAuthorId, ada) }, admin.token);
      expect(approved.errors).toBeUndefined();
      // The claimant's CLAIM_DECIDED notification, then the recomputes.
      expect(enqueued.shift()).toMatchObject({ name: 'notify', payload: { kind: 'CLAIM_DECIDED' } });
      expect(enqueued.sort((a, b) => (a.payload as { paperId: number }).paperId - (b.payload as { paperId: number }).paperId)).toEqual(
        [adaPaper, sharedPaper]
          .sort((a, b) => a - b)
          .map((paperId) => ({
            name: 'refresh-paper-trending',
            payload: { paperId },
            deduplicationId: `paper:${paperId}`,
            delayMs: VERIFICATION_REPAIR_DELAY_MS,
          })),
      );
      // A rejection changes no weight: nothing to recompute.
      enqueued.length = 0;
      await recording.request(REJECT, { id: await claim(graceAuthorId, grace) }, admin.token);
      expect(enqueued.map((job) => job.name)).toEqual(['notify']);
    } finally {
      await recording.close();
    }
  });
});

describe('reading claims', () => {
  it('pendingAuthorshipClaims lists the queue oldest first, for admins only', async () => {
    const first = await claim(adaAuthorId, ada);
    const second = await claim(adaAuthorId, grace);
    const third = await claim(graceAuthorId, grace);
    const page = await testApp.request(PENDING, { first: 2 }, admin.token);
    expect(page.errors).toBeUndefined();
    expect(page.data!.pendingAuthorshipClaims.totalCount).toBe(3);
    expect(page.data!.pendingAuthorshipClaims.edges.map((edge: any) => edge.node.id)).toEqual([first, second]);
    const next = await testApp.request(PENDING, { first: 2, after: page.data!.pendingAuthorshipClaims.pageInfo.endCursor }, admin.token);
    expect(next.data!.pendingAuthorshipClaims.edges.map((edge: any) => edge.node)).toEqual([
      { id: third, status: 'PENDING', author: { name: 'Grace Hopper' }, user: { username: 'grace' } },
    ]);

    await testApp.request(APPROVE, { id: first }, admin.token);
    const after = await testApp.request(PENDING, {}, admin.token);
    expect(after.data!.pendingAuthorshipClaims.edges.map((edge: any) => edge.node.id)).toEqual([third]);
    expect(after.data!.pendingAuthorshipClaims.totalCount).toBe(1);

    expect(errorCodes(await testApp.request(PENDING, {}, ada.token))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await testApp.request(PENDING, {}))).toEqual(['UNAUTHENTICATED']);
  });

  it("shows a user's claims to that user and admins only, by field and by node ID", async () => {
    const claimId = await claim(adaAuthorId, ada);
    const CLAIMS_OF_ADA = `{ user(username: "ada") { authorshipClaims { totalCount } } }`;
    expect((await testApp.request(CLAIMS_OF_ADA, {}, ada.token)).data!.user.authorshipClaims.totalCount).toBe(1);
    expect((await testApp.request(CLAIMS_OF_ADA, {}, admin.token)).data!.user.authorshipClaims.totalCount).toBe(1);
    expect(errorCodes(await testApp.request(CLAIMS_OF_ADA, {}, grace.token))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await testApp.request(CLAIMS_OF_ADA))).toEqual(['UNAUTHENTICATED']);

    const NODE = `query($id: ID!) { node(id: $id) { id ... on AuthorshipClaim { status } } }`;
    expect((await testApp.request(NODE, { id: claimId }, ada.token)).data!.node).toEqual({ id: claimId, status: 'PENDING' });
    expect((await testApp.request(NODE, { id: claimId }, admin.token)).data!.node).toEqual({ id: claimId, status: 'PENDING' });
    expect((await testApp.request(NODE, { id: claimId }, grace.token)).data!.node).toBeNull();
    expect((await testApp.request(NODE, { id: claimId })).data!.node).toBeNull();
  });
});
