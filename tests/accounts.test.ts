import { createHash, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DAY_MS } from '../src/calendar';
import { sessions, users } from '../src/db/schema';
import { createPublicDataChanges } from '../src/cache/public-data-changes';
import { createLogger } from '../src/logger';
import { outboxDirectory } from '../src/mail/mailer';
import { hashPassword } from '../src/modules/accounts/passwords';
import { errorCodes, type GraphQLResponse } from './support/graphql-client';
import { redisTestConfig, testConfig, testRedisUrl } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createRateLimiter } from '../src/rate-limit';
import { createTestDatabase, type TestDatabase } from './support/test-database';

let database: TestDatabase;
/** Where this file's mail goes (no SMTP_URL): verification links and notices, as .eml files. */
let dataDir: string;
let now = new Date('2026-01-01T00:00:00Z');
let testApp: ReturnType<typeof createTestApp>;

const SIGN_UP = `mutation($username: String!, $email: String!, $password: String!) {
  signUp(username: $username, email: $email, password: $password) { token user { id username createdAt } }
}`;
const LOG_IN = `mutation($login: String!, $password: String!) {
  logIn(usernameOrEmail: $login, password: $password) { token user { username } }
}`;

/** A request with a bearer token (or any Authorization header). */
async function asViewer(authorization: string, query: string): Promise<GraphQLResponse> {
  const response = await testApp.app.fetch(
    new Request('http://test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query }),
    }),
  );
  return { status: response.status, ...((await response.json()) as object) };
}

const VERIFY_EMAIL = 'mutation($token: String!) { verifyEmail(token: $token) }';

const signUp = (username: string, email: string, password = 'correct horse battery') => testApp.request(SIGN_UP, { username, email, password });

/** The mail sent to `address` so far, oldest first, once the jobs the requests set off are done. */
async function mailTo(address: string): Promise<ParsedMail[]> {
  await testApp.idle();
  const directory = outboxDirectory(dataDir);
  const names = (await readdir(directory).catch(() => [])).filter((name) => name.endsWith('.eml')).sort();
  const mails = await Promise.all(names.map(async (name) => simpleParser(await readFile(path.join(directory, name)))));
  return mails.filter((mail) => [mail.to].flat().some((to) => to?.value.some((entry) => entry.address === address)));
}

/** The verification link of the latest mail to `address`. */
async function verificationLink(address: string): Promise<string> {
  const link = /http:\/\/localhost:4000\/verify-email\?token=[A-Za-z0-9_-]+/.exec((await mailTo(address)).at(-1)?.text ?? '');
  expect(link).not.toBeNull();
  return link![0];
}

/** signUp, then the verifyEmail of the link mailed to the address. */
async function signUpVerified(username: string, email: string, password = 'correct horse battery') {
  expect((await signUp(username, email, password)).errors).toBeUndefined();
  const token = new URL(await verificationLink(email)).searchParams.get('token');
  expect((await testApp.request(VERIFY_EMAIL, { token })).data).toEqual({ verifyEmail: true });
}

beforeAll(async () => {
  database = await createTestDatabase();
  dataDir = await mkdtemp(path.join(os.tmpdir(), 'accounts-outbox-'));
  testApp = createTestApp(database.db, { clock: () => now, config: { ...testConfig, dataDir } });
});

beforeEach(async () => {
  await testApp.idle();
  await database.truncate();
  await rm(outboxDirectory(dataDir), { recursive: true, force: true });
  now = new Date('2026-01-01T00:00:00Z');
});

afterAll(async () => {
  await testApp.close();
  await database.close();
  await rm(dataDir, { recursive: true, force: true });
});

