import type { Plugin } from 'graphql-yoga';

/**
 * CORS for browsers calling the API from other sites. The API authenticates
 * with an `Authorization: Bearer` header, never a cookie, so it never allows
 * credentials. With `*` any origin may call: `Access-Control-Allow-Origin: *`.
 * With a list, a listed origin is echoed (with `Vary: Origin`) and any other
 * gets no CORS headers, so the browser keeps the answer from it.
 *
 * yoga's own `cors` option cannot say this: with `*` it echoes the caller's
 * origin with `Access-Control-Allow-Credentials: true`, and to an unlisted
 * origin it answers `null`, which sandboxed frames and data: URLs match.
 */
export function cors(allowedOrigins: string[] | '*'): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      // A preflight: answered here, whatever the path (Safari wants the zero length of a 204 said).
      if (request.method === 'OPTIONS') endResponse(new fetchAPI.Response(null, { status: 204, headers: { 'content-length': '0' } }));
    },
    onResponse({ request, response }) {
      for (const [name, value] of Object.entries(corsHeaders(allowedOrigins, request.method, (header) => request.headers.get(header)))) {
        if (name === 'vary') response.headers.append(name, value);
        else response.headers.set(name, value);
      }
    },
  };
}

/** The CORS headers of an answer to a request of `method` whose headers `headerOf` gives (see cors()). */
export function corsHeaders(
  allowedOrigins: string[] | '*',
  method: string,
  headerOf: (name: string) => string | null | undefined,
): Record<string, string> {
  const headers: Record<string, string> = allowedOrigins === '*' ? {} : { vary: 'Origin' };
  const origin = headerOf('origin');
  if (origin === null || origin === undefined) return headers;
  const allowed = allowedOrigins === '*' ? '*' : allowedOrigins.includes(origin) ? origin : undefined;
  if (allowed === undefined) return headers;
  headers['access-control-allow-origin'] = allowed;
  if (method === 'OPTIONS') {
    headers['access-control-allow-methods'] = 'GET, POST, OPTIONS';
    const requested = headerOf('access-control-request-headers');
    if (requested) headers['access-control-allow-headers'] = requested;
    headers['access-control-max-age'] = '600';
  }
  return headers;
}
