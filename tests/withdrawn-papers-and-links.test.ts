import { readFile } from 'node:fs/promises';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authors, paperAuthors, papers, users } from '../src/db/schema';
import { importDailyPapers } from '../src/import/hf-daily-papers';
import { claimAuthorship, decideClaim } from '../src/modules/claims/claims';
import { readRecommendations, refreshRecommendations } from '../src/modules/recommendations/recommendations';
import { refreshSimilarPapers } from '../src/modules/recommendations/similar-papers';
import { castVotes, paperRecord, savePaperRecords, saveTopicPapers, trending, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

// What the Hugging Face import used to drop (media, withdrawal), and links
// that the submitter or a verified author set.

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');

async function fixtureItems(): Promise<any[]> {
  return JSON.parse(await readFile(new URL('./fixtures/hf-daily-papers.json', import.meta.url), 'utf8'));
}

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

beforeEach(async () => {
  await testApp.idle();
  await database.truncate();
});

async function stored(arxivId: string) {
  const [row] = await database.db.select().from(papers).where(eq(papers.arxivId, arxivId));
  return row!;
}

describe('the Hugging Face import', () => {
  it('keeps media URLs (web addresses only, each once) and the withdrawal time', async () => {
    const [first, , second] = await fixtureItems();
    first.paper.mediaUrls = [
      'https://cdn-uploads.huggingface.co/figure.png',
      'javascript:alert(1)',
      42,
      'https://cdn-uploads.huggingface.co/figure.png',
      'https://example.org/video.mp4',
    ];
    second.paper.withdrawnAt = '2025-09-10T12:00:00.000Z';
    const result = await importDailyPapers(database.db, trending, [first, second]);
    expect(result).toMatchObject({ imported: 2, problems: [] });
    expect(await stored(first.paper.id)).toMatchObject({
      mediaUrls: ['https://cdn-uploads.huggingface.co/figure.png', 'https://example.org/video.mp4'],
      withdrawnAt: null,
    });
    expect((await stored(second.paper.id)).withdrawnAt).toEqual(new Date('2025-09-10T12:00:00Z'));

    // Importing the same file again changes nothing; a file without the withdrawal restores the paper.
    expect(await importDailyPapers(database.db, trending, [first, second])).toMatchObject({ imported: 0, unchanged: 2 });
    delete second.paper.withdrawnAt;
    expect(await importDailyPapers(database.db, trending, [second])).toMatchObject({ imported: 1 });
    expect((await stored(second.paper.id)).withdrawnAt).toBeNull();
  });

  it('reports a malformed withdrawal time as a problem of that item', async () => {
    const [first] = await fixtureItems();
    first.paper.withdrawnAt = 'yesterday';
    const result = await importDailyPapers(database.db, trending, [first]);
    expect(result.imported).toBe(0);
    expect(result.problems).toEqual([{ index: 0, arxivId: first.paper.id, message: expect.stringMatching(/^paper\.withdrawnAt: /) }]);
  });
});

describe('a withdrawn paper', () => {
  const day = new Date('2025-11-11T09:00:00Z');
  beforeEach(async () => {
    await savePaperRecords(database.db, [
      paperRecord({ arxivId: '2511.00001', title: 'Standing diffusion paper', keywords: ['diffusion'], submittedAt: day, upvoteBaseline: 1 }),
      paperRecord({
        arxivId: '2511.00002',
        title: 'Withdrawn diffusion paper',
        keywords: ['diffusion'],
        submittedAt: day,
        upvoteBaseline: 50,
        withdrawnAt: new Date('2025-11-12T00:00:00Z'),
      }),
    ]);
  });

  it('leaves every list, search and feed', async () => {
    const lists = await testApp.request(`{
      papers { totalCount edges { node { arxivId } } }
      trendingPapers { edges { node { arxivId } } }
      dailyPapers(date: "2025-11-11") { totalCount edges { node { arxivId } } }
      filtered: papers(filter: { keyword: "diffusion" }) { totalCount edges { node { arxivId } } }
      searchPapers(query: "diffusion paper") { totalCount edges { node { arxivId } } }
    }`);
    expect(lists.errors).toBeUndefined();
    for (const [name, list] of Object.entries(lists.data!)) {
      expect(
        (list as any).edges.map((edge: any) => edge.node.arxivId),
        name,
      ).toEqual(['2511.00001']);
      if ('totalCount' in (list as any)) expect((list as any).totalCount, name).toBe(1);
    }
    const similar = await testApp.request(`{ paper(arxivId: "2511.00001") { similarPapers(first: 5) { arxivId } } }`);
    expect(similar.data!.paper.similarPapers).toEqual([]);
    for (const feed of ['/feeds/trending.atom', '/feeds/daily.atom?date=2025-11-11']) {
      const atom = await (await testApp.app.fetch(new Request(`http://test${feed}`))).text();
      expect(atom, feed).toContain('2511.00001');
      expect(atom, feed).not.toContain('2511.00002');
    }
  });

  it('is still found by arXiv id, and its page says it was withdrawn', async () => {
    const found = await testApp.request(`{ paper(arxivId: "2511.00002") { title withdrawnAt mediaUrls } }`);
    expect(found.data!.paper).toEqual({ title: 'Withdrawn diffusion paper', withdrawnAt: '2025-11-12T00:00:00.000Z', mediaUrls: [] });
    const page = await testApp.app.fetch(new Request('http://test/papers/2511.00002'));
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<strong>Withdrawn<\/strong> from arXiv on 2025-11-12/);
    expect(await (await testApp.app.fetch(new Request('http://test/papers/2511.00001'))).text()).not.toContain('Withdrawn');
  });
});

