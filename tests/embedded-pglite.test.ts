import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runJob } from '../jobs/registry';
import { openDatabase, type DatabaseHandle } from '../src/db/client';
import { loadConfig } from '../src/config';
import { createLogger } from '../src/logger';
import { loadDemoData } from '../src/demo/load-demo-data';
import { searchPapers } from '../src/modules/search/search.queries';
import { fitSearchModel } from '../src/modules/search/semantic-index';
import { trending } from './support/fixtures';
import { createTestApp } from './support/test-app';
import type { graphqlClient } from './support/graphql-client';

// The same migrations and queries on the embedded database the newcomer's `npm start` uses.
let handle: DatabaseHandle;
let dataDir: string;
let request: ReturnType<typeof graphqlClient>;
const now = new Date('2025-11-20T12:00:00Z');

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(tmpdir(), 'papers-pglite-'));
  handle = openDatabase({ url: undefined, dataDir });
  await handle.migrate();
  await handle.migrate(); // a second start finds nothing to apply
  await loadDemoData(handle.db, trending, { paperCount: 100, now });
  request = createTestApp(handle.db).request;
  // Creating a PGlite database (initdb in WebAssembly) and migrating it is 5 to 10 s of CPU: over a minute on a loaded 2-core machine.
}, 180_000);

