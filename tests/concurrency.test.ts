import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { papers, upvotes } from '../src/db/schema';
import { recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { paperRecord, savePaperRecords, trending, userWithToken } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
let server: Server;
let url: string;

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
  server = createServer(testApp.app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await testApp.close();
  await database.close();
});

function upvote(paperId: number, token: string) {
  return fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify({
      query: 'mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes viewerHasUpvoted } }',
      variables: { id: Buffer.from(`Paper:${paperId}`).toString('base64') },
    }),
  }).then((response) => response.json() as Promise<{ data?: any; errors?: unknown[] }>);
}

describe('concurrent upvotes over HTTP', () => {
  it('200 people at once plus double clicks: one row per person and an exact count', async () => {
    const { paperIds } = await savePaperRecords(database.db, [paperRecord({ upvoteBaseline: 7 }), paperRecord()]);
    const [crowded, doubleClicked] = paperIds as [number, number];
    const people = await Promise.all(Array.from({ length: 200 }, (_, index) => userWithToken(database.db, `person${index}`)));

    const responses = await Promise.all([
      ...people.map((person) => upvote(crowded, person.token)),
      // The first 50 also double-click the other paper: two identical requests at once.
      ...people.slice(0, 50).flatMap((person) => [upvote(doubleClicked, person.token), upvote(doubleClicked, person.token)]),
    ]);
    expect(responses.filter((response) => response.errors)).toEqual([]);
    expect(responses.every((response) => response.data.upvotePaper.viewerHasUpvoted)).toBe(true);

    const count = async (paperId: number) => {
      const [paper] = await database.db.select().from(papers).where(eq(papers.id, paperId));
      return { stored: paper!.upvoteCount, rows: await database.db.$count(upvotes, eq(upvotes.paperId, paperId)) };
    };
    expect(await count(crowded)).toEqual({ stored: 207, rows: 200 });
    expect(await count(doubleClicked)).toEqual({ stored: 50, rows: 50 });
    // Every concurrent update of the key landed: a recompute from the rows finds nothing to repair.
    expect(await recomputeKeysAndCounts(database.db, trending)).toEqual({ keyIds: [], countIds: [] });
  });
});