describe('a withdrawn paper, on pages of its own', () => {
  it('counts on no author or organization page', async () => {
    await savePaperRecords(database.db, [
      paperRecord({ arxivId: '2511.00001', authors: [{ name: 'Ada Lovelace' }], organization: { name: 'lab' } }),
      paperRecord({ arxivId: '2511.00002', authors: [{ name: 'Ada Lovelace' }], organization: { name: 'lab' }, withdrawnAt: new Date() }),
    ]);
    const counts = await testApp.request(`{
      paper(arxivId: "2511.00001") {
        authors { author { paperCount papers { totalCount } } }
        organization { paperCount papers { totalCount } }
      }
    }`);
    expect(counts.data!.paper).toEqual({
      authors: [{ author: { paperCount: 1, papers: { totalCount: 1 } } }],
      organization: { paperCount: 1, papers: { totalCount: 1 } },
    });
  });

  it('leaves the personal feed, even when it was stored there before', async () => {
    const topics = await saveTopicPapers(database.db, 3);
    const { user } = await userWithToken(database.db, 'reader');
    await castVotes(database.db, [{ username: 'reader', paperId: topics.robotics[0]!, at: new Date('2025-11-12T09:00:00Z') }]);
    await refreshSimilarPapers(database.db, 'all');
    await refreshRecommendations(database.db, user.id);
    const before = (await readRecommendations(database.db, user.id, 5)).items.map((item) => item.paper.id);
    const withdrawn = topics.robotics[1]!;
    expect(before).toContain(withdrawn);
    await database.db.update(papers).set({ withdrawnAt: new Date() }).where(eq(papers.id, withdrawn));
    const after = (await readRecommendations(database.db, user.id, 5)).items.map((item) => item.paper.id);
    expect(after).toHaveLength(5);
    expect(after).not.toContain(withdrawn);
  });
});

