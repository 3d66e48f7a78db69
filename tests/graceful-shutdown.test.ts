import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { openDatabase, type DatabaseHandle } from '../src/db/client';
import { papers, upvotes } from '../src/db/schema';
import { paperRecord, savePaperRecords, userWithToken } from './support/fixtures';
import { PROCESS_TEST_TIMEOUT_MS, startServer } from './support/server-process';
import { dropDatabase, recreateDatabase, urlFor } from './support/test-database';

let name: string;
let handle: DatabaseHandle;

beforeAll(async () => {
  name = `${inject('templateDatabase')}_shutdown`;
  await recreateDatabase(name, inject('templateDatabase'));
  handle = openDatabase({ url: urlFor(name), dataDir: '' });
});

afterAll(async () => {
  await handle.close();
  await dropDatabase(name);
});

describe('SIGTERM', () => {
  it('finishes the requests in flight, loses no accepted upvote, and exits 0', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
    const { paperIds } = await savePaperRecords(handle.db, [paperRecord()]);
    const paperId = Buffer.from(`Paper:${paperIds[0]}`).toString('base64');
    // Sessions written straight to the database: no password is hashed.
    const voters = await Promise.all(Array.from({ length: 60 }, (_, index) => userWithToken(handle.db, `voter${index}`)));
    const server = await startServer({ DATABASE_URL: urlFor(name), DEMO_DATA: 'false' });

    let firstAccepted!: () => void;
    const someAccepted = new Promise<void>((resolve) => (firstAccepted = resolve));
    const votes = voters.map((voter) =>
      fetch(`${server.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${voter.token}` },
        body: JSON.stringify({ query: 'mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }', variables: { id: paperId } }),
      })
        .then(async (response) => ((await response.json()) as { errors?: unknown }).errors === undefined)
        .catch(() => false)
        .then((accepted) => {
          if (accepted) firstAccepted();
          return accepted;
        }),
    );
    // Stop once the server has answered a vote, while the others are on their way.
    await Promise.race([someAccepted, Promise.all(votes)]);
    server.process.kill('SIGTERM');
    const accepted = (await Promise.all(votes)).filter(Boolean).length;
    const code = await server.exited;

    expect(code).toBe(0);
    expect(accepted).toBeGreaterThan(0);
    const [paper] = await handle.db.select().from(papers).where(eq(papers.id, paperIds[0]!));
    // Every vote the server answered is stored, and counted; none half-written.
    expect(await handle.db.$count(upvotes)).toBeGreaterThanOrEqual(accepted);
    expect(paper!.upvoteCount).toBe(await handle.db.$count(upvotes));
    expect(server.output).toContain('shutting down');
  });
});
