import type { Plugin } from 'graphql-yoga';
import type { Database } from '../../db/client';
import { AppError } from '../../errors';
import type { Logger } from '../../logger';
import { unsubscribe } from './subscriptions';

export interface OneClickUnsubscribeDependencies {
  db: Database;
  logger: Logger;
  clock: () => Date;
}

/**
 * POST /digest/unsubscribe?token=...: the one-click unsubscribe of RFC 8058
 * that every digest's List-Unsubscribe-Post header promises. Mail clients
 * POST to the List-Unsubscribe address by themselves, without a page to
 * call the mutation, so the address itself must accept the POST. A GET of
 * the same address is the site's page (it calls unsubscribeFromDigest).
 */
export function oneClickUnsubscribePlugin({ db, logger, clock }: OneClickUnsubscribeDependencies): Plugin {
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (url.pathname !== '/digest/unsubscribe' || request.method !== 'POST') return;
      const reply = (status: number, message: string) =>
        endResponse(new fetchAPI.Response(`${message}\n`, { status, headers: { 'content-type': 'text/plain; charset=utf-8' } }));
      try {
        await unsubscribe(db, url.searchParams.get('token') ?? '', clock());
        reply(200, 'Unsubscribed: no more digests will be sent to this address.');
      } catch (error) {
        if (error instanceof AppError) return reply(404, error.message);
        logger.error({ err: error }, 'one-click unsubscribe failed');
        reply(500, 'Could not unsubscribe right now: try again shortly.');
      }
    },
  };
}
