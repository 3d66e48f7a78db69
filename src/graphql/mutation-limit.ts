import { Kind, getOperationAST } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { AppError } from '../errors';
import type { Context } from './context';

/**
 * Every mutation root field (aliases included) takes one unit of the
 * client address's and, when signed in, the user's mutation allowance, before
 * anything runs: RATE_LIMITED with a retry-after past it.
 */
export const limitMutations: Plugin = {
  async onExecute({ args, setResultAndStopExecution }) {
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== 'mutation') return;
    const context = args.contextValue as unknown as Context;
    const rootFields = operation.selectionSet.selections.filter((selection) => selection.kind === Kind.FIELD).length;
    try {
      for (let field = 0; field < Math.max(rootFields, 1); field += 1) {
        await context.limiters.mutations.consume(`address:${context.clientAddress}`);
        if (context.viewer) await context.limiters.mutations.consume(`user:${context.viewer.user.id}`);
      }
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      setResultAndStopExecution({ errors: [error] });
    }
  },
};
