import { UnrecoverableError } from 'bullmq';
import { count, eq } from 'drizzle-orm';
import { createYoga } from 'graphql-yoga';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { runJob } from '../jobs/registry';
import { digestSubscriptions } from '../src/db/schema';
import { schema } from '../src/graphql/schema';
import { digestPagesPlugin } from '../src/modules/digest/digest-pages';
import { requestSubscription } from '../src/modules/digest/subscriptions';
import { unsubscribeToken } from '../src/modules/digest/tokens';
import {
  CONFIRM,
  JOB_WAIT_MS,
  PUBLIC_URL,
  SUBSCRIBE,
  UNSUBSCRIBE,
  config,
  confirmedSubscriber,
  database,
  dependencies,
  headerLine,
  mailsTo,
  recordingJobs,
  setUpDigestTests,
  smtp,
  subscriptionOf,
  tokenOfLink,
} from './support/digest';
import { errorCodes } from './support/graphql-client';
import { createTestApp } from './support/test-app';

// Taking, confirming and stopping a digest subscription.
setUpDigestTests();

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
    expect(jobs.enqueued).toEqual([{ name: 'send-digest-confirmation', payload: { subscriptionId: id }, deduplicationId: `subscription:${id}` }]);
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

describe('the confirmation job', () => {
  it('sends nothing to a subscription confirmed or stopped meanwhile', async () => {
    const id = await confirmedSubscriber('ada@example.org');
    expect(await runJob('send-digest-confirmation', { subscriptionId: id }, dependencies)).toEqual({ sent: false });
    expect(await runJob('send-digest-confirmation', { subscriptionId: id + 1 }, dependencies)).toEqual({ sent: false });
    expect(smtp.inbox).toEqual([]);
  });

  it('refuses a payload without a subscription id as unrecoverable', async () => {
    await expect(runJob('send-digest-confirmation', { subscriptionId: 0 }, dependencies)).rejects.toBeInstanceOf(UnrecoverableError);
  });
});

describe('one-click unsubscribe (RFC 8058)', () => {
  it('a POST to the List-Unsubscribe address stops the subscription, again too; an unknown token is 404', async () => {
    await confirmedSubscriber('ada@example.org');
    const yoga = createYoga({
      schema,
      plugins: [digestPagesPlugin({ db: database.db, logger: dependencies.logger, clock: () => new Date() })],
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
