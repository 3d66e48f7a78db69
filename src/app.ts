import type { IncomingMessage } from 'node:http';
import { PothosValidationError } from '@pothos/core';
import type { Redis } from 'ioredis';
import { GraphQLError, visit, type DocumentNode } from 'graphql';
import { createYoga, maskError as maskUnexpectedError, type Plugin, type YogaLogger } from 'graphql-yoga';
import type { JobCounts, JobQueue } from './job-queue';
import type { PublicDataChanges } from './cache/public-data-changes';
import type { AppConfig } from './config';
import type { Database } from './db/client';
import { databaseUnavailableError } from './db/unavailable';
import { AppError, badUserInput } from './errors';
import { feedsPlugin } from './feeds/feeds-plugin';
import { hfApiPlugin } from './hf-api/hf-api-plugin';
import type { Context } from './graphql/context';
import { compiledExecution } from './graphql/execution';
import { clientAddressOf } from './http/client-address';
import { cors, corsHeaders } from './http/cors';
import { graphiqlAssets, graphiqlPage } from './http/graphiql';
import { securityHeaders, securityHeadersOfData } from './http/security-headers';
import { createAnswerStore, ListenerHits, type ListenerLookup, type ListenerRequest, responseCache, type StoredAnswer } from './graphql/response-cache';
import { SharedReads } from './graphql/shared-reads';
import { countedBodyWithoutLength, requestLimits } from './graphql/limits';
import { limitMutations } from './graphql/mutation-limit';
import { VoterRefreshes } from './modules/recommendations/voter-refreshes';
import { readinessCheck } from './observability/health';
import { metrics, type RequestMetrics } from './observability/metrics';
import { rememberMaskedError, requestIdFor, requestIds } from './observability/request-id';
import { schema } from './graphql/schema';
import type { Logger } from './logger';
import { decoyHash } from './modules/accounts/accounts';
import { KeptSessions } from './modules/accounts/sessions';
import { verifyEmailPagePlugin } from './modules/accounts/verify-email-page';
import { digestPagesPlugin } from './modules/digest/digest-pages';
import { paperPagePlugin } from './modules/papers/paper-page';
import type { RateLimiters } from './rate-limit';

export interface AppDependencies {
  db: Database;
  config: AppConfig;
  logger: Logger;
  jobs: JobQueue;
  limiters: RateLimiters;
  /** The clock requests run at; tests replay histories through it. */
  clock?: () => Date;
  /** Redis, when the API uses it, for /ready. */
  redis?: Redis;
  /** Background jobs by state, for /metrics. */
  jobCounts: () => Promise<JobCounts>;
  /** Changes to public data, announced by mutations and jobs; they end the cached answers. */
  publicDataChanges: PublicDataChanges;
  /**
   * Connections of their own for the response cache's background refreshes, so that a refresh never waits
   * in the pool behind the readers it serves (a vote then shows within its bound under full load); `db` without.
   */
  refreshDb?: Database;
}

/**
 * The viewer of a request: anonymous without an Authorization header; a
 * token that is malformed, unknown, expired or revoked fails the request,
 * so a client never mistakes a dead session for an anonymous one.
 */
async function viewerOf(request: Request, sessions: KeptSessions, now: Date) {
  const header = request.headers.get('authorization');
  if (header === null) return null;
  const token = /^Bearer\s+(\S+)$/i.exec(header.trim())?.[1];
  if (!token) throw new AppError('UNAUTHENTICATED', 'Send the session token as "Authorization: Bearer <token>".');
  const viewer = await sessions.findViewer(token, now);
  if (!viewer) throw new AppError('UNAUTHENTICATED', 'This session token is invalid, expired or revoked: log in again.');
  return viewer;
}

const exampleQuery = `# Welcome to the Daily Papers API. Press the run button to try it.
query Trending {
  trendingPapers(first: 5) {
    totalCount
    edges {
      node {
        arxivId
        title
        upvotes
        trendingScore
        authorCount
        authors { name }
        organization { name fullName }
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
`;