describe('updatePaperLinks', () => {
  const UPDATE = `mutation($paperId: ID!, $githubRepo: String, $projectPage: String) {
    updatePaperLinks(paperId: $paperId, githubRepo: $githubRepo, projectPage: $projectPage) { githubRepo projectPage }
  }`;
  let paperId: string;
  let paperRowId: number;
  let submitter: Awaited<ReturnType<typeof userWithToken>>;

  beforeEach(async () => {
    submitter = await userWithToken(database.db, 'submitter');
    const { paperIds } = await savePaperRecords(database.db, [
      paperRecord({
        arxivId: '2511.00003',
        submittedBy: { username: 'submitter' },
        githubRepo: 'https://github.com/source/repo',
        authors: [{ name: 'Ada Lovelace' }, { name: 'Grace Hopper' }],
      }),
    ]);
    paperRowId = paperIds[0]!;
    paperId = globalId('Paper', paperRowId);
  });

  const links = async () => {
    const row = await stored('2511.00003');
    return { githubRepo: row.githubRepo, projectPage: row.projectPage };
  };

  it('lets the submitter set and clear links; an import keeps them', async () => {
    const set = await testApp.request(
      UPDATE,
      { paperId, githubRepo: 'https://github.com/owner/repo', projectPage: 'https://owner.github.io/project' },
      submitter.token,
    );
    expect(set.errors).toBeUndefined();
    expect(set.data!.updatePaperLinks).toEqual({ githubRepo: 'https://github.com/owner/repo', projectPage: 'https://owner.github.io/project' });

    // Left out stays; null clears.
    const cleared = await testApp.request(UPDATE, { paperId, projectPage: null }, submitter.token);
    expect(cleared.data!.updatePaperLinks).toEqual({ githubRepo: 'https://github.com/owner/repo', projectPage: null });

    await savePaperRecords(database.db, [
      paperRecord({
        arxivId: '2511.00003',
        submittedBy: { username: 'submitter' },
        githubRepo: 'https://github.com/source/repo',
        projectPage: 'https://source.example',
        authors: [{ name: 'Ada Lovelace' }, { name: 'Grace Hopper' }],
      }),
    ]);
    expect(await links()).toEqual({ githubRepo: 'https://github.com/owner/repo', projectPage: null });
  });

  it('lets a verified author set links, not one whose claim is pending', async () => {
    const grace = await userWithToken(database.db, 'grace');
    const ada = await userWithToken(database.db, 'ada');
    const [admin] = await database.db.insert(users).values({ username: 'admin', role: 'admin' }).returning();
    const authorId = async (name: string) => (await database.db.select().from(authors).where(eq(authors.name, name)))[0]!.id;
    const graceClaim = await claimAuthorship(database.db, { authorId: await authorId('Grace Hopper'), userId: grace.user.id, at: new Date() });
    await decideClaim(database.db, trending, { claimId: graceClaim.id, adminId: admin!.id, decision: 'approved', at: new Date() });
    await claimAuthorship(database.db, { authorId: await authorId('Ada Lovelace'), userId: ada.user.id, at: new Date() });

    const pending = await testApp.request(UPDATE, { paperId, projectPage: 'https://ada.example' }, ada.token);
    expect(errorCodes(pending)).toEqual(['FORBIDDEN']);
    const verified = await testApp.request(UPDATE, { paperId, projectPage: 'https://grace.example' }, grace.token);
    expect(verified.data!.updatePaperLinks.projectPage).toBe('https://grace.example');
    expect(await database.db.$count(paperAuthors, eq(paperAuthors.paperId, paperRowId))).toBe(2);
  });

  it('refuses anyone else, unknown papers and bad links, and writes nothing', async () => {
    const stranger = await userWithToken(database.db, 'stranger');
    const cases: [string, Record<string, unknown>, string | undefined, string, string?][] = [
      ['anonymous', { paperId, projectPage: 'https://x.example' }, undefined, 'UNAUTHENTICATED'],
      ['a stranger', { paperId, projectPage: 'https://x.example' }, stranger.token, 'FORBIDDEN'],
      ['unknown paper', { paperId: globalId('Paper', 999_999), projectPage: 'https://x.example' }, submitter.token, 'NOT_FOUND'],
      ['a User ID', { paperId: globalId('User', submitter.user.id), projectPage: 'https://x.example' }, submitter.token, 'BAD_USER_INPUT'],
      ['nothing to change', { paperId }, submitter.token, 'BAD_USER_INPUT'],
      ['not GitHub', { paperId, githubRepo: 'https://gitlab.com/owner/repo' }, submitter.token, 'BAD_USER_INPUT', 'githubRepo'],
      ['no repository', { paperId, githubRepo: 'https://github.com/owner' }, submitter.token, 'BAD_USER_INPUT', 'githubRepo'],
      ['javascript:', { paperId, projectPage: 'javascript:alert(1)' }, submitter.token, 'BAD_USER_INPUT', 'projectPage'],
      ['too long', { paperId, projectPage: `https://x.example/${'a'.repeat(2000)}` }, submitter.token, 'BAD_USER_INPUT', 'projectPage'],
      ['control character', { paperId, projectPage: 'https://x.example/\u0007' }, submitter.token, 'BAD_USER_INPUT', 'projectPage'],
    ];
    for (const [what, variables, token, code, field] of cases) {
      const response = await testApp.request(UPDATE, variables, token);
      expect(errorCodes(response), what).toEqual([code]);
      expect(response.errors![0]!.message.length, what).toBeGreaterThan(10);
      if (field) expect(response.errors![0]!.extensions!.field, what).toBe(field);
    }
    expect(await links()).toEqual({ githubRepo: 'https://github.com/source/repo', projectPage: null });
    expect((await stored('2511.00003')).linksEditedAt).toBeNull();
  });
});
