import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { papers } from '../src/db/schema';
import { parseSearchTerms } from '../src/modules/search/search-terms';
import { paperRecord, savePaperRecords } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

/** One query mixing author names, organization names, title and abstract words: every word must match somewhere. */

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;

const SEARCH = `query($q: String!, $first: Int) {
  searchPapers(query: $q, first: $first) { totalCount edges { node { arxivId title } } }
}`;

const oppo = { name: 'OPPO', fullName: 'OPPO AI Center' };

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
  await savePaperRecords(database.db, [
    paperRecord({
      arxivId: '2601.10001',
      title: 'Prioritized Experience Replay Revisited',
      abstract: 'Sampling transitions by their temporal-difference error.',
      authors: [{ name: 'Sepp Hochreiter' }, { name: 'Ada Lovelace' }],
    }),
    paperRecord({
      arxivId: '2601.10002',
      title: 'Long Memory in Recurrent Networks',
      abstract: 'Gates keep a memory cell over long spans; prioritization of updates is future work.',
      authors: [{ name: 'Sepp Hochreiter' }],
    }),
    paperRecord({
      arxivId: '2601.10003',
      title: 'Prioritization of Tasks for Agents',
      abstract: 'Scheduling agents by urgency.',
      authors: [{ name: 'Grace Hopper' }],
    }),
    paperRecord({
      arxivId: '2601.10004',
      title: 'Unsupervised Pre-training of Sequence Models',
      abstract: 'History compression.',
      authors: [{ name: 'Jurgen Schmidhuber' }],
    }),
    paperRecord({
      arxivId: '2601.10005',
      title: 'Reinforced Zero-Knowledge Proofs',
      abstract: 'Interactive proofs.',
      authors: [{ name: 'Shafi Goldwasser' }],
    }),
    paperRecord({ arxivId: '2601.10006', title: 'Phone Camera Diffusion', abstract: 'Denoising on device.', organization: oppo }),
    paperRecord({ arxivId: '2601.10007', title: 'On-device Speech Recognition', abstract: 'Small models.', organization: oppo }),
    paperRecord({ arxivId: '2601.10008', title: 'Mobile Agents That Browse', abstract: 'Agents on phones.', organization: oppo }),
    paperRecord({
      arxivId: '2601.10009',
      title: 'Diffusion for Video',
      abstract: 'Temporal denoising.',
      organization: { name: 'Other-Lab', fullName: null },
    }),
    // "He" is an English stop word and a surname.
    paperRecord({ arxivId: '2601.10010', title: 'Residual Diffusion Networks', abstract: 'Deep residual denoisers.', authors: [{ name: 'Kaiming He' }] }),
    paperRecord({ arxivId: '2601.10011', title: 'Plain Diffusion Networks', abstract: 'Shallow denoisers.', upvoteBaseline: 3 }),
  ]);
});

afterAll(async () => {
  await testApp.close();
  await database.close();
});

async function search(q: string, first = 10) {
  const response = await testApp.request(SEARCH, { q, first });
  expect(response.errors).toBeUndefined();
  return response.data!.searchPapers;
}
const arxivIds = (connection: any): string[] => connection.edges.map((edge: any) => edge.node.arxivId);

describe('parseSearchTerms', () => {
  it('reads web-search syntax as websearch_to_tsquery does', () => {
    const word = (text: string, excluded = false) => ({ text, phrase: false, excluded });
    expect(parseSearchTerms('cat dog or fish bird')).toEqual([
      [word('cat'), word('dog')],
      [word('fish'), word('bird')],
    ]);
    expect(parseSearchTerms('"Sepp Hochreiter" -memory pre-training')).toEqual([
      [{ text: 'Sepp Hochreiter', phrase: true, excluded: false }, word('memory', true), word('pre-training')],
    ]);
    expect(parseSearchTerms('or cat or or dog or')).toEqual([[word('cat')], [word('dog')]]);
    expect(parseSearchTerms('cat - dog -or "open')).toEqual([[word('cat'), word('dog', true), { text: 'open', phrase: true, excluded: false }]]);
    expect(parseSearchTerms('  ')).toEqual([]);
  });
});

