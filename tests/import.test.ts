import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { createJobsQueue } from '../jobs/bullmq';
import { createPublicDataChanges } from '../src/cache/public-data-changes';
import { authors, organizations, paperAuthors, papers, users } from '../src/db/schema';
import { importDailyPapers, parseDailyPapersItems } from '../src/import/hf-daily-papers';
import { createLogger } from '../src/logger';
import { redisTestConfig, testRedisUrl as redisUrl } from './support/fixtures';
import { PROCESS_TEST_TIMEOUT_MS, runScript } from './support/server-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { expectedKey } from './support/trending-oracle';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const fixturePath = path.join(repoRoot, 'tests/fixtures/hf-daily-papers.json');
const settings = { voteHalfLifeHours: 24, ageHalfLifeHours: 168, prior: 1 };
/** Stamped on every row before a re-import, so any rewrite shows even within the same millisecond. */
const longAgo = new Date('2000-01-01T00:00:00Z');

interface FixtureItem {
  paper: {
    id: string;
    title?: string;
    summary?: string | null;
    upvotes?: unknown;
    publishedAt?: string;
    authors: { name: unknown; hidden?: boolean | null }[];
  };
}

async function loadFixture(): Promise<FixtureItem[]> {
  return JSON.parse(await readFile(fixturePath, 'utf8')) as FixtureItem[];
}

/** Copies of `valid` with another arXiv id and one change each. */
const variantOf =
  (valid: FixtureItem) =>
  (change: (paper: FixtureItem['paper']) => void, id: string): FixtureItem => {
    const item = structuredClone(valid);
    item.paper.id = id;
    change(item.paper);
    return item;
  };

const badUpvotesProblem = {
  index: 3,
  arxivId: '2307.09288',
  message: 'paper.upvotes: Invalid input: expected number, received string',
};

