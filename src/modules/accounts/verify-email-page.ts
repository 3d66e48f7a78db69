import type { Plugin } from 'graphql-yoga';
import type { Database } from '../../db/client';
import { AppError } from '../../errors';
import { escapeHtml, FORM_PAGE_POLICY, htmlPage, PAGE_POLICY, postButton, tokenPageHeaders } from '../../http/html-page';
import type { Logger } from '../../logger';
import { verifyEmail } from './email-verification';

export interface VerifyEmailPageDependencies {
  db: Database;
  logger: Logger;
}

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
      const reply = (status: number, title: string, body: string, policy = PAGE_POLICY) =>
        endResponse(new fetchAPI.Response(htmlPage(title, body), { status, headers: tokenPageHeaders(policy) }));
      const token = url.searchParams.get('token') ?? '';
      if (request.method === 'GET') {
        const action = `/verify-email?token=${encodeURIComponent(token)}`;
        return reply(200, 'Verify your email address', postButton(action, 'Verify this address for Daily Papers'), FORM_PAGE_POLICY);
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
