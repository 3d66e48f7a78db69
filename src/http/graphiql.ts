import { createRequire } from 'node:module';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

const require = createRequire(import.meta.url);
const { version } = require('@graphql-yoga/render-graphiql/package.json') as { version: string };

/** Where GraphiQL's files are served; the bundle's version in the path lets browsers keep them for good. */
const ASSETS = `/graphiql/assets/${version}/`;
const CACHE_FOREVER = 'public, max-age=31536000, immutable';

/** The editor's workers: Monaco's label, the file served, the bundle's export. */
const WORKERS = [
  ['editorWorkerService', 'editor.worker.js', 'editorWorkerService'],
  ['json', 'json.worker.js', 'jsonWorker'],
  ['graphql', 'graphql.worker.js', 'graphqlWorker'],
] as const;

export interface GraphiQLPage {
  html: string;
  /** The page loads everything from the API itself: scripts, styles, its icon and workers from 'self', fonts inlined. */
  contentSecurityPolicy: string;
}

/**
 * GraphiQL's page: yoga's GraphiQL (the @graphql-yoga/render-graphiql
 * bundle) as separate files from this API, not from a CDN, so it works
 * offline and behind a proxy. The options travel as a JSON data block, so
 * the page has no inline script. Inline styles are allowed: the editor sets
 * them as it runs.
 */
export function graphiqlPage(options: GraphiQLOptions): GraphiQLPage {
  const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(options.title ?? 'GraphiQL')}</title>
<link rel="icon" href="${ASSETS}favicon.ico">
<link rel="stylesheet" href="${ASSETS}graphiql.css">
</head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run GraphiQL.</noscript>
<div id="root"></div>
<script type="application/json" id="graphiql-options">${JSON.stringify(options).replaceAll('<', '\\u003c')}</script>
<script src="${ASSETS}graphiql.js"></script>
</body>
</html>
`;
  const contentSecurityPolicy = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self' 'unsafe-inline'",
    'font-src data:',
    "img-src 'self' data:",
    "connect-src 'self'",
    "worker-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, contentSecurityPolicy };
}

interface Asset {
  contentType: string;
  body: Uint8Array<ArrayBuffer>;
}

/** The files the page loads, built from the bundle's strings. */
async function loadAssets(): Promise<Map<string, Asset>> {
  const bundle = await import('@graphql-yoga/render-graphiql/graphiql');
  const javascript = (text: string): Asset => ({ contentType: 'text/javascript; charset=utf-8', body: utf8(text) });
  const workerUrls = Object.fromEntries(WORKERS.map(([label, file]) => [label, `${ASSETS}${file}`]));
  // The editor looks its workers up as it starts; GraphiQL renders with the page's options.
  const script = [
    `self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_, label) => (${JSON.stringify(workerUrls)})[label] };`,
    `${bundle.js};`,
    "YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), JSON.parse(document.getElementById('graphiql-options').textContent));",
  ].join('\n');
  return new Map<string, Asset>([
    ['graphiql.js', javascript(script)],
    ['graphiql.css', { contentType: 'text/css; charset=utf-8', body: utf8(bundle.css) }],
    ['favicon.ico', { contentType: 'image/x-icon', body: new Uint8Array(Buffer.from(bundle.favicon.replace(/^data:[^,]*,/, ''), 'base64')) }],
    ...WORKERS.map(([, file, name]) => [file, javascript(bundle[name])] as const),
  ]);
}

/**
 * Serves GET /graphiql/assets/<version>/<file>. The bundle is 9 MB of
 * JavaScript strings: it is loaded with the first request for a file, not at
 * start.
 */
export function graphiqlAssets(): Plugin {
  let assets: Promise<Map<string, Asset>> | undefined;
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' || !url.pathname.startsWith(ASSETS)) return;
      assets ??= loadAssets();
      const asset = (await assets).get(url.pathname.slice(ASSETS.length));
      endResponse(
        asset
          ? new fetchAPI.Response(asset.body, {
              headers: { 'content-type': asset.contentType, 'cache-control': CACHE_FOREVER },
            })
          : new fetchAPI.Response('Not found.\n', { status: 404, headers: { 'content-type': 'text/plain; charset=utf-8' } }),
      );
    },
  };
}

const utf8 = (text: string) => new TextEncoder().encode(text);
const escapeHtml = (text: string) => text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