afterAll(async () => {
  await handle.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('main queries on PGlite', () => {
  it('pages through trending with cursors', async () => {
    const first = await request(
      '{ trendingPapers(first: 30) { totalCount edges { node { arxivId trendingScore } } pageInfo { endCursor hasNextPage } } }',
    );
    expect(first.errors).toBeUndefined();
    expect(first.data!.trendingPapers.totalCount).toBe(100);
    const second = await request('query($after: String) { trendingPapers(first: 30, after: $after) { edges { node { arxivId trendingScore } } } }', {
      after: first.data!.trendingPapers.pageInfo.endCursor,
    });
    const scores = [...first.data!.trendingPapers.edges, ...second.data!.trendingPapers.edges].map((edge: any) => edge.node.trendingScore);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const ids = [...first.data!.trendingPapers.edges, ...second.data!.trendingPapers.edges].map((edge: any) => edge.node.arxivId);
    expect(new Set(ids).size).toBe(60);
  });

  it('serves every order, the daily feeds, a paper and its authors and organization', async () => {
    const response = await request(`{
      submitted: papers(first: 3, orderBy: SUBMITTED_AT) { edges { node { submittedAt } } }
      published: papers(first: 3, orderBy: PUBLISHED_AT) { edges { node { publishedAt } } }
      upvoted: papers(first: 3, orderBy: UPVOTES) { edges { node { upvotes } } }
      month: dailyPapers(month: "2025-11") { totalCount }
      week: dailyPapers(week: "2025-W47") { totalCount }
      day: dailyPapers(date: "2025-11-19") { totalCount edges { node { upvotes } } }
    }`);
    expect(response.errors).toBeUndefined();
    const data = response.data!;
    for (const [name, field] of [
      ['submitted', 'submittedAt'],
      ['published', 'publishedAt'],
      ['upvoted', 'upvotes'],
    ] as const) {
      const values = data[name].edges.map((edge: any) => edge.node[field]);
      expect(values).toEqual([...values].sort((a, b) => (a < b ? 1 : a > b ? -1 : 0)));
    }
    expect(data.month.totalCount).toBeGreaterThan(data.week.totalCount);
    expect(data.week.totalCount).toBeGreaterThan(0);
    const dayVotes = data.day.edges.map((edge: any) => edge.node.upvotes);
    expect(dayVotes).toEqual([...dayVotes].sort((a: number, b: number) => b - a));

    const top = (await request('{ trendingPapers(first: 1) { edges { node { arxivId organization { name } authors { author { id } } } } } }')).data!
      .trendingPapers.edges[0].node;
    const detail = await request(
      `query($arxivId: String!, $author: ID!, $organization: String!) {
        paper(arxivId: $arxivId) { title authorCount }
        author(id: $author) { name paperCount papers(first: 5) { totalCount } }
        organization(name: $organization) { paperCount papers(first: 5) { edges { node { arxivId } } } }
        node(id: $author) { id }
      }`,
      { arxivId: top.arxivId, author: top.authors[0].author.id, organization: top.organization?.name ?? 'none' },
    );
    expect(detail.errors).toBeUndefined();
    expect(detail.data!.paper.authorCount).toBe(top.authors.length);
    expect(detail.data!.author.papers.totalCount).toBe(detail.data!.author.paperCount);
    expect(detail.data!.node.id).toBe(top.authors[0].author.id);
  });

  it('searches with full text, typos and snippets', async () => {
    const top = (await request('{ trendingPapers(first: 1) { edges { node { arxivId title } } } }')).data!.trendingPapers.edges[0].node;
    const exact = await request('query($q: String!) { searchPapers(query: $q, first: 3) { totalCount edges { snippet node { arxivId } } } }', {
      q: top.title,
    });
    expect(exact.errors).toBeUndefined();
    expect(exact.data!.searchPapers.edges[0].node.arxivId).toBe(top.arxivId);
    expect(exact.data!.searchPapers.edges[0].snippet).toEqual(expect.any(String));
    // Drop one letter of the longest word of the title: trigram similarity still finds it.
    const longest = top.title.split(/\W+/).sort((a: string, b: string) => b.length - a.length)[0];
    const typo = top.title.replace(longest, longest.slice(0, 2) + longest.slice(3));
    const fuzzy = await request('query($q: String!) { searchPapers(query: $q, first: 5) { edges { node { arxivId } } } }', { q: typo });
    expect(fuzzy.data!.searchPapers.edges.map((edge: any) => edge.node.arxivId)).toContain(top.arxivId);
  });

  it('fits the semantic model, folds accents and answers a query the lexical search misses', async () => {
    const fit = await fitSearchModel(handle.db, { dimensions: 16 });
    expect(fit.papers).toBe(100);
    const top = (await request('{ trendingPapers(first: 1) { edges { node { arxivId title } } } }')).data!.trendingPapers.edges[0].node;
    // The title without its acronym and with words no paper has: every word is required, and they take the query
    // too far from the title for a close spelling, so the lexical search misses it; the semantic layer reads the known words.
    const query = `${top.title.replace(/^[^:]*:\s*/, '')} zqxjv wplmk trbgh qwfpz xkcdv jjzzq vbnmx pqpqk`;
    const first10 = { direction: 'forward', size: 10, cursor: null } as const;
    expect((await searchPapers(handle.db, query, first10)).rows.map((row) => row.arxivId)).not.toContain(top.arxivId);
    const response = await request('query($q: String!) { searchPapers(query: $q, first: 10) { edges { node { arxivId } } } }', { q: query });
    expect(response.errors).toBeUndefined();
    expect(response.data!.searchPapers.edges.map((edge: any) => edge.node.arxivId)).toContain(top.arxivId);
    // unaccent is there too: an accented query finds the unaccented title.
    const accented = await request('query($q: String!) { searchPapers(query: $q, first: 1) { edges { node { arxivId } } } }', {
      q: top.title.replace(/[aeo]/, (vowel: string) => ({ a: 'á', e: 'é', o: 'ö' })[vowel]!),
    });
    expect(accented.data!.searchPapers.edges[0].node.arxivId).toBe(top.arxivId);
  });

  it('searches names and words together, organizations and arXiv ids the same way', async () => {
    const search = 'query($q: String!) { searchPapers(query: $q, first: 10) { searchHint { found } edges { node { arxivId } } } }';
    const found = async (q: string) => {
      const response = await request(search, { q });
      expect(response.errors).toBeUndefined();
      return response.data!.searchPapers;
    };
    const top = (await request('{ trendingPapers(first: 1) { edges { node { arxivId title authors { name } organization { fullName } } } } }')).data!
      .trendingPapers.edges[0].node;
    const lastName = top.authors[0].name.split(' ').at(-1);
    const longest = top.title.split(/\W+/).sort((a: string, b: string) => b.length - a.length)[0];
    const ids = (connection: any) => connection.edges.map((edge: any) => edge.node.arxivId);
    expect(ids(await found(`${lastName} ${longest.toLowerCase()}`))).toContain(top.arxivId);
    if (top.organization) expect(ids(await found(`${top.organization.fullName} ${longest}`))).toContain(top.arxivId);
    const byId = await found(`https://arxiv.org/abs/${top.arxivId}v2`);
    expect(ids(byId)).toEqual([top.arxivId]);
    expect(byId.searchHint).toEqual({ found: true });
  });

  it('signs up and upvotes, with exact counts under concurrent votes', async () => {
    const signUp = await request('mutation { signUp(username: "pglite-user", email: "pglite@example.org", password: "correct horse") { token } }');
    expect(signUp.errors).toBeUndefined();
    const { token } = signUp.data!.signUp;
    const paper = (await request('{ papers(first: 1, orderBy: PUBLISHED_AT) { edges { node { id upvotes } } } }')).data!.papers.edges[0].node;
    const votes = await Promise.all(
      Array.from({ length: 5 }, () => request('mutation($id: ID!) { upvotePaper(paperId: $id) { upvotes viewerHasUpvoted } }', { id: paper.id }, token)),
    );
    expect(votes.map((vote) => vote.errors)).toEqual([undefined, undefined, undefined, undefined, undefined]);
    expect(votes.map((vote) => vote.data!.upvotePaper.upvotes)).toEqual(Array(5).fill(paper.upvotes + 1));
    const removed = await request('mutation($id: ID!) { removeUpvote(paperId: $id) { upvotes viewerHasUpvoted } }', { id: paper.id }, token);
    expect(removed.data!.removeUpvote).toEqual({ upvotes: paper.upvotes, viewerHasUpvoted: false });
  });

  it('follows, reads the following feed and makes notifications (stored tsquery, set-based fan-out)', async () => {
    const signUp = await request('mutation { signUp(username: "pglite-follower", email: "follower@example.org", password: "correct horse") { token } }');
    const { token } = signUp.data!.signUp;
    const top = (await request('{ papers(first: 1, orderBy: PUBLISHED_AT) { edges { node { id arxivId title keywords } } } }')).data!.papers.edges[0]
      .node;
    const word = top.title.split(/\W+/).sort((a: string, b: string) => b.length - a.length)[0];
    for (const input of [{ keyword: top.keywords[0] }, { search: { query: word, filter: { excludeCategories: ['hep-th'] } } }]) {
      const followed = await request('mutation($input: FollowInput!) { follow(input: $input) { id } }', { input }, token);
      expect(followed.errors).toBeUndefined();
    }
    const feed = await request('{ viewer { followingFeed(first: 100) { totalCount edges { node { arxivId } } } } }', {}, token);
    expect(feed.errors).toBeUndefined();
    expect(feed.data!.viewer.followingFeed.edges.map((edge: { node: { arxivId: string } }) => edge.node.arxivId)).toContain(top.arxivId);
    const paperId = Number(Buffer.from(top.id, 'base64').toString().split(':')[1]);
    const dependencies = { db: handle.db, config: loadConfig({ LOG_LEVEL: 'silent' }), logger: createLogger('silent') };
    await runJob('notify', { kind: 'NEW_PAPER', paperIds: [paperId] }, dependencies);
    await runJob('notify', { kind: 'NEW_PAPER', paperIds: [paperId] }, dependencies);
    const inbox = await request(
      '{ viewer { unreadNotificationCount notifications(first: 5) { edges { node { kind paper { arxivId } } } } } }',
      {},
      token,
    );
    expect(inbox.data!.viewer).toEqual({
      unreadNotificationCount: 1,
      notifications: { edges: [{ node: { kind: 'NEW_PAPER', paper: { arxivId: top.arxivId } } }] },
    });
  });
});
