import fc from 'fast-check';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config';
import { authors, comments, digestSubscriptions, organizations, paperAuthors, papers } from '../src/db/schema';
import { cleanText } from '../src/text-input';
import { TEST_PASSWORD_HASH_COST, paperRecord, rowCounts, savePaperRecords, userWithToken } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

describe('cleanText', () => {
  const line = { shape: 'line', maxLength: 10 } as const;
  const lines = { shape: 'lines', maxLength: 10 } as const;

  it("collapses a single line's white space, newlines and tabs included, and trims it", () => {
    expect(cleanText(' A \t long\r\n\n title ', { shape: 'line', maxLength: 100 })).toEqual({ ok: true, text: 'A long title' });
  });

  it('keeps the tabs and newlines of several lines, with line endings made "\\n"', () => {
    expect(cleanText('\n one\r\n\ttwo\rthree \n', { shape: 'lines', maxLength: 100 })).toEqual({ ok: true, text: 'one\n\ttwo\nthree' });
  });

  it.each([
    ['NUL', '\u0000'],
    ['a bell', '\u0007'],
    ['ESC', '\u001b'],
    ['a vertical tab', '\u000b'],
    ['a form feed', '\u000c'],
    ['DEL', '\u007f'],
    ['NEL (C1)', '\u0085'],
    ['CSI (C1)', '\u009b'],
  ])('refuses %s in either shape, naming it and where it is', (_case, character) => {
    for (const rule of [line, lines]) {
      const cleaned = cleanText(`ab${character}c`, rule);
      expect(cleaned).toMatchObject({ ok: false, problem: expect.stringContaining('control characters') });
      const codePoint = character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
      expect(cleaned).toMatchObject({ problem: expect.stringContaining(`found U+${codePoint} at character 3`) });
    }
  });

  it('refuses a lone surrogate, high or low, but takes a pair', () => {
    expect(cleanText('🧪\ud800', line)).toEqual({ ok: false, problem: 'not valid Unicode text (a lone surrogate at character 2)' });
    expect(cleanText('x\udfff', lines)).toMatchObject({ ok: false, problem: expect.stringContaining('lone surrogate') });
    expect(cleanText('\ud83e\uddea', line)).toEqual({ ok: true, text: '🧪' });
  });

  it('counts length in code points', () => {
    expect(cleanText('🧪'.repeat(10), line)).toEqual({ ok: true, text: '🧪'.repeat(10) });
    expect(cleanText('🧪'.repeat(11), line)).toEqual({ ok: false, problem: 'at most 10 characters, got 11' });
  });

  it('refuses blank text', () => {
    expect(cleanText(' \n\t\u00a0\u2003 ', lines)).toEqual({ ok: false, problem: 'may not be blank' });
  });

  /** Mostly the characters at stake: controls, white space, surrogate halves, and any other code point. */
  const character = fc.oneof(
    fc.constantFrom('\u0000', '\u001b', '\u007f', '\u0085', '\u009b', '\t', '\n', '\r', '\u000b', ' ', '\u2028', '\ud800', '\udc00', '\ud83e', '\uddea'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );

  it('never lets through a control character, a lone surrogate, or (on one line) a line break', () => {
    fc.assert(
      fc.property(fc.string({ unit: character, maxLength: 40 }), fc.constantFrom(line, lines), (input, rule) => {
        const cleaned = cleanText(input, { ...rule, maxLength: 100 });
        if (!cleaned.ok) return;
        expect(cleaned.text).not.toMatch(/[\u0000-\u0008\u000B-\u001F\u007F-\u009F]|\p{Surrogate}/u);
        if (rule.shape === 'line') expect(cleaned.text).not.toMatch(/[\n\t]/);
      }),
    );
  });
});

describe('every stored string a user sends', () => {
  let database: TestDatabase;
  let testApp: ReturnType<typeof createTestApp>;
  let token: string;
  let paperId: string;

  beforeAll(async () => {
    database = await createTestDatabase();
    // Nothing here may reach arXiv: bad input is refused first. Were it asked, port 9 refuses and the answer is RATE_LIMITED.
    const config = loadConfig({
      LOG_LEVEL: 'silent',
      PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
      ARXIV_API_URL: 'http://127.0.0.1:9/api/query',
      ARXIV_TIMEOUT_MS: '1000',
      COMMENT_RATE_LIMIT_PER_MINUTE: '100000',
      MUTATION_RATE_LIMIT_PER_MINUTE: '1000000',
      DIGEST_SUBSCRIBE_PER_CLIENT_PER_HOUR: '100000',
      RESPONSE_CACHE_TTL_SECONDS: '0',
    });
    testApp = createTestApp(database.db, { config, clock: () => new Date('2025-11-12T12:00:00Z') });
  });

  beforeEach(async () => {
    await database.truncate();
    ({ token } = await userWithToken(database.db, 'ada'));
    const { paperIds } = await savePaperRecords(database.db, [paperRecord({ arxivId: '2511.00001' })]);
    paperId = Buffer.from(`Paper:${paperIds[0]}`).toString('base64');
  });

  afterAll(async () => {
    await testApp?.close();
    await database?.close();
  });

  const written = () => rowCounts(database.db, { papers, paperAuthors, authors, organizations, comments, digestSubscriptions });

  const SUBMIT = 'mutation ($input: SubmitPaperInput!) { submitPaper(input: $input) { id } }';
  const COMMENT = 'mutation ($paperId: ID!, $body: String!) { addComment(paperId: $paperId, body: $body) { id } }';
  const SUBSCRIBE = 'mutation ($email: String!) { subscribeToDigest(email: $email) }';

  /** A complete, valid submission with `value` placed in `field` (in the second name, for authors). */
  const submission = (field: string, value: string) => {
    const input: Record<string, unknown> = {
      arxivId: '2511.01234',
      title: 'A title',
      abstract: 'An abstract.',
      authors: ['Ada Lovelace', 'Grace Hopper'],
      publishedAt: '2025-11-11T00:00:00Z',
      organization: 'Lab',
      githubRepo: 'https://github.com/example/repo',
      projectPage: 'https://example.org/project',
    };
    input[field] = field === 'authors' ? ['Ada Lovelace', `Grace ${value}Hopper`] : `${input[field]}${value}`;
    return input;
  };

  const fields: [string, (value: string) => [string, Record<string, unknown>, boolean]][] = [
    ...['title', 'abstract', 'authors', 'organization', 'githubRepo', 'projectPage'].map(
      (field) =>
        [`submitPaper ${field}`, (value: string) => [SUBMIT, { input: submission(field, value) }, true]] as [
          string,
          (value: string) => [string, Record<string, unknown>, boolean],
        ],
    ),
    ['addComment body', (value) => [COMMENT, { paperId, body: `Nice ${value}work` }, true]],
    ['subscribeToDigest email', (value) => [SUBSCRIBE, { email: `ada${value}@example.org` }, false]],
  ];
  const fieldOf: Record<string, string> = { 'addComment body': 'body', 'subscribeToDigest email': 'email' };

  describe.each(fields)('%s', (name, request) => {
    it.each([
      ['ESC', '\u001b[31m'],
      ['the C1 character NEL', '\u0085'],
      ['the C1 character CSI', '\u009b'],
      ['a lone surrogate', '\ud800'],
    ])('refuses %s with BAD_USER_INPUT naming the field, and writes nothing', async (_case, value) => {
      const before = await written();
      const [query, variables, signedIn] = request(value);
      const response = await testApp.request(query, variables, signedIn ? token : undefined);
      expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
      const field = fieldOf[name] ?? name.replace('submitPaper ', '');
      expect(response.errors![0]!.extensions).toMatchObject({ field });
      expect(response.errors![0]!.message).toMatch(value === '\ud800' ? /lone surrogate/ : /control characters/);
      expect(response.data).toBeNull();
      expect(await written()).toEqual(before);
    });
  });
});