describe('searchPapers over names and text together', () => {
  it.each([
    ['Hochreiter prioritization', '2601.10001'],
    ['hochreiter PRIORITIZED replay', '2601.10001'],
    ['Schmidhuber pre-training', '2601.10004'],
    ['Goldwasser reinforced', '2601.10005'],
    ['Sepp Hochreiter experience', '2601.10001'],
    ['"Sepp Hochreiter" replay', '2601.10001'],
  ])('finds %s: a name as written with stemmed words of the text', async (query, arxivId) => {
    expect(arxivIds(await search(query))[0]).toBe(arxivId);
  });

  it('ranks a paper by where the words matched: the title above the abstract', async () => {
    // Both are Hochreiter's and say "prioritization" somewhere; one in its title.
    expect(arxivIds(await search('Hochreiter prioritization'))).toEqual(['2601.10001', '2601.10002']);
  });

  it('ranks the papers matching every word first, then those found by a close spelling', async () => {
    // Titles with "diffusion" are spelt close to the query; the one paper with both words comes first.
    const results = arxivIds(await search('OPPO diffusion'));
    expect(results[0]).toBe('2601.10006');
    expect(results.slice(1).sort()).toEqual(['2601.10009', '2601.10010', '2601.10011']);
    // Excluded words hold for those too.
    expect(arxivIds(await search('diffusion -OPPO -video -residual'))).toEqual(['2601.10011']);
  });

  it('finds an organization by its name and its full name, alone or with words', async () => {
    expect(arxivIds(await search('OPPO')).sort()).toEqual(['2601.10006', '2601.10007', '2601.10008']);
    expect(arxivIds(await search('oppo AI center')).sort()).toEqual(['2601.10006', '2601.10007', '2601.10008']);
    expect(arxivIds(await search('OPPO diffusion'))[0]).toBe('2601.10006');
    expect(arxivIds(await search('OPPO -diffusion')).sort()).toEqual(['2601.10007', '2601.10008']);
    expect(arxivIds(await search('OPPO diffusion or Goldwasser')).sort()).toEqual(['2601.10005', '2601.10006']);
  });

  it('ranks a surname that is an English stop word up without requiring it', async () => {
    const results = arxivIds(await search('He diffusion'));
    expect(results[0]).toBe('2601.10010');
    expect(results).toContain('2601.10011');
    expect(arxivIds(await search('He'))).toEqual(['2601.10010']);
  });

  it("rebuilds an organization's papers' documents when its full name changes", async () => {
    await savePaperRecords(database.db, [
      paperRecord({
        arxivId: '2601.10009',
        title: 'Diffusion for Video',
        abstract: 'Temporal denoising.',
        organization: { name: 'Other-Lab', fullName: 'Fjordline Research' },
      }),
    ]);
    expect(arxivIds(await search('Fjordline video'))).toEqual(['2601.10009']);
    // Another paper of the organization, saved with no change of its own, then the name changes again.
    await savePaperRecords(database.db, [
      paperRecord({
        arxivId: '2601.10012',
        title: 'Unrelated Work',
        abstract: 'Nothing.',
        organization: { name: 'Other-Lab', fullName: 'Fjordline Research' },
      }),
    ]);
    await savePaperRecords(database.db, [
      paperRecord({
        arxivId: '2601.10012',
        title: 'Unrelated Work',
        abstract: 'Nothing.',
        organization: { name: 'Other-Lab', fullName: 'Skerry Institute' },
      }),
    ]);
    expect(arxivIds(await search('Skerry')).sort()).toEqual(['2601.10009', '2601.10012']);
    expect((await search('Fjordline')).totalCount).toBe(0);
  });

  it.each([
    ['operators in names', 'Hochreiter & | ! <-> :*'],
    ['a lone minus and quotes', '- " -" Hochreiter "'],
    ['only or', 'or OR or'],
    ['only exclusions', '-diffusion -OPPO'],
    ['only stop words', 'he the of'],
    ['tsquery text', "'hochreiter':D & !'x'"],
    ['125 words', 'a b '.repeat(62).trim()],
  ])('takes %s safely', async (_case, query) => {
    const response = await testApp.request(SEARCH, { q: query, first: 5 });
    expect(response.errors).toBeUndefined();
    expect(Array.isArray(response.data!.searchPapers.edges)).toBe(true);
    expect(await database.db.$count(papers)).toBe(12);
  });
});
