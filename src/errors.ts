import { GraphQLError } from 'graphql';

/** The error codes of the public contract (API.graphql). */
export type ErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'NOT_FOUND' | 'BAD_USER_INPUT' | 'CONFLICT' | 'RATE_LIMITED';

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

export const badUserInput = (message: string, extensions?: Record<string, unknown>) =>
  new AppError('BAD_USER_INPUT', message, extensions);
