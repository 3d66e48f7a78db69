import { encodeGlobalID } from '@pothos/plugin-relay';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createPublicDataChanges, type PublicDataChanges } from '../src/cache/public-data-changes';
import { loadConfig } from '../src/config';
import { openDatabase, type DatabaseHandle } from '../src/db/client';
import { createLogger } from '../src/logger';
import { AnswerStore, type AnswerRequest } from '../src/graphql/response-cache';
import { TEST_PASSWORD_HASH_COST, paperRecord, savePaperRecords, userWithToken } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

// Short answers (lists of papers) that readers are reading are computed again in the background when a vote
// touches them or when they are half their maximum age old, so readers keep getting stored bytes.

const settings = { ttlMs: 60_000, listMaxAgeMs: 1_000, maxEntries: 100, maxBytes: 1_000_000, maxEntryBytes: 100_000 };
const TRENDING_REQUEST: AnswerRequest = { query: '{ trendingPapers { edges { node { id } } } }', operationName: null, variables: {} };
const paperEntity = (id: number) => ({ typename: 'Paper', id: encodeGlobalID('Paper', id) });

describe('the answer store computes read lists again in the background', () => {
  let changes: PublicDataChanges;
  let now: number;
  let store: AnswerStore;
  /** The requests the store asked to compute again, and how to finish the one running. */
  let refreshed: AnswerRequest[];
  let finishRefresh: () => void;
  let finishers: (() => void)[];

  beforeEach(() => {
    vi.useFakeTimers();
    changes = createPublicDataChanges({ redisUrl: undefined, redisPrefix: 'test' }, createLogger('silent'));
    now = 1_000_000;
    store = new AnswerStore(settings, changes, () => now);
    refreshed = [];
    finishers = [];
    // Finishes the oldest refresh still running.
    finishRefresh = () => finishers.shift()?.();
    store.refreshWith(async (request) => {
      refreshed.push(request);
      // What the refresh request does: the pipeline notes the start, computes the answer and stores it.
      store.started('list', request);
      await new Promise<void>((resolve) => {
        finishers.push(resolve);
      });
      store.set('list', { data: { refreshed: refreshed.length } }, [paperEntity(1)], settings.listMaxAgeMs);
    });
    store.started('list', TRENDING_REQUEST);
    store.set('list', { data: { refreshed: 0 } }, [paperEntity(1), paperEntity(2)], settings.listMaxAgeMs);
  });

  afterEach(async () => {
    for (const finish of finishers.splice(0)) finish();
    await store.stopRefreshing();
    vi.useRealTimers();
  });

  const bodyOf = (entry: { body: Uint8Array } | undefined) => JSON.parse(new TextDecoder().decode(entry!.body));

  it('leaves a young answer alone; a read at half its maximum age computes it again once, serving the old one meanwhile', async () => {
    now += 499;
    store.read('list');
    await vi.runAllTimersAsync();
    expect(refreshed).toEqual([]);

    now += 1;
    store.read('list');
    store.read('list');
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed).toEqual([TRENDING_REQUEST]);
    // While it runs: readers get the stored bytes; the pipeline (the refresh request itself) finds nothing.
    expect(bodyOf(store.read('list'))).toEqual({ data: { refreshed: 0 } });
    expect(store.get('list')).toBeUndefined();
    store.read('list');
    await vi.runAllTimersAsync();
    expect(refreshed).toHaveLength(1);

    finishRefresh();
    await vi.runAllTimersAsync();
    expect(bodyOf(store.read('list'))).toEqual({ data: { refreshed: 1 } });
    expect(store.get('list')).toBeDefined();
    // Reads during the run asked for nothing more: the run's answer is the fresh one.
    expect(refreshed).toHaveLength(1);
  });

  it('hands a reader of an answer that ended during its refresh the running refresh, which settles once the new one is stored', async () => {
    now += 500;
    store.read('list');
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed).toEqual([TRENDING_REQUEST]);
    const running = store.runningRefresh('list');
    expect(running).toBeDefined();
    // The answer ends while the refresh runs (under load a refresh can outlast its maximum age; here other
    // answers push it out): a reader finds nothing stored, but the run to wait for.
    for (let index = 0; index < settings.maxEntries; index += 1) {
      store.started(`other-${index}`);
      store.set(`other-${index}`, { data: { index } }, [], settings.listMaxAgeMs);
    }
    expect(store.read('list')).toBeUndefined();
    expect(store.runningRefresh('list')).toBe(running);
    finishRefresh();
    await running;
    expect(bodyOf(store.read('list'))).toEqual({ data: { refreshed: 1 } });
    expect(store.runningRefresh('list')).toBeUndefined();
  });

  it('computes again on a vote an answer that readers read, and not one that nobody read', async () => {
    await changes.announce({ kind: 'votes', paperIds: [2] });
    await vi.runAllTimersAsync();
    expect(refreshed).toEqual([]);

    store.read('list');
    await changes.announce({ kind: 'votes', paperIds: [3] });
    await vi.runAllTimersAsync();
    expect(refreshed).toEqual([]);

    await changes.announce({ kind: 'votes', paperIds: [2] });
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed).toEqual([TRENDING_REQUEST]);
  });

  it('runs once more after a run that votes arrived during, a quarter of the maximum age after the last start', async () => {
    store.read('list');
    await changes.announce({ kind: 'votes', paperIds: [1] });
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed).toHaveLength(1);
    const firstStart = now;

    await changes.announce({ kind: 'votes', paperIds: [1] });
    await changes.announce({ kind: 'votes', paperIds: [2] });
    now += 100;
    finishRefresh();
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed).toHaveLength(1);

    now = firstStart + 250;
    await vi.advanceTimersByTimeAsync(150);
    expect(refreshed).toHaveLength(2);
    finishRefresh();
    await vi.runAllTimersAsync();
    expect(refreshed).toHaveLength(2);
  });

  it("stores a refresh that ends after a reader's computation of the same answer, begun before the vote, was stored", async () => {
    store.started('list', TRENDING_REQUEST);
    store.read('list');
    await changes.announce({ kind: 'votes', paperIds: [1] });
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed).toHaveLength(1);
    store.set('list', { data: { reader: true } }, [paperEntity(1)], settings.listMaxAgeMs);
    expect(bodyOf(store.read('list'))).toEqual({ data: { reader: true } });

    finishRefresh();
    await vi.advanceTimersByTimeAsync(0);
    expect(bodyOf(store.read('list'))).toEqual({ data: { refreshed: 1 } });
    // The reader's answer took the request noted by both: the refresh's answer keeps its own, and the next
    // vote computes it again, rather than leaving it to end and every reader to compute it.
    await changes.announce({ kind: 'votes', paperIds: [1] });
    await vi.advanceTimersByTimeAsync(settings.listMaxAgeMs / 4);
    expect(refreshed).toEqual([TRENDING_REQUEST, TRENDING_REQUEST]);
  });

  it('leaves the last refresh slot to the answers readers read: a computation for a reader never takes it', async () => {
    const request = (n: number): AnswerRequest => ({ ...TRENDING_REQUEST, variables: { n } });
    expect(store.computeFor('a', request(1))).toBeDefined();
    expect(store.computeFor('b', request(2))).toBeDefined();
    expect(store.computeFor('c', request(3))).toBeDefined();
    expect(store.computeFor('d', request(4))).toBeUndefined();
    store.read('list');
    await changes.announce({ kind: 'votes', paperIds: [1] });
    await vi.advanceTimersByTimeAsync(0);
    expect(refreshed).toEqual([request(1), request(2), request(3), TRENDING_REQUEST]);
  });

  it('keeps no request past its byte budget: such an answer is left to end at its age', async () => {
    store.started('huge', TRENDING_REQUEST, 20_000_000);
    store.set('huge', { data: { huge: true } }, [paperEntity(1)], settings.listMaxAgeMs);
    store.read('huge');
    store.read('list');
    now += 600;
    expect(store.read('huge')).toBeDefined();
    await changes.announce({ kind: 'votes', paperIds: [1] });
    await vi.runAllTimersAsync();
    // Only the answer stored with its request ('list') was computed again.
    expect(refreshed).toEqual([TRENDING_REQUEST]);
  });

  it('forgets a scheduled refresh when the answer ends, and when the app closes', async () => {
    store.read('list');
    now += 600;
    store.read('list');
    await changes.announce({ kind: 'entities', entities: [{ typename: 'Paper', id: 1 }] });
    await vi.runAllTimersAsync();
    expect(store.read('list')).toBeUndefined();
    expect(refreshed).toEqual([]);

    store.started('list', TRENDING_REQUEST);
    store.set('list', { data: { refreshed: 0 } }, [paperEntity(1)], settings.listMaxAgeMs);
    store.read('list');
    await changes.announce({ kind: 'votes', paperIds: [1] });
    await store.stopRefreshing();
    await vi.runAllTimersAsync();
    expect(refreshed).toEqual([]);
  });
});

