import { randomUUID } from 'node:crypto';
import { QueueEvents, type Queue } from 'bullmq';
import { eq } from 'drizzle-orm';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { JOBS_QUEUE_NAME, createJobsQueue, startBullWorker, type BullWorker } from '../jobs/bullmq';
import { digestSubscriptions } from '../src/db/schema';
import { requestSubscription } from '../src/modules/digest/subscriptions';
import {
  JOB_WAIT_MS,
  PUBLIC_URL,
  UNSUBSCRIBE,
  config,
  confirmedSubscriber,
  database,
  deliveries,
  dependencies,
  headerLine,
  mailsTo,
  recipientOf,
  seedPapers,
  setUpDigestTests,
  smtp,
  subscriptionOf,
  tokenOfLink,
} from './support/digest';
import { testRedisUrl as redisUrl } from './support/fixtures';
import { PROCESS_TEST_TIMEOUT_MS, spawnScript } from './support/server-process';
import { createTestApp } from './support/test-app';

// The send-digests job as the BullMQ worker runs it: the mail, reruns, failures.
setUpDigestTests();

/** This file's own BullMQ keys (its REDIS_PREFIX), removed at the end. */
const prefix = `test-digest-${randomUUID()}`;

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
    expect(smtp.inbox.map((mail) => [recipientOf(mail), mail.subject])).toEqual([['weekly@example.org', 'Daily Papers weekly digest: 2025-W46']]);
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

  it('killed halfway, then rerun: the remaining subscribers get theirs, and the one in flight is not sent again', {
    timeout: PROCESS_TEST_TIMEOUT_MS,
  }, async () => {
    await seedPapers();
    const emails = ['a@example.org', 'b@example.org', 'c@example.org', 'd@example.org'];
    for (const email of emails) await confirmedSubscriber(email);
    // The server takes b's message but never answers: the process dies between sending and recording it.
    smtp.verdict = (recipient) => (recipient === 'b@example.org' ? 'hang' : 'accept');

    const child = spawnScript(
      [
        '--input-type=module',
        '-e',
        `import { runJob } from './jobs/registry';
         import { loadConfig } from './src/config';
         import { openDatabase } from './src/db/client';
         import { createLogger } from './src/logger';
         console.log('loaded');
         const database = openDatabase({ url: process.env.DATABASE_URL, dataDir: '' });
         await runJob('send-digests', ${JSON.stringify(WEDNESDAY)}, { db: database.db, config: loadConfig(), logger: createLogger('silent') });`,
      ],
      {
        DATABASE_URL: database.url,
        SMTP_URL: config.mail.smtpUrl,
        DIGEST_LINK_SECRET: config.digest.linkSecret,
        PUBLIC_URL,
        DIGEST_PAPER_COUNT: '3',
        LOG_LEVEL: 'silent',
      },
    );
    try {
      // Its start-up (loading the modules) is not part of the job's time.
      await child.waitForOutput(/loaded/);
      await vi.waitFor(
        () => {
          if (child.process.exitCode !== null) throw new Error(`the digest process exited early: ${child.stderr}`);
          expect(mailsTo('b@example.org')).toHaveLength(1);
        },
        { timeout: JOB_WAIT_MS, interval: 20 },
      );
    } finally {
      await child.stop('SIGKILL');
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