describe('importing Hugging Face daily papers', () => {
  let database: TestDatabase;
  let tempDir: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    tempDir = await mkdtemp(path.join(tmpdir(), 'daily-papers-import-'));
  });
  afterAll(async () => {
    await database.close();
    await rm(tempDir, { recursive: true, force: true });
  });
  beforeEach(async () => {
    await database.truncate();
  });

  async function storedPaper(arxivId: string) {
    const [paper] = await database.db.select().from(papers).where(eq(papers.arxivId, arxivId));
    if (!paper) throw new Error(`paper ${arxivId} was not stored`);
    return paper;
  }

  async function storedAuthors(paperId: number) {
    return database.db
      .select({ name: paperAuthors.name, hidden: paperAuthors.hidden, authorName: authors.name })
      .from(paperAuthors)
      .innerJoin(authors, eq(authors.id, paperAuthors.authorId))
      .where(eq(paperAuthors.paperId, paperId))
      .orderBy(paperAuthors.position);
  }

  async function snapshot() {
    const { db } = database;
    return {
      papers: await db.select().from(papers).orderBy(papers.id),
      paperAuthors: await db.select().from(paperAuthors).orderBy(paperAuthors.paperId, paperAuthors.position),
      authors: await db.select().from(authors).orderBy(authors.id),
      organizations: await db.select().from(organizations).orderBy(organizations.id),
      users: await db.select().from(users).orderBy(users.id),
    };
  }

  async function importFixture() {
    return importDailyPapers(database.db, settings, await loadFixture());
  }

  it('stores every valid item with its fields and reports the bad one by index and field', async () => {
    const fixture = await loadFixture();
    const result = await importDailyPapers(database.db, settings, fixture);
    expect(result).toEqual({ imported: 7, unchanged: 0, newPaperIds: expect.any(Array), problems: [badUpvotesProblem] });
    expect(new Set(result.newPaperIds).size).toBe(7);

    const hallucinate = await storedPaper('2509.04664');
    const submittedAt = new Date('2025-09-08T02:44:20.973Z');
    expect(hallucinate).toMatchObject({
      title: 'Why Language Models Hallucinate',
      abstract: fixture[0]!.paper.summary!.trim(),
      publishedAt: new Date('2025-09-04T21:26:31.000Z'),
      submittedAt,
      upvoteBaseline: 26,
      upvoteCount: 26,
      commentCount: 3,
      keywords: ['hallucinations', 'binary classification', 'uncertain responses', 'trustworthy ai systems'],
      githubRepo: null,
      githubStars: null,
      projectPage: null,
      thumbnailUrl: 'https://cdn-thumbnails.huggingface.co/social-thumbnails/papers/2509.04664.png',
      aiSummary: expect.stringMatching(/^Language models produce incorrect statements/),
    });
    expect(Math.abs(hallucinate.trendingKey - (await expectedKey(database.db, settings, hallucinate.id)))).toBeLessThan(1e-9);
    expect(await storedAuthors(hallucinate.id)).toEqual([
      { name: 'Adam Tauman Kalai', hidden: false, authorName: 'Adam Tauman Kalai' },
      { name: 'Ofir Nachum', hidden: false, authorName: 'Ofir Nachum' },
      { name: 'Santosh S. Vempala', hidden: false, authorName: 'Santosh S. Vempala' },
      { name: 'Edwin Zhang', hidden: true, authorName: 'Edwin Zhang' },
    ]);
    const [openai] = await database.db.select().from(organizations).where(eq(organizations.id, hallucinate.organizationId!));
    expect(openai).toMatchObject({ name: 'openai', fullName: 'OpenAI', avatarUrl: expect.stringContaining('cdn-avatars') });
    const [taesiri] = await database.db.select().from(users).where(eq(users.id, hallucinate.submittedById!));
    expect(taesiri).toMatchObject({ username: 'taesiri', displayName: 'taesiri', avatarUrl: expect.stringContaining('cdn-avatars') });

    // Stored without the version suffix; submitter and organization at item level.
    const deepseek = await storedPaper('2501.12948');
    expect(deepseek).toMatchObject({ githubRepo: 'https://github.com/deepseek-ai/DeepSeek-R1', githubStars: 91000, upvoteCount: 345, commentCount: 12 });
    // Submitter and organization only on the paper: the same akhaliq account, found by paper.submittedOnDailyBy.user.
    const dpo = await storedPaper('2305.18290');
    expect(dpo.submittedById).toBe(deepseek.submittedById);
    const [akhaliq] = await database.db.select().from(users).where(eq(users.id, dpo.submittedById!));
    expect(akhaliq).toMatchObject({ username: 'akhaliq', displayName: 'AK' });
    const [stanford] = await database.db.select().from(organizations).where(eq(organizations.id, dpo.organizationId!));
    expect(stanford).toMatchObject({ name: 'stanford', fullName: 'Stanford University', avatarUrl: null });

    const lora = await storedPaper('2106.09685');
    expect(lora).toMatchObject({
      submittedAt: null,
      submittedById: null,
      projectPage: null,
      aiSummary: null,
      githubStars: 11800,
      keywords: ['low-rank adaptation', 'fine-tuning', 'lora'],
    });
    expect((await storedAuthors(lora.id)).map((author) => author.hidden)).toEqual([false, false, true, false, false, false, false, false]);
    expect((await storedPaper('2404.14219')).organizationId).toBe(lora.organizationId);

    const mamba = await storedPaper('2312.00752');
    expect(mamba).toMatchObject({
      title: 'Mamba: Linear-Time Sequence Modeling with Selective State Spaces',
      abstract: '',
      submittedAt: null,
      submittedById: null,
      organizationId: null,
      githubRepo: null,
      thumbnailUrl: null,
      keywords: [],
      upvoteBaseline: 0,
      upvoteCount: 0,
      commentCount: 0,
    });
    expect(await storedAuthors(mamba.id)).toEqual([
      { name: 'Albert Gu', hidden: false, authorName: 'Albert Gu' },
      { name: 'Tri Dao', hidden: false, authorName: 'Tri Dao' },
    ]);

    const stored = await snapshot();
    expect(stored.papers.map((paper) => paper.arxivId).sort()).toEqual([
      '2106.09685',
      '2305.18290',
      '2312.00752',
      '2404.14219',
      '2407.21783',
      '2501.12948',
      '2509.04664',
    ]);
    expect(stored.users.map((user) => user.username).sort()).toEqual(['akhaliq', 'taesiri']);
    expect(stored.organizations.map((org) => org.name).sort()).toEqual(['deepseek-ai', 'meta-llama', 'microsoft', 'openai', 'stanford']);
    // 30 names on the valid papers; Weizhu Chen is on two of them.
    expect(stored.authors).toHaveLength(29);
  });

  it('changes nothing when the same file is imported again', async () => {
    await importFixture();
    await database.db.update(papers).set({ updatedAt: longAgo });
    const before = await snapshot();

    const again = await importFixture();

    expect(again).toEqual({ imported: 0, unchanged: 7, newPaperIds: [], problems: [badUpvotesProblem] });
    expect(await snapshot()).toEqual(before);
  });

  it('updates only the papers whose fields or authors changed', async () => {
    await importFixture();
    await database.db.update(papers).set({ updatedAt: longAgo });
    const before = await snapshot();

    const modified = await loadFixture();
    modified[0]!.paper.title = 'Why Language Models Hallucinate (revised)';
    modified[0]!.paper.upvotes = 40;
    modified[2]!.paper.authors[5]!.hidden = true;
    const result = await importDailyPapers(database.db, settings, modified);

    expect(result).toMatchObject({ imported: 2, unchanged: 5 });
    // Updated, not created: no paper here is new to its followers.
    expect(result.newPaperIds).toEqual([]);
    const hallucinate = await storedPaper('2509.04664');
    expect(hallucinate).toMatchObject({ title: 'Why Language Models Hallucinate (revised)', upvoteBaseline: 40, upvoteCount: 40 });
    expect(Math.abs(hallucinate.trendingKey - (await expectedKey(database.db, settings, hallucinate.id)))).toBeLessThan(1e-9);
    const dpo = await storedPaper('2305.18290');
    expect((await storedAuthors(dpo.id)).map((author) => author.hidden)).toEqual([false, false, false, false, false, true]);

    const after = await snapshot();
    const changedIds = [hallucinate.id, dpo.id];
    for (const paper of after.papers) {
      if (changedIds.includes(paper.id)) expect(paper.updatedAt.getTime()).toBeGreaterThan(longAgo.getTime());
    }
    const untouched = (rows: { id?: number; paperId?: number }[]) => rows.filter((row) => !changedIds.includes(row.id ?? row.paperId!));
    expect(untouched(after.papers)).toEqual(untouched(before.papers));
    expect(untouched(after.paperAuthors)).toEqual(untouched(before.paperAuthors));
    expect(untouched(after.papers)).toHaveLength(5);
  });

  it('keeps the first of two items with the same arXiv id and reports the later one', async () => {
    const [first] = await loadFixture();
    const [second] = await loadFixture();
    second!.paper.id = '2509.04664v2';
    second!.paper.title = 'A different title';

    const result = await importDailyPapers(database.db, settings, [first, second]);

    expect(result).toEqual({
      imported: 1,
      unchanged: 0,
      newPaperIds: [expect.any(Number)],
      problems: [{ index: 1, arxivId: '2509.04664', message: 'duplicate of item 0, which is kept' }],
    });
    expect((await storedPaper('2509.04664')).title).toBe('Why Language Models Hallucinate');
  });

  it('reports each invalid item with the field at fault and keeps the valid ones', async () => {
    const valid = (await loadFixture())[5]!;
    const variant = variantOf(valid);

    const { records, problems } = parseDailyPapersItems([
      valid,
      variant(() => {}, 'hep-th/9901001'),
      variant(() => {}, '2501.0001'),
      variant((paper) => delete paper.title, '2501.00003'),
      variant((paper) => (paper.publishedAt = 'yesterday'), '2501.00004'),
      variant((paper) => (paper.authors[1]!.name = 42), '2501.00005'),
      variant((paper) => (paper.upvotes = 2.5), '2501.00006'),
      'not an item',
    ]);

    expect(records.map((record) => record.arxivId)).toEqual(['2312.00752']);
    expect(problems).toEqual([
      { index: 1, arxivId: 'hep-th/9901001', message: 'paper.id: "hep-th/9901001" is not a new-style arXiv id such as 2306.13229' },
      { index: 2, arxivId: '2501.0001', message: 'paper.id: "2501.0001" is not a new-style arXiv id such as 2306.13229' },
      { index: 3, arxivId: '2501.00003', message: 'paper.title: required' },
      { index: 4, arxivId: '2501.00004', message: 'paper.publishedAt: expected an ISO 8601 date-time with a time zone' },
      { index: 5, arxivId: '2501.00005', message: 'paper.authors[1].name: Invalid input: expected string, received number' },
      { index: 6, arxivId: '2501.00006', message: 'paper.upvotes: Invalid input: expected int, received number' },
      { index: 7, message: 'item: Invalid input: expected object, received string' },
    ]);
  });

  it('reports values the database could not store, and still loads the rest in the same batch', async () => {
    const valid = (await loadFixture())[5]!;
    const variant = variantOf(valid);
    const result = await importDailyPapers(database.db, settings, [
      variant((paper) => (paper.title = 'Nul\u0000title'), '2501.00011'),
      variant((paper) => (paper.upvotes = 2 ** 40), '2501.00012'),
      variant((paper) => (paper.publishedAt = '0000-01-01T00:00:00Z'), '2501.00013'),
      variant((paper) => (paper.authors[0]!.name = 'x'.repeat(3000)), '2501.00014'),
      valid,
    ]);
    expect(result.problems.map((problem) => [problem.index, problem.message])).toEqual([
      [0, 'paper.title: contains a NUL character'],
      [1, 'paper.upvotes: Too big: expected number to be <=2147483647'],
      [2, 'paper.publishedAt: expected a time in the years 1000 to 9998'],
      [3, 'paper.authors[0].name: at most 500 characters'],
    ]);
    expect(result.imported).toBe(1);
    expect(await database.db.$count(papers)).toBe(1);
  });

  it('reports a file that is not an array as a single problem and stores nothing', async () => {
    expect(parseDailyPapersItems({ papers: [] })).toEqual({
      records: [],
      problems: [{ message: 'expected a JSON array of daily-papers items, got an object' }],
    });

    const result = await importDailyPapers(database.db, settings, null);

    expect(result).toEqual({
      imported: 0,
      unchanged: 0,
      newPaperIds: [],
      problems: [{ message: 'expected a JSON array of daily-papers items, got null' }],
    });
    expect(await database.db.select().from(papers)).toEqual([]);
  });

  describe('the command line', () => {
    /** `npm run import -- file`; tsx is loaded into node directly, not through npx (which starts npm and another node first). */
    function runImportCli(file: string, environment: Record<string, string> = {}) {
      return runScript(['src/import/import-cli.ts', file], { DATABASE_URL: database.url, LOG_LEVEL: 'silent', ...environment });
    }

    it('imports the file, reports the bad item and exits 0; a second run writes nothing', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
      const first = await runImportCli(fixturePath);
      expect(first.code).toBe(0);
      expect(first.stderr).toContain('item 3 (2307.09288): paper.upvotes: Invalid input: expected number, received string\n');
      expect(first.stdout).toContain(`${fixturePath}: 7 papers written, 0 unchanged, 1 item skipped`);
      const stored = await database.db.select({ arxivId: papers.arxivId }).from(papers);
      expect(stored).toHaveLength(7);

      const second = await runImportCli(fixturePath);
      expect(second.code).toBe(0);
      expect(second.stdout).toContain('0 papers written, 7 unchanged, 1 item skipped');
    });

    it('tells the running API processes through Redis that their cached answers are stale', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
      const redisConfig = redisTestConfig('import', redisUrl);
      const listening = createPublicDataChanges(redisConfig, createLogger('silent'));
      let heard = 0;
      listening.subscribe(() => (heard += 1));
      try {
        // The subscription announces itself once when it connects (a reconnect starts the cache over).
        await expect.poll(() => heard).toBeGreaterThan(0);
        const before = heard;
        const run = await runImportCli(fixturePath, { REDIS_URL: redisUrl, REDIS_PREFIX: redisConfig.redisPrefix });
        expect(run.code).toBe(0);
        // On the channel of its REDIS_PREFIX.
        await expect.poll(() => heard).toBeGreaterThan(before);
      } finally {
        await listening.close();
        // The jobs the import queued under this test's prefix: none is left in Redis.
        const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
        const queue = createJobsQueue(connection, { role: 'worker', prefix: redisConfig.redisPrefix });
        await queue.obliterate({ force: true });
        await queue.close();
        connection.disconnect();
      }
    });

    it("hands the new papers' arXiv categories and their followers' notifications to the workers through Redis", {
      timeout: PROCESS_TEST_TIMEOUT_MS,
    }, async () => {
      const redisConfig = redisTestConfig('import-categories', redisUrl);
      const run = await runImportCli(fixturePath, { REDIS_URL: redisUrl, REDIS_PREFIX: redisConfig.redisPrefix });
      expect(run.code).toBe(0);
      const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
      const queue = createJobsQueue(connection, { role: 'worker', prefix: redisConfig.redisPrefix });
      try {
        const waiting = await queue.getJobs(['waiting']);
        const paperIds = (await database.db.select({ id: papers.id }).from(papers)).map((row) => row.id);
        expect(waiting.map((job) => ({ name: job.name, data: job.data }))).toEqual(
          expect.arrayContaining([
            { name: 'fill-arxiv-categories', data: {} },
            { name: 'notify', data: { kind: 'NEW_PAPER', paperIds: expect.any(Array) } },
          ]),
        );
        expect(waiting).toHaveLength(2);
        // Every paper the import created, once.
        const notified = waiting.find((job) => job.name === 'notify')!.data.paperIds as number[];
        expect([...notified].sort((a, b) => a - b)).toEqual([...paperIds].sort((a, b) => a - b));
        // Imported papers have none until the job asks arXiv.
        const stored = await database.db.select({ categories: papers.categories, checkedAt: papers.categoriesCheckedAt }).from(papers);
        expect(stored.every((row) => row.categories.length === 0 && row.checkedAt === null)).toBe(true);
      } finally {
        await queue.obliterate({ force: true });
        await queue.close();
        connection.disconnect();
      }
    });

    it('exits 1 with a clear message when the file is missing, not JSON or not an array', { timeout: PROCESS_TEST_TIMEOUT_MS }, async () => {
      const missing = path.join(tempDir, 'missing.json');
      const notJson = path.join(tempDir, 'not-json.json');
      const notArray = path.join(tempDir, 'not-array.json');
      await writeFile(notJson, '<!doctype html><title>429 Too Many Requests</title>');
      await writeFile(notArray, JSON.stringify({ error: 'Invalid date' }));

      const [missingRun, notJsonRun, notArrayRun] = await Promise.all([runImportCli(missing), runImportCli(notJson), runImportCli(notArray)]);

      expect(missingRun.code).toBe(1);
      expect(missingRun.stderr).toContain(`cannot read ${missing}: no such file`);
      expect(notJsonRun.code).toBe(1);
      expect(notJsonRun.stderr).toContain(`${notJson} is not valid JSON:`);
      expect(notArrayRun.code).toBe(1);
      expect(notArrayRun.stderr).toContain(`${notArray}: expected a JSON array of daily-papers items, got an object`);
      for (const run of [missingRun, notJsonRun, notArrayRun]) expect(run.stdout).toBe('');
      expect(
        await database.db
          .select()
          .from(papers)
          .where(inArray(papers.arxivId, ['2509.04664'])),
      ).toEqual([]);
    });
  });
});
