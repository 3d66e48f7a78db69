import { builder } from '../../graphql/builder';
import { UserRef } from '../../graphql/node-refs';
import { requireViewer } from '../accounts/accounts.graphql';
import type { Context } from '../../graphql/context';
import { createFeedLink, liveFeedLinkCreatedAt, PRIVATE_FEED_PATHS, revokeFeedLink, type FeedLinkKind } from './feed-links';

interface PrivateFeedLink {
  url: string;
  token: string;
  createdAt: Date;
}

const PrivateFeedLinkRef = builder.objectRef<PrivateFeedLink>('PrivateFeedLink').implement({
  description: 'A private link to a personal Atom feed. Shown once: only a hash of its token is kept.',
  fields: (t) => ({
    url: t.exposeString('url', { description: 'The feed address to give a feed reader; anyone holding it reads the feed, until it is revoked.' }),
    token: t.exposeString('token', { description: 'The secret part of the address.' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was made.' }),
  }),
});

/** A new private link of `kind` for the viewer: the token shown once, only its hash kept; the previous link is revoked. */
async function newLink(context: Context, kind: FeedLinkKind): Promise<PrivateFeedLink> {
  const { user } = requireViewer(context);
  const token = await createFeedLink(context.db, user.id, kind, context.now);
  const url = new URL(`${context.config.publicUrl}${PRIVATE_FEED_PATHS[kind]}`);
  url.searchParams.set('token', token);
  return { url: url.href, token, createdAt: context.now };
}

builder.mutationFields((t) => ({
  createFollowingFeedLink: t.field({
    type: PrivateFeedLinkRef,
    description:
      'A private Atom feed of your following feed (signed in): a secret address for a feed reader, shown once. Making a new one revokes the previous one.',
    resolve: (_root, _args, context) => newLink(context, 'FOLLOWING'),
  }),
  revokeFollowingFeedLink: t.boolean({
    description: 'Revoke the private link to your following feed (signed in): it answers 404 from now on. False when there was none.',
    resolve: (_root, _args, context) => revokeFeedLink(context.db, requireViewer(context).user.id, 'FOLLOWING', context.now),
  }),
  createPersonalFeedLink: t.field({
    type: PrivateFeedLinkRef,
    description:
      'A private Atom feed of your recommendations (signed in): a secret address for a feed reader, shown once. Making a new one revokes the previous one.',
    resolve: async (_root, _args, context) => {
      const { user } = requireViewer(context);
      const token = await createFeedLink(context.db, user.id, 'RECOMMENDATIONS', context.now);
      const url = new URL(`${context.config.publicUrl}${PRIVATE_FEED_PATHS.RECOMMENDATIONS}`);
      url.searchParams.set('token', token);
      return { url: url.href, token, createdAt: context.now };
    },
  }),
  revokePersonalFeedLink: t.boolean({
    description: 'Revoke the private link to your recommendations feed (signed in): it answers 404 from now on. False when there was none.',
    resolve: (_root, _args, context) => revokeFeedLink(context.db, requireViewer(context).user.id, 'RECOMMENDATIONS', context.now),
  }),
}));

builder.objectField(UserRef, 'personalFeedLinkCreatedAt', (t) =>
  t.field({
    type: 'DateTime',
    nullable: true,
    description:
      'When the live private link to their recommendations feed was made; null when none. Only for the signed-in user themselves: null for others.',
    resolve: (user, _args, context) => (context.viewer?.user.id === user.id ? liveFeedLinkCreatedAt(context.db, user.id, 'RECOMMENDATIONS') : null),
  }),
);

builder.objectField(UserRef, 'followingFeedLinkCreatedAt', (t) =>
  t.field({
    type: 'DateTime',
    nullable: true,
    description: 'When the live private link to their following feed was made; null when none. Only for the signed-in user themselves: null for others.',
    resolve: (user, _args, context) => (context.viewer?.user.id === user.id ? liveFeedLinkCreatedAt(context.db, user.id, 'FOLLOWING') : null),
  }),
);
