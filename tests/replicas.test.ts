import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { testRedisUrl } from './support/fixtures';
import { PROCESS_TEST_TIMEOUT_MS, postGraphQL, startServer, type ServerProcess } from './support/server-process';
import { dropDatabase, recreateDatabase, urlFor } from './support/test-database';

// Two API processes on one Postgres and one Redis, as replicas behind a load balancer run.

const prefix = `test-replicas-${randomUUID()}`;
const database = `${inject('templateDatabase')}_replicas_${process.pid}`;
const servers: ServerProcess[] = [];
const redis = new Redis(testRedisUrl);

afterAll(async () => {
  await Promise.all(servers.map((server) => server.stop()));
  await dropDatabase(database);
  const keys = await redis.keys(`${prefix}:*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});

/** Both cache anonymous answers for 10 minutes; lists of papers for a second. */
const environment = {
  DATABASE_URL: urlFor(database),
  REDIS_URL: testRedisUrl,
  REDIS_PREFIX: prefix,
  RESPONSE_CACHE_TTL_SECONDS: '600',
  RESPONSE_CACHE_LIST_MAX_AGE_SECONDS: '1',
};

const PAPER = `query($arxivId: String!) { paper(arxivId: $arxivId) { id upvotes viewerHasUpvoted } }`;
const TRENDING = `{ trendingPapers(first: 5) { edges { node { arxivId upvotes } } } }`;

async function signedIn(url: string, token: string, query: string, variables: Record<string, unknown> = {}) {
  const response = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({ query, variables }),
  });
  return (await response.json()) as { data?: any; errors?: unknown[] };
}

describe('two API processes', () => {
  it(
    'show a vote cast on one to anonymous readers of the other: the paper page once the change is heard, lists within their maximum age',
    async () => {
      await recreateDatabase(database, inject('templateDatabase'));
      // The first runs the worker and loads the demo data; the second is the API alone.
      const first = await startServer({ ...environment, DEMO_DATA: 'true', DEMO_PAPERS: '10' });
      servers.push(first);
      const second = await startServer(environment, undefined, ['api']);
      servers.push(second);

      const trending = await postGraphQL(second.url, TRENDING);
      const { arxivId, upvotes } = trending.body.data.trendingPapers.edges[4].node as { arxivId: string; upvotes: number };
      // Cached on the second: without an announcement heard, these answers would stay for 10 minutes (the paper page) or 1 s.
      expect((await postGraphQL(second.url, PAPER, { arxivId })).body.data.paper.upvotes).toBe(upvotes);
      const paperId = (await postGraphQL(second.url, PAPER, { arxivId })).body.data.paper.id as string;

      const signUp = await postGraphQL(
        first.url,
        `mutation { signUp(username: "replica_voter", email: "replica@example.org", password: "a password 1") { token } }`,
      );
      const token = signUp.body.data.signUp.token as string;
      const voted = await signedIn(first.url, token, `mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`, { id: paperId });
      expect(voted.data).toEqual({ upvotePaper: { upvotes: upvotes + 1 } });

      // The voter sees it at once, on either process.
      for (const server of [first, second]) {
        expect((await signedIn(server.url, token, PAPER, { arxivId })).data.paper).toMatchObject({ upvotes: upvotes + 1, viewerHasUpvoted: true });
      }
      // Anonymous readers of the second: the page once the announcement arrives through Redis, the list within its second.
      await expect
        .poll(async () => (await postGraphQL(second.url, PAPER, { arxivId })).body.data.paper.upvotes, { timeout: 15_000, interval: 50 })
        .toBe(upvotes + 1);
      const upvotesOnList = async () =>
        ((await postGraphQL(second.url, TRENDING)).body.data.trendingPapers.edges as { node: { arxivId: string; upvotes: number } }[]).find(
          (edge) => edge.node.arxivId === arxivId,
        )?.node.upvotes;
      await expect.poll(upvotesOnList, { timeout: 15_000, interval: 50 }).toBe(upvotes + 1);
      // Anonymous readers never get the voter's own field.
      expect((await postGraphQL(second.url, PAPER, { arxivId })).body.data.paper.viewerHasUpvoted).toBe(false);
    },
    PROCESS_TEST_TIMEOUT_MS,
  );
});
