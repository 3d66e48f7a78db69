import { randomUUID } from 'node:crypto';
import type { AppConfig, TrendingSettings } from '../../src/config';
import type { PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../../src/db/client';
import { upvotes, users } from '../../src/db/schema';
import { savePapers, type PaperRecord } from '../../src/modules/papers/save-papers';
import { recomputeKeysAndCounts } from '../../src/modules/trending/recompute';
import { loadConfig } from '../../src/config';
import { createSession } from '../../src/modules/accounts/sessions';

/**
 * log2 of scrypt's N for the tests' password hashes, and for the processes
 * they start: the lowest the config takes. The default (15) takes 32 MiB and
 * tens of milliseconds a hash; tests/accounts.test.ts checks that a change of
 * cost rehashes.
 */
export const TEST_PASSWORD_HASH_COST = 10;

/** The defaults, but a cheap password hash and no sign-in or comment limit to speak of: tests make hundreds. */
export const testConfig = loadConfig({
  LOG_LEVEL: 'silent',
  PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
  AUTH_RATE_LIMIT_PER_MINUTE: '100000',
  ACCOUNT_MAILS_PER_ADDRESS_PER_HOUR: '100000',
  SIGN_IN_FAILURES_PER_LOGIN_AND_ADDRESS: '100000',
  SIGN_IN_FAILURES_PER_LOGIN_PER_HOUR: '100000',
  COMMENT_RATE_LIMIT_PER_MINUTE: '100000',
  MUTATION_RATE_LIMIT_PER_MINUTE: '1000000',
  // Tests write fixtures straight to the database between requests; tests/response-cache.test.ts turns the cache on.
  RESPONSE_CACHE_TTL_SECONDS: '0',
  // Tests wait for the jobs a request set off (idle()); nothing to gain from waiting out a burst.
  RECOMMENDATIONS_REFRESH_DELAY_SECONDS: '0',
  // Never the real arXiv: a port nothing listens on (refused at once), unless a test starts its fake arXiv.
  ARXIV_API_URL: 'http://127.0.0.1:9/api/query',
});
export const trending: TrendingSettings = testConfig.trending;

/** The real Redis the tests share. */
export const testRedisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * testConfig with REDIS_URL, under a REDIS_PREFIX of its own: the test's jobs,
 * rate limits and announcements are apart from every other test's.
 */
export function redisTestConfig(name: string, redisUrl = testRedisUrl): AppConfig & { redisUrl: string } {
  return { ...testConfig, redisUrl, redisPrefix: `test-${name}-${randomUUID()}` };
}

let sequence = 0;

/** A plausible paper record; override what the test is about. */
export function paperRecord(overrides: Partial<PaperRecord> = {}): PaperRecord {
  sequence += 1;
  return {
    arxivId: `2511.${String(10000 + sequence).padStart(5, '0')}`,
    title: `Paper number ${sequence}`,
    abstract: `Abstract of paper ${sequence}.`,
    publishedAt: new Date('2025-11-10T00:00:00Z'),
    submittedAt: new Date('2025-11-12T08:00:00Z'),
    submittedBy: null,
    organization: null,
    authors: [{ name: `Author ${sequence}` }],
    keywords: [],
    upvoteBaseline: 0,
    commentCount: 0,
    ...overrides,
  };
}

export async function savePaperRecords(db: Database, records: PaperRecord[]) {
  return savePapers(db, trending, records);
}

const TOPICS = {
  diffusion: ['diffusion', 'denoising', 'latent', 'sampler', 'image', 'synthesis'],
  robotics: ['robot', 'grasping', 'manipulation', 'locomotion', 'embodied', 'dexterous'],
  reasoning: ['reasoning', 'arithmetic', 'verifier', 'chain', 'thought', 'deduction'],
} as const;

/**
 * `perTopic` (at most 6) papers per topic, each written from its topic's words
 * (a different pair in the title) with the topic's keyword, so papers of a
 * topic share words and the others none. Returns their ids by topic, in saving order.
 */
export async function saveTopicPapers(db: Database, perTopic: number): Promise<Record<keyof typeof TOPICS, number[]>> {
  const records = Object.values(TOPICS).flatMap((words) =>
    Array.from({ length: perTopic }, (_, index) =>
      paperRecord({
        title: `${words[index]} ${words[(index + 1) % words.length]} study`,
        abstract: `We study ${words.join(' ')} with ${words[index]} experiments.`,
        keywords: [words[0]],
      }),
    ),
  );
  const { paperIds } = await savePaperRecords(db, records);
  return {
    diffusion: paperIds.slice(0, perTopic),
    robotics: paperIds.slice(perTopic, 2 * perTopic),
    reasoning: paperIds.slice(2 * perTopic, 3 * perTopic),
  };
}

/**
 * Stores upvotes as rows and recomputes counts and trending keys, to what
 * the vote path would have left; creates the voters by username as needed.
 */
export async function castVotes(db: Database, votes: { username: string; paperId: number; at: Date }[]) {
  const usernames = [...new Set(votes.map((vote) => vote.username))];
  await db
    .insert(users)
    .values(usernames.map((username) => ({ username })))
    .onConflictDoNothing();
  const stored = await db.select({ id: users.id, username: users.username }).from(users);
  const idOf = new Map(stored.map((user) => [user.username, user.id]));
  await db.insert(upvotes).values(votes.map((vote) => ({ paperId: vote.paperId, userId: idOf.get(vote.username)!, createdAt: vote.at })));
  await recomputeKeysAndCounts(db, trending);
}

/** How many rows each of `tables` holds, by the names given: to show what a request wrote, or that it wrote nothing. */
export async function rowCounts<Tables extends Record<string, PgTable>>(db: Database, tables: Tables): Promise<Record<keyof Tables, number>> {
  const counts = await Promise.all(Object.values(tables).map((table) => db.$count(table)));
  return Object.fromEntries(Object.keys(tables).map((name, index) => [name, counts[index]])) as Record<keyof Tables, number>;
}

/** A user with a live session, as signUp leaves one (without the password hashing, for speed). */
export async function userWithToken(db: Database, username: string, now = new Date()) {
  const [user] = await db.insert(users).values({ username }).returning();
  const token = await createSession(db, user!.id, now, testConfig.sessionTtlDays);
  return { user: user!, token };
}
