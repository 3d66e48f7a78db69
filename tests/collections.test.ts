import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { collectionPapers, collections, papers } from '../src/db/schema';
import { paperRecord, savePaperRecords, testConfig, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
let clock = Date.parse('2025-11-12T12:00:00Z');
let ada: string;
let bob: string;
let paperIds: string[];

const globalId = (type: string, id: number) => Buffer.from(`${type}:${id}`).toString('base64');

const COLLECTION_FIELDS = `id name description isPublic paperCount updatedAt owner { username }
  papers(first: 10) { totalCount edges { note position node { arxivId collectionCount } } }`;

const CREATE = `mutation($input: CreateCollectionInput!) { createCollection(input: $input) { ${COLLECTION_FIELDS} } }`;
const UPDATE = `mutation($id: ID!, $input: UpdateCollectionInput!) { updateCollection(id: $id, input: $input) { ${COLLECTION_FIELDS} } }`;
const ADD = `mutation($c: ID!, $p: ID!, $note: String) { addPaperToCollection(collectionId: $c, paperId: $p, note: $note) { ${COLLECTION_FIELDS} } }`;
const REMOVE = `mutation($c: ID!, $p: ID!) { removePaperFromCollection(collectionId: $c, paperId: $p) { ${COLLECTION_FIELDS} } }`;
const MOVE = `mutation($c: ID!, $p: ID!, $position: Int!) { movePaperInCollection(collectionId: $c, paperId: $p, position: $position) { ${COLLECTION_FIELDS} } }`;
const DELETE = `mutation($id: ID!) { deleteCollection(id: $id) }`;
const READ = `query($id: ID!) { node(id: $id) { ... on Collection { ${COLLECTION_FIELDS} } } collection(id: $id) { id } }`;
const OF_USER = `query($username: String!) { user(username: $username) { collections(first: 10) { totalCount edges { node { name isPublic } } } } }`;

async function ok(query: string, variables: Record<string, unknown>, token?: string) {
  const response = await testApp.request(query, variables, token);
  expect(response.errors).toBeUndefined();
  return response.data!;
}

async function create(name: string, isPublic: boolean, token = ada) {
  return (await ok(CREATE, { input: { name, isPublic } }, token)).createCollection as { id: string };
}

const arxivIdsOf = (collection: any) => collection.papers.edges.map((edge: any) => edge.node.arxivId);

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db, {
    clock: () => {
      clock += 1000;
      return new Date(clock);
    },
  });
  await savePaperRecords(
    database.db,
    Array.from({ length: 5 }, (_, index) => paperRecord({ arxivId: `2511.4000${index}` })),
  );
  const rows = await database.db.select({ id: papers.id }).from(papers).orderBy(papers.arxivId);
  paperIds = rows.map((row) => globalId('Paper', row.id));
  ada = (await userWithToken(database.db, 'ada')).token;
  bob = (await userWithToken(database.db, 'bob')).token;
});

afterAll(async () => {
  await testApp?.close();
  await database?.close();
});

