import { builder } from '../../graphql/builder';
import { pageRequestFrom, toConnection } from '../../graphql/connection';
import type { Context } from '../../graphql/context';
import { viewerUpvotedLoader } from '../../graphql/loaders';
import { PaperRef, UserRef } from '../../graphql/node-refs';
import { requireViewer } from '../accounts/accounts.graphql';
import { PaperConnection } from '../papers/papers.graphql';
import { addUpvote, removeUpvote, type VoteChange } from './upvotes';
import { countUpvotesOfUser, listUpvotedPapers, listUpvoters } from './upvotes.queries';

const UserConnection = builder.connectionObject(
  { type: UserRef, name: 'UserConnection', description: 'A page of users.' },
  { name: 'UserEdge', description: 'A user in a page of users.' },
);

builder.objectField(PaperRef, 'upvoters', (t) =>
  t.field({
    type: UserConnection,
    description: 'Who upvoted this paper, most recent first.',
    args: t.arg.connectionArgs(),
    resolve: async (paper, args, context) => {
      const page = await listUpvoters(context.db, paper.id, pageRequestFrom(args));
      // The rows behind upvoteCount, without the imported votes that have no voter.
      return toConnection(page, async () => paper.upvoteCount - paper.upvoteBaseline);
    },
  }),
);

builder.objectField(UserRef, 'upvotedPapers', (t) =>
  t.field({
    type: PaperConnection,
    description: 'Papers this user upvoted, most recent upvote first.',
    args: t.arg.connectionArgs(),
    resolve: async (user, args, context) => {
      const page = await listUpvotedPapers(context.db, user.id, pageRequestFrom(args));
      return toConnection(page, () => countUpvotesOfUser(context.db, user.id));
    },
  }),
);

type VoteAction = typeof addUpvote | typeof removeUpvote;

/**
 * The shared path of both vote mutations: signed in, then the change in one transaction. The vote rate limit
 * was taken before execution, with the mutation limits (limitMutations).
 */
async function vote(context: Context, paperId: number, action: VoteAction, upvoted: boolean) {
  const { user } = requireViewer(context);
  const { paper, changed }: VoteChange = await action(context.db, context.config.trending, {
    paperId,
    userId: user.id,
    at: context.now,
  });
  // clear() first: prime() keeps a value already loaded earlier in this request.
  viewerUpvotedLoader(context).clear(paper.id).prime(paper.id, upvoted);
  if (changed) {
    void context.publicDataChanges.announce({ kind: 'votes', paperIds: [paper.id] });
    // The voter's personal feed follows their upvotes: one refresh per burst of votes, shortly after its first.
    // Also for a new reader: a refresh costs seconds at 100,000 papers.
    context.voterRefreshes.note(user.id);
  }
  return paper;
}

builder.mutationFields((t) => ({
  upvotePaper: t.field({
    type: PaperRef,
    description: 'Upvote a paper (signed in). Idempotent: upvoting twice leaves one upvote. Returns the paper with its new count.',
    args: { paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }) },
    resolve: (_root, { paperId }, context) => vote(context, paperId.id, addUpvote, true),
  }),
  removeUpvote: t.field({
    type: PaperRef,
    description: "Withdraw the viewer's upvote (signed in). Removing a missing upvote is a no-op. Returns the paper with its new count.",
    args: { paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }) },
    resolve: (_root, { paperId }, context) => vote(context, paperId.id, removeUpvote, false),
  }),
}));
