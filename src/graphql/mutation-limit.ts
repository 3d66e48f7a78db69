import { Kind, getOperationAST, type FieldNode } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { AppError } from '../errors';
import { takeTogether, type RateLimiters } from '../rate-limit';
import type { Context } from './context';

/**
 * The limits of particular root fields, per signed-in user, on top of the
 * mutation limits: taken with them, so that all of a request's limits cost
 * one call to Redis (takeTogether).
 * A field's resolver requires a viewer; an anonymous request takes none.
 */
const userLimitsOfFields: Record<string, keyof RateLimiters> = {
  upvotePaper: 'votes',
  removeUpvote: 'votes',
  addComment: 'comments',
  editComment: 'comments',
  deleteComment: 'comments',
};

/**
 * Every mutation root field (aliases included) takes one unit of the
 * client address's and, when signed in, the user's mutation allowance, and
 * the fields above one unit of theirs, before anything runs: RATE_LIMITED
 * with a retry-after past any of them.
 */
export const limitMutations: Plugin = {
  async onExecute({ args, setResultAndStopExecution }) {
    const operation = getOperationAST(args.document, args.operationName);
    if (operation?.operation !== 'mutation') return;
    const context = args.contextValue as unknown as Context;
    const rootFields = operation.selectionSet.selections.filter((selection): selection is FieldNode => selection.kind === Kind.FIELD);
    const points = Math.max(rootFields.length, 1);
    const shares = [context.limiters.mutations.shareOf(`address:${context.clientAddress}`, points)];
    if (context.viewer) {
      const userId = context.viewer.user.id;
      shares.push(context.limiters.mutations.shareOf(`user:${userId}`, points));
      const fieldPoints = new Map<keyof RateLimiters, number>();
      for (const field of rootFields) {
        const limit = userLimitsOfFields[field.name.value];
        if (limit) fieldPoints.set(limit, (fieldPoints.get(limit) ?? 0) + 1);
      }
      for (const [limit, count] of fieldPoints) shares.push(context.limiters[limit].shareOf(String(userId), count));
    }
    try {
      await takeTogether(shares);
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      setResultAndStopExecution({ errors: [error] });
    }
  },
};