describe('collections', () => {
  it('are made, renamed, described, filled with noted papers, reordered and deleted by their owner', async () => {
    const made = (await ok(CREATE, { input: { name: '  Reading\n list ', description: 'Papers\r\nto read', isPublic: true } }, ada)).createCollection;
    expect(made).toMatchObject({ name: 'Reading list', description: 'Papers\nto read', isPublic: true, paperCount: 0, owner: { username: 'ada' } });

    for (const [index, paperId] of paperIds.slice(0, 4).entries()) {
      await ok(ADD, { c: made.id, p: paperId, note: index === 0 ? 'Read first' : null }, ada);
    }
    let collection = (await ok(READ, { id: made.id })).node;
    expect(arxivIdsOf(collection)).toEqual(['2511.40000', '2511.40001', '2511.40002', '2511.40003']);
    expect(collection.papers.edges.map((edge: any) => [edge.position, edge.note])).toEqual([
      [0, 'Read first'],
      [1, null],
      [2, null],
      [3, null],
    ]);
    expect(collection.paperCount).toBe(4);
    expect(collection.papers.totalCount).toBe(4);

    // Adding again keeps the place and replaces the note.
    collection = (await ok(ADD, { c: made.id, p: paperIds[2], note: 'Key result' }, ada)).addPaperToCollection;
    expect(collection.papers.edges[2]).toMatchObject({ position: 2, note: 'Key result' });

    collection = (await ok(MOVE, { c: made.id, p: paperIds[3], position: 0 }, ada)).movePaperInCollection;
    expect(arxivIdsOf(collection)).toEqual(['2511.40003', '2511.40000', '2511.40001', '2511.40002']);
    collection = (await ok(MOVE, { c: made.id, p: paperIds[3], position: 99 }, ada)).movePaperInCollection;
    expect(arxivIdsOf(collection)).toEqual(['2511.40000', '2511.40001', '2511.40002', '2511.40003']);
    collection = (await ok(MOVE, { c: made.id, p: paperIds[0], position: 2 }, ada)).movePaperInCollection;
    expect(arxivIdsOf(collection)).toEqual(['2511.40001', '2511.40002', '2511.40000', '2511.40003']);
    expect(collection.papers.edges.map((edge: any) => edge.position)).toEqual([0, 1, 2, 3]);

    collection = (await ok(REMOVE, { c: made.id, p: paperIds[2] }, ada)).removePaperFromCollection;
    expect(arxivIdsOf(collection)).toEqual(['2511.40001', '2511.40000', '2511.40003']);
    // Removing what is not there changes nothing.
    collection = (await ok(REMOVE, { c: made.id, p: paperIds[2] }, ada)).removePaperFromCollection;
    expect(collection.paperCount).toBe(3);

    collection = (await ok(UPDATE, { id: made.id, input: { name: 'Must read', description: null } }, ada)).updateCollection;
    expect(collection).toMatchObject({ name: 'Must read', description: null, isPublic: true });
    collection = (await ok(UPDATE, { id: made.id, input: { description: 'Now described' } }, ada)).updateCollection;
    expect(collection).toMatchObject({ name: 'Must read', description: 'Now described' });

    expect((await ok(DELETE, { id: made.id }, ada)).deleteCollection).toBe(made.id);
    expect((await ok(READ, { id: made.id }, ada)).node).toBeNull();
    expect(
      await database.db.$count(collectionPapers, eq(collectionPapers.collectionId, Number(Buffer.from(made.id, 'base64').toString().split(':')[1]))),
    ).toBe(0);
  });

  it('page through their papers with keyset cursors', async () => {
    const { id } = await create('Paged', true);
    for (const paperId of paperIds) await ok(ADD, { c: id, p: paperId }, ada);
    const PAGE = `query($id: ID!, $after: String) { collection(id: $id) { papers(first: 2, after: $after) {
      edges { node { arxivId } } pageInfo { hasNextPage endCursor } } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: any = (await ok(PAGE, { id, after })).collection.papers;
      seen.push(...page.edges.map((edge: any) => edge.node.arxivId));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(seen).toEqual(['2511.40000', '2511.40001', '2511.40002', '2511.40003', '2511.40004']);
  });

  it('keep a private collection from everyone but its owner', async () => {
    const secret = await create('Secret', false, bob);
    const shown = await create('Shown', true, bob);
    await ok(ADD, { c: secret.id, p: paperIds[4] }, bob);
    await ok(ADD, { c: shown.id, p: paperIds[3] }, bob);

    for (const token of [undefined, ada]) {
      const read = await ok(READ, { id: secret.id }, token);
      expect(read).toEqual({ node: null, collection: null });
      const listed = (await ok(OF_USER, { username: 'bob' }, token)).user.collections;
      expect(listed).toEqual({ totalCount: 1, edges: [{ node: { name: 'Shown', isPublic: true } }] });
    }
    expect((await ok(READ, { id: secret.id }, bob)).node).toMatchObject({ name: 'Secret', isPublic: false, paperCount: 1 });
    expect((await ok(OF_USER, { username: 'bob' }, bob)).user.collections.totalCount).toBe(2);

    // Counts take public collections only, whoever asks.
    const COUNTS = `query($ids: [ID!]!) { nodes(ids: $ids) { ... on Paper { arxivId collectionCount } } }`;
    const counts = async (token?: string) =>
      Object.fromEntries(
        ((await ok(COUNTS, { ids: [paperIds[3], paperIds[4]] }, token)).nodes as any[]).map((paper) => [paper.arxivId, paper.collectionCount]),
      );
    const before = await counts(bob);
    expect(before['2511.40004']).toBe((await counts())['2511.40004']);

    // Made public, it shows; made private again, it is gone.
    await ok(UPDATE, { id: secret.id, input: { isPublic: true } }, bob);
    expect((await ok(READ, { id: secret.id })).collection).toEqual({ id: secret.id });
    expect((await counts())['2511.40004']).toBe(before['2511.40004'] + 1);
    await ok(UPDATE, { id: secret.id, input: { isPublic: false } }, bob);
    expect((await ok(READ, { id: secret.id })).collection).toBeNull();
    expect((await counts())['2511.40004']).toBe(before['2511.40004']);
  });

  it('refuse changes by anyone but the owner: NOT_FOUND for a private one, FORBIDDEN for a public one, and change nothing', async () => {
    const secret = await create('Private to ada', false);
    const shown = await create('Public of ada', true);
    await ok(ADD, { c: shown.id, p: paperIds[0] }, ada);
    const before = await database.db.select().from(collections).orderBy(collections.id);
    const attempts: [string, Record<string, unknown>][] = [
      [UPDATE, { input: { name: 'Mine now' } }],
      [ADD, { p: paperIds[1] }],
      [REMOVE, { p: paperIds[0] }],
      [MOVE, { p: paperIds[0], position: 0 }],
      [DELETE, {}],
    ];
    for (const [mutation, variables] of attempts) {
      for (const [target, code] of [
        [secret.id, 'NOT_FOUND'],
        [shown.id, 'FORBIDDEN'],
        [globalId('Collection', 999999), 'NOT_FOUND'],
      ] as const) {
        const response = await testApp.request(mutation, { ...variables, id: target, c: target }, bob);
        expect(errorCodes(response)).toEqual([code]);
      }
      expect(errorCodes(await testApp.request(mutation, { ...variables, id: shown.id, c: shown.id }))).toEqual(['UNAUTHENTICATED']);
    }
    expect(await database.db.select().from(collections).orderBy(collections.id)).toEqual(before);
    expect(errorCodes(await testApp.request(CREATE, { input: { name: 'x', isPublic: true } }))).toEqual(['UNAUTHENTICATED']);
  });

  it('refuse bad input with BAD_USER_INPUT, naming the field, and write nothing', async () => {
    const { id } = await create('Valid', true);
    await ok(ADD, { c: id, p: paperIds[0], note: 'kept' }, ada);
    const collectionsBefore = await database.db.select().from(collections).orderBy(collections.id);
    const papersBefore = await database.db.select().from(collectionPapers);
    const cases: [string, Record<string, unknown>, string | RegExp][] = [
      [CREATE, { input: { name: '   ', isPublic: true } }, 'Invalid name: may not be blank.'],
      [CREATE, { input: { name: 'x'.repeat(101), isPublic: true } }, 'Invalid name: at most 100 characters, got 101.'],
      [CREATE, { input: { name: 'bell\u0007', isPublic: true } }, /^Invalid name: control characters are not allowed/],
      [CREATE, { input: { name: 'ok', description: 'd'.repeat(2001), isPublic: true } }, 'Invalid description: at most 2,000 characters, got 2,001.'],
      [UPDATE, { id, input: { name: '' } }, 'Invalid name: may not be blank.'],
      [UPDATE, { id, input: { description: 'bad\u001b[31m' } }, /^Invalid description: control characters other than tab and newline/],
      [ADD, { c: id, p: paperIds[1], note: 'n'.repeat(2001) }, 'Invalid note: at most 2,000 characters, got 2,001.'],
      [ADD, { c: id, p: paperIds[0], note: '\ud800' }, /^Invalid note: not valid Unicode text/],
      [MOVE, { c: id, p: paperIds[0], position: -1 }, '`position` must be 0 or more, got -1.'],
      [ADD, { c: id, p: globalId('Author', 1) }, /Paper/],
    ];
    for (const [mutation, variables, message] of cases) {
      const response = await testApp.request(mutation, variables, ada);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      expect(response.errors![0]!.message).toMatch(message);
    }
    expect(errorCodes(await testApp.request(ADD, { c: id, p: globalId('Paper', 999999) }, ada))).toEqual(['NOT_FOUND']);
    expect(errorCodes(await testApp.request(MOVE, { c: id, p: paperIds[3], position: 0 }, ada))).toEqual(['NOT_FOUND']);
    expect(await database.db.select().from(collections).orderBy(collections.id)).toEqual(collectionsBefore);
    expect(await database.db.select().from(collectionPapers)).toEqual(papersBefore);
  });

  it('give concurrent additions distinct positions', async () => {
    const { id } = await create('Busy', true);
    const responses = await Promise.all(paperIds.map((paperId) => testApp.request(ADD, { c: id, p: paperId }, ada)));
    for (const response of responses) expect(response.errors).toBeUndefined();
    const collection = (await ok(READ, { id })).node;
    expect(collection.papers.edges.map((edge: any) => edge.position).sort()).toEqual([0, 1, 2, 3, 4]);
  });

  it('are mutations under the mutation rate limit', async () => {
    const limited = createTestApp(database.db, { config: loadConfig({ ...testConfigEnv, MUTATION_RATE_LIMIT_PER_MINUTE: '2' }) });
    try {
      const CREATE_NAME = `mutation { createCollection(input: { name: "limited", isPublic: false }) { id } }`;
      expect((await limited.request(CREATE_NAME, {}, ada)).errors).toBeUndefined();
      expect((await limited.request(CREATE_NAME, {}, ada)).errors).toBeUndefined();
      const refused = await limited.request(CREATE_NAME, {}, ada);
      expect(refused.errors![0]!.extensions).toMatchObject({ code: 'RATE_LIMITED', retryAfter: expect.any(Number) });
    } finally {
      await limited.close();
    }
  });
});

const testConfigEnv = { LOG_LEVEL: 'silent', PASSWORD_HASH_COST: String(testConfig.passwordHashCost) };
