import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { GraphQLError, NoSchemaIntrospectionCustomRule, type ValidationContext, type ValidationRule } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { AppConfig } from '../config';
import { asBadUserInput, badUserInput } from '../errors';
import { costLimit } from './query-cost';
import { requestBudget } from './request-budget';

/** How deep variable values may nest; the schema's inputs need three levels. */
const MAX_VARIABLE_DEPTH = 20;

/**
 * What every request must stay within, so one query cannot knock the API
 * over: body size, how deep its variables nest, query depth, aliases,
 * tokens and directives (GraphQL Armor), a cost computed with the request's
 * variables (src/graphql/query-cost.ts), a time and answer-size budget
 * while it runs, no batching (yoga's default), CSRF prevention for requests
 * a browser sends without a preflight, and introspection when configured off.
 * Page sizes are capped by the connections themselves (first/last <= 100).
 * Every refusal of the GraphQL request itself is BAD_USER_INPUT, with what
 * refused it in `extensions.reason`.
 */
export function requestLimits(config: AppConfig): Plugin[] {
  const { maxDepth, maxAliases, maxTokens, maxCost, timeoutMs, maxResponseBytes } = config.queryLimits;
  const plugins: Plugin[] = [
    bodySizeLimit(config.http.maxRequestBytes),
    variableDepthLimit(MAX_VARIABLE_DEPTH),
    useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'authorization'] }),
    clientMistakesAsBadUserInput,
    EnvelopArmorPlugin({
      maxDepth: { n: maxDepth, ignoreIntrospection: true, flattenFragments: true, ...refusedAs('DEPTH_LIMIT') },
      maxAliases: { n: maxAliases, ...refusedAs('ALIAS_LIMIT') },
      maxTokens: { n: maxTokens, ...refusedAs('TOKEN_LIMIT') },
      maxDirectives: { n: 10, ...refusedAs('DIRECTIVE_LIMIT') },
      // Armor's cost limit sees only literal page sizes: query-cost.ts's sees variables too.
      costLimit: { enabled: false },
      // A field suggestion ("Did you mean ...?") is harmless; GraphiQL explores the schema anyway.
      blockFieldSuggestion: { enabled: !config.http.introspection },
    }),
    { onValidate: ({ addValidationRule }) => addValidationRule(operationTypesOfTheSchema) },
    costLimit(maxCost),
    ...requestBudget({ timeoutMs, maxResponseBytes }),
  ];
  if (!config.http.introspection) {
    plugins.push({ onValidate: ({ addValidationRule }) => addValidationRule(NoSchemaIntrospectionCustomRule) });
  }
  return plugins;
}

/**
 * Armor's refusal as BAD_USER_INPUT with `reason`, its message ("Query depth
 * limit of 12 exceeded, found 14.") without the "Syntax Error: " Armor puts
 * before every one. A validation rule reports it as a validation error; the
 * token count, which runs while parsing, throws it as the parse error.
 */
function refusedAs(reason: string) {
  return {
    propagateOnRejection: false,
    onReject: [
      (context: ValidationContext | null, error: GraphQLError) => {
        const refusal = badUserInput(error.message.replace(/^Syntax Error: /, ''), { reason });
        if (!context) throw refusal;
        context.reportError(refusal);
      },
    ],
  };
}

/** Parse and validation errors (an unknown field, a syntax error) are the client's: BAD_USER_INPUT. */
const clientMistakesAsBadUserInput: Plugin = {
  onParse:
    () =>
    ({ result, replaceParseResult }) => {
      if (result instanceof GraphQLError) replaceParseResult(asBadUserInput(result, 'GRAPHQL_PARSE_FAILED'));
    },
  onValidate:
    () =>
    ({ result, setResult }) => {
      if (result.length > 0) setResult(result.map((error) => asBadUserInput(error, 'GRAPHQL_VALIDATION_FAILED')));
    },
};

/** An operation of a kind the schema has no root type for (it has no subscriptions) is refused, as graphql 17 does. */
const operationTypesOfTheSchema: ValidationRule = (context) => ({
  OperationDefinition(node) {
    if (!context.getSchema().getRootType(node.operation)) {
      context.reportError(new GraphQLError(`This API has no ${node.operation} operations.`, { nodes: node }));
    }
  },
});

/**
 * Refuses variables (or extensions) nested deeper than `maxDepth` as soon as
 * the body is parsed, before anything walks them recursively (the response
 * cache's key, coercion). Counted level by level, without recursion.
 */
function variableDepthLimit(maxDepth: number): Plugin {
  return {
    onRequestParse: () => ({
      onRequestParseDone({ requestParserResult }) {
        for (const params of [requestParserResult].flat()) {
          if (nestsDeeperThan(params.variables, maxDepth) || nestsDeeperThan(params.extensions, maxDepth)) {
            throw badUserInput(`Variables may nest at most ${maxDepth} levels deep.`, {
              reason: 'VARIABLES_TOO_DEEP',
              http: { status: 400 },
            });
          }
        }
      },
    }),
  };
}

function nestsDeeperThan(value: unknown, maxDepth: number): boolean {
  let level: unknown[] = [value];
  for (let depth = 0; level.length > 0; depth += 1) {
    const containers = level.filter((item): item is object => typeof item === 'object' && item !== null);
    if (containers.length > 0 && depth >= maxDepth) return true;
    level = [];
    for (const container of containers) for (const item of Object.values(container)) level.push(item);
  }
  return false;
}

/**
 * Refuses a body larger than `maxBytes` (by its Content-Length) before it is
 * read. A chunked body has no length to check here: the listener
 * (src/http-server.ts) counts it as it arrives and hands it on with its
 * length; see also countedBodyWithoutLength.
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

/**
 * A body without a Content-Length that reaches the app other than through the
 * listener (app.fetch with a stream) is counted as it is read, and refused
 * past `maxBytes` (413). In place of yoga's own limit (off in app.ts), which
 * piped every body, with a length or not, through a TransformStream (a
 * pipeline and an AbortController per request). Wraps the parser chosen by
 * every other plugin (the response cache's too): it goes last.
 */
export function countedBodyWithoutLength(maxBytes: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      if (request.headers.has('content-length') || !request.body || !requestParser) return;
      const parse = requestParser;
      setRequestParser(async (unread) => {
        const reader = unread.body!.getReader();
        const chunks: Uint8Array[] = [];
        let bytes = 0;
        for (let read = await reader.read(); !read.done; read = await reader.read()) {
          bytes += read.value.byteLength;
          if (bytes > maxBytes) {
            await reader.cancel();
            throw badUserInput(`Request body too large: at most ${maxBytes} bytes.`, { reason: 'BODY_TOO_LARGE', http: { status: 413 } });
          }
          chunks.push(read.value);
        }
        return parse(new fetchAPI.Request(unread.url, { method: unread.method, headers: unread.headers, body: Buffer.concat(chunks) }));
      });
    },
  };
}
