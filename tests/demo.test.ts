import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DAY_MS, HOUR_MS } from '../src/calendar';
import { queryRows } from '../src/db/rows';
import { DEMO_DAYS, chanceOfVoteAfter, generateDemoDataset } from '../src/demo/demo-dataset';
import { isDatabaseEmpty, loadDemoData } from '../src/demo/load-demo-data';
import { recomputeKeysAndCounts } from '../src/modules/trending/recompute';
import { PROCESS_TEST_TIMEOUT_MS, runScript } from './support/server-process';
import { createTestDatabase, type TestDatabase } from './support/test-database';
import { expectedTrending } from './support/trending-oracle';

const settings = { voteHalfLifeHours: 24, ageHalfLifeHours: 168, prior: 1 };
const now = new Date('2025-11-12T15:30:00Z');
const firstDemoDay = Date.UTC(2025, 10, 12) - (DEMO_DAYS - 1) * DAY_MS;

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.close();
});

function countBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(key(item), (counts.get(key(item)) ?? 0) + 1);
  return counts;
}

describe('generateDemoDataset', () => {
  const dataset = generateDemoDataset({ paperCount: 300, now });

  it('gives identical output for the same options, and other data for another seed', () => {
    const again = generateDemoDataset({ paperCount: 300, now });
    expect(JSON.stringify(again)).toBe(JSON.stringify(dataset));
    expect(again).toStrictEqual(dataset);

    const otherSeed = generateDemoDataset({ paperCount: 300, now, seed: 7 });
    expect(otherSeed.papers.map((paper) => paper.title)).not.toEqual(dataset.papers.map((paper) => paper.title));
  });

  it('keeps what drew the votes: an appeal per paper, a topic affinity per user, and when a vote falls', () => {
    expect(dataset.truth.appeal).toHaveLength(300);
    expect(dataset.truth.topicAffinity).toHaveLength(150);
    for (const affinity of dataset.truth.topicAffinity) expect(Math.max(...affinity)).toBe(1);
    const featured = new Date(now.getTime() - 3 * DAY_MS);
    expect(chanceOfVoteAfter(featured, new Date(featured.getTime() - HOUR_MS), now)).toBe(1);
    const later = [HOUR_MS, DAY_MS, 2 * DAY_MS].map((delay) => chanceOfVoteAfter(featured, new Date(featured.getTime() + delay), now));
    expect(later).toEqual([...later].sort((a, b) => b - a));
    expect(later[0]).toBeLessThan(1);
    expect(chanceOfVoteAfter(featured, now, now)).toBe(0);
  });

  it('has the requested size', () => {
    expect(dataset.papers).toHaveLength(300);
    expect(dataset.users).toHaveLength(150);
    expect(generateDemoDataset({ paperCount: 40, userCount: 12, now }).users).toHaveLength(12);
    expect(() => generateDemoDataset({ paperCount: -1, now })).toThrow(RangeError);
  });

  it('features papers over the last 60 UTC days with unique arXiv ids of their publication month', () => {
    const { papers } = dataset;
    expect(new Set(papers.map((paper) => paper.arxivId)).size).toBe(papers.length);
    const wrongId = papers.filter((paper) => {
      const month = paper.publishedAt.toISOString().slice(2, 7).replace('-', '');
      return !new RegExp(`^${month}\\.\\d{5}$`).test(paper.arxivId);
    });
    expect(wrongId).toEqual([]);

    const outsideWindow = papers.filter((paper) => paper.submittedAt.getTime() < firstDemoDay || paper.submittedAt >= now);
    expect(outsideWindow).toEqual([]);
    const publishedWrong = papers.filter((paper) => {
      const lag = paper.submittedAt.getTime() - paper.publishedAt.getTime();
      return lag < 0 || lag > 10 * DAY_MS;
    });
    expect(publishedWrong).toEqual([]);

    const perDay = countBy(papers, (paper) => paper.submittedAt.toISOString().slice(0, 10));
    expect(perDay.size).toBeGreaterThanOrEqual(55);
    expect(Math.max(...perDay.values())).toBeLessThanOrEqual(15);
  });

  it('writes papers of a topic from a shared vocabulary', () => {
    const topics = new Set(dataset.papers.map((paper) => paper.topic));
    expect(topics.size).toBeGreaterThanOrEqual(6);
    expect(topics.size).toBeLessThanOrEqual(10);

    // Mean Jaccard similarity of the papers' word sets, within a topic and across topics.
    const words = dataset.papers.map((paper) => new Set(`${paper.title} ${paper.abstract}`.toLowerCase().match(/[a-z][a-z-]{4,}/g)));
    const similarity = { within: { sum: 0, pairs: 0 }, across: { sum: 0, pairs: 0 } };
    for (let i = 0; i < words.length; i++) {
      for (let j = i + 1; j < words.length; j++) {
        const shared = [...words[i]!].filter((word) => words[j]!.has(word)).length;
        const bucket = dataset.papers[i]!.topic === dataset.papers[j]!.topic ? similarity.within : similarity.across;
        bucket.sum += shared / (words[i]!.size + words[j]!.size - shared);
        bucket.pairs += 1;
      }
    }
    const within = similarity.within.sum / similarity.within.pairs;
    const across = similarity.across.sum / similarity.across.pairs;
    expect(within).toBeGreaterThan(1.8 * across);
  });

  it('gives papers realistic authors, organizations, keywords and submitters', () => {
    const { papers, users } = dataset;
    const badAuthors = papers.filter((paper) => {
      const names = paper.authors.map((author) => author.name);
      return (
        names.length < 1 || names.length > 12 || new Set(names).size !== names.length || names.some((name) => !/^[A-Z][a-z]+ [A-Z][a-z]+$/.test(name))
      );
    });
    expect(badAuthors).toEqual([]);
    const papersPerAuthor = countBy(
      papers.flatMap((paper) => paper.authors),
      (author) => author.name,
    );
    expect(papersPerAuthor.size).toBeGreaterThanOrEqual(100);
    expect(papersPerAuthor.size).toBeLessThanOrEqual(1000);
    expect([...papersPerAuthor.values()].filter((count) => count >= 3).length).toBeGreaterThanOrEqual(20);

    const organizations = new Set(papers.flatMap((paper) => (paper.organization ? [paper.organization.name] : [])));
    expect(organizations.size).toBeGreaterThanOrEqual(15);
    expect(organizations.size).toBeLessThanOrEqual(25);
    const withOrganization = papers.filter((paper) => paper.organization).length / papers.length;
    expect(withOrganization).toBeGreaterThan(0.7);
    expect(withOrganization).toBeLessThan(1);

    const badKeywords = papers.filter(
      (paper) => paper.keywords.length < 3 || paper.keywords.length > 6 || paper.keywords.some((keyword) => keyword !== keyword.toLowerCase()),
    );
    expect(badKeywords).toEqual([]);
    for (const field of ['githubRepo', 'projectPage', 'thumbnailUrl', 'aiSummary'] as const) {
      const share = papers.filter((paper) => paper[field]).length / papers.length;
      expect(share, field).toBeGreaterThan(0.1);
      expect(share, field).toBeLessThan(0.9);
    }
    expect(papers.filter((paper) => paper.upvoteBaseline === 0).length / papers.length).toBeGreaterThan(0.85);

    expect(users.filter((user) => !/^[A-Za-z0-9_-]{3,30}$/.test(user.username))).toEqual([]);
    expect(new Set(users.map((user) => user.username.toLowerCase())).size).toBe(users.length);
    const usernames = new Set(users.map((user) => user.username));
    expect(papers.filter((paper) => !paper.submittedBy || !usernames.has(paper.submittedBy.username))).toEqual([]);
  });

  it('casts upvotes once per user and paper, after featuring, mostly on favourite topics and a few popular papers', () => {
    const { papers, upvotes } = dataset;
    expect(new Set(upvotes.map((vote) => `${vote.username} ${vote.arxivId}`)).size).toBe(upvotes.length);

    const paperById = new Map(papers.map((paper) => [paper.arxivId, paper]));
    const mistimed = upvotes.filter((vote) => {
      const paper = paperById.get(vote.arxivId);
      return !paper || vote.createdAt < paper.submittedAt || vote.createdAt > now;
    });
    expect(mistimed).toEqual([]);

    // Share of each active user's votes in their two most-voted topics; about 0.35 if users voted at random.
    const topicsByUser = new Map<string, string[]>();
    for (const vote of upvotes) topicsByUser.set(vote.username, [...(topicsByUser.get(vote.username) ?? []), paperById.get(vote.arxivId)!.topic]);
    const shares = [...topicsByUser.values()]
      .filter((topics) => topics.length >= 5)
      .map((topics) => {
        const [first = 0, second = 0] = [...countBy(topics, (topic) => topic).values()].sort((a, b) => b - a);
        return (first + second) / topics.length;
      });
    expect(shares.length).toBeGreaterThan(50);
    expect(shares.reduce((sum, share) => sum + share, 0) / shares.length).toBeGreaterThan(0.7);

    const votesPerPaper = countBy(upvotes, (vote) => vote.arxivId);
    const counts = papers.map((paper) => votesPerPaper.get(paper.arxivId) ?? 0).sort((a, b) => a - b);
    const median = counts[Math.floor(counts.length / 2)]!;
    expect(median).toBeGreaterThan(0);
    expect(counts.at(-1)!).toBeGreaterThanOrEqual(4 * median);
  });
});

