import type { Plugin } from 'graphql-yoga';
import type { Database } from '../../db/client';
import { AppError } from '../../errors';
import { escapeHtml, FORM_PAGE_POLICY, htmlPage, PAGE_POLICY, postButton, tokenPageHeaders } from '../../http/html-page';
import type { Logger } from '../../logger';
import { confirmSubscription, unsubscribe } from './subscriptions';

export interface DigestPagesDependencies {
  db: Database;
  logger: Logger;
  clock: () => Date;
}

interface TokenPage {
  /** What the GET shows above its button, and the button's label. */
  ask: { title: string; button: string };
  /** Does what the link is for; throws an AppError when the token does not allow it. */
  act: (db: Database, token: string, now: Date) => Promise<void>;
  done: { title: string; body: string };
  /** The title of the page that says why it did not happen. */
  failed: string;
}

const pages: Record<string, TokenPage> = {
  '/digest/confirm': {
    ask: { title: 'Confirm your digest subscription', button: 'Confirm the subscription' },
    act: confirmSubscription,
    done: { title: 'Subscription confirmed', body: '<p>The Daily Papers digest will be sent to this address.</p>' },
    failed: 'Not confirmed',
  },
  '/digest/unsubscribe': {
    ask: { title: 'Unsubscribe from the digest', button: 'Unsubscribe' },
    act: unsubscribe,
    done: { title: 'Unsubscribed', body: '<p>No more digests will be sent to this address.</p>' },
    failed: 'Not unsubscribed',
  },
};

/**
 * The pages the digest's links land on: /digest/confirm?token=... (from the
 * confirmation email) and /digest/unsubscribe?token=... (from every digest).
 * A GET (or HEAD) shows a button and changes nothing, since mail scanners
 * open links on their own; the button POSTs to the same address, which does
 * it. That POST is also the one-click unsubscribe of RFC 8058 that every
 * digest's List-Unsubscribe-Post header promises: mail clients send it by
 * themselves.
 */
export function digestPagesPlugin({ db, logger, clock }: DigestPagesDependencies): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      const page = pages[url.pathname];
      if (!page || !['GET', 'HEAD', 'POST'].includes(request.method)) return;
      const reply = (status: number, title: string, body: string, policy = PAGE_POLICY) =>
        endResponse(new fetchAPI.Response(request.method === 'HEAD' ? null : htmlPage(title, body), { status, headers: tokenPageHeaders(policy) }));
      const token = url.searchParams.get('token') ?? '';
      if (token === '') return reply(400, page.failed, '<p>This link has no token: copy the whole link from the email.</p>');
      if (request.method !== 'POST') {
        const action = `${url.pathname}?token=${encodeURIComponent(token)}`;
        return reply(200, page.ask.title, postButton(action, page.ask.button), FORM_PAGE_POLICY);
      }
      try {
        await page.act(db, token, clock());
        reply(200, page.done.title, page.done.body);
      } catch (error) {
        if (error instanceof AppError) {
          return reply(error.extensions.code === 'NOT_FOUND' ? 404 : 400, page.failed, `<p>${escapeHtml(error.message)}</p>`);
        }
        logger.error({ err: error, path: url.pathname }, 'digest link failed');
        reply(500, page.failed, '<p>Something went wrong on our side: try again shortly.</p>');
      }
    },
  };
}
