import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { eq } from 'drizzle-orm';
import type { Browser } from 'puppeteer-core';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { digestSubscriptions } from '../src/db/schema';
import { createHttpServer } from '../src/http-server';
import type { MailMessage } from '../src/mail/mailer';
import { confirmationMessage } from '../src/modules/digest/digest-mail';
import { editionOf } from '../src/modules/digest/editions';
import { sendEdition } from '../src/modules/digest/send-digests';
import { confirmSubscription, issueConfirmToken, requestSubscription } from '../src/modules/digest/subscriptions';
import { unsubscribeToken } from '../src/modules/digest/tokens';
import { createLogger } from '../src/logger';
import { castVotes, paperRecord, savePaperRecords, testConfig } from './support/fixtures';
import { createTestApp } from './support/test-app';
import { createTestDatabase, type TestDatabase } from './support/test-database';

// The pages that the links of emails and feeds land on, with the default settings
// (PUBLIC_URL is this API): fetched, then clicked through in a headless Chromium.

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const HOSTILE = `<script>alert("x")</script> & <img src=x onerror=alert(1)> "quoted" 'single'`;

let database: TestDatabase;
let testApp: ReturnType<typeof createTestApp>;
let listener: Server;
/** Where the listener answers: the links below are PUBLIC_URL's, moved here. */
let base: string;

const here = (link: string) => {
  expect(link.startsWith(testConfig.publicUrl), link).toBe(true);
  return base + link.slice(testConfig.publicUrl.length);
};

