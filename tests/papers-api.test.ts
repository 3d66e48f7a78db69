import { desc, eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authors, papers } from '../src/db/schema';
import { trendingScore } from '../src/modules/trending/trending-key';
import { castVotes, paperRecord, savePaperRecords, testConfig } from './support/fixtures';
import { createTestApp } from './support/test-app';
import type { graphqlClient, GraphQLResponse } from './support/graphql-client';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let request: ReturnType<typeof graphqlClient>;
const idOf = new Map<string, number>();
const EXTRA_PAPERS = 25;

beforeAll(async () => {
  database = await createTestDatabase();
  const { db } = database;
  await savePaperRecords(db, [
    paperRecord({
      arxivId: '2511.00001',
      title: 'Alpha: Diffusion for Everything',
      abstract: 'We diffuse.',
      publishedAt: new Date('2025-11-01T12:00:00Z'),
      submittedAt: new Date('2025-11-10T09:00:00Z'),
      submittedBy: { username: 'akhaliq', displayName: 'AK', avatarUrl: 'https://example.org/ak.png' },
      organization: { name: 'OPPO', fullName: 'OPPO Research', avatarUrl: 'https://example.org/oppo.png' },
      authors: [{ name: 'Ada Lovelace' }, { name: 'Alan Turing', hidden: true }],
      keywords: ['Diffusion', 'image generation'],
      githubRepo: 'https://github.com/example/alpha',
      githubStars: 42,
      projectPage: 'https://alpha.example.org',
      thumbnailUrl: 'https://example.org/alpha.png',
      aiSummary: 'Alpha diffuses everything.',
      upvoteBaseline: 5,
      commentCount: 3,
    }),
    paperRecord({
      arxivId: '2511.00002',
      title: 'Beta: Reasoning Agents',
      publishedAt: new Date('2025-11-05T12:00:00Z'),
      submittedAt: new Date('2025-11-12T09:00:00Z'),
      submittedBy: { username: 'akhaliq' },
      organization: { name: 'MIT' },
      authors: [{ name: 'Alan Turing' }],
      keywords: ['reasoning'],
    }),
    paperRecord({
      arxivId: '2510.00003',
      title: 'Gamma: Older Work',
      publishedAt: new Date('2025-10-20T12:00:00Z'),
      submittedAt: new Date('2025-10-25T09:00:00Z'),
      authors: [{ name: 'Grace Hopper' }, { name: 'Ada Lovelace' }],
    }),
    paperRecord({
      arxivId: '2511.00004',
      title: 'Delta: Never Featured',
      publishedAt: new Date('2025-11-11T12:00:00Z'),
      submittedAt: null,
    }),
    ...Array.from({ length: EXTRA_PAPERS }, (_, index) =>
      paperRecord({
        publishedAt: new Date(Date.UTC(2025, 8, 1 + index)),
        submittedAt: new Date(Date.UTC(2025, 8, 2 + index)),
        upvoteBaseline: index % 4,
      }),
    ),
  ]);
  for (const row of await db.select({ id: papers.id, arxivId: papers.arxivId }).from(papers)) {
    idOf.set(row.arxivId, row.id);
  }
  await castVotes(db, [
    { username: 'voter1', paperId: idOf.get('2511.00002')!, at: new Date('2025-11-12T10:00:00Z') },
    { username: 'voter2', paperId: idOf.get('2511.00002')!, at: new Date('2025-11-12T11:00:00Z') },
    { username: 'voter3', paperId: idOf.get('2511.00002')!, at: new Date('2025-11-13T11:00:00Z') },
  ]);
  request = createTestApp(db).request;
});

afterAll(async () => {
  await database.close();
});

const PAPER_FIELDS = `
  id arxivId title abstract authorCount publishedAt submittedAt githubRepo githubStars projectPage
  thumbnailUrl aiSummary keywords upvotes viewerHasUpvoted trendingScore commentCount
  authors { name position author { id name paperCount } }
  submittedBy { username displayName avatarUrl }
  organization { name fullName avatarUrl paperCount }
`;