describe('signUp', () => {
  it('creates the account, hashes the password, stores only the token hash, and signs in', async () => {
    const response = await signUp('Ada_Lovelace', 'ada@example.org');
    expect(response.errors).toBeUndefined();
    const { token, user } = response.data!.signUp;
    expect(user).toMatchObject({ username: 'Ada_Lovelace', createdAt: '2026-01-01T00:00:00.000Z' });
    expect(token).toMatch(/^dp_[A-Za-z0-9_-]{43}$/);

    const [stored] = await database.db.select().from(users);
    expect(stored!.passwordHash).toMatch(/^scrypt\$10\$8\$1\$/);
    expect(stored!.passwordHash).not.toContain('correct horse');
    const [session] = await database.db.select().from(sessions);
    expect(session!.tokenHash).toBe(createHash('sha256').update(token).digest('hex'));

    const viewer = await asViewer(`Bearer ${token}`, '{ viewer { username } }');
    expect(viewer.data).toEqual({ viewer: { username: 'Ada_Lovelace' } });
  });

  it('rejects a taken username regardless of case, writing nothing', async () => {
    await signUp('ada', 'ada@example.org');
    const sameName = await signUp('ADA', 'other@example.org');
    expect(errorCodes(sameName)).toEqual(['CONFLICT']);
    expect(sameName.errors![0]!.message).toMatch(/username "ADA" is taken/);
    expect(sameName.errors![0]!.extensions!.field).toBe('username');
    expect(await database.db.$count(users)).toBe(1);
  });

  it.each([
    ['a username too short', 'ab', 'ab@example.org', 'correct horse', 'username'],
    ['a username too long', 'a'.repeat(31), 'long@example.org', 'correct horse', 'username'],
    ['a username with a space', 'ada lovelace', 'space@example.org', 'correct horse', 'username'],
    ['a username with unicode', 'ädä', 'unicode@example.org', 'correct horse', 'username'],
    ['an email without @', 'ada', 'ada.example.org', 'correct horse', 'email'],
    ['an email with spaces', 'ada', 'ada @example.org', 'correct horse', 'email'],
    ['an empty email', 'ada', '', 'correct horse', 'email'],
    ['a password of 7 characters', 'ada', 'ada@example.org', 'short12', 'password'],
    ['a password of 10,000 characters', 'ada', 'ada@example.org', 'x'.repeat(10_000), 'password'],
  ])('rejects %s with BAD_USER_INPUT and writes no row', async (_case, username, email, password, field) => {
    const response = await signUp(username, email, password);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions!.field).toBe(field);
    expect(response.errors![0]!.message).toMatch(new RegExp(`^Invalid ${field}: `));
    expect(await database.db.$count(users)).toBe(0);
    expect(await database.db.$count(sessions)).toBe(0);
  });
});

