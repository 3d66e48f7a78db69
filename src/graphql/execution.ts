import { useGraphQlJit } from '@envelop/graphql-jit';
import { getOperationAST, getVariableValues } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { asBadUserInput } from '../errors';

/**
 * How operations execute: compiled by graphql-jit, once per distinct query
 * document, into a function that resolves and serializes the result without
 * graphql-js's generic walk over every field (a 50-paper page has about a
 * thousand). The variables are first coerced by graphql-js, as before: jit's
 * own coercion reports a bad value as just "Expected type Date", where
 * graphql-js passes on what the scalar said was wrong. A value that does not
 * fit its type is the client's mistake: BAD_USER_INPUT.
 */
export function compiledExecution(): Plugin[] {
  const variablesCoercedByGraphqlJs: Plugin = {
    onExecute({ args, setResultAndStopExecution }) {
      const operation = getOperationAST(args.document, args.operationName);
      if (!operation?.variableDefinitions?.length) return;
      const coerced = getVariableValues(args.schema, operation.variableDefinitions, args.variableValues ?? {});
      if (coerced.errors) setResultAndStopExecution({ errors: coerced.errors.map((error) => asBadUserInput(error, 'VARIABLES_INVALID')) });
    },
  };
  // A document that does not compile answers with its errors; nothing to log.
  return [variablesCoercedByGraphqlJs, useGraphQlJit({}, { onError: () => {} }) as Plugin];
}