describe('paper(arxivId)', () => {
  it('returns every field of a paper', async () => {
    const response = await request(`{ paper(arxivId: "2511.00001") { ${PAPER_FIELDS} } }`);
    expect(response.errors).toBeUndefined();
    const paper = response.data!.paper;
    expect(paper).toMatchObject({
      arxivId: '2511.00001',
      title: 'Alpha: Diffusion for Everything',
      abstract: 'We diffuse.',
      authorCount: 2,
      publishedAt: '2025-11-01T12:00:00.000Z',
      submittedAt: '2025-11-10T09:00:00.000Z',
      githubRepo: 'https://github.com/example/alpha',
      githubStars: 42,
      projectPage: 'https://alpha.example.org',
      thumbnailUrl: 'https://example.org/alpha.png',
      aiSummary: 'Alpha diffuses everything.',
      keywords: ['diffusion', 'image generation'],
      upvotes: 5,
      viewerHasUpvoted: false,
      commentCount: 3,
      submittedBy: { username: 'akhaliq', displayName: 'AK', avatarUrl: 'https://example.org/ak.png' },
      organization: { name: 'OPPO', fullName: 'OPPO Research', avatarUrl: 'https://example.org/oppo.png', paperCount: 1 },
    });
    expect(paper.authors.map((author: any) => [author.name, author.position])).toEqual([
      ['Ada Lovelace', 0],
      ['Alan Turing', 1],
    ]);
    // Ada is listed on two papers; Alan hid this one, so only Beta counts for him.
    expect(paper.authors.map((author: any) => author.author.paperCount)).toEqual([2, 1]);
    const [stored] = await database.db.select().from(papers).where(eq(papers.arxivId, '2511.00001'));
    expect(paper.trendingScore).toBeGreaterThan(0);
    expect(paper.trendingScore).toBeLessThan(trendingScore(stored!.trendingKey, new Date('2025-11-10T09:00:00Z'), testConfig.trending) + 1e-9);
  });

  it('ignores a version suffix and answers null for an unknown id', async () => {
    const response = await request(`{ versioned: paper(arxivId: "2511.00001v3") { arxivId } unknown: paper(arxivId: "2401.99999") { arxivId } }`);
    expect(response.data).toEqual({ versioned: { arxivId: '2511.00001' }, unknown: null });
  });
});

async function walkForward(query: (after: string | null) => Promise<any>) {
  const seen: string[] = [];
  let after: string | null = null;
  for (let pages = 0; pages < 50; pages += 1) {
    const connection = await query(after);
    seen.push(...connection.edges.map((edge: any) => edge.node.arxivId));
    if (!connection.pageInfo.hasNextPage) return seen;
    after = connection.pageInfo.endCursor;
  }
  throw new Error('pagination did not end');
}

