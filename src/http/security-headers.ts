import { createHash } from 'node:crypto';
import { renderGraphiQL, type GraphiQLOptions, type Plugin } from 'graphql-yoga';

/** For everything but GraphiQL's page: nothing may load, run or frame it. */
const NOTHING_MAY_LOAD = "default-src 'none'; frame-ancestors 'none'";

export interface GraphiQLPage {
  html: string;
  /** What lets exactly this page run: its inline scripts by hash, its bundle's host, and no framing. */
  contentSecurityPolicy: string;
}

/**
 * GraphiQL's page (yoga's), rendered once, and its Content-Security-Policy,
 * read from the page itself so that it follows yoga's CDN and version: the
 * inline scripts by SHA-256, scripts, styles, fonts and the editor's workers
 * (fetched, then run from blob: URLs) from the host of the page's script tags,
 * the icon from its own host, queries to this origin. Inline styles are
 * allowed: the editor sets them as it runs.
 */
export function graphiqlPage(options: GraphiQLOptions): GraphiQLPage {
  const html = renderGraphiQL(options);
  const hashes = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map(
    ([, script]) => `'sha256-${createHash('sha256').update(script!).digest('base64')}'`,
  );
  const originsOf = (pattern: RegExp) => [...new Set([...html.matchAll(pattern)].map(([, url]) => new URL(url!).origin))];
  const bundleHosts = originsOf(/<script[^>]*\ssrc=["']?([^"'\s>]+)/g);
  const styleHosts = originsOf(/<link[^>]*\srel=["']?stylesheet["']?[^>]*\shref=["']?([^"'\s>]+)/g);
  const iconHosts = originsOf(/<link[^>]*\srel=["']?icon["']?[^>]*\shref=["']?([^"'\s>]+)/g);
  const contentSecurityPolicy = [
    "default-src 'none'",
    `script-src ${[...hashes, ...bundleHosts].join(' ')}`,
    `style-src ${[...styleHosts, "'unsafe-inline'"].join(' ')}`,
    `font-src ${[...styleHosts, 'data:'].join(' ')}`,
    `img-src ${["'self'", 'data:', ...iconHosts].join(' ')}`,
    `connect-src ${["'self'", ...bundleHosts].join(' ')}`,
    'worker-src blob:',
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

/**
 * Security headers on every answer of the app: no MIME sniffing, no framing,
 * no Referer leaving with a link, and a Content-Security-Policy: a page that
 * sets its own keeps it (the email verification page posts a form), other
 * HTML gets GraphiQL's, and nothing may load for the rest.
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