beforeAll(async () => {
  database = await createTestDatabase();
  testApp = createTestApp(database.db);
  listener = createHttpServer(testApp.app);
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(listener.address() as AddressInfo).port}`;
});

afterAll(async () => {
  listener?.closeAllConnections();
  await new Promise((resolve) => listener?.close(resolve));
  await testApp?.close();
  await database?.close();
});

beforeEach(async () => {
  await testApp.idle();
  await database.truncate();
});

async function subscription(email: string) {
  const [row] = await database.db.select().from(digestSubscriptions).where(eq(digestSubscriptions.email, email));
  return row!;
}

/** A pending subscription and the link of its confirmation email. */
async function confirmationLink(email: string): Promise<string> {
  const id = (await requestSubscription(database.db, { email, frequency: 'DAILY', now: new Date(), linkSecret: testConfig.digest.linkSecret }))!;
  const issued = (await issueConfirmToken(database.db, id))!;
  const mail = confirmationMessage(testConfig.publicUrl, issued, issued.token);
  return /https?:\/\/\S+\/digest\/confirm\?token=[\w-]+/.exec(mail.text)![0];
}

/** A confirmed subscription and the unsubscribe link its digests carry. */
async function unsubscribeLink(email: string): Promise<string> {
  const id = (await requestSubscription(database.db, { email, frequency: 'DAILY', now: new Date(), linkSecret: testConfig.digest.linkSecret }))!;
  const { token } = (await issueConfirmToken(database.db, id))!;
  await confirmSubscription(database.db, token, new Date());
  return `${testConfig.publicUrl}/digest/unsubscribe?token=${unsubscribeToken(testConfig.digest.linkSecret, email)}`;
}

const post = (link: string, body = '') => fetch(here(link), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

describe('the paper page', () => {
  it('shows title, authors, abstract, upvotes and links, escaped', async () => {
    const { paperIds } = await savePaperRecords(database.db, [
      paperRecord({
        arxivId: '2511.00001',
        title: HOSTILE,
        abstract: 'We <b>bold</b>ly go & return.',
        authors: [{ name: 'Ada <Lovelace>' }, { name: 'Grace Hopper' }],
      }),
    ]);
    await castVotes(database.db, [
      { username: 'v1', paperId: paperIds[0]!, at: new Date() },
      { username: 'v2', paperId: paperIds[0]!, at: new Date() },
    ]);
    const answer = await fetch(here(`${testConfig.publicUrl}/papers/2511.00001`));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(answer.headers.get('content-security-policy')).toBe("default-src 'none'; frame-ancestors 'none'");
    const html = await answer.text();
    expect(html).not.toContain('<script');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;img src=x onerror=alert(1)&gt;');
    expect(html).toContain('Ada &lt;Lovelace&gt;, Grace Hopper');
    expect(html).toContain('We &lt;b&gt;bold&lt;/b&gt;ly go &amp; return.');
    expect(html).toContain('2 upvotes');
    expect(html).toContain('href="https://arxiv.org/abs/2511.00001"');
  });

  it('links only web addresses: a stored javascript: URL is no link', async () => {
    await savePaperRecords(database.db, [
      paperRecord({ arxivId: '2511.00002', githubRepo: 'javascript:alert(1)', projectPage: 'https://example.org/p?a=1&b="2"' }),
    ]);
    const html = await (await fetch(`${base}/papers/2511.00002v3`)).text();
    expect(html).not.toContain('javascript:');
    expect(html).toContain('href="https://example.org/p?a=1&amp;b=%222%22"');
  });

  it('is a 404 page for an unknown or malformed arXiv id, and refuses other methods', async () => {
    for (const path of ['/papers/2511.99999', '/papers/not-an-id', '/papers/%3Cb%3E', '/papers/%E0%A4%A', '/papers/']) {
      const answer = await fetch(`${base}${path}`);
      expect(answer.status, path).toBe(404);
      const html = await answer.text();
      expect(html, path).toContain('Paper not found');
      expect(html, path).not.toContain('<b>');
    }
    const head = await fetch(`${base}/papers/2511.99999`, { method: 'HEAD' });
    expect(head.status).toBe(404);
    expect((await fetch(`${base}/papers/2511.99999`, { method: 'DELETE' })).status).toBe(405);
  });
});

describe('the digest pages', () => {
  it('confirm: a GET shows a button and confirms nothing; the POST confirms', async () => {
    const link = await confirmationLink('ada@example.org');
    const page = await fetch(here(link));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("form-action 'self'");
    expect(page.headers.get('cache-control')).toBe('no-store');
    expect(await page.text()).toMatch(/<form method="post" action="\/digest\/confirm\?token=[\w-]+"><button type="submit">Confirm the subscription/);
    expect((await fetch(here(link), { method: 'HEAD' })).status).toBe(200);
    expect((await subscription('ada@example.org')).confirmedAt).toBeNull();

    const confirmed = await post(link);
    expect(confirmed.status).toBe(200);
    expect(await confirmed.text()).toContain('Subscription confirmed');
    expect((await subscription('ada@example.org')).confirmedAt).toBeInstanceOf(Date);

    const again = await post(link);
    expect(again.status).toBe(400);
    expect(await again.text()).toContain('already used');
  });

  it('unsubscribe: a GET shows a button and stops nothing; the POST (also one-click) stops the subscription', async () => {
    const link = await unsubscribeLink('ada@example.org');
    const page = await fetch(here(link));
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<form method="post" action="\/digest\/unsubscribe\?token=[\w-]+"><button type="submit">Unsubscribe/);
    expect((await subscription('ada@example.org')).unsubscribedAt).toBeNull();

    const stopped = await post(link, 'List-Unsubscribe=One-Click');
    expect(stopped.status).toBe(200);
    expect(await stopped.text()).toContain('Unsubscribed');
    expect((await subscription('ada@example.org')).unsubscribedAt).toBeInstanceOf(Date);
  });

  it('says clearly when a token is unknown or missing, and escapes what it repeats', async () => {
    for (const path of ['/digest/confirm', '/digest/unsubscribe']) {
      const unknown = await post(`${testConfig.publicUrl}${path}?token=%3Cscript%3Enope`);
      expect(unknown.status, path).toBe(404);
      const html = await unknown.text();
      expect(html, path).toMatch(/unknown/);
      expect(html, path).not.toContain('<script');
      const missing = await fetch(`${base}${path}`);
      expect(missing.status, path).toBe(400);
      expect(await missing.text(), path).toContain('This link has no token');
    }
    // The GET's form carries the token escaped.
    const page = await (await fetch(`${base}/digest/confirm?token=%22%3E%3Cscript%3E`)).text();
    expect(page).not.toContain('<script');
  });
});

describe('every link the emails and feeds send', () => {
  it('answers 200 with the default settings', async () => {
    const tuesday = (hour: number) => new Date(Date.UTC(2025, 10, 11, hour));
    await savePaperRecords(database.db, [
      paperRecord({ title: 'First', submittedAt: tuesday(9) }),
      paperRecord({ title: 'Second & more', submittedAt: tuesday(10) }),
    ]);
    const sent: MailMessage[] = [];
    const mailer = { send: async (message: MailMessage) => void sent.push(message), close: () => {} };
    await unsubscribeLink('reader@example.org');
    const report = await sendEdition(
      {
        db: database.db,
        mailer,
        logger: createLogger('silent'),
        publicUrl: testConfig.publicUrl,
        linkSecret: testConfig.digest.linkSecret,
        paperCount: 10,
      },
      editionOf('DAILY', '2025-11-12')!,
    );
    expect(report.sent).toBe(1);
    const confirm = await confirmationLink('new@example.org');

    const documents = [
      ...sent.flatMap((mail) => [mail.text, mail.html, mail.unsubscribeUrl ?? '']),
      confirm,
      await (await fetch(`${base}/feeds/trending.atom`)).text(),
      await (await fetch(`${base}/feeds/daily.atom?date=2025-11-11`)).text(),
    ];
    const escapedOrigin = testConfig.publicUrl.replace(/[.:/]/g, '\\$&');
    const links = new Set(
      documents.flatMap((document) => [...document.matchAll(new RegExp(`${escapedOrigin}[^\\s"<>]*`, 'g'))].map(([link]) => link.replace(/&amp;/g, '&'))),
    );
    // Both papers' pages, the confirmation and unsubscribe pages, the feeds themselves and the site.
    expect([...links].filter((link) => link.includes('/papers/'))).toHaveLength(2);
    expect([...links].some((link) => link.includes('/digest/confirm?token='))).toBe(true);
    expect([...links].some((link) => link.includes('/digest/unsubscribe?token='))).toBe(true);
    expect(links.has(`${testConfig.publicUrl}/feeds/trending.atom`)).toBe(true);
    for (const link of links) {
      // As a browser opens a link: HTML preferred, redirects followed.
      const answer = await fetch(here(link), { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' } });
      expect(answer.status, link).toBe(200);
    }
  });
});

