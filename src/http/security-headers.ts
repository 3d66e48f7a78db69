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
      const setByPage = response.headers.get('content-security-policy');
      const isHtml = response.headers.get('content-type')?.startsWith('text/html') ?? false;
      for (const [name, value] of Object.entries(securityHeadersOfData)) response.headers.set(name, value);
      if (setByPage !== null) response.headers.set('content-security-policy', setByPage);
      else if (isHtml) response.headers.set('content-security-policy', graphiql.contentSecurityPolicy);
    },
  };
}

/** The security headers of an answer that is not HTML (JSON, a feed, text). */
export const securityHeadersOfData: Readonly<Record<string, string>> = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'content-security-policy': NOTHING_MAY_LOAD,
};
