import { enqueueInBackground } from '../../job-queue';
import { builder } from '../../graphql/builder';
import { pageRequestFrom, toConnection, type ConnectionArgs } from '../../graphql/connection';
import type { Context } from '../../graphql/context';
import { CommentRef, PaperRef, UserRef } from '../../graphql/node-refs';
import { requireViewer } from '../accounts/accounts.graphql';
import { MAX_COMMENT_LENGTH, normalizeCommentBody } from './comment-body';
import { addComment, deleteComment, editComment } from './comments';
import { commentCountLoader, commentPageLoader, isPaperAuthorLoader } from './comments.loaders';
import type { CommentThread } from './comments.queries';
import type { CommentRow } from '../../db/schema';

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
      description:
        `Plain text, to be shown as text (not HTML or Markdown): 1 to ${MAX_COMMENT_LENGTH.toLocaleString('en')} characters, lines separated by "\\n". ` +
        'Empty for a deleted comment kept as a placeholder (deletedAt set).',
    }),
    author: t.field({ type: UserRef, description: 'Who wrote it.', resolve: (comment) => comment.authorId }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was posted.' }),
    editedAt: t.expose('editedAt', { type: 'DateTime', nullable: true, description: 'When its author last edited it; null if never.' }),
    deletedAt: t.expose('deletedAt', {
      type: 'DateTime',
      nullable: true,
      description: 'When its author deleted it: it stays, without its text, as the placeholder its replies hang under. Null otherwise.',
    }),
    isByPaperAuthor: t.boolean({
      description: "Whether its author is one of the paper's authors (an admin approved their authorship claim on an author the paper lists).",
      resolve: (comment, _args, context) => isPaperAuthorLoader(context).load({ paperId: comment.paperId, userId: comment.authorId }),
    }),
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

const BODY_RULE = `1 to ${MAX_COMMENT_LENGTH.toLocaleString('en')} characters after trimming; control characters other than tab and newline are refused.`;

builder.mutationField('addComment', (t) =>
  t.field({
    type: CommentRef,
    description:
      'Comment on a paper, or reply to a comment on it (signed in). The body is plain text; outer whitespace is trimmed and line endings become "\\n".',
    args: {
      paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }),
      body: t.arg.string({ required: true, description: BODY_RULE }),
      parentId: t.arg.globalID({
        for: [CommentRef],
        description: 'The Comment ID to reply to; it must be on the same paper. Omit for a top-level comment.',
      }),
    },
    resolve: async (_root, args, context) => {
      // The comment rate limit was taken before execution (limitMutations).
      const { user } = requireViewer(context);
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
      // The author of the comment answered is told (by the notify job; not when they answered themselves).
      if (comment.parentId !== null) {
        enqueueInBackground(
          context.jobs,
          context.logger,
          'notify',
          { kind: 'COMMENT_REPLY', commentId: comment.id },
          { deduplicationId: `reply:${comment.id}` },
        );
      }
      return comment;
    },
  }),
);

builder.mutationField('editComment', (t) =>
  t.field({
    type: CommentRef,
    description:
      "Change the body of your own comment (signed in; FORBIDDEN for anyone else's, NOT_FOUND for a deleted one); editedAt records when. " +
      'The body follows the rule of addComment; the same body again changes nothing. Counts against the comment rate limit.',
    args: {
      commentId: t.arg.globalID({ required: true, for: [CommentRef], description: 'The Comment ID.' }),
      body: t.arg.string({ required: true, description: BODY_RULE }),
    },
    resolve: async (_root, args, context) => {
      // The comment rate limit was taken before execution (limitMutations).
      const { user } = requireViewer(context);
      const comment = await editComment(context.db, {
        commentId: args.commentId.id,
        userId: user.id,
        body: normalizeCommentBody(args.body),
        at: context.now,
      });
      void context.publicDataChanges.announce({ kind: 'entities', entities: [{ typename: 'Comment', id: comment.id }] });
      return comment;
    },
  }),
);

const DeleteCommentPayload = builder.objectRef<{ commentId: number; paperId: number; placeholder: CommentRow | null }>('DeleteCommentPayload').implement({
  description: 'What deleteComment left.',
  fields: (t) => ({
    deletedCommentId: t.globalID({
      description: 'The ID of the comment deleted.',
      resolve: (payload) => ({ type: 'Comment', id: payload.commentId }),
    }),
    placeholder: t.field({
      type: CommentRef,
      nullable: true,
      description: 'The placeholder kept in its place when it had replies (deletedAt set, body empty); null when it is gone.',
      resolve: (payload) => payload.placeholder,
    }),
    paper: t.field({ type: PaperRef, description: 'The paper it was on, with its comment count as it is now.', resolve: (payload) => payload.paperId }),
  }),
});

builder.mutationField('deleteComment', (t) =>
  t.field({
    type: DeleteCommentPayload,
    description:
      "Delete your own comment (signed in; FORBIDDEN for anyone else's, NOT_FOUND for one already deleted). With replies it stays as a " +
      'placeholder without its text; without, it is gone, with any placeholder above it left without replies. Counts against the comment rate limit.',
    args: { commentId: t.arg.globalID({ required: true, for: [CommentRef], description: 'The Comment ID.' }) },
    resolve: async (_root, args, context) => {
      // The comment rate limit was taken before execution (limitMutations).
      const { user } = requireViewer(context);
      const deletion = await deleteComment(context.db, { commentId: args.commentId.id, userId: user.id, at: context.now });
      // The paper's comment count and list; every answer showing the comment (a reply shows in its parent's replies).
      const entities = [
        { typename: 'Paper', id: deletion.paperId },
        { typename: 'Comment', id: args.commentId.id },
      ];
      void context.publicDataChanges.announce({ kind: 'entities', entities });
      return { commentId: args.commentId.id, paperId: deletion.paperId, placeholder: deletion.placeholder ?? null };
    },
  }),
);
