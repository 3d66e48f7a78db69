import type { Plugin } from 'graphql-yoga';
import type { GraphiQLPage } from './graphiql';

/** For everything but GraphiQL's page: nothing may load, run or frame it. */
const NOTHING_MAY_LOAD = "default-src 'none'; frame-ancestors 'none'";

/**
 * Security headers on every answer of the app: no MIME sniffing, no framing,
 * no Referer leaving with a link, and a Content-Security-Policy: a page that
 * sets its own keeps it (the pages links land on, src/http/html-page.ts: a
 * form page may post to the API), other HTML gets GraphiQL's, and nothing
 * may load for the rest.
 */
export function securityHeaders(graphiql: GraphiQLPage): Plugin {
  return {
    onResponse({ response }) {
      response.headers.set('x-content-type-options', 'nosniff');
      response.headers.set('x-frame-options', 'DENY');
      response.headers.set('referrer-policy', 'no-referrer');
      if (response.headers.has('content-security-policy')) return;
      const isHtml = response.headers.get('content-type')?.startsWith('text/html') ?? false;
      response.headers.set('content-security-policy', isHtml ? graphiql.contentSecurityPolicy : NOTHING_MAY_LOAD);
    },
  };
}
