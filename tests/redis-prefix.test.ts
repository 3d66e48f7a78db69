import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connectRedis, type RedisPurpose } from '../src/redis';
import { testRedisUrl } from './support/fixtures';
import { postGraphQL, startServer, type ServerProcess } from './support/server-process';
import { dropDatabase, recreateDatabase, urlFor } from './support/test-database';

// Two deployments on one Redis, told apart by REDIS_PREFIX alone.

const run = `test-prefix-${randomUUID()}`;
const servers: ServerProcess[] = [];
const databases: string[] = [];
const redis = new Redis(testRedisUrl);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  for (const name of databases) await dropDatabase(name);
  const keys = await redis.keys(`${run}-*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** `npm start` (API and worker) on a database of its own, the demo data loaded: the same users and ids in each. */
async function deployment(name: string): Promise<ServerProcess & { prefix: string }> {
  const database = `${inject('templateDatabase')}_${name}`;
  await recreateDatabase(database, inject('templateDatabase'));
  databases.push(database);
  const prefix = `${run}-${name}`;
  const server = await startServer({
    DATABASE_URL: urlFor(database),
    REDIS_URL: testRedisUrl,
    REDIS_PREFIX: prefix,
    DEMO_DATA: 'true',
    DEMO_PAPERS: '10',
    PASSWORD_HASH_COST: '10',
    VOTE_RATE_LIMIT_PER_MINUTE: '2',
  });
  servers.push(server);
  return { ...server, prefix };
}

const SIGN_UP = `mutation($username: String!) { signUp(username: $username, email: "x@example.org", password: "a password 1") { token user { id } } }`;
const UPVOTE = `mutation($id: ID!) { upvotePaper(paperId: $id) { id } }`;
const PAPERS = `{ trendingPapers(first: 3) { edges { node { id } } } }`;

async function authorized(url: string, token: string, query: string, variables: Record<string, unknown>) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: { extensions?: { code?: string } }[] };
}

describe('REDIS_PREFIX', () => {
  it('keeps two deployments on one Redis apart: jobs, rate limits and announcements', async () => {
    const announcements = new Redis(testRedisUrl);
    const heard: string[] = [];
    announcements.on('pmessage', (_pattern, channel: string) => heard.push(channel));
    await announcements.psubscribe(`${run}-*`);
    try {
      const [a, b] = await Promise.all([deployment('a'), deployment('b')]);

      // The same numeric user id in both: the rate-limit keys of one would be the other's without the prefix.
      const alice = (await postGraphQL(a.url, SIGN_UP, { username: 'alice_prefix' })).body.data.signUp;
      const bob = (await postGraphQL(b.url, SIGN_UP, { username: 'bob_prefix' })).body.data.signUp;
      expect(alice.user.id).toBe(bob.user.id);
      const papersOf = async (url: string) =>
        (await postGraphQL(url, PAPERS)).body.data.trendingPapers.edges.map((edge: { node: { id: string } }) => edge.node.id);
      const [papersA, papersB] = [await papersOf(a.url), await papersOf(b.url)];

      for (const id of papersA.slice(0, 2)) expect((await authorized(a.url, alice.token, UPVOTE, { id })).errors).toBeUndefined();
      const refused = await authorized(a.url, alice.token, UPVOTE, { id: papersA[2] });
      expect(refused.errors?.map((error) => error.extensions?.code)).toEqual(['RATE_LIMITED']);
      // Alice used up her allowance in A; Bob, with her id in B, has all of his.
      expect((await authorized(b.url, bob.token, UPVOTE, { id: papersB[0] })).errors).toBeUndefined();

      // Every announcement goes out on its deployment's own channel.
      await expect.poll(() => new Set(heard)).toEqual(new Set([`${a.prefix}:public-data-changed`, `${b.prefix}:public-data-changed`]));
      // The job queue (the worker's schedulers) and the rate-limit counters live under each prefix.
      for (const { prefix } of [a, b]) {
        expect(await redis.keys(`${prefix}:papers:repeat*`)).not.toEqual([]);
        expect(await redis.keys(`${prefix}:rate-limit:votes:*`)).not.toEqual([]);
      }
    } finally {
      announcements.disconnect();
    }
  }, 120_000);

  it('names each connection after its deployment and purpose; only the rate-limit one adds the prefix to keys', async () => {
    const prefix = `${run}-connections`;
    const purposes: RedisPurpose[] = ['jobs-producer', 'jobs-worker', 'rate-limits', 'cache-announcements', 'cache-invalidation'];
    const connections = purposes.map((purpose) => connectRedis({ redisUrl: testRedisUrl, redisPrefix: prefix }, purpose));
    try {
      await Promise.all(connections.map((connection) => (connection.status === 'ready' ? undefined : once(connection, 'ready'))));
      const clients = (await redis.client('LIST')) as string;
      const names = [...clients.matchAll(/ name=(\S+)/g)].map((match) => match[1]).filter((name) => name!.startsWith(`${prefix}:`));
      expect(names.sort()).toEqual(purposes.map((purpose) => `${prefix}:${purpose}`).sort());

      const [producer, , rateLimits] = connections;
      await rateLimits!.set('probe', '1');
      expect(await redis.get(`${prefix}:probe`)).toBe('1');
      // BullMQ refuses an ioredis keyPrefix: it is given REDIS_PREFIX as its own prefix.
      await producer!.set(`${prefix}:as-written`, '1');
      expect(await redis.get(`${prefix}:as-written`)).toBe('1');
    } finally {
      for (const connection of connections) connection.disconnect();
    }
  });
});
