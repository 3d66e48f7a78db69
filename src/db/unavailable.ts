import { GraphQLError } from 'graphql';

/** What a client is told to wait before retrying a request that found the database unreachable. */
export const DATABASE_RETRY_AFTER_SECONDS = 5;

/** Socket errors of reaching the database (Node's codes). */
const networkCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * postgres.js's own: no connection within connect_timeout, or a connection
 * lost with a query on it. Not CONNECTION_ENDED / CONNECTION_DESTROYED: those
 * mean this process ended its own pool (shutdown, or a bug), which waiting
 * will not cure, so they stay unexpected errors.
 */
const driverCodes = new Set(['CONNECT_TIMEOUT', 'CONNECTION_CLOSED']);

/**
 * SQLSTATEs of a server going away or not there yet: admin_shutdown (a fast
 * stop or restart), crash_shutdown, cannot_connect_now (starting up or
 * shutting down), and class 08, connection exceptions.
 */
const serverCodes = new Set(['57P01', '57P02', '57P03']);
const connectionExceptionClass = /^08[0-9A-Z]{3}$/;

function isUnavailableCode(code: unknown): boolean {
  return typeof code === 'string' && (networkCodes.has(code) || driverCodes.has(code) || serverCodes.has(code) || connectionExceptionClass.test(code));
}

/**
 * Whether `error`, or an error it wraps (GraphQL's originalError, Drizzle's
 * DrizzleQueryError cause, the attempts of an AggregateError), says the
 * database cannot be reached right now, as opposed to a query failing on it.
 */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (typeof error !== 'object' || error === null || depth > 5) return false;
  const { code, originalError, cause, errors } = error as { code?: unknown; originalError?: unknown; cause?: unknown; errors?: unknown };
  if (isUnavailableCode(code)) return true;
  const inner = [originalError, cause, ...(Array.isArray(errors) ? errors : [])];
  return inner.some((wrapped) => wrapped !== error && isDatabaseUnavailable(wrapped, depth + 1));
}

/**
 * The error a client gets instead of "Unexpected error." when the database is
 * unreachable: SERVICE_UNAVAILABLE with a retryAfter, and HTTP 503 with a
 * Retry-After header. Undefined for any other error.
 */
export function databaseUnavailableError(error: unknown): GraphQLError | undefined {
  if (!isDatabaseUnavailable(error)) return undefined;
  const located = error instanceof GraphQLError ? error : undefined;
  return new GraphQLError('The database is unavailable right now; try again in a few seconds.', {
    nodes: located?.nodes,
    path: located?.path,
    extensions: {
      code: 'SERVICE_UNAVAILABLE',
      retryAfter: DATABASE_RETRY_AFTER_SECONDS,
      http: { status: 503, headers: { 'retry-after': String(DATABASE_RETRY_AFTER_SECONDS) } },
    },
  });
}
