import { encodeGlobalID } from '@pothos/plugin-relay';
import type { NOTIFICATION_KINDS, NotificationRow } from '../../db/schema';
import { badUserInput } from '../../errors';
import { builder } from '../../graphql/builder';
import { MAX_PAGE_SIZE, pageRequestFrom, toConnection } from '../../graphql/connection';
import { CommentRef, PaperRef, UserRef } from '../../graphql/node-refs';
import { requireViewer } from '../accounts/accounts.graphql';
import { AuthorshipClaimRef } from '../claims/claims.graphql';
import { FollowRef, requireSelf, rowIdOf } from '../follows/follows.graphql';
import { viewerFollowLoader } from '../follows/follows.loaders';
import { countNotifications, listNotifications, markRead } from './notifications.queries';

const NotificationKindEnum = builder.enumType('NotificationKind', {
  description: 'What a notification is about.',
  values: {
    NEW_PAPER: { description: 'A new paper from something you follow (`follow` says which; `paper` is the paper).' },
    COMMENT_REPLY: { description: 'A reply to your comment (`comment` is the reply, `paper` its paper).' },
    CLAIM_DECIDED: { description: 'Your authorship claim was approved or rejected (`claim`).' },
  } satisfies Record<(typeof NOTIFICATION_KINDS)[number], { description: string }>,
});

const NotificationRef = builder.objectRef<NotificationRow>('Notification').implement({
  description: 'Something that happened for a user: made by a background job after the event, once per user, kind and subject. Private to the user.',
  fields: (t) => ({
    id: t.id({ description: 'The ID of the notification (markNotificationsRead takes it).', resolve: (row) => encodeGlobalID('Notification', row.id) }),
    kind: t.field({ type: NotificationKindEnum, description: 'What it is about.', resolve: (row) => row.kind }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was made.' }),
    readAt: t.expose('readAt', { type: 'DateTime', nullable: true, description: 'When it was marked read; null while unread.' }),
    paper: t.field({
      type: PaperRef,
      nullable: true,
      description: 'The new paper (NEW_PAPER), or the paper of the reply (COMMENT_REPLY).',
      resolve: (row) => row.paperId,
    }),
    comment: t.field({ type: CommentRef, nullable: true, description: 'The reply (COMMENT_REPLY).', resolve: (row) => row.commentId }),
    claim: t.field({ type: AuthorshipClaimRef, nullable: true, description: 'The decided claim (CLAIM_DECIDED).', resolve: (row) => row.claimId }),
    follow: t.field({
      type: FollowRef,
      nullable: true,
      description: 'The follow the new paper matched (NEW_PAPER); null once unfollowed.',
      resolve: (row, _args, context) => (row.followId === null ? null : viewerFollowLoader(context).load(row.followId)),
    }),
  }),
});

const NotificationConnection = builder.connectionObject(
  { type: NotificationRef, name: 'NotificationConnection', description: 'A page of notifications, newest first.' },
  { name: 'NotificationEdge', description: 'A notification in a page of notifications.' },
);

builder.objectField(UserRef, 'notifications', (t) =>
  t.field({
    type: NotificationConnection,
    description: 'Their notifications, newest first. Private: only the user themselves may read them (FORBIDDEN otherwise).',
    args: {
      ...t.arg.connectionArgs(),
      unreadOnly: t.arg.boolean({ defaultValue: false, description: 'Only those not marked read (default false).' }),
    },
    resolve: async (user, args, context) => {
      requireSelf(context, user, 'Notifications');
      const unreadOnly = args.unreadOnly ?? false;
      const page = await listNotifications(context.db, user.id, unreadOnly, pageRequestFrom(args));
      return toConnection(page, () => countNotifications(context.db, user.id, unreadOnly));
    },
  }),
);

builder.objectField(UserRef, 'unreadNotificationCount', (t) =>
  t.int({
    description: 'How many of their notifications are unread. Private: only the user themselves (FORBIDDEN otherwise).',
    resolve: (user, _args, context) => {
      requireSelf(context, user, 'Notifications');
      return countNotifications(context.db, user.id, true);
    },
  }),
);

builder.mutationFields((t) => ({
  markNotificationsRead: t.int({
    description: `Mark your notifications read (signed in), by ID (at most ${MAX_PAGE_SIZE}); answers how many were unread. IDs of others' notifications change nothing.`,
    args: { ids: t.arg.idList({ required: true, description: 'Notification IDs.' }) },
    resolve: (_root, { ids }, context) => {
      const { user } = requireViewer(context);
      if (ids.length > MAX_PAGE_SIZE) throw badUserInput(`Give at most ${MAX_PAGE_SIZE} IDs, got ${ids.length}.`, { field: 'ids' });
      const rowIds = ids.map((id) => rowIdOf(String(id), 'Notification', 'ids'));
      return markRead(context.db, user.id, rowIds, context.now);
    },
  }),
  markAllNotificationsRead: t.int({
    description: 'Mark all your notifications read (signed in); answers how many were unread.',
    resolve: (_root, _args, context) => markRead(context.db, requireViewer(context).user.id, 'all', context.now),
  }),
}));
