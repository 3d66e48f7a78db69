import { randomUUID } from 'node:crypto';
import { GraphQLError } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from '../logger';

/** A caller's X-Request-Id is kept when it looks like an id; otherwise one is made. */
const acceptableId = /^[A-Za-z0-9._:-]{1,100}$/;

/** The id of a request: the caller's X-Request-Id if it looks like one, else a new one. */
export function requestIdFor(given: string | null | undefined): string {
  return given && acceptableId.test(given) ? given : randomUUID();
}

const idOfRequest = new WeakMap<Request, string>();
/** The error behind each masked one, logged once the request id is known. */
const originalOfMasked = new WeakMap<GraphQLError, unknown>();

/** The id requestIds() gave `request`, for answers made outside GraphQL. */
export const requestIdOf = (request: Request): string | undefined => idOfRequest.get(request);

/** Records what a masked error hides, for requestIds() to log with the request's id. */
export function rememberMaskedError(masked: GraphQLError, original: unknown): void {
  originalOfMasked.set(masked, original);
}

/**
 * Gives every request an id, returned in the X-Request-Id header and in each
 * masked error's extensions, and logs what each masked error hid with that id,
 * so a user's "Unexpected error." can be found in the logs.
 */
export function requestIds(logger: Logger): Plugin {
  return {
    onRequest({ request }) {
      idOfRequest.set(request, requestIdFor(request.headers.get('x-request-id')));
    },
    onResultProcess({ request, result, setResult }) {
      if (Array.isArray(result) || Symbol.asyncIterator in result || !result.errors) return;
      const requestId = idOfRequest.get(request);
      const errors = result.errors.map((error) => {
        if (!originalOfMasked.has(error as GraphQLError)) return error;
        logger.error({ err: originalOfMasked.get(error as GraphQLError), requestId }, 'unexpected error in a GraphQL request');
        return new GraphQLError(error.message, { path: error.path, extensions: { ...error.extensions, requestId } });
      });
      setResult({ ...result, errors });
    },
    onResponse({ request, response }) {
      const id = idOfRequest.get(request);
      if (id) response.headers.set('x-request-id', id);
    },
  };
}
