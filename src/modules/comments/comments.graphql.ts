import { builder } from '../../graphql/builder';
import { pageRequestFrom, toConnection, type ConnectionArgs } from '../../graphql/connection';
import type { Context } from '../../graphql/context';
import { CommentRef, PaperRef, UserRef } from '../../graphql/node-refs';
import { requireViewer } from '../accounts/accounts.graphql';
import { MAX_COMMENT_LENGTH, normalizeCommentBody } from './comment-body';
import { addComment } from './comments';
import { commentCountLoader, commentPageLoader } from './comments.loaders';
import type { CommentThread } from './comments.queries';

const CommentConnection = builder.connectionObject(
  { type: CommentRef, name: 'CommentConnection', description: 'A page of comments, oldest first.' },
  { name: 'CommentEdge', description: 'A comment in a page of comments.' },
);

/** A page of a thread through the per-request loaders, so sibling threads share one statement. */
async function commentConnection(context: Context, thread: CommentThread, id: number, args: ConnectionArgs) {
  const page = await commentPageLoader(context).load({ thread, id, request: pageRequestFrom(args) });
  return toConnection(page, () => commentCountLoader(context).load({ thread, id }));
}

CommentRef.implement({
  description: 'A comment on a paper, or a reply to another comment on the same paper.',
  fields: (t) => ({
    body: t.exposeString('body', {
      description: `Plain text, to be shown as text (not HTML or Markdown): 1 to ${MAX_COMMENT_LENGTH.toLocaleString('en')} characters, lines separated by "\\n".`,
    }),
    author: t.field({ type: UserRef, description: 'Who wrote it.', resolve: (comment) => comment.authorId }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was posted.' }),
    paper: t.field({ type: PaperRef, description: 'The paper it discusses.', resolve: (comment) => comment.paperId }),
    parent: t.field({
      type: CommentRef,
      nullable: true,
      description: 'The comment it replies to; null for a top-level comment.',
      resolve: (comment) => comment.parentId,
    }),
    replies: t.field({
      type: CommentConnection,
      description: 'The direct replies to it, oldest first; totalCount counts them.',
      args: t.arg.connectionArgs(),
      resolve: (comment, args, context) => commentConnection(context, 'replies', comment.id, args),
    }),
  }),
});

builder.objectField(PaperRef, 'comments', (t) =>
  t.field({
    type: CommentConnection,
    description:
      'The top-level comments, oldest first; their replies hang under each. totalCount counts the top-level comments, commentCount every comment.',
    args: t.arg.connectionArgs(),
    resolve: (paper, args, context) => commentConnection(context, 'paper', paper.id, args),
  }),
);

builder.mutationField('addComment', (t) =>
  t.field({
    type: CommentRef,
    description:
      'Comment on a paper, or reply to a comment on it (signed in). The body is plain text; outer whitespace is trimmed and line endings become "\\n".',
    args: {
      paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }),
      body: t.arg.string({
        required: true,
        description: `1 to ${MAX_COMMENT_LENGTH.toLocaleString('en')} characters after trimming; control characters other than tab and newline are refused.`,
      }),
      parentId: t.arg.globalID({
        for: [CommentRef],
        description: 'The Comment ID to reply to; it must be on the same paper. Omit for a top-level comment.',
      }),
    },
    resolve: async (_root, args, context) => {
      const { user } = requireViewer(context);
      await context.limiters.comments.consume(String(user.id));
      const comment = await addComment(context.db, {
        paperId: args.paperId.id,
        authorId: user.id,
        parentId: args.parentId?.id ?? null,
        body: normalizeCommentBody(args.body),
        at: context.now,
      });
      // The paper's comment count and list, and the replies of the comment answered.
      const entities = [{ typename: 'Paper', id: args.paperId.id }, ...(args.parentId ? [{ typename: 'Comment', id: args.parentId.id }] : [])];
      void context.publicDataChanges.announce({ kind: 'entities', entities });
      return comment;
    },
  }),
);