const hasChromium = existsSync(CHROMIUM);
const noChromium = `no Chromium at ${CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH): the headless-browser tests are skipped`;
if (!hasChromium) console.warn(noChromium);

describe.skipIf(!hasChromium)(hasChromium ? `in headless Chromium (${CHROMIUM})` : noChromium, () => {
  let browser: Browser;
  beforeAll(async () => {
    const puppeteer = (await import('puppeteer-core')).default;
    browser = await puppeteer.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  });
  afterAll(async () => {
    await browser?.close();
  });

  /** A fresh page that fails the test if anything would run a dialog. */
  async function newPage() {
    const page = await browser.newPage();
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });
    return { page, dialogs };
  }

  it('renders a hostile title as text, and nothing runs', async () => {
    await savePaperRecords(database.db, [paperRecord({ arxivId: '2511.00003', title: HOSTILE, authors: [{ name: 'Ada Lovelace' }] })]);
    const { page, dialogs } = await newPage();
    const answer = await page.goto(`${base}/papers/2511.00003`);
    expect(answer!.status()).toBe(200);
    expect(await page.title()).toBe(HOSTILE);
    expect(await page.$eval('h1', (heading) => heading.textContent)).toBe(HOSTILE);
    expect(await page.$$eval('script, img', (elements) => elements.length)).toBe(0);
    expect(await page.$eval('.authors', (line) => line.textContent)).toBe('Ada Lovelace');
    expect(dialogs).toEqual([]);
    await page.close();
  });

  it('confirms a subscription when its button is clicked, not when the link is opened', async () => {
    const { page } = await newPage();
    await page.goto(here(await confirmationLink('ada@example.org')));
    expect(await page.$eval('h1', (heading) => heading.textContent)).toBe('Confirm your digest subscription');
    expect((await subscription('ada@example.org')).confirmedAt).toBeNull();
    await Promise.all([page.waitForNavigation(), page.click('button')]);
    expect(await page.$eval('h1', (heading) => heading.textContent)).toBe('Subscription confirmed');
    expect((await subscription('ada@example.org')).confirmedAt).toBeInstanceOf(Date);
    await page.close();
  });

  it('unsubscribes when its button is clicked, not when the link is opened', async () => {
    const { page } = await newPage();
    await page.goto(here(await unsubscribeLink('ada@example.org')));
    expect((await subscription('ada@example.org')).unsubscribedAt).toBeNull();
    await Promise.all([page.waitForNavigation(), page.click('button')]);
    expect(await page.$eval('h1', (heading) => heading.textContent)).toBe('Unsubscribed');
    expect((await subscription('ada@example.org')).unsubscribedAt).toBeInstanceOf(Date);
    await page.close();
  });

  it('says a confirmation link is unknown after its button is clicked', async () => {
    const { page } = await newPage();
    await page.goto(`${base}/digest/confirm?token=no-such-token`);
    const [answer] = await Promise.all([page.waitForNavigation(), page.click('button')]);
    expect(answer!.status()).toBe(404);
    expect(await page.$eval('h1', (heading) => heading.textContent)).toBe('Not confirmed');
    expect(await page.$eval('p', (paragraph) => paragraph.textContent)).toMatch(/unknown or was replaced/);
  });

  it('shows a 404 page for an unknown paper', async () => {
    const { page } = await newPage();
    const answer = await page.goto(`${base}/papers/2511.99999`);
    expect(answer!.status()).toBe(404);
    expect(await page.$eval('h1', (heading) => heading.textContent)).toBe('Paper not found');
  });
});