describe('loadDemoData', () => {
  const dataset = generateDemoDataset({ paperCount: 300, now });

  beforeAll(async () => {
    await database.truncate();
  });

  const count = async (table: string) =>
    (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from ${sql.identifier(table)}`))[0]!.n;

  it('loads the whole set into an empty database in batches, not a statement per row', async () => {
    expect(await isDatabaseEmpty(database.db)).toBe(true);
    database.queries.length = 0;
    const loaded = await loadDemoData(database.db, settings, { paperCount: 300, now });
    // 300 papers, 150 users and every vote: 45 statements when written, thousands if it went row by row.
    expect(database.queries.length).toBeLessThan(100);

    expect(loaded).toEqual({ papers: 300, users: 150, upvotes: dataset.upvotes.length });
    expect(await count('papers')).toBe(300);
    expect(await count('users')).toBe(150);
    expect(await count('upvotes')).toBe(dataset.upvotes.length);
    expect(await count('organizations')).toBe(new Set(dataset.papers.flatMap((paper) => paper.organization?.name ?? [])).size);
    expect(await isDatabaseEmpty(database.db)).toBe(false);
  });

  it('gives every paper its authors and an upvote count of baseline plus vote rows', async () => {
    const withoutAuthors = await queryRows<{ arxiv_id: string }>(
      database.db,
      sql`select arxiv_id from papers p where not exists (select 1 from paper_authors pa where pa.paper_id = p.id)`,
    );
    expect(withoutAuthors).toEqual([]);
    expect(await count('paper_authors')).toBe(dataset.papers.reduce((sum, paper) => sum + paper.authors.length, 0));

    const miscounted = await queryRows<{ arxiv_id: string }>(
      database.db,
      sql`select arxiv_id from papers p
          where upvote_count <> upvote_baseline + (select count(*) from upvotes u where u.paper_id = p.id)`,
    );
    expect(miscounted).toEqual([]);
    const [totals] = await queryRows<{ counted: number; expected: number }>(
      database.db,
      sql`select sum(upvote_count)::int as counted, (select count(*) from upvotes)::int + sum(upvote_baseline)::int as expected from papers`,
    );
    expect(totals!.counted).toBe(totals!.expected);
    expect(totals!.counted).toBeGreaterThanOrEqual(dataset.upvotes.length);
  });

  it('features papers on most of the last 60 UTC days', async () => {
    const [days] = await queryRows<{ n: number }>(
      database.db,
      sql`select count(distinct (submitted_at at time zone 'UTC')::date)::int as n from papers
          where submitted_at >= ${new Date(firstDemoDay).toISOString()}::timestamptz and submitted_at < ${now.toISOString()}::timestamptz`,
    );
    expect(days!.n).toBeGreaterThanOrEqual(55);
  });

  it('stores trending keys that a recompute leaves alone and that count the votes', async () => {
    expect(await recomputeKeysAndCounts(database.db, settings)).toEqual({ keyIds: [], countIds: [] });

    const mostVoted = await queryRows<{ id: number; trending_key: number }>(
      database.db,
      sql`select id, trending_key from papers order by upvote_count desc, id limit 5`,
    );
    const expected = await expectedTrending(
      database.db,
      settings,
      mostVoted.map((paper) => paper.id),
    );
    for (const paper of mostVoted) {
      expect(expected.get(paper.id)!.weighingVoters.length).toBeGreaterThan(0);
      expect(Math.abs(paper.trending_key - expected.get(paper.id)!.key)).toBeLessThan(1e-9);
    }
  });

  it('adds nothing when the same set is loaded again (the --force path)', async () => {
    const again = await loadDemoData(database.db, settings, { paperCount: 300, now });
    expect(again).toEqual({ papers: 0, users: 0, upvotes: 0 });
    expect(await count('papers')).toBe(300);
    expect(await count('users')).toBe(150);
    expect(await count('upvotes')).toBe(dataset.upvotes.length);
    expect(await count('paper_authors')).toBe(dataset.papers.reduce((sum, paper) => sum + paper.authors.length, 0));
    expect(await recomputeKeysAndCounts(database.db, settings)).toEqual({ keyIds: [], countIds: [] });
  });
});

describe('npm run seed', () => {
  beforeAll(async () => {
    await database.truncate();
  });

  // node --import tsx, not the tsx command (which starts a second node to run the script).
  const seed = (...args: string[]) => runScript(['src/demo/seed-cli.ts', ...args], { DATABASE_URL: database.url });
  const paperCount = async () => (await queryRows<{ n: number }>(database.db, sql`select count(*)::int as n from papers`))[0]!.n;

  // Four runs of the CLI, three of them one after the other.
  it('seeds an empty database, then refuses to seed it again unless forced', { timeout: 2 * PROCESS_TEST_TIMEOUT_MS }, async () => {
    // Refused before it opens the database: it runs alongside the others.
    const badOption = seed('--papers', 'many');
    const first = await seed('--papers', '20');
    expect(first.code).toBe(0);
    expect(JSON.parse(first.stdout)).toMatchObject({ msg: 'demo data loaded', papers: 20, users: 150 });
    expect(await paperCount()).toBe(20);

    const refused = await seed('--papers', '20');
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('--force');
    expect(await paperCount()).toBe(20);

    const forced = await seed('--papers', '20', '--force');
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ msg: 'demo data loaded', users: 0 });
    expect(await paperCount()).toBeGreaterThanOrEqual(20);
    expect(await paperCount()).toBeLessThanOrEqual(40);

    expect((await badOption).code).toBe(1);
  });
});
