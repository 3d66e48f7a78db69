import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { NoSchemaIntrospectionCustomRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AppConfig } from '../config';

/**
 * What every request must stay within, so one query cannot knock the API
 * over: body size, query depth, aliases, tokens and a static cost (GraphQL
 * Armor), no batching (yoga's default), CSRF prevention for requests a
 * browser sends without a preflight, and introspection when configured off.
 * Page sizes are capped by the connections themselves (first/last <= 100).
 */
export function requestLimits(config: AppConfig): Plugin[] {
  const { maxDepth, maxAliases, maxTokens, maxCost } = config.queryLimits;
  const plugins: Plugin[] = [
    bodySizeLimit(config.http.maxRequestBytes),
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'authorization'] }),
    EnvelopArmorPlugin({
      maxDepth: { n: maxDepth, ignoreIntrospection: true, flattenFragments: true },
      maxAliases: { n: maxAliases },
      maxTokens: { n: maxTokens },
      maxDirectives: { n: 10 },
      costLimit: { maxCost, ignoreIntrospection: true },
      // A field suggestion ("Did you mean ...?") is harmless; GraphiQL explores the schema anyway.
      blockFieldSuggestion: { enabled: !config.http.introspection },
    }),
  ];
  if (!config.http.introspection) {
    plugins.push({ onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule) });
  }
  return plugins;
}

/**
 * Refuses a body larger than `maxBytes` (by its Content-Length) before it is
 * read. A chunked body has no length to check here: the listener
 * (src/http-server.ts) counts it as it arrives.
 */
function bodySizeLimit(maxBytes: number): Plugin {
  return {
    onRequest({ request, endResponse, fetchAPI }) {
      const length = Number(request.headers.get('content-length') ?? 0);
      if (length > maxBytes) {
        endResponse(
          new fetchAPI.Response(`Request body too large: at most ${maxBytes} bytes.`, {
            status: 413,
            headers: { 'content-type': 'text/plain; charset=utf-8' },
          }),
        );
      }
    },
  };
}