describe('a vote on a list readers are reading', () => {
  let database: TestDatabase;
  let app: ReturnType<typeof createTestApp>;
  let refreshHandle: DatabaseHandle | undefined;

  beforeAll(async () => {
    database = await createTestDatabase();
  });

  afterAll(async () => {
    await app?.close();
    await refreshHandle?.close();
    await database.close();
  });

  // A minute: only the background refresh can show the vote within the poll below.
  const config = loadConfig({
    LOG_LEVEL: 'silent',
    PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
    RESPONSE_CACHE_TTL_SECONDS: '120',
    RESPONSE_CACHE_LIST_MAX_AGE_SECONDS: '60',
  });

  it("is computed for the first readers of a page on the refreshes' connections; never a mutation, nor again an answer with errors", async () => {
    await database.truncate();
    const refreshQueries: string[] = [];
    const handle = openDatabase({ url: database.url, dataDir: '', poolSize: 1, onQuery: (query) => refreshQueries.push(query) });
    const cold = createTestApp(database.db, { config, refreshDb: handle.db });
    try {
      await savePaperRecords(database.db, [paperRecord({ arxivId: '2511.20001', upvoteBaseline: 30 })]);
      await userWithToken(database.db, 'cold_reader');
      database.queries.length = 0;
      const PAGE = '{ trendingPapers(first: 5) { edges { node { arxivId upvotes } } } }';
      // Two readers at once, nothing stored: one computation, on the refreshes' connections; neither reader waits for the readers' pool.
      const [first, second] = await Promise.all([cold.request(PAGE), cold.request(PAGE)]);
      expect(first.data).toEqual({ trendingPapers: { edges: [{ node: { arxivId: '2511.20001', upvotes: 30 } }] } });
      expect(second.data).toEqual(first.data);
      expect(refreshQueries.filter((query) => query.includes('"papers"')).length).toBeGreaterThan(0);
      expect(database.queries.filter((query) => query.includes('"papers"'))).toEqual([]);

      // An anonymous mutation runs once, by its reader (a second run would find the username taken).
      const signedUp = await cold.request(
        'mutation { signUp(username: "cold_signup", email: "cold@example.com", password: "a long enough password") { user { username } } }',
      );
      expect(signedUp.errors).toBeUndefined();

      // An answer with errors is not stored: computed for its first reader, then by each reader alone.
      const FORBIDDEN_FEED = '{ user(username: "cold_reader") { recommendedPapers { id } } }';
      const codesOf = (answer: { errors?: readonly { extensions?: Record<string, unknown> }[] }) => answer.errors?.map((error) => error.extensions?.code);
      expect(codesOf(await cold.request(FORBIDDEN_FEED))).toEqual(['FORBIDDEN']);
      const before = refreshQueries.length;
      expect(codesOf(await cold.request(FORBIDDEN_FEED))).toEqual(['FORBIDDEN']);
      expect(refreshQueries.length).toBe(before);
    } finally {
      await cold.close();
      await handle.close();
    }
  });

  it('shows long before the list maximum age, without a reader computing it', async () => {
    // The refreshes' own connections, as the server opens them: every statement they send is recorded.
    const refreshQueries: string[] = [];
    refreshHandle = openDatabase({ url: database.url, dataDir: '', poolSize: 1, onQuery: (query) => refreshQueries.push(query) });
    app = createTestApp(database.db, { config, refreshDb: refreshHandle.db });
    await savePaperRecords(database.db, [
      paperRecord({ arxivId: '2511.20001', upvoteBaseline: 30 }),
      paperRecord({ arxivId: '2511.20002', upvoteBaseline: 20 }),
    ]);
    const { token } = await userWithToken(database.db, 'refresh_voter');
    const TRENDING = '{ trendingPapers(first: 5) { edges { node { id arxivId upvotes } } } }';
    type Trending = { trendingPapers: { edges: { node: { id: string; arxivId: string; upvotes: number } }[] } };
    const second = (await app.request<Trending>(TRENDING)).data!.trendingPapers.edges[1]!.node;
    expect(second.upvotes).toBe(20);
    // Read from the cache once: readers are reading it.
    expect((await app.request<Trending>(TRENDING)).data!.trendingPapers.edges[1]!.node.upvotes).toBe(20);

    const voted = await app.request(`mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes } }`, { id: second.id }, token);
    expect(voted.errors).toBeUndefined();
    const upvotesOfSecond = async () =>
      (await app.request<Trending>(TRENDING)).data!.trendingPapers.edges.find((edge) => edge.node.id === second.id)!.node.upvotes;
    database.queries.length = 0;
    await expect.poll(upvotesOfSecond, { timeout: 10_000, interval: 20 }).toBe(21);
    // The page was computed again on the refreshes' connections, and none of its statements on the readers'.
    const pageStatements = refreshQueries.filter((query) => query.includes('"papers"'));
    expect(pageStatements.length).toBeGreaterThan(0);
    expect(database.queries.filter((query) => pageStatements.includes(query))).toEqual([]);
  });
});