/**
 * The HTTP application (GraphQL at /graphql, GraphiQL in the browser), apart
 * from any listener: tests call `app.fetch(new Request(...))`.
 */
export function createApp({
  db,
  config,
  logger,
  jobs,
  limiters,
  redis,
  jobCounts,
  publicDataChanges,
  refreshDb = db,
  clock = () => new Date(),
}: AppDependencies) {
  void decoyHash(config.passwordHashCost);
  const graphiql = graphiqlPage({ title: 'Daily Papers API', defaultQuery: exampleQuery });
  // One cache for /graphql and the REST paths.
  const answers = createAnswerStore(config.responseCache, publicDataChanges);
  const sharedReads = new SharedReads(publicDataChanges, config.responseCache.ttlMs, config.responseCache.listMaxAgeMs);
  const sessions = new KeptSessions(db, publicDataChanges, config.sessionCacheMs);
  const voterRefreshes = new VoterRefreshes(jobs, logger, config.recommendations.refreshDelayMs);
  const requestMetrics = metrics({ jobCounts, token: config.metricsToken });
  const yoga = createYoga<{ req?: IncomingMessage }>({
    schema,
    context: async ({ request, req }): Promise<Context> => {
      const now = clock();
      const viewer = await viewerOf(request, sessions, now);
      return {
        db: answers?.isRefresh(request) ? refreshDb : db,
        config,
        logger,
        now,
        viewer,
        jobs,
        limiters,
        clientAddress: clientAddressOf(req, config.http.trustedProxyHops),
        loaders: new Map(),
        publicDataChanges,
        sharedReads,
        voterRefreshes,
        viewerUpvotes: new Map(),
      };
    },
    graphqlEndpoint: '/graphql',
    // Off: requestLimits checks the Content-Length and countedBodyWithoutLength counts a body without one, where
    // yoga's limit piped every body through a stream (a TransformStream, a pipeline and an AbortController each).
    maxRequestBodySize: false,
    // Liveness: yoga answers GET /health with an empty 200; readiness is readinessCheck()'s /ready.
    healthCheckEndpoint: '/health',
    landingPage: false,
    // The page is rendered once, so that its Content-Security-Policy can name its inline scripts.
    renderGraphiQL: () => graphiql.html,
    logging: yogaLogger(logger),
    maskedErrors: {
      maskError(error, message, isDev) {
        // Pothos rejects malformed or foreign global IDs with a validation error: the client's mistake.
        if (error instanceof GraphQLError && error.originalError instanceof PothosValidationError) {
          return new GraphQLError(error.message, {
            nodes: error.nodes,
            path: error.path,
            extensions: { ...error.extensions, code: 'BAD_USER_INPUT' },
          });
        }
        // Postgres unreachable (down, restarting): say so and when to retry, rather than "Unexpected error.".
        const unavailable = databaseUnavailableError(error);
        if (unavailable) {
          rememberMaskedError(unavailable, error);
          return unavailable;
        }
        const masked = maskUnexpectedError(error, message, isDev);
        if (masked !== error) rememberMaskedError(masked as GraphQLError, error);
        return masked;
      },
    },
    cors: false,
    plugins: [
      cors(config.http.corsOrigins),
      securityHeaders(graphiql),
      ...compiledExecution(),
      requestMetrics.plugin,
      requestIds(logger),
      readinessCheck({ db, redis, logger }),
      ...requestLimits(config),
      // Before the response cache: a request they stop would otherwise make it print a warning on the console.
      rejectNulCharacters,
      limitMutations,
      ...responseCache(answers, config.responseCache, schema),
      graphiqlAssets(),
      // Voters gathered for a feed refresh are handed to the queue before the app stops.
      { onDispose: () => voterRefreshes.flush() },
      feedsPlugin({ db, config, logger, clock, jobs }),
      hfApiPlugin({ db, logger, answers }),
      digestPagesPlugin({ db, logger, clock }),
      paperPagePlugin({ db, logger }),
      verifyEmailPagePlugin({ db, logger }),
      {
        // The root URL is where a newcomer lands: send them to GraphiQL (a relative Location: the Host header is the client's).
        onRequest({ url, endResponse, fetchAPI }) {
          if (url.pathname === '/') endResponse(new fetchAPI.Response(null, { status: 302, headers: { location: '/graphql' } }));
        },
      },
      // Last: it wraps whichever request parser the plugins above chose.
      countedBodyWithoutLength(config.http.maxRequestBytes),
    ],
  });
  const cachedHits = answers
    ? listenerHits(new ListenerHits(answers, yoga.graphqlEndpoint, config.http.maxRequestBytes), config, requestMetrics)
    : undefined;
  return Object.assign(yoga, { cachedHits });
}