describe('papers(orderBy)', () => {
  const expectedOrder = async (orderBy: string) => {
    const rows = await database.db.select().from(papers);
    const key = {
      TRENDING: (paper: (typeof rows)[number]) => paper.trendingKey,
      UPVOTES: (paper: (typeof rows)[number]) => paper.upvoteCount,
      PUBLISHED_AT: (paper: (typeof rows)[number]) => paper.publishedAt.getTime(),
      SUBMITTED_AT: (paper: (typeof rows)[number]) => paper.submittedAt?.getTime() ?? -Infinity,
    }[orderBy]!;
    return rows.sort((a, b) => key(b) - key(a) || b.id - a.id).map((paper) => paper.arxivId);
  };

  it.each(['TRENDING', 'UPVOTES', 'PUBLISHED_AT', 'SUBMITTED_AT'])(
    'pages forward through every paper in %s order without skipping or repeating',
    async (orderBy) => {
      const seen = await walkForward(async (after) => {
        const response = await request(
          `query($after: String) { papers(first: 7, after: $after, orderBy: ${orderBy}) { totalCount edges { cursor node { arxivId } } pageInfo { hasNextPage hasPreviousPage endCursor startCursor } } }`,
          { after },
        );
        expect(response.errors).toBeUndefined();
        expect(response.data!.papers.totalCount).toBe(4 + EXTRA_PAPERS);
        expect(response.data!.papers.pageInfo.hasPreviousPage).toBe(after !== null);
        return response.data!.papers;
      });
      expect(seen).toEqual(await expectedOrder(orderBy));
    },
  );

  it('pages backward with last/before', async () => {
    const all = await expectedOrder('UPVOTES');
    const seen: string[] = [];
    let before: string | null = null;
    for (;;) {
      const response: GraphQLResponse = await request(
        `query($before: String) { papers(last: 6, before: $before, orderBy: UPVOTES) { edges { node { arxivId } } pageInfo { hasPreviousPage startCursor hasNextPage } } }`,
        { before },
      );
      const connection: any = response.data!.papers;
      seen.unshift(...connection.edges.map((edge: any) => edge.node.arxivId));
      expect(connection.pageInfo.hasNextPage).toBe(before !== null);
      if (!connection.pageInfo.hasPreviousPage) break;
      before = connection.pageInfo.startCursor;
    }
    expect(seen).toEqual(all);
  });

  it('orders trending by the stored key, which votes raised for Beta', async () => {
    const response = await request(`{ trendingPapers(first: 3) { edges { node { arxivId upvotes trendingScore } } } }`);
    const nodes = response.data!.trendingPapers.edges.map((edge: any) => edge.node);
    const [top] = await database.db.select().from(papers).orderBy(desc(papers.trendingKey), desc(papers.id)).limit(1);
    expect(nodes[0].arxivId).toBe(top!.arxivId);
    expect(nodes.map((node: any) => node.trendingScore)).toEqual([...nodes.map((node: any) => node.trendingScore)].sort((a, b) => b - a));
    const beta = (await request(`{ paper(arxivId: "2511.00002") { upvotes } }`)).data!.paper;
    expect(beta.upvotes).toBe(3);
  });

  it('returns an empty page for first: 0 that still counts and says more follow', async () => {
    const response = await request(`{ papers(first: 0) { totalCount edges { cursor } pageInfo { hasNextPage startCursor } } }`);
    expect(response.data!.papers).toEqual({ totalCount: 29, edges: [], pageInfo: { hasNextPage: true, startCursor: null } });
  });
});

describe('papers(filter)', () => {
  const arxivIds = async (filter: string) => {
    const response = await request(`{ papers(first: 100, orderBy: PUBLISHED_AT, filter: ${filter}) { totalCount edges { node { arxivId } } } }`);
    expect(response.errors).toBeUndefined();
    const ids = response.data!.papers.edges.map((edge: any) => edge.node.arxivId);
    expect(response.data!.papers.totalCount).toBe(ids.length);
    return ids;
  };

  it('filters by organization, submitter, keyword and publication time', async () => {
    expect(await arxivIds('{ organization: "OPPO" }')).toEqual(['2511.00001']);
    expect(await arxivIds('{ organization: "Nobody" }')).toEqual([]);
    expect(await arxivIds('{ submittedBy: "AKHALIQ" }')).toEqual(['2511.00002', '2511.00001']);
    expect(await arxivIds('{ keyword: "Diffusion" }')).toEqual(['2511.00001']);
    expect(await arxivIds('{ publishedAfter: "2025-11-01T12:00:00Z", publishedBefore: "2025-11-11T12:00:00Z" }')).toEqual(['2511.00002', '2511.00001']);
    expect(await arxivIds('{ organization: "MIT", keyword: "diffusion" }')).toEqual([]);
  });

  it('filters by author, leaving out papers the author hid', async () => {
    const [alan] = await database.db.select().from(authors).where(eq(authors.name, 'Alan Turing'));
    const alanId = Buffer.from(`Author:${alan!.id}`).toString('base64');
    expect(await arxivIds(`{ authorId: "${alanId}" }`)).toEqual(['2511.00002']);
  });
});

