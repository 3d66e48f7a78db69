import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { QueueEvents, UnrecoverableError, type Queue } from 'bullmq';
import { asc, count, eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { simpleParser, type ParsedMail } from 'mailparser';
import { pino } from 'pino';
import { createYoga } from 'graphql-yoga';
import { SMTPServer } from 'smtp-server';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JOBS_QUEUE_NAME, createJobsQueue, startBullWorker, type BullWorker } from '../jobs/bullmq';
import { createInProcessJobs } from '../jobs/in-process';
import type { JobDependencies, JobName, JobQueue } from '../jobs/jobs';
import { runJob } from '../jobs/registry';
import { loadConfig, type AppConfig } from '../src/config';
import { digestDeliveries, digestSubscriptions } from '../src/db/schema';
import { schema } from '../src/graphql/schema';
import { createLogger } from '../src/logger';
import { outboxDirectory, type MailMessage, type Mailer } from '../src/mail/mailer';
import { dueEdition, editionOf } from '../src/modules/digest/editions';
import { oneClickUnsubscribePlugin } from '../src/modules/digest/one-click-unsubscribe';
import { sendEdition } from '../src/modules/digest/send-digests';
import { confirmSubscription, issueConfirmToken, requestSubscription, unsubscribe } from '../src/modules/digest/subscriptions';
import { unsubscribeToken } from '../src/modules/digest/tokens';
import { castVotes, paperRecord, savePaperRecords } from './support/fixtures';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** This file's own BullMQ keys (its REDIS_PREFIX), removed at the end. */
const prefix = `test-digest-${randomUUID()}`;
const PUBLIC_URL = 'https://papers.test';
const JOB_WAIT_MS = 15_000;
const repositoryRoot = path.resolve(import.meta.dirname, '..');

/** What the test SMTP server does with a message, by recipient: accept it, refuse it (451), or take it and never answer. */
type Verdict = 'accept' | 'reject' | 'hang';

interface TestSmtpServer {
  port: number;
  /** Every message the server took in full, in arrival order. */
  inbox: ParsedMail[];
  /** Decides each message by its recipient; everything is accepted unless a test says otherwise. */
  verdict: (recipient: string) => Verdict;
  /** Recipients refused at RCPT TO (550), as a mailbox that does not exist is. */
  refusedRecipients: Set<string>;
  close(): Promise<void>;
}

