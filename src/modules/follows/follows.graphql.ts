import { encodeGlobalID } from '@pothos/plugin-relay';
import { FOLLOW_KINDS, type FollowRow } from '../../db/schema';
import { AppError, badUserInput } from '../../errors';
import { builder } from '../../graphql/builder';
import { pageRequestFrom, toConnection } from '../../graphql/connection';
import type { Context } from '../../graphql/context';
import { decodeGlobalId } from '../../graphql/global-id';
import { AuthorRef, OrganizationRef, UserRef } from '../../graphql/node-refs';
import { requireViewer } from '../accounts/accounts.graphql';
import { PaperConnection, PaperFilter, paperCriteriaOf } from '../papers/papers.graphql';
import { countFollowingFeed, follow, followedPapersOf, followingFeed, unfollow, unfollowById, type FollowSubject } from './follows';
import { countFollows, listFollows } from './follows.queries';

/** The row id of a global ID of `typename`; BAD_USER_INPUT naming `field` otherwise. */
export function rowIdOf(globalId: string, typename: string, field: string): number {
  let decoded: { typename: string; id: string };
  try {
    decoded = decodeGlobalId(globalId);
  } catch {
    throw badUserInput(`"${globalId.slice(0, 100)}" is not a valid ${typename} ID: use an \`id\` from the API.`, { field });
  }
  if (decoded.typename !== typename) throw badUserInput(`"${globalId.slice(0, 100)}" is not a ${typename} ID.`, { field });
  return Number(decoded.id);
}

/** Follows, feeds and notifications are private: only the user themselves, signed in (FORBIDDEN for anyone else). */
export function requireSelf(context: Context, user: { id: number }, what: string): void {
  if (requireViewer(context).user.id !== user.id) throw new AppError('FORBIDDEN', `${what} are private: only their user, signed in, may read them.`);
}

const FollowKindEnum = builder.enumType('FollowKind', {
  description: 'What a follow follows.',
  values: Object.fromEntries(FOLLOW_KINDS.map((kind) => [kind, { description: `Follows ${kind.toLowerCase().replace('_', ' ')}.` }])) as Record<
    (typeof FOLLOW_KINDS)[number],
    { description: string }
  >,
});