describe('email verification', () => {
  it('answers signUp alike whether or not the address has an account, and mails its owner a notice instead of a link', async () => {
    await signUpVerified('ada', 'ada@example.org', 'analytical engine');
    const taken = await signUp('impostor', 'ADA@Example.org', 'impostor password');
    const free = await signUp('grace', 'grace@example.org', 'cobol forever');
    expect(taken.errors).toBeUndefined();
    expect(free.errors).toBeUndefined();
    const shape = (response: GraphQLResponse) => ({ status: response.status, user: Object.keys(response.data!.signUp.user) });
    expect(shape(taken)).toEqual(shape(free));

    // The address's owner is told, with no link; the free address gets a link.
    const [, notice] = await mailTo('ada@example.org');
    expect(notice!.subject).toBe('Someone tried to sign up with your address');
    expect(notice!.text).not.toMatch(/verify-email/);
    expect(await verificationLink('grace@example.org')).toMatch(/token=/);
    // The new account has no claim on the address: the address signs in to its owner only.
    const [impostor] = await database.db.select().from(users).where(eq(users.username, 'impostor'));
    expect(impostor).toMatchObject({ email: null, pendingEmail: null, emailTokenHash: null });
    expect(errorCodes(await testApp.request(LOG_IN, { login: 'ada@example.org', password: 'impostor password' }))).toEqual(['UNAUTHENTICATED']);
    const owner = await testApp.request(LOG_IN, { login: 'ada@example.org', password: 'analytical engine' });
    expect(owner.data!.logIn.user.username).toBe('ada');
  });

  it('signs in by email only once the mailed link is followed: a GET shows a button, its POST verifies', async () => {
    const { token } = (await signUp('ada', 'ada@example.org')).data!.signUp;
    const byEmail = () => testApp.request(LOG_IN, { login: 'ada@example.org', password: 'correct horse battery' });
    expect(errorCodes(await byEmail())).toEqual(['UNAUTHENTICATED']);
    expect((await asViewer(`Bearer ${token}`, '{ viewer { emailVerified } }')).data).toEqual({ viewer: { emailVerified: false } });

    const link = (await verificationLink('ada@example.org')).replace('http://localhost:4000', 'http://test');
    const page = await testApp.app.fetch(new Request(link));
    expect(page.status).toBe(200);
    expect(page.headers.get('referrer-policy')).toBe('no-referrer');
    // A browser submits the form only if the page's policy lets it post to this origin.
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");
    expect(await page.text()).toMatch(/<form method="post" action="\/verify-email\?token=/);
    expect(errorCodes(await byEmail())).toEqual(['UNAUTHENTICATED']);

    // As a browser submits the page's form.
    const verified = await testApp.app.fetch(
      new Request(link, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' }),
    );
    expect(verified.status).toBe(200);
    expect(await verified.text()).toMatch(/Address verified/);
    expect((await byEmail()).data!.logIn.user.username).toBe('ada');
    expect((await asViewer(`Bearer ${token}`, '{ viewer { emailVerified } }')).data).toEqual({ viewer: { emailVerified: true } });
    expect((await asViewer(`Bearer ${token}`, '{ user(username: "ada") { emailVerified } }')).data).toEqual({
      user: { emailVerified: true },
    });
    // Used once: the link is spent.
    expect((await testApp.app.fetch(new Request(link, { method: 'POST' }))).status).toBe(404);
  });

  it('shows emailVerified to the account itself only', async () => {
    await signUpVerified('ada', 'ada@example.org');
    const { token } = (await signUp('grace', 'grace@example.org')).data!.signUp;
    expect((await asViewer(`Bearer ${token}`, '{ user(username: "ada") { emailVerified } }')).data).toEqual({
      user: { emailVerified: null },
    });
  });

  it('gives the address to the account that verifies it first; the other link is CONFLICT, an unknown one NOT_FOUND', async () => {
    await signUp('ada', 'shared@example.org');
    await signUp('grace', 'shared@example.org');
    const [first, second] = (await mailTo('shared@example.org')).map((mail) => /token=([A-Za-z0-9_-]+)/.exec(mail.text ?? '')![1]);
    expect((await testApp.request(VERIFY_EMAIL, { token: first })).data).toEqual({ verifyEmail: true });
    expect(errorCodes(await testApp.request(VERIFY_EMAIL, { token: second }))).toEqual(['CONFLICT']);
    expect(errorCodes(await testApp.request(VERIFY_EMAIL, { token: 'not-a-token' }))).toEqual(['NOT_FOUND']);
    const stored = await database.db.select({ username: users.username, email: users.email }).from(users);
    expect(stored.filter((user) => user.email !== null)).toHaveLength(1);
  });

  it('counts an address stored before verification existed as verified', async () => {
    const passwordHash = await hashPassword('cobol forever', testConfig.passwordHashCost);
    await database.db.insert(users).values({ username: 'grace', email: 'grace@example.org', passwordHash });
    const response = await testApp.request(LOG_IN, { login: 'grace@example.org', password: 'cobol forever' });
    expect(response.data!.logIn.user.username).toBe('grace');
  });
});

describe('the password rule', () => {
  it('counts a password as signUp and logIn both do: 130 emoji (260 UTF-16 units) sign up and log in', async () => {
    const emoji = '\u{1F600}'.repeat(130);
    expect((await signUp('ada', 'ada@example.org', emoji)).errors).toBeUndefined();
    const response = await testApp.request(LOG_IN, { login: 'ada', password: emoji });
    expect(response.errors).toBeUndefined();
    expect(response.data!.logIn.user.username).toBe('ada');
  });

  it('counts code points after NFKC, as hashing does: 257 of them are too many', async () => {
    // U+FB00 (the "ff" ligature) is one code point typed, two once normalized.
    const response = await signUp('ada', 'ada@example.org', `${'x'.repeat(255)}\uFB00`);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.message).toBe('Invalid password: at most 256 characters.');
  });

  it('refuses a lone surrogate at signUp, writing nothing', async () => {
    const response = await signUp('ada', 'ada@example.org', 'correct horse \uD800 battery');
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.extensions!.field).toBe('password');
    expect(await database.db.$count(users)).toBe(0);
  });

  it('never matches a lone surrogate at logIn, not even against the U+FFFD it would have become', async () => {
    expect((await signUp('ada', 'ada@example.org', 'correct horse \uFFFD battery')).errors).toBeUndefined();
    for (const password of ['correct horse \uD800 battery', 'correct horse \uDFFF battery']) {
      expect(errorCodes(await testApp.request(LOG_IN, { login: 'ada', password }))).toEqual(['UNAUTHENTICATED']);
    }
    expect((await testApp.request(LOG_IN, { login: 'ada', password: 'correct horse \uFFFD battery' })).errors).toBeUndefined();
  });

  it('mails one address at most ACCOUNT_MAILS_PER_ADDRESS_PER_HOUR times, answering signUp alike past it', async () => {
    const limited = createTestApp(database.db, { clock: () => now, config: { ...testConfig, dataDir, accountMailsPerAddressPerHour: 2 } });
    const answers = [];
    for (const username of ['flood1', 'flood2', 'flood3', 'flood4']) {
      answers.push(await limited.request(SIGN_UP, { username, email: 'victim@example.org', password: 'correct horse battery' }));
    }
    await limited.idle();
    expect(answers.map((answer) => [answer.errors, typeof answer.data?.signUp.token])).toEqual(Array(4).fill([undefined, 'string']));
    expect(await mailTo('victim@example.org')).toHaveLength(2);
    await limited.close();
  });

  it('still signs in an account whose password the old rule took and the new one would refuse (4 emoji: 8 UTF-16 units)', async () => {
    const password = '\u{1F600}\u{1F601}\u{1F602}\u{1F603}';
    await database.db
      .insert(users)
      .values({ username: 'old', email: 'old@example.org', passwordHash: await hashPassword(password, testConfig.passwordHashCost) });
    expect((await testApp.request(LOG_IN, { login: 'old', password })).data!.logIn.user.username).toBe('old');
  });
});

