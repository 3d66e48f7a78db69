import type { Plugin } from 'graphql-yoga';
import type { Database } from '../../db/client';
import { AppError } from '../../errors';
import type { Logger } from '../../logger';
import { escapeHtml } from '../digest/digest-mail';
import { verifyEmail } from './email-verification';

export interface VerifyEmailPageDependencies {
  db: Database;
  logger: Logger;
}

/** The token sits in the address: no referrer carries it elsewhere, nothing caches or frames the page, no script runs. */
const pageHeaders = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; form-action 'self'; frame-ancestors 'none'",
};

const page = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
  `<body><h1>${escapeHtml(title)}</h1>${body}</body></html>\n`;

/**
 * /verify-email?token=..., where the link mailed after signUp lands. A GET
 * shows a button and changes nothing (mail scanners open links on their
 * own); the button POSTs to the same address, which verifies the address as
 * the verifyEmail mutation does.
 */
export function verifyEmailPagePlugin({ db, logger }: VerifyEmailPageDependencies): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== '/verify-email' || (request.method !== 'GET' && request.method !== 'POST')) return;
      const reply = (status: number, title: string, body: string) =>
        endResponse(new fetchAPI.Response(page(title, body), { status, headers: pageHeaders }));
      const token = url.searchParams.get('token') ?? '';
      if (request.method === 'GET') {
        const action = `/verify-email?token=${encodeURIComponent(token)}`;
        return reply(
          200,
          'Verify your email address',
          `<form method="post" action="${escapeHtml(action)}"><button type="submit">Verify this address for Daily Papers</button></form>`,
        );
      }
      try {
        await verifyEmail(db, token);
        reply(200, 'Address verified', '<p>You can now log in with this address.</p>');
      } catch (error) {
        if (error instanceof AppError) {
          return reply(error.extensions.code === 'CONFLICT' ? 409 : 404, 'Not verified', `<p>${escapeHtml(error.message)}</p>`);
        }
        logger.error({ err: error }, 'email verification failed');
        reply(500, 'Not verified', '<p>Could not verify the address right now: try again shortly.</p>');
      }
    },
  };
}
