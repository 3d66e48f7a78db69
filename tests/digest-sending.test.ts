import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createInProcessJobs } from '../jobs/in-process';
import { runJob } from '../jobs/registry';
import { digestDeliveries, digestSubscriptions } from '../src/db/schema';
import { outboxDirectory, type MailMessage, type Mailer } from '../src/mail/mailer';
import { editionOf } from '../src/modules/digest/editions';
import { sendEdition } from '../src/modules/digest/send-digests';
import { unsubscribe } from '../src/modules/digest/subscriptions';
import { unsubscribeToken } from '../src/modules/digest/tokens';
import {
  CONFIRM,
  JOB_WAIT_MS,
  PUBLIC_URL,
  SUBSCRIBE,
  config,
  confirmedSubscriber,
  database,
  dependencies,
  digestConfig,
  headerLine,
  mailsTo,
  recipientOf,
  recordingJobs,
  seedPapers,
  setUpDigestTests,
  smtp,
  subscriptionOf,
  tokenOfLink,
} from './support/digest';
import { recordingLogger } from './support/recorders';
import { createTestApp } from './support/test-app';

// Sending an edition outside the BullMQ worker: page by page, to the outbox without SMTP, on the in-process timers.
setUpDigestTests();

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

    await sendEdition({ ...dependencies, mailer, publicUrl: PUBLIC_URL, linkSecret: newSecret, paperCount: 3 }, editionOf('DAILY', '2025-11-12')!);
    const token = tokenOfLink(messages[0]!.unsubscribeUrl, '/digest/unsubscribe');
    expect(token).toBe(unsubscribeToken(newSecret, 'ada@example.org'));
    await unsubscribe(database.db, token, new Date());
    expect((await subscriptionOf('ada@example.org'))!).toMatchObject({ id, unsubscribedAt: expect.any(Date) });
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
    const outboxConfig = digestConfig({ DATA_DIR: dataDir });
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
      const report = await runJob(
        'send-digests',
        { frequency: 'DAILY', period: '2025-11-12' },
        {
          ...dependencies,
          config: outboxConfig,
        },
      );
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
  it('sends the DAILY edition at the configured hour on a weekday, and not the WEEKLY one', async () => {
    await seedPapers();
    await confirmedSubscriber('ada@example.org');
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date'] });
    const { logger, completed: results } = recordingLogger();
    try {
      vi.setSystemTime(new Date('2025-11-12T07:58:30Z'));
      const jobs = createInProcessJobs({ dependencies: { ...dependencies, logger }, reconcileIntervalMinutes: 15 });
      try {
        await vi.advanceTimersByTimeAsync(60_000);
        expect(results('send-digests')).toEqual([]);
        await vi.advanceTimersByTimeAsync(60_000);
        await vi.waitFor(() => expect(results('send-digests')).toHaveLength(1), { timeout: JOB_WAIT_MS });
        expect(results('send-digests')).toEqual([{ frequency: 'DAILY', period: '2025-11-12', papers: 3, sent: 1, refused: 0 }]);
        expect(mailsTo('ada@example.org')).toHaveLength(1);
      } finally {
        await jobs.close();
      }
    } finally {
      vi.useRealTimers();
    }
  });
});