describe('logIn and logOut', () => {
  beforeEach(async () => {
    await signUpVerified('grace', 'grace@example.org', 'cobol forever');
  });

  it('signs in by username or by email, in any case', async () => {
    for (const login of ['grace', 'GRACE', 'grace@example.org', 'Grace@Example.ORG']) {
      const response = await testApp.request(LOG_IN, { login, password: 'cobol forever' });
      expect(response.errors).toBeUndefined();
      expect(response.data!.logIn.user.username).toBe('grace');
    }
  });

  it('says the same thing for a wrong password, an unknown user and an account without a password', async () => {
    await database.db.insert(users).values({ username: 'imported' });
    const messages = [];
    for (const [login, password] of [
      ['grace', 'wrong password'],
      ['nobody', 'cobol forever'],
      ['imported', 'cobol forever'],
      ['grace', 'x'.repeat(10_000)],
    ]) {
      const response = await testApp.request(LOG_IN, { login, password });
      expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
      messages.push(response.errors![0]!.message);
    }
    expect(new Set(messages)).toEqual(new Set(['Wrong username, email or password.']));
    expect(await database.db.$count(sessions)).toBe(1);
  });

  it('logOut revokes the token it was sent with, and only that one', async () => {
    const first = (await testApp.request(LOG_IN, { login: 'grace', password: 'cobol forever' })).data!.logIn.token;
    const second = (await testApp.request(LOG_IN, { login: 'grace', password: 'cobol forever' })).data!.logIn.token;
    expect((await asViewer(`Bearer ${first}`, 'mutation { logOut }')).data).toEqual({ logOut: true });
    const revoked = await asViewer(`Bearer ${first}`, '{ viewer { username } }');
    expect(errorCodes(revoked)).toEqual(['UNAUTHENTICATED']);
    expect(revoked.errors![0]!.message).toMatch(/invalid, expired or revoked/);
    expect((await asViewer(`Bearer ${second}`, '{ viewer { username } }')).data).toEqual({ viewer: { username: 'grace' } });
  });

  it('logOut without a session is UNAUTHENTICATED', async () => {
    expect(errorCodes(await testApp.request('mutation { logOut }'))).toEqual(['UNAUTHENTICATED']);
  });
});