export type App = ReturnType<typeof createApp>;

/** Cached answers the HTTP listener sends itself, before the app (see ListenerHits). */
export interface CachedHits {
  lookupOf(request: ListenerRequest): ListenerLookup;
  /** The hit, with the headers the app's plugins put on every answer (CORS, security, request id), timed as the app times its answers. */
  answer(request: ListenerRequest, body: Buffer | undefined, startedAt: number): StoredAnswer | undefined;
}

function listenerHits(hits: ListenerHits, config: AppConfig, requestMetrics: RequestMetrics): CachedHits {
  return {
    lookupOf: (request) => hits.lookupOf(request),
    answer(request, body, startedAt) {
      const hit = hits.answer(request, body);
      if (!hit) return undefined;
      const headerOf = (name: string) => request.headers[name] as string | undefined;
      const headers = {
        ...hit.headers,
        ...(hit.body ? { 'content-length': String(hit.body.byteLength) } : {}),
        ...corsHeaders(config.http.corsOrigins, request.method ?? 'GET', headerOf),
        ...securityHeadersOfData,
        'x-request-id': requestIdFor(headerOf('x-request-id')),
      };
      requestMetrics.observe(request.method ?? 'GET', hits.endpoint, hit.status, (performance.now() - startedAt) / 1000);
      return { ...hit, headers };
    },
  };
}

/** Postgres text cannot hold U+0000: refuse it before execution rather than fail inside SQL. */
const rejectNulCharacters: Plugin = {
  onExecute({ args, setResultAndStopExecution }) {
    if (holdsNulCharacter(args.document, args.variableValues)) {
      setResultAndStopExecution({ errors: [badUserInput('Strings may not contain the NUL character (U+0000).')] });
    }
  },
};

/** Whether a string literal of each document holds U+0000 (yoga hands out one document per query text). */
const literalsHoldNul = new WeakMap<DocumentNode, boolean>();

/** Whether a string literal of the document or any variable value contains U+0000. */
function holdsNulCharacter(document: DocumentNode, variables: unknown): boolean {
  let found = literalsHoldNul.get(document);
  if (found === undefined) {
    found = false;
    visit(document, {
      StringValue(node) {
        if (node.value.includes('\u0000')) found = true;
      },
    });
    literalsHoldNul.set(document, found);
  }
  const inValue = (value: unknown): boolean =>
    typeof value === 'string' ? value.includes('\u0000') : typeof value === 'object' && value !== null && Object.values(value).some(inValue);
  return found || inValue(variables);
}

function yogaLogger(logger: Logger): YogaLogger {
  const child = logger.child({ component: 'yoga' });
  return {
    debug: (...args) => child.debug({ details: args }, 'yoga'),
    info: (...args) => child.info({ details: args }, 'yoga'),
    warn: (...args) => child.warn({ details: args }, 'yoga'),
    error: (...args) => child.error({ details: args }, 'yoga'),
  };
}
