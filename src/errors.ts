import { GraphQLError } from 'graphql';

/** The error codes of the public contract (API.graphql). */
const ERROR_CODES = ['UNAUTHENTICATED', 'FORBIDDEN', 'NOT_FOUND', 'BAD_USER_INPUT', 'CONFLICT', 'RATE_LIMITED'] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/**
 * An expected failure a client can act on. It is a GraphQLError so yoga's
 * masking lets its message and `extensions.code` through; anything else
 * thrown is masked as "Unexpected error." and logged.
 */
export class AppError extends GraphQLError {
  constructor(code: ErrorCode, message: string, extensions: Record<string, unknown> = {}) {
    super(message, { extensions: { ...extensions, code } });
    this.name = 'AppError';
  }
}

export const badUserInput = (message: string, extensions?: Record<string, unknown>) => new AppError('BAD_USER_INPUT', message, extensions);

/**
 * The HTTP status of a request refused before it ran, as yoga gives its
 * validation errors: 400 to a client that accepts
 * application/graphql-response+json, 200 to one that accepts application/json.
 */
export const REFUSED_REQUEST_HTTP = { spec: true, status: 400 };

/**
 * A refusal of what the client sent (a parse or validation error, variables
 * that do not fit their types) as BAD_USER_INPUT, its message and locations
 * kept, and what refused it in `extensions.reason`: yoga's own code
 * (GRAPHQL_PARSE_FAILED...) if it gave one, else `reason`. One that already
 * carries a code of the contract is left as it is.
 */
export function asBadUserInput(error: GraphQLError, reason: string): GraphQLError {
  const code = error.extensions.code;
  if ((ERROR_CODES as readonly unknown[]).includes(code)) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    source: error.source,
    positions: error.positions,
    path: error.path,
    extensions: { http: REFUSED_REQUEST_HTTP, ...error.extensions, code: 'BAD_USER_INPUT', reason: typeof code === 'string' ? code : reason },
  });
}