describe('bearer tokens', () => {
  it('an expired token fails; a fresh one works', async () => {
    const { token } = (await signUp('ada', 'ada@example.org')).data!.signUp;
    now = new Date(now.getTime() + (testConfig.sessionTtlDays - 1) * DAY_MS);
    expect((await asViewer(`Bearer ${token}`, '{ viewer { username } }')).data).toEqual({ viewer: { username: 'ada' } });
    // The process keeps the session from here (SESSION_CACHE_SECONDS); its expiry is checked on every request.
    expect(testConfig.sessionCacheMs).toBeGreaterThan(0);
    now = new Date(now.getTime() + 2 * DAY_MS);
    expect(errorCodes(await asViewer(`Bearer ${token}`, '{ viewer { username } }'))).toEqual(['UNAUTHENTICATED']);
  });

  it('the token of a deleted user fails', async () => {
    const { token } = (await signUp('ada', 'ada@example.org')).data!.signUp;
    await database.db.delete(users).where(eq(users.username, 'ada'));
    expect(errorCodes(await asViewer(`Bearer ${token}`, '{ viewer { username } }'))).toEqual(['UNAUTHENTICATED']);
  });

  it.each([
    ['an unknown token', 'Bearer dp_notatokenwehaveissued'],
    ['another scheme', 'Basic YWRhOnBhc3N3b3Jk'],
    ['an empty bearer', 'Bearer '],
  ])('%s fails the request with UNAUTHENTICATED', async (_case, header) => {
    const response = await asViewer(header, '{ trendingPapers(first: 1) { totalCount } }');
    expect(errorCodes(response)).toEqual(['UNAUTHENTICATED']);
    expect(response.data ?? null).toBeNull();
  });

  it('anonymous requests see viewer null', async () => {
    expect((await testApp.request('{ viewer { username } }')).data).toEqual({ viewer: null });
  });
});

describe('sessions kept per process', () => {
  const VIEWER = '{ viewer { username } }';
  /** The username a token signs in as on `app`, or the error code. */
  async function viewerOn(app: ReturnType<typeof createTestApp>, token: string) {
    const response = await app.request(VIEWER, {}, token);
    return response.data?.viewer?.username ?? errorCodes(response)[0];
  }

  it('logOut on one process refuses the token at once there and, through Redis, on another that kept it', async () => {
    await signUpVerified('grace', 'grace@example.org', 'cobol forever');
    const logIn = async () => (await testApp.request(LOG_IN, { login: 'grace', password: 'cobol forever' })).data!.logIn.token as string;
    const [loggedOut, revokedInSql] = [await logIn(), await logIn()];
    // Two processes of one deployment: one database, one Redis prefix.
    const config = { ...redisTestConfig('kept-sessions'), dataDir };
    const logger = createLogger('silent');
    const changes = [createPublicDataChanges(config, logger), createPublicDataChanges(config, logger)];
    const [first, second] = changes.map((publicDataChanges) => createTestApp(database.db, { config, clock: () => now, publicDataChanges }));
    const redis = new Redis(testRedisUrl);
    try {
      // Both listen first (a process that connects to Redis starts over with nothing kept).
      await expect
        .poll(async () => ((await redis.pubsub('NUMSUB', `${config.redisPrefix}:public-data-changed`)) as [string, number])[1], { timeout: 10_000 })
        .toBe(2);
      for (const app of [first!, second!]) {
        for (const token of [loggedOut, revokedInSql]) expect(await viewerOn(app, token)).toBe('grace');
      }
      // A revocation nobody announces: the second keeps taking the token it read (within SESSION_CACHE_SECONDS).
      await database.db
        .update(sessions)
        .set({ revokedAt: now })
        .where(eq(sessions.tokenHash, createHash('sha256').update(revokedInSql).digest('hex')));
      expect(await viewerOn(second!, revokedInSql)).toBe('grace');

      expect((await first!.request('mutation { logOut }', {}, loggedOut)).data).toEqual({ logOut: true });
      expect(await viewerOn(first!, loggedOut)).toBe('UNAUTHENTICATED');
      await expect.poll(() => viewerOn(second!, loggedOut), { timeout: 10_000, interval: 20 }).toBe('UNAUTHENTICATED');
    } finally {
      redis.disconnect();
      await Promise.all([first!.close(), second!.close()]);
      await Promise.all(changes.map((publicDataChanges) => publicDataChanges.close()));
    }
  });

  it('a kept session is read again within SESSION_CACHE_SECONDS: one revoked in SQL is refused then', async () => {
    const { token } = (await signUp('ada', 'ada@example.org')).data!.signUp;
    const app = createTestApp(database.db, { config: { ...testConfig, dataDir, sessionCacheMs: 200 }, clock: () => now });
    try {
      expect(await viewerOn(app, token)).toBe('ada');
      await database.db.update(sessions).set({ revokedAt: now });
      await expect.poll(() => viewerOn(app, token), { timeout: 10_000, interval: 20 }).toBe('UNAUTHENTICATED');
    } finally {
      await app.close();
    }
  });
});