async function startSmtpServer(): Promise<TestSmtpServer> {
  const state: Omit<TestSmtpServer, 'port' | 'close'> = {
    inbox: [],
    verdict: () => 'accept',
    refusedRecipients: new Set(),
  };
  const smtpError = (message: string, responseCode: number) => Object.assign(new Error(message), { responseCode });
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      callback(state.refusedRecipients.has(address.address) ? smtpError('No such mailbox', 550) : null);
    },
    onData(stream, session, callback) {
      simpleParser(stream).then((mail) => {
        const recipient = session.envelope.rcptTo.map((address) => address.address).join(',');
        const verdict = state.verdict(recipient);
        if (verdict === 'reject') return callback(smtpError('Try again later', 451));
        state.inbox.push(mail);
        if (verdict === 'accept') callback();
      }, callback);
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return Object.assign(state, {
    port: (server.server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  });
}

let database: TestDatabase;
let smtp: TestSmtpServer;
let config: AppConfig;
let dependencies: JobDependencies;

/** The settings of this file, on top of the defaults; without SMTP_URL mail goes to the outbox. */
function configWith(environment: Record<string, string>): AppConfig {
  return loadConfig({
    LOG_LEVEL: 'silent',
    PUBLIC_URL,
    DIGEST_PAPER_COUNT: '3',
    DIGEST_HOUR_UTC: '8',
    DIGEST_LINK_SECRET: 'a test key of at least thirty-two characters',
    ...environment,
  });
}

beforeAll(async () => {
  database = await createTestDatabase();
  smtp = await startSmtpServer();
  config = configWith({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
  dependencies = { db: database.db, config, logger: createLogger('silent') };
});

afterAll(async () => {
  await smtp?.close();
  await database?.close();
});

beforeEach(async () => {
  await database.truncate();
  smtp.inbox.length = 0;
  smtp.verdict = () => 'accept';
  smtp.refusedRecipients.clear();
});

/** Mail delivered to an address; domains compare regardless of case (nodemailer writes them in lower case). */
const mailsTo = (address: string) => smtp.inbox.filter((mail) => recipientOf(mail) === address.toLowerCase());
const recipientOf = (mail: ParsedMail) => (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.value[0]?.address?.toLowerCase();
const headerLine = (mail: ParsedMail, name: string) =>
  mail.headerLines.find((header) => header.key === name.toLowerCase())?.line.replace(/^[^:]+:\s*/, '');

/** The token of the first link to {PUBLIC_URL}{pathname} in a text. */
function tokenOfLink(text: string | undefined, pathname: string): string {
  const escaped = `${PUBLIC_URL}${pathname}`.replace(/[.?/]/g, '\\$&');
  const token = new RegExp(`${escaped}\\?token=([\\w-]+)`).exec(text ?? '')?.[1];
  expect(token, `a link to ${pathname} in:\n${text}`).toBeDefined();
  return token!;
}

async function subscriptionOf(email: string) {
  const [row] = await database.db.select().from(digestSubscriptions).where(eq(digestSubscriptions.email, email));
  return row;
}

async function deliveries() {
  return database.db
    .select({ subscriptionId: digestDeliveries.subscriptionId, period: digestDeliveries.period, status: digestDeliveries.status })
    .from(digestDeliveries)
    .orderBy(asc(digestDeliveries.subscriptionId), asc(digestDeliveries.period));
}

/** A subscription taken and confirmed through the domain functions, as a mailbox owner leaves it; returns its id. */
async function confirmedSubscriber(email: string, frequency: 'DAILY' | 'WEEKLY' = 'DAILY'): Promise<number> {
  const now = new Date();
  const id = (await requestSubscription(database.db, { email, frequency, now, linkSecret: config.digest.linkSecret }))!;
  const { token } = (await issueConfirmToken(database.db, id))!;
  await confirmSubscription(database.db, token, now);
  return id;
}

/**
 * Papers for the DAILY edition of Wednesday 2025-11-12, which covers those
 * featured on Tuesday: four, of which the top three by trending make it;
 * and one featured on Wednesday, for the next edition.
 */
async function seedPapers() {
  const tuesday = (hour: number) => new Date(Date.UTC(2025, 10, 11, hour));
  const { paperIds } = await savePaperRecords(database.db, [
    paperRecord({
      title: 'Most upvoted',
      submittedAt: tuesday(9),
      authors: ['Ada Lovelace', 'Grace Hopper', 'Alan Turing', 'Emmy Noether', 'Kurt Gödel'].map((name) => ({ name })),
    }),
    paperRecord({ title: 'Second <b>&</b> best', submittedAt: tuesday(10) }),
    paperRecord({ title: 'Third', submittedAt: tuesday(11) }),
    paperRecord({ title: 'Fourth, left out', submittedAt: tuesday(12) }),
    paperRecord({ title: 'Featured on Wednesday', submittedAt: new Date('2025-11-12T09:00:00Z') }),
  ]);
  const [most, second, third] = paperIds as [number, number, number];
  const votes = (paperId: number, voters: string[]) => voters.map((username) => ({ username, paperId, at: tuesday(13) }));
  await castVotes(database.db, [
    ...votes(most, ['v1', 'v2', 'v3', 'v4', 'v5']),
    ...votes(second, ['v1', 'v2', 'v3']),
    ...votes(third, ['v1']),
  ]);
}

/** An in-process job runner on `jobConfig` that records what is enqueued. */
function recordingJobs(jobConfig: AppConfig) {
  const enqueued: { name: JobName; payload: unknown }[] = [];
  const inProcess = createInProcessJobs({ dependencies: { ...dependencies, config: jobConfig }, reconcileIntervalMinutes: 15 });
  const queue: JobQueue = {
    async enqueue(name, payload, options) {
      enqueued.push({ name, payload });
      await inProcess.queue.enqueue(name, payload, options);
    },
  };
  return { queue, enqueued, close: inProcess.close };
}

const SUBSCRIBE = `mutation ($email: String!, $frequency: DigestFrequency) { subscribeToDigest(email: $email, frequency: $frequency) }`;
const CONFIRM = `mutation ($token: String!) { confirmDigestSubscription(token: $token) }`;
const UNSUBSCRIBE = `mutation ($token: String!) { unsubscribeFromDigest(token: $token) }`;

describe('subscribing through the API', () => {
  let jobs: ReturnType<typeof recordingJobs>;
  let app: ReturnType<typeof createTestApp>;
  beforeEach(() => {
    jobs = recordingJobs(config);
    app = createTestApp(database.db, { config, jobs: jobs.queue });
  });
  afterEach(async () => {
    await app.close();
    await jobs.close();
  });

  it('mails a confirmation link; opening it starts the subscription, once', async () => {
    const subscribed = await app.request(SUBSCRIBE, { email: ' Ada@Example.org ', frequency: 'WEEKLY' });
    expect(subscribed).toMatchObject({ status: 200, data: { subscribeToDigest: true } });
    expect(await subscriptionOf('Ada@Example.org')).toMatchObject({ frequency: 'WEEKLY', confirmedAt: null, unsubscribedAt: null });

    await vi.waitFor(() => expect(mailsTo('Ada@Example.org')).toHaveLength(1), { timeout: JOB_WAIT_MS });
    const [mail] = mailsTo('Ada@Example.org');
    expect(mail!.subject).toBe('Confirm your Daily Papers digest');
    expect(mail!.text).toContain('every Monday');
    expect(headerLine(mail!, 'List-Unsubscribe')).toBeUndefined();
    const token = tokenOfLink(mail!.text, '/digest/confirm');
    expect(mail!.html).toContain(`href="${PUBLIC_URL}/digest/confirm?token=${token}"`);

    expect((await app.request(CONFIRM, { token })).data).toEqual({ confirmDigestSubscription: true });
    expect((await subscriptionOf('Ada@Example.org'))!.confirmedAt).toBeInstanceOf(Date);

    const again = await app.request(CONFIRM, { token });
    expect(errorCodes(again)).toEqual(['BAD_USER_INPUT']);
    expect(again.errors![0]!.extensions).toMatchObject({ reason: 'ALREADY_CONFIRMED' });
    expect(again.errors![0]!.message).toMatch(/already used/);
  });

  it('the frequency defaults to DAILY', async () => {
    expect((await app.request(`mutation { subscribeToDigest(email: "lin@example.org") }`)).data).toEqual({
      subscribeToDigest: true,
    });
    expect(await subscriptionOf('lin@example.org')).toMatchObject({ frequency: 'DAILY' });
  });

  it('asking again while pending mails a new link and voids the old one', async () => {
    await app.request(SUBSCRIBE, { email: 'ada@example.org' });
    await vi.waitFor(() => expect(mailsTo('ada@example.org')).toHaveLength(1), { timeout: JOB_WAIT_MS });
    const oldToken = tokenOfLink(mailsTo('ada@example.org')[0]!.text, '/digest/confirm');

    await app.request(SUBSCRIBE, { email: 'ADA@example.org', frequency: 'WEEKLY' });
    await vi.waitFor(() => expect(mailsTo('ada@example.org')).toHaveLength(2), { timeout: JOB_WAIT_MS });
    const newToken = tokenOfLink(mailsTo('ada@example.org')[1]!.text, '/digest/confirm');
    expect(newToken).not.toBe(oldToken);

    expect(errorCodes(await app.request(CONFIRM, { token: oldToken }))).toEqual(['NOT_FOUND']);
    expect((await app.request(CONFIRM, { token: newToken })).data).toEqual({ confirmDigestSubscription: true });
    const rows = await database.db.select().from(digestSubscriptions);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ email: 'ADA@example.org', frequency: 'WEEKLY' });
  });

  it('answers true for a confirmed address without mailing it or changing it', async () => {
    await confirmedSubscriber('ada@example.org', 'DAILY');
    const before = await subscriptionOf('ada@example.org');

    const response = await app.request(SUBSCRIBE, { email: 'Ada@example.org', frequency: 'WEEKLY' });
    expect(response.data).toEqual({ subscribeToDigest: true });
    expect(jobs.enqueued).toEqual([]);
    expect(await subscriptionOf('ada@example.org')).toEqual(before);
  });

  it('restarts a stopped subscription only through a new confirmation', async () => {
    const id = await confirmedSubscriber('ada@example.org');
    await database.db.update(digestSubscriptions).set({ unsubscribedAt: new Date() }).where(eq(digestSubscriptions.id, id));

    await app.request(SUBSCRIBE, { email: 'ada@example.org' });
    expect(await subscriptionOf('ada@example.org')).toMatchObject({ id, confirmedAt: null, unsubscribedAt: null });
    expect(jobs.enqueued).toEqual([{ name: 'send-digest-confirmation', payload: { subscriptionId: id } }]);
    await vi.waitFor(() => expect(mailsTo('ada@example.org')).toHaveLength(1), { timeout: JOB_WAIT_MS });
  });

  it.each([
    ['an empty string', ''],
    ['a word', 'ada'],
    ['no domain', 'ada@'],
    ['no local part', '@example.org'],
    ['a space inside', 'ada lovelace@example.org'],
    ['a host without a dot', 'ada@localhost'],
    ['two addresses', 'ada@example.org, grace@example.org'],
    ['more than 254 characters', `${'a'.repeat(250)}@example.org`],
  ])('refuses %s as BAD_USER_INPUT and writes nothing', async (_case, email) => {
    const response = await app.request(SUBSCRIBE, { email });
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0]!.message).toMatch(/email address/);
    expect(response.data).toBeNull();
    expect((await database.db.select({ total: count() }).from(digestSubscriptions))[0]!.total).toBe(0);
    expect(jobs.enqueued).toEqual([]);
  });

  it('refuses an unknown frequency', async () => {
    const response = await app.request(`mutation { subscribeToDigest(email: "ada@example.org", frequency: MONTHLY) }`);
    expect(response.errors?.[0]?.message).toMatch(/MONTHLY/);
    expect((await database.db.select({ total: count() }).from(digestSubscriptions))[0]!.total).toBe(0);
  });

  it('confirming or unsubscribing with an unknown token is NOT_FOUND and changes nothing', async () => {
    await requestSubscription(database.db, {
      email: 'ada@example.org',
      frequency: 'DAILY',
      now: new Date(),
      linkSecret: config.digest.linkSecret,
    });
    const before = await subscriptionOf('ada@example.org');
    for (const token of ['', 'not-a-token', 'x'.repeat(43)]) {
      expect(errorCodes(await app.request(CONFIRM, { token })), `confirm "${token}"`).toEqual(['NOT_FOUND']);
      expect(errorCodes(await app.request(UNSUBSCRIBE, { token })), `unsubscribe "${token}"`).toEqual(['NOT_FOUND']);
    }
    expect(await subscriptionOf('ada@example.org')).toEqual(before);
  });

  it('limits confirmation requests per address, regardless of case, without telling subscribed from not', async () => {
    await confirmedSubscriber('grace@example.org');
    for (const email of ['ada@example.org', 'grace@example.org']) {
      for (let attempt = 0; attempt < 3; attempt += 1) {
        expect((await app.request(SUBSCRIBE, { email })).data, `${email} #${attempt}`).toEqual({ subscribeToDigest: true });
      }
      const limited = await app.request(SUBSCRIBE, { email: email.toUpperCase() });
      expect(errorCodes(limited), email).toEqual(['RATE_LIMITED']);
      expect(limited.errors![0]!.extensions!.retryAfter).toBeGreaterThan(3500);
    }
  });

  it('limits requests per client address, whatever the addresses', async () => {
    const quiet = createTestApp(database.db, { config, jobs: { enqueue: async () => undefined } });
    try {
      for (let index = 0; index < 20; index += 1) {
        const response = await quiet.request(SUBSCRIBE, { email: `reader${index}@example.org` });
        expect(response.data, `request ${index}`).toEqual({ subscribeToDigest: true });
      }
      expect(errorCodes(await quiet.request(SUBSCRIBE, { email: 'one-more@example.org' }))).toEqual(['RATE_LIMITED']);
      expect(await subscriptionOf('one-more@example.org')).toBeUndefined();
    } finally {
      await quiet.close();
    }
  });
});

