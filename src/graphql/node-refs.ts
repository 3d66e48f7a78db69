import { findAuthorsByIds } from '../modules/authors/authors.queries';
import { findVisibleCollectionsByIds } from '../modules/collections/collections.queries';
import { findCommentsByIds } from '../modules/comments/comments.queries';
import { findOrganizationsByIds } from '../modules/organizations/organizations.queries';
import { findPapersByIds } from '../modules/papers/papers.queries';
import { findUsersByIds } from '../modules/users/users.queries';
import type { AuthorRow, CollectionRow, CommentRow, OrganizationRow, PaperRow, UserProfile } from '../db/schema';
import { builder } from './builder';

// The node types are declared here and implemented in their modules, so the
// modules can refer to each other without circular imports. A field that
// returns one of them may return its id: the per-request dataloader batches
// all ids of a page into one query.

const numericId = { parse: (id: string) => Number(id) };

export const PaperRef = builder.loadableNodeRef<PaperRow, number, number>('Paper', {
  id: { resolve: (paper) => paper.id, ...numericId },
  load: (ids: number[], context) => findPapersByIds(context.db, ids),
  sort: (paper) => paper.id,
});

export const AuthorRef = builder.loadableNodeRef<AuthorRow, number, number>('Author', {
  id: { resolve: (author) => author.id, ...numericId },
  load: (ids: number[], context) => findAuthorsByIds(context.db, ids),
  sort: (author) => author.id,
});

export const OrganizationRef = builder.loadableNodeRef<OrganizationRow, number, number>('Organization', {
  id: { resolve: (organization) => organization.id, ...numericId },
  // Shared by every request (context.sharedReads): what the same for everyone is read once per process.
  load: (ids: number[], context) => context.sharedReads.organizationsByIds(ids, (missing) => findOrganizationsByIds(context.db, missing)),
  sort: (organization) => organization.id,
});

export const UserRef = builder.loadableNodeRef<UserProfile, number, number>('User', {
  id: { resolve: (user) => user.id, ...numericId },
  load: (ids: number[], context) => findUsersByIds(context.db, ids),
  sort: (user) => user.id,
});

export const CommentRef = builder.loadableNodeRef<CommentRow, number, number>('Comment', {
  id: { resolve: (comment) => comment.id, ...numericId },
  load: (ids: number[], context) => findCommentsByIds(context.db, ids),
  sort: (comment) => comment.id,
});

/** Only what the viewer may see loads: someone else's private collection is null, as if it did not exist. */
export const CollectionRef = builder.loadableNodeRef<CollectionRow, number, number>('Collection', {
  id: { resolve: (collection) => collection.id, ...numericId },
  load: (ids: number[], context) => findVisibleCollectionsByIds(context.db, ids, context.viewer?.user.id ?? null),
  sort: (collection) => collection.id,
});