describe('password hash cost', () => {
  it('rehashes with the configured cost when an account logs in after the setting changed', async () => {
    await signUp('grace', 'grace@example.org', 'cobol forever');
    const stronger = createTestApp(database.db, { clock: () => now, config: { ...testConfig, passwordHashCost: 11 } });
    try {
      const response = await stronger.request(LOG_IN, { login: 'grace', password: 'cobol forever' });
      expect(response.errors).toBeUndefined();
      const [stored] = await database.db.select().from(users);
      expect(stored!.passwordHash).toMatch(/^scrypt\$11\$/);
      expect((await stronger.request(LOG_IN, { login: 'grace', password: 'cobol forever' })).errors).toBeUndefined();
    } finally {
      await stronger.close();
    }
  });
});

describe('sign-in rate limits', () => {
  /**
   * The app behind one trusted proxy on a real listener, so each request's
   * X-Forwarded-For is its client address; limits of a few attempts.
   */
  async function proxiedApp(limits: { attemptsPerAddress: number; failuresPerPair: number; failuresPerLogin?: number }) {
    const proxied = createTestApp(database.db, {
      clock: () => now,
      config: { ...testConfig, http: { ...testConfig.http, trustedProxyHops: 1 } },
      limiters: {
        ...(limits.failuresPerLogin && {
          signInFailuresPerLogin: createRateLimiter({
            name: `per-login-${randomUUID()}`,
            points: limits.failuresPerLogin - 1,
            durationSeconds: 60,
            action: 'failed sign-ins',
          }),
        }),
        auth: createRateLimiter({ name: `auth-${randomUUID()}`, points: limits.attemptsPerAddress, durationSeconds: 60, action: 'sign-in attempts' }),
        // Refused once a pair holds more than `points` failures.
        signInFailures: createRateLimiter({
          name: `failures-${randomUUID()}`,
          points: limits.failuresPerPair - 1,
          durationSeconds: 60,
          action: 'failed sign-ins',
        }),
      },
    });
    const server = createServer(proxied.app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return {
      async request(client: string, query: string, variables: Record<string, unknown>): Promise<GraphQLResponse> {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
          body: JSON.stringify({ query, variables }),
        });
        return { status: response.status, ...((await response.json()) as object) };
      },
      async close() {
        await new Promise((resolve) => server.close(resolve));
        await proxied.close();
      },
    };
  }

  it("lets the owner in from an address that has not failed, however many others failed with the owner's name", async () => {
    await signUp('grace', 'grace@example.org', 'cobol forever');
    const proxied = await proxiedApp({ attemptsPerAddress: 10, failuresPerPair: 3 });
    try {
      // Twelve wrong passwords for "grace", three from each of four addresses: more than one address may even attempt.
      for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']) {
        for (let guess = 0; guess < 3; guess += 1) {
          expect(errorCodes(await proxied.request(client, LOG_IN, { login: 'grace', password: `guess ${guess}` }))).toEqual(['UNAUTHENTICATED']);
        }
      }
      const owner = await proxied.request('203.0.113.7', LOG_IN, { login: 'grace', password: 'cobol forever' });
      expect(owner.errors).toBeUndefined();
      expect(owner.data!.logIn.user.username).toBe('grace');
    } finally {
      await proxied.close();
    }
  });

  it('refuses an address that spent its failures on a name, even the right password, and only for that name', async () => {
    await signUp('grace', 'grace@example.org', 'cobol forever');
    await signUp('linus', 'linus@example.org', 'git rebase forever');
    const proxied = await proxiedApp({ attemptsPerAddress: 10, failuresPerPair: 3 });
    try {
      const codes = [];
      for (let guess = 0; guess < 3; guess += 1) {
        codes.push(errorCodes(await proxied.request('198.51.100.1', LOG_IN, { login: 'grace', password: `guess ${guess}` })));
      }
      expect(codes).toEqual([['UNAUTHENTICATED'], ['UNAUTHENTICATED'], ['UNAUTHENTICATED']]);
      const refused = await proxied.request('198.51.100.1', LOG_IN, { login: 'grace', password: 'cobol forever' });
      expect(errorCodes(refused)).toEqual(['RATE_LIMITED']);
      expect(refused.errors![0]!.extensions!.retryAfter).toBeGreaterThan(0);
      // The same address and another name; the same name and another address.
      expect((await proxied.request('198.51.100.1', LOG_IN, { login: 'linus', password: 'git rebase forever' })).errors).toBeUndefined();
      expect((await proxied.request('198.51.100.2', LOG_IN, { login: 'grace', password: 'cobol forever' })).errors).toBeUndefined();
    } finally {
      await proxied.close();
    }
  });

  it('once a name is under attack from many addresses, refuses those that failed twice for it, but not a new one', async () => {
    await signUp('grace', 'grace@example.org', 'cobol forever');
    const proxied = await proxiedApp({ attemptsPerAddress: 10, failuresPerPair: 10, failuresPerLogin: 4 });
    try {
      // Eight failures for "grace", two from each of four addresses: past the name's four.
      for (const client of ['198.51.100.1', '198.51.100.2', '198.51.100.3', '198.51.100.4']) {
        for (let guess = 0; guess < 2; guess += 1) {
          expect(errorCodes(await proxied.request(client, LOG_IN, { login: 'grace', password: `guess ${guess}` }))).toEqual(['UNAUTHENTICATED']);
        }
      }
      // Well inside its own allowance of ten, an address that failed twice is refused while the name is under attack...
      expect(errorCodes(await proxied.request('198.51.100.1', LOG_IN, { login: 'grace', password: 'cobol forever' }))).toEqual(['RATE_LIMITED']);
      // ...a new address still gets its check: the owner gets in.
      expect((await proxied.request('203.0.113.7', LOG_IN, { login: 'grace', password: 'cobol forever' })).errors).toBeUndefined();
    } finally {
      await proxied.close();
    }
  });

  it('counts every logIn and signUp per client address, successful or not', async () => {
    await signUp('grace', 'grace@example.org', 'cobol forever');
    const proxied = await proxiedApp({ attemptsPerAddress: 3, failuresPerPair: 100 });
    try {
      const client = '198.51.100.1';
      expect((await proxied.request(client, LOG_IN, { login: 'grace', password: 'cobol forever' })).errors).toBeUndefined();
      expect(errorCodes(await proxied.request(client, LOG_IN, { login: 'nobody', password: 'cobol forever' }))).toEqual(['UNAUTHENTICATED']);
      expect(errorCodes(await proxied.request(client, SIGN_UP, { username: 'ada', email: 'ada@example.org', password: 'x' }))).toEqual([
        'BAD_USER_INPUT',
      ]);
      expect(errorCodes(await proxied.request(client, LOG_IN, { login: 'grace', password: 'cobol forever' }))).toEqual(['RATE_LIMITED']);
      expect(errorCodes(await proxied.request(client, SIGN_UP, { username: 'ada', email: 'ada@example.org', password: 'correct horse' }))).toEqual([
        'RATE_LIMITED',
      ]);
      expect((await proxied.request('198.51.100.2', LOG_IN, { login: 'grace', password: 'cobol forever' })).errors).toBeUndefined();
    } finally {
      await proxied.close();
    }
  });
});