describe('the digest job on the BullMQ worker', () => {
  let connection: Redis;
  let queue: Queue;
  let queueEvents: QueueEvents;
  let worker: BullWorker;
  let app: ReturnType<typeof createTestApp>;

  beforeAll(async () => {
    connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    queue = createJobsQueue(connection, { role: 'worker', prefix });
    queueEvents = new QueueEvents(JOBS_QUEUE_NAME, { connection, prefix });
    await queueEvents.waitUntilReady();
    const workerConfig = { ...config, redisUrl, redisPrefix: prefix };
    worker = await startBullWorker({ dependencies: { ...dependencies, config: workerConfig }, reconcileIntervalMinutes: 15 });
    app = createTestApp(database.db, { config });
  });

  afterAll(async () => {
    await app?.close();
    await worker?.close();
    await queue?.obliterate({ force: true });
    await queueEvents?.close();
    await queue?.close();
    await connection?.quit();
  });

  /** Runs the job once on the worker (no retries) and resolves with its result, or rejects with its error. */
  async function runOnWorker(payload: unknown): Promise<unknown> {
    const job = await queue.add('send-digests', payload, { attempts: 1 });
    return job.waitUntilFinished(queueEvents, JOB_WAIT_MS);
  }

  const WEDNESDAY = { frequency: 'DAILY', period: '2025-11-12' };

  it('registers the daily and weekly schedulers at the configured UTC hour', async () => {
    const schedulers = await queue.getJobSchedulers();
    const digests = schedulers
      .filter((scheduler) => scheduler.name === 'send-digests')
      .map(({ key, pattern, tz, template }) => ({ key, pattern, tz, data: template?.data }));
    expect(digests.sort((a, b) => a.key.localeCompare(b.key))).toEqual([
      { key: 'send-daily-digests', pattern: '0 8 * * 1-5', tz: 'UTC', data: { frequency: 'DAILY' } },
      { key: 'send-weekly-digests', pattern: '0 8 * * 1', tz: 'UTC', data: { frequency: 'WEEKLY' } },
    ]);
  });

  it('mails each active subscriber of the frequency the top papers, with an unsubscribe link and header; a rerun sends nothing', async () => {
    await seedPapers();
    const readers = ['ada@example.org', 'grace@example.org', 'alan@example.org'];
    for (const email of readers) await confirmedSubscriber(email);
    await confirmedSubscriber('weekly@example.org', 'WEEKLY');
    await requestSubscription(database.db, {
      email: 'pending@example.org',
      frequency: 'DAILY',
      now: new Date(),
      linkSecret: config.digest.linkSecret,
    });
    const stopped = await confirmedSubscriber('stopped@example.org');
    await database.db.update(digestSubscriptions).set({ unsubscribedAt: new Date() }).where(eq(digestSubscriptions.id, stopped));

    expect(await runOnWorker(WEDNESDAY)).toEqual({ frequency: 'DAILY', period: '2025-11-12', papers: 3, sent: 3, refused: 0 });
    expect(smtp.inbox.map(recipientOf).sort()).toEqual([...readers].sort());

    const mail = mailsTo('ada@example.org')[0]!;
    expect(mail.subject).toBe('Daily Papers digest: 2025-11-12');
    const text = mail.text!;
    expect(text).toContain('featured on 2025-11-11');
    const positions = ['Most upvoted', 'Second <b>&</b> best', 'Third'].map((title) => text.indexOf(title));
    expect(positions.every((position) => position >= 0)).toBe(true);
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(text).not.toContain('Fourth');
    expect(text).not.toContain('Featured on Wednesday');
    expect(text).toContain('Ada Lovelace, Grace Hopper, Alan Turing et al. (5 authors) · 5 upvotes');
    expect(text).toMatch(new RegExp(`${PUBLIC_URL}/papers/2511\\.\\d{5}`));
    expect(mail.html).toContain('Second &lt;b&gt;&amp;&lt;/b&gt; best');

    const token = tokenOfLink(text, '/digest/unsubscribe');
    expect(headerLine(mail, 'List-Unsubscribe')).toBe(`<${PUBLIC_URL}/digest/unsubscribe?token=${token}>`);
    expect(headerLine(mail, 'List-Unsubscribe-Post')).toBe('List-Unsubscribe=One-Click');
    expect(mail.html).toContain(`href="${PUBLIC_URL}/digest/unsubscribe?token=${token}"`);
    // Each subscriber's link is their own.
    expect(tokenOfLink(mailsTo('grace@example.org')[0]!.text, '/digest/unsubscribe')).not.toBe(token);

    expect(await runOnWorker(WEDNESDAY)).toMatchObject({ sent: 0 });
    expect(smtp.inbox).toHaveLength(3);
    expect((await deliveries()).map((delivery) => delivery.status)).toEqual(['sent', 'sent', 'sent']);

    // The link works, twice, and the next edition skips that subscriber.
    expect((await app.request(UNSUBSCRIBE, { token })).data).toEqual({ unsubscribeFromDigest: true });
    const { unsubscribedAt } = (await subscriptionOf('ada@example.org'))!;
    expect(unsubscribedAt).toBeInstanceOf(Date);
    expect((await app.request(UNSUBSCRIBE, { token })).data).toEqual({ unsubscribeFromDigest: true });
    expect((await subscriptionOf('ada@example.org'))!.unsubscribedAt).toEqual(unsubscribedAt);

    expect(await runOnWorker({ frequency: 'DAILY', period: '2025-11-13' })).toMatchObject({ papers: 1, sent: 2 });
    expect(mailsTo('ada@example.org')).toHaveLength(1);
    expect(mailsTo('grace@example.org').map((received) => received.subject)).toEqual([
      'Daily Papers digest: 2025-11-12',
      'Daily Papers digest: 2025-11-13',
    ]);
  });

  it('sends the weekly edition to weekly subscribers only', async () => {
    await seedPapers();
    await confirmedSubscriber('daily@example.org');
    await confirmedSubscriber('weekly@example.org', 'WEEKLY');
    expect(await runOnWorker({ frequency: 'WEEKLY', period: '2025-W46' })).toMatchObject({ papers: 3, sent: 1 });
    expect(smtp.inbox.map((mail) => [recipientOf(mail), mail.subject])).toEqual([
      ['weekly@example.org', 'Daily Papers weekly digest: 2025-W46'],
    ]);
    expect(mailsTo('weekly@example.org')[0]!.text).toContain('featured from 2025-11-10 to 2025-11-16');
  });

  it('sends nothing and claims nothing for an edition without papers', async () => {
    await confirmedSubscriber('ada@example.org');
    expect(await runOnWorker(WEDNESDAY)).toEqual({ frequency: 'DAILY', period: '2025-11-12', papers: 0, sent: 0, refused: 0 });
    expect(await deliveries()).toEqual([]);
    expect(smtp.inbox).toEqual([]);
  });

  it('a send that fails stops the run; the rerun sends the rest, and nobody gets the edition twice', async () => {
    await seedPapers();
    const [first, failing, third, fourth] = ['a@example.org', 'b@example.org', 'c@example.org', 'd@example.org'] as const;
    const ids: number[] = [];
    for (const email of [first, failing, third, fourth]) ids.push(await confirmedSubscriber(email));
    smtp.verdict = (recipient) => (recipient === failing ? 'reject' : 'accept');

    await expect(runOnWorker(WEDNESDAY)).rejects.toThrow(/451/);
    expect(smtp.inbox.map(recipientOf)).toEqual([first]);
    expect(await deliveries()).toEqual([
      { subscriptionId: ids[0], period: '2025-11-12', status: 'sent' },
      { subscriptionId: ids[1], period: '2025-11-12', status: 'failed' },
    ]);

    smtp.verdict = () => 'accept';
    expect(await runOnWorker(WEDNESDAY)).toMatchObject({ sent: 2 });
    expect(smtp.inbox.map(recipientOf)).toEqual([first, third, fourth]);
    expect((await deliveries()).map((delivery) => delivery.status)).toEqual(['sent', 'failed', 'sent', 'sent']);
  });

  it('a recipient the server refuses is marked failed and the others still get theirs', async () => {
    await seedPapers();
    for (const email of ['a@example.org', 'b@example.org', 'c@example.org']) await confirmedSubscriber(email);
    smtp.refusedRecipients.add('b@example.org');

    expect(await runOnWorker(WEDNESDAY)).toMatchObject({ sent: 2, refused: 1 });
    expect(smtp.inbox.map(recipientOf)).toEqual(['a@example.org', 'c@example.org']);
    expect((await deliveries()).map((delivery) => delivery.status)).toEqual(['sent', 'failed', 'sent']);
    expect(await runOnWorker(WEDNESDAY)).toMatchObject({ sent: 0, refused: 0 });
  });

  it('killed halfway, then rerun: the remaining subscribers get theirs, and the one in flight is not sent again', async () => {
    await seedPapers();
    const emails = ['a@example.org', 'b@example.org', 'c@example.org', 'd@example.org'];
    for (const email of emails) await confirmedSubscriber(email);
    // The server takes b's message but never answers: the process dies between sending and recording it.
    smtp.verdict = (recipient) => (recipient === 'b@example.org' ? 'hang' : 'accept');

    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { runJob } from './jobs/registry';
         import { loadConfig } from './src/config';
         import { openDatabase } from './src/db/client';
         import { createLogger } from './src/logger';
         const database = openDatabase({ url: process.env.DATABASE_URL, dataDir: '' });
         await runJob('send-digests', ${JSON.stringify(WEDNESDAY)}, { db: database.db, config: loadConfig(), logger: createLogger('silent') });`,
      ],
      {
        cwd: repositoryRoot,
        env: {
          PATH: process.env.PATH,
          DATABASE_URL: database.url,
          SMTP_URL: config.mail.smtpUrl,
          DIGEST_LINK_SECRET: config.digest.linkSecret,
          PUBLIC_URL,
          DIGEST_PAPER_COUNT: '3',
          LOG_LEVEL: 'silent',
        },
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let childErrors = '';
    child.stderr.on('data', (chunk: Buffer) => (childErrors += chunk));
    const exited = once(child, 'exit');
    try {
      await vi.waitFor(
        () => {
          if (child.exitCode !== null) throw new Error(`the digest process exited early: ${childErrors}`);
          expect(mailsTo('b@example.org')).toHaveLength(1);
        },
        { timeout: JOB_WAIT_MS, interval: 20 },
      );
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    expect((await deliveries()).map((delivery) => delivery.status)).toEqual(['sent', 'sending']);

    smtp.verdict = () => 'accept';
    expect(await runOnWorker(WEDNESDAY)).toMatchObject({ sent: 2 });
    for (const email of emails) expect(mailsTo(email), email).toHaveLength(1);
    expect((await deliveries()).map((delivery) => delivery.status)).toEqual(['sent', 'sending', 'sent', 'sent']);
  });

  it.each([
    ['a Saturday as a DAILY edition', { frequency: 'DAILY', period: '2025-11-15' }, /period/],
    ['a week as a DAILY edition', { frequency: 'DAILY', period: '2025-W46' }, /period/],
    ['a date as a WEEKLY edition', { frequency: 'WEEKLY', period: '2025-11-17' }, /period/],
    ['a week the year lacks', { frequency: 'WEEKLY', period: '2025-W53' }, /period/],
    ['an unknown frequency', { frequency: 'MONTHLY' }, /frequency/],
    ['an unexpected field', { frequency: 'DAILY', to: 'ada@example.org' }, /to/],
  ])('refuses %s at once, without retries', async (_case, payload, reason) => {
    const job = await queue.add('send-digests', payload);
    await expect(job.waitUntilFinished(queueEvents, JOB_WAIT_MS)).rejects.toThrow(reason);
    expect((await queue.getJob(job.id!))!.attemptsMade).toBe(1);
  });
});

describe('sending an edition', () => {
  it('pages through the subscribers by id, skipping none and repeating none', async () => {
    await seedPapers();
    const emails = Array.from({ length: 7 }, (_, index) => `reader${index}@example.org`);
    const ids: number[] = [];
    for (const email of emails) ids.push(await confirmedSubscriber(email));
    // Inside the pages: one who stopped, one who already has the edition.
    await database.db.update(digestSubscriptions).set({ unsubscribedAt: new Date() }).where(eq(digestSubscriptions.id, ids[2]!));
    await database.db.insert(digestDeliveries).values({ subscriptionId: ids[4]!, period: '2025-11-12', status: 'sent' });
    const recipients: string[] = [];
    const mailer: Mailer = { send: async (message) => void recipients.push(message.to), close: () => undefined };

    const report = await sendEdition(
      { ...dependencies, mailer, publicUrl: PUBLIC_URL, linkSecret: config.digest.linkSecret, paperCount: 3, batchSize: 2 },
      editionOf('DAILY', '2025-11-12')!,
    );
    expect(report).toMatchObject({ papers: 3, sent: 5 });
    expect(recipients).toEqual(emails.filter((_, index) => index !== 2 && index !== 4));
  });

  it('after a change of the link secret, the mailed unsubscribe link still works', async () => {
    await seedPapers();
    const id = await confirmedSubscriber('ada@example.org');
    const messages: MailMessage[] = [];
    const mailer: Mailer = { send: async (message) => void messages.push(message), close: () => undefined };
    const newSecret = 'a-new-secret-of-the-deployment-0123456789';

    await sendEdition(
      { ...dependencies, mailer, publicUrl: PUBLIC_URL, linkSecret: newSecret, paperCount: 3 },
      editionOf('DAILY', '2025-11-12')!,
    );
    const token = tokenOfLink(messages[0]!.unsubscribeUrl, '/digest/unsubscribe');
    expect(token).toBe(unsubscribeToken(newSecret, 'ada@example.org'));
    await unsubscribe(database.db, token, new Date());
    expect((await subscriptionOf('ada@example.org'))!).toMatchObject({ id, unsubscribedAt: expect.any(Date) });
  });
});

describe('the confirmation job', () => {
  it('sends nothing to a subscription confirmed or stopped meanwhile', async () => {
    const id = await confirmedSubscriber('ada@example.org');
    expect(await runJob('send-digest-confirmation', { subscriptionId: id }, dependencies)).toEqual({ sent: false });
    expect(await runJob('send-digest-confirmation', { subscriptionId: id + 1 }, dependencies)).toEqual({ sent: false });
    expect(smtp.inbox).toEqual([]);
  });

  it('refuses a payload without a subscription id as unrecoverable', async () => {
    await expect(runJob('send-digest-confirmation', { subscriptionId: 0 }, dependencies)).rejects.toBeInstanceOf(
      UnrecoverableError,
    );
  });
});

describe('one-click unsubscribe (RFC 8058)', () => {
  it('a POST to the List-Unsubscribe address stops the subscription, again too; an unknown token is 404', async () => {
    await confirmedSubscriber('ada@example.org');
    const yoga = createYoga({
      schema,
      plugins: [oneClickUnsubscribePlugin({ db: database.db, logger: dependencies.logger, clock: () => new Date() })],
    });
    const post = (token: string) =>
      yoga.fetch(
        new Request(`${PUBLIC_URL}/digest/unsubscribe?token=${token}`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'List-Unsubscribe=One-Click',
        }),
      );
    const token = unsubscribeToken(config.digest.linkSecret, 'ada@example.org');

    const first = await post(token);
    expect(first.status).toBe(200);
    expect(await first.text()).toMatch(/Unsubscribed/);
    const { unsubscribedAt } = (await subscriptionOf('ada@example.org'))!;
    expect(unsubscribedAt).toBeInstanceOf(Date);
    expect((await post(token)).status).toBe(200);
    expect((await subscriptionOf('ada@example.org'))!.unsubscribedAt).toEqual(unsubscribedAt);

    const unknown = await post('not-a-token');
    expect(unknown.status).toBe(404);
    expect(await unknown.text()).toMatch(/unknown/);
  });
});

describe('without SMTP_URL', () => {
  let dataDir: string;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'digest-outbox-'));
  });
  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  async function outbox(): Promise<ParsedMail[]> {
    const directory = outboxDirectory(dataDir);
    const names = (await readdir(directory)).filter((name) => name.endsWith('.eml')).sort();
    return Promise.all(names.map(async (name) => simpleParser(await readFile(path.join(directory, name)))));
  }

  it('writes each message as an .eml file under {dataDir}/outbox', async () => {
    const outboxConfig = configWith({ DATA_DIR: dataDir });
    const jobs = recordingJobs(outboxConfig);
    const app = createTestApp(database.db, { config: outboxConfig, jobs: jobs.queue });
    try {
      await app.request(SUBSCRIBE, { email: 'ada@example.org' });
      await vi.waitFor(async () => expect(await outbox()).toHaveLength(1), { timeout: JOB_WAIT_MS });
      const [confirmation] = await outbox();
      expect(recipientOf(confirmation!)).toBe('ada@example.org');
      expect(confirmation!.from?.value).toEqual([{ name: 'Daily Papers', address: 'digest@localhost' }]);
      const token = tokenOfLink(confirmation!.text, '/digest/confirm');
      expect((await app.request(CONFIRM, { token })).data).toEqual({ confirmDigestSubscription: true });

      await seedPapers();
      const report = await runJob('send-digests', { frequency: 'DAILY', period: '2025-11-12' }, {
        ...dependencies,
        config: outboxConfig,
      });
      expect(report).toMatchObject({ sent: 1 });
      const [, digest] = await outbox();
      expect(digest!.subject).toBe('Daily Papers digest: 2025-11-12');
      expect(headerLine(digest!, 'List-Unsubscribe')).toMatch(/^<https:\/\/papers\.test\/digest\/unsubscribe\?token=/);
      expect(smtp.inbox).toEqual([]);
    } finally {
      await app.close();
      await jobs.close();
    }
  });
});

describe('the in-process runner', () => {
  /** A logger that keeps its JSON lines, to see which jobs ran. */
  function recordingLogger() {
    const lines: Record<string, unknown>[] = [];
    const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
    const results = (job: string) =>
      lines.filter((line) => line.msg === 'job completed' && line.job === job).map((line) => line.result);
    return { logger, results };
  }

  it('sends the DAILY edition at the configured hour on a weekday, and not the WEEKLY one', async () => {
    await seedPapers();
    await confirmedSubscriber('ada@example.org');
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const { logger, results } = recordingLogger();
    try {
      vi.setSystemTime(new Date('2025-11-12T07:58:30Z'));
      const jobs = createInProcessJobs({ dependencies: { ...dependencies, logger }, reconcileIntervalMinutes: 15 });
      try {
        await vi.advanceTimersByTimeAsync(60_000);
        expect(results('send-digests')).toEqual([]);
        await vi.advanceTimersByTimeAsync(60_000);
        await vi.waitFor(() => expect(results('send-digests')).toHaveLength(1), { timeout: JOB_WAIT_MS });
        expect(results('send-digests')).toEqual([
          { frequency: 'DAILY', period: '2025-11-12', papers: 3, sent: 1, refused: 0 },
        ]);
        expect(mailsTo('ada@example.org')).toHaveLength(1);
      } finally {
        await jobs.close();
      }
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('editions', () => {
  it.each([
    ['Wednesday at the hour', '2025-11-12T08:00:00Z', 'DAILY', '2025-11-12', '2025-11-11', '2025-11-12'],
    ['Wednesday before the hour', '2025-11-12T07:59:59Z', 'DAILY', '2025-11-11', '2025-11-10', '2025-11-11'],
    ['Saturday', '2025-11-15T12:00:00Z', 'DAILY', '2025-11-14', '2025-11-13', '2025-11-14'],
    ['Monday before the hour', '2025-11-17T07:00:00Z', 'DAILY', '2025-11-14', '2025-11-13', '2025-11-14'],
    ['Monday at the hour', '2025-11-17T08:30:00Z', 'DAILY', '2025-11-17', '2025-11-14', '2025-11-17'],
    ['Monday at the hour', '2025-11-17T08:00:00Z', 'WEEKLY', '2025-W46', '2025-11-10', '2025-11-17'],
    ['Monday before the hour', '2025-11-17T07:00:00Z', 'WEEKLY', '2025-W45', '2025-11-03', '2025-11-10'],
    ['Sunday', '2025-11-23T23:00:00Z', 'WEEKLY', '2025-W46', '2025-11-10', '2025-11-17'],
    ['the first Monday of 2026', '2026-01-05T08:00:00Z', 'WEEKLY', '2026-W01', '2025-12-29', '2026-01-05'],
    ['the last Monday of 2025', '2025-12-29T09:00:00Z', 'WEEKLY', '2025-W52', '2025-12-22', '2025-12-29'],
  ] as const)('%s (%s), %s: the edition due is %s', (_case, now, frequency, period, from, until) => {
    expect(dueEdition(frequency, new Date(now), 8)).toEqual({
      frequency,
      period,
      from: new Date(`${from}T00:00:00Z`),
      until: new Date(`${until}T00:00:00Z`),
    });
  });

  it('names no edition on a weekend day, a week that does not exist or a malformed period', () => {
    expect(editionOf('DAILY', '2025-11-16')).toBeUndefined();
    expect(editionOf('DAILY', '2025-02-30')).toBeUndefined();
    expect(editionOf('WEEKLY', '2025-W00')).toBeUndefined();
    expect(editionOf('WEEKLY', '2021-W53')).toBeUndefined();
    expect(editionOf('WEEKLY', '2020-W53')).toMatchObject({ from: new Date('2020-12-28T00:00:00Z') });
    expect(editionOf('WEEKLY', '2025-w46')).toBeUndefined();
  });
});
