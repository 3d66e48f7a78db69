import type { AddressInfo } from 'node:net';
import { asc, eq } from 'drizzle-orm';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, beforeEach, expect } from 'vitest';
import { createInProcessJobs } from '../../jobs/in-process';
import type { JobDependencies } from '../../jobs/jobs';
import { loadConfig, type AppConfig } from '../../src/config';
import { digestDeliveries, digestSubscriptions } from '../../src/db/schema';
import { createLogger } from '../../src/logger';
import { confirmSubscription, issueConfirmToken, requestSubscription } from '../../src/modules/digest/subscriptions';
import { castVotes, paperRecord, savePaperRecords, TEST_PASSWORD_HASH_COST } from './fixtures';
import { recordingJobQueue } from './recorders';
import { createTestDatabase, type TestDatabase } from './test-database';

// What the digest test files share: a database, an SMTP server the config
// sends to, and helpers that read both. setUpDigestTests() fills the
// variables below for the calling test file.

export const PUBLIC_URL = 'https://papers.test';
export const JOB_WAIT_MS = 15_000;

export const SUBSCRIBE = `mutation ($email: String!, $frequency: DigestFrequency) { subscribeToDigest(email: $email, frequency: $frequency) }`;
export const CONFIRM = `mutation ($token: String!) { confirmDigestSubscription(token: $token) }`;
export const UNSUBSCRIBE = `mutation ($token: String!) { unsubscribeFromDigest(token: $token) }`;

/** What the test SMTP server does with a message, by recipient: accept it, refuse it (451), or take it and never answer. */
export type Verdict = 'accept' | 'reject' | 'hang';

export interface TestSmtpServer {
  port: number;
  /** Every message the server took in full, in arrival order. */
  inbox: ParsedMail[];
  /** Decides each message by its recipient; everything is accepted unless a test says otherwise. */
  verdict: (recipient: string) => Verdict;
  /** Recipients refused at RCPT TO (550), as a mailbox that does not exist is. */
  refusedRecipients: Set<string>;
  close(): Promise<void>;
}

export async function startSmtpServer(): Promise<TestSmtpServer> {
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

export let database: TestDatabase;
export let smtp: TestSmtpServer;
/** The digest settings, with SMTP_URL pointing at `smtp`. */
export let config: AppConfig;
export let dependencies: JobDependencies;

/** The settings of the digest tests, on top of the defaults; without SMTP_URL mail goes to the outbox. */
export function digestConfig(environment: Record<string, string>): AppConfig {
  return loadConfig({
    LOG_LEVEL: 'silent',
    PASSWORD_HASH_COST: String(TEST_PASSWORD_HASH_COST),
    PUBLIC_URL,
    DIGEST_PAPER_COUNT: '3',
    DIGEST_HOUR_UTC: '8',
    DIGEST_LINK_SECRET: 'a test key of at least thirty-two characters',
    ...environment,
  });
}

/** Starts the database and the SMTP server for this test file, and empties both before each test. */
export function setUpDigestTests(): void {
  beforeAll(async () => {
    database = await createTestDatabase();
    smtp = await startSmtpServer();
    config = digestConfig({ SMTP_URL: `smtp://127.0.0.1:${smtp.port}` });
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
}

/** Mail delivered to an address; domains compare regardless of case (nodemailer writes them in lower case). */
export const mailsTo = (address: string) => smtp.inbox.filter((mail) => recipientOf(mail) === address.toLowerCase());
export const recipientOf = (mail: ParsedMail) => (Array.isArray(mail.to) ? mail.to[0] : mail.to)?.value[0]?.address?.toLowerCase();
export const headerLine = (mail: ParsedMail, name: string) =>
  mail.headerLines.find((header) => header.key === name.toLowerCase())?.line.replace(/^[^:]+:\s*/, '');

/** The token of the first link to {PUBLIC_URL}{pathname} in a text. */
export function tokenOfLink(text: string | undefined, pathname: string): string {
  const escaped = `${PUBLIC_URL}${pathname}`.replace(/[.?/]/g, '\\$&');
  const token = new RegExp(`${escaped}\\?token=([\\w-]+)`).exec(text ?? '')?.[1];
  expect(token, `a link to ${pathname} in:\n${text}`).toBeDefined();
  return token!;
}

export async function subscriptionOf(email: string) {
  const [row] = await database.db.select().from(digestSubscriptions).where(eq(digestSubscriptions.email, email));
  return row;
}

export async function deliveries() {
  return database.db
    .select({ subscriptionId: digestDeliveries.subscriptionId, period: digestDeliveries.period, status: digestDeliveries.status })
    .from(digestDeliveries)
    .orderBy(asc(digestDeliveries.subscriptionId), asc(digestDeliveries.period));
}

/** A subscription taken and confirmed through the domain functions, as a mailbox owner leaves it; returns its id. */
export async function confirmedSubscriber(email: string, frequency: 'DAILY' | 'WEEKLY' = 'DAILY'): Promise<number> {
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
export async function seedPapers() {
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
  await castVotes(database.db, [...votes(most, ['v1', 'v2', 'v3', 'v4', 'v5']), ...votes(second, ['v1', 'v2', 'v3']), ...votes(third, ['v1'])]);
}

/** An in-process job runner on `jobConfig` that records what is enqueued. */
export function recordingJobs(jobConfig: AppConfig) {
  const inProcess = createInProcessJobs({ dependencies: { ...dependencies, config: jobConfig }, reconcileIntervalMinutes: 15 });
  const { queue, enqueued } = recordingJobQueue(inProcess.queue);
  return { queue, enqueued, close: inProcess.close };
}