describe('dailyPapers', () => {
  const feed = async (selector: string) => {
    const response = await request(`{ dailyPapers(${selector}, first: 100) { totalCount edges { node { arxivId upvotes } } } }`);
    expect(response.errors).toBeUndefined();
    return response.data!.dailyPapers.edges.map((edge: any) => edge.node.arxivId);
  };

  it('serves a UTC day, an ISO week and a month, most upvoted first', async () => {
    expect(await feed('date: "2025-11-12"')).toEqual(['2511.00002']);
    expect(await feed('date: "2025-11-11"')).toEqual([]);
    // 2025-W46 runs from Monday 10 to Sunday 16 November; Alpha has 5 upvotes, Beta 3.
    expect(await feed('week: "2025-W46"')).toEqual(['2511.00001', '2511.00002']);
    expect(await feed('month: "2025-10"')).toEqual(['2510.00003']);
  });

  it('takes another order', async () => {
    const response = await request(`{ dailyPapers(week: "2025-W46", orderBy: SUBMITTED_AT) { edges { node { arxivId } } } }`);
    expect(response.data!.dailyPapers.edges.map((edge: any) => edge.node.arxivId)).toEqual(['2511.00002', '2511.00001']);
  });
});

describe('node, nodes, author, organization, user, viewer', () => {
  it('fetches objects by global ID and nulls for unknown ones', async () => {
    const paper = (await request(`{ paper(arxivId: "2511.00001") { id organization { id } submittedBy { id } authors { author { id } } } }`)).data!.paper;
    const unknownPaper = Buffer.from('Paper:999999').toString('base64');
    const unknownType = Buffer.from('Spaceship:1').toString('base64');
    const response = await request(
      `query($ids: [ID!]!, $paper: ID!) {
        node(id: $paper) { id ... on Paper { arxivId } }
        nodes(ids: $ids) { __typename id ... on Organization { name } ... on User { username } ... on Author { name } }
      }`,
      { paper: paper.id, ids: [paper.organization.id, paper.submittedBy.id, paper.authors[0].author.id, unknownPaper, unknownType] },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.node).toEqual({ id: paper.id, arxivId: '2511.00001' });
    expect(response.data!.nodes).toEqual([
      { __typename: 'Organization', id: paper.organization.id, name: 'OPPO' },
      { __typename: 'User', id: paper.submittedBy.id, username: 'akhaliq' },
      { __typename: 'Author', id: paper.authors[0].author.id, name: 'Ada Lovelace' },
      null,
      null,
    ]);
  });

  it('serves author, organization and user pages with their papers', async () => {
    const paper = (await request(`{ paper(arxivId: "2511.00001") { authors { author { id } } } }`)).data!.paper;
    const response = await request(
      `query($author: ID!) {
        author(id: $author) { name paperCount user { username } papers(first: 10) { totalCount edges { node { arxivId } } } }
        organization(name: "OPPO") { name paperCount papers { edges { node { arxivId } } } }
        missingOrganization: organization(name: "nope") { name }
        user(username: "AkHaLiQ") { username submittedPapers(first: 10) { totalCount edges { node { arxivId } } } }
        byUpvotes: user(username: "akhaliq") { submittedPapers(orderBy: UPVOTES) { edges { node { arxivId upvotes } } } }
        missingUser: user(username: "nobody") { username }
        viewer { username }
      }`,
      { author: paper.authors[0].author.id },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data).toEqual({
      author: {
        name: 'Ada Lovelace',
        paperCount: 2,
        user: null,
        papers: { totalCount: 2, edges: [{ node: { arxivId: '2511.00001' } }, { node: { arxivId: '2510.00003' } }] },
      },
      organization: { name: 'OPPO', paperCount: 1, papers: { edges: [{ node: { arxivId: '2511.00001' } }] } },
      missingOrganization: null,
      user: {
        username: 'akhaliq',
        submittedPapers: { totalCount: 2, edges: [{ node: { arxivId: '2511.00002' } }, { node: { arxivId: '2511.00001' } }] },
      },
      byUpvotes: {
        submittedPapers: { edges: [{ node: { arxivId: '2511.00001', upvotes: 5 } }, { node: { arxivId: '2511.00002', upvotes: 3 } }] },
      },
      missingUser: null,
      viewer: null,
    });
  });

  it('answers null for an unknown author', async () => {
    const response = await request(`query($id: ID!) { author(id: $id) { name } }`, {
      id: Buffer.from('Author:987654').toString('base64'),
    });
    expect(response).toMatchObject({ status: 200, data: { author: null } });
  });
});