export const FollowRef = builder.objectRef<FollowRow>('Follow').implement({
  description: 'Something a user follows: its new papers come into their following feed and notifications. Private to the user.',
  fields: (t) => ({
    id: t.id({ description: 'The ID of the follow (unfollow(id:) takes it).', resolve: (row) => encodeGlobalID('Follow', row.id) }),
    kind: t.field({ type: FollowKindEnum, description: 'What it follows.', resolve: (row) => row.kind }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was followed.' }),
    author: t.field({ type: AuthorRef, nullable: true, description: 'The followed author (AUTHOR).', resolve: (row) => row.authorId }),
    organization: t.field({
      type: OrganizationRef,
      nullable: true,
      description: 'The followed organization (ORGANIZATION).',
      resolve: (row) => row.organizationId,
    }),
    category: t.string({
      nullable: true,
      description: 'The followed arXiv category (CATEGORY).',
      resolve: (row) => (row.kind === 'CATEGORY' ? row.value : null),
    }),
    keyword: t.string({
      nullable: true,
      description: 'The followed keyword, lower-cased (KEYWORD).',
      resolve: (row) => (row.kind === 'KEYWORD' ? row.value : null),
    }),
    searchQuery: t.string({
      nullable: true,
      description: 'The saved search query (SEARCH).',
      resolve: (row) => (row.kind === 'SEARCH' ? row.value : null),
    }),
    searchFilter: t.string({
      nullable: true,
      description: "The saved search's PaperFilter as JSON (author as a row id, dates as ISO strings); null when none.",
      resolve: (row) => (row.searchFilter == null ? null : JSON.stringify(row.searchFilter)),
    }),
  }),
});

const FollowConnection = builder.connectionObject(
  { type: FollowRef, name: 'FollowConnection', description: 'A page of follows, newest first.' },
  { name: 'FollowEdge', description: 'A follow in a page of follows.' },
);

const SavedSearchInput = builder.inputType('SavedSearchInput', {
  description: 'A search to follow: the papers searchPapers would find for it (every word matching), with an optional filter.',
  fields: (t) => ({
    query: t.string({ required: true, description: 'The query, as searchPapers takes it (1 to 250 characters; not an arXiv id).' }),
    filter: t.field({ type: PaperFilter, description: 'Criteria the papers must also meet.' }),
  }),
});

const FollowInput = builder.inputType('FollowInput', {
  description: 'What to follow or unfollow: exactly one field.',
  fields: (t) => ({
    authorId: t.id({ description: 'An Author ID.' }),
    organizationId: t.id({ description: 'An Organization ID.' }),
    category: t.string({ description: 'An arXiv category, as arXiv writes it (cs.LG, hep-th).' }),
    keyword: t.string({ description: 'A keyword (case-insensitive), 1 to 100 characters.' }),
    search: t.field({ type: SavedSearchInput, description: 'A saved search.' }),
  }),
});

function subjectOf(input: typeof FollowInput.$inferInput): FollowSubject {
  const filter = input.search?.filter;
  return {
    authorId: input.authorId == null ? undefined : rowIdOf(String(input.authorId), 'Author', 'authorId'),
    organizationId: input.organizationId == null ? undefined : rowIdOf(String(input.organizationId), 'Organization', 'organizationId'),
    category: input.category,
    keyword: input.keyword,
    search: input.search && {
      query: input.search.query,
      filter: filter && { ...filter, authorId: filter.authorId ? Number(filter.authorId.id) : undefined },
    },
  };
}

builder.mutationFields((t) => ({
  follow: t.field({
    type: FollowRef,
    description:
      'Follow an author, an organization, an arXiv category, a keyword or a saved search (signed in); following again answers the same follow. ' +
      'BAD_USER_INPUT (`extensions.field` names the field) for a malformed one or past the per-user limit, NOT_FOUND for an unknown author or organization.',
    args: { input: t.arg({ type: FollowInput, required: true, description: 'What to follow: exactly one field.' }) },
    resolve: (_root, { input }, context) => {
      const { user } = requireViewer(context);
      return follow(context.db, user.id, subjectOf(input), context.config.followsPerUser, context.now);
    },
  }),
  unfollow: t.boolean({
    description: "Stop following (signed in), by the follow's ID or by what it follows (exactly one); idempotent: false when it was not followed.",
    args: {
      id: t.arg.id({ description: 'A Follow ID.' }),
      input: t.arg({ type: FollowInput, description: 'What to unfollow, as it was followed.' }),
    },
    resolve: (_root, args, context) => {
      const { user } = requireViewer(context);
      if ((args.id == null) === (args.input == null)) throw badUserInput('Give exactly one of id and input.', { field: 'id' });
      if (args.id != null) return unfollowById(context.db, user.id, rowIdOf(String(args.id), 'Follow', 'id'));
      return unfollow(context.db, user.id, subjectOf(args.input!));
    },
  }),
}));

builder.objectField(UserRef, 'follows', (t) =>
  t.field({
    type: FollowConnection,
    description: 'What they follow, newest first. Private: only the user themselves may read it (FORBIDDEN otherwise).',
    args: t.arg.connectionArgs(),
    resolve: async (user, args, context) => {
      requireSelf(context, user, 'Follows');
      const page = await listFollows(context.db, user.id, pageRequestFrom(args));
      return toConnection(page, () => countFollows(context.db, user.id));
    },
  }),
);

builder.objectField(UserRef, 'followingFeed', (t) =>
  t.field({
    type: PaperConnection,
    description:
      'Papers from what they follow (authors, organizations, categories, keywords, saved searches), newest published first; withdrawn papers left out. ' +
      'Private: only the user themselves may read it (FORBIDDEN otherwise).',
    args: { ...t.arg.connectionArgs(), filter: t.arg({ type: PaperFilter, description: 'Criteria the papers must also meet.' }) },
    resolve: async (user, args, context) => {
      requireSelf(context, user, 'Following feeds');
      const criteria = paperCriteriaOf(args.filter);
      const request = pageRequestFrom(args);
      const followed = await followedPapersOf(context.db, user.id);
      const page = await followingFeed(context.db, followed, criteria, request);
      return toConnection(page, () => countFollowingFeed(context.db, followed, criteria));
    },
  }),
);
