import { lexicographicSortSchema } from 'graphql';
import { builder } from './builder';
import './scalars';
import '../modules/papers/papers.graphql';
import '../modules/authors/authors.graphql';
import '../modules/organizations/organizations.graphql';
import '../modules/users/users.graphql';
import '../modules/accounts/accounts.graphql';
import '../modules/upvotes/upvotes.graphql';
import '../modules/search/search.graphql';
import '../modules/submissions/submissions.graphql';
import '../modules/comments/comments.graphql';
import '../modules/claims/claims.graphql';
import '../modules/recommendations/recommendations.graphql';
import '../modules/digest/digest.graphql';
import '../modules/collections/collections.graphql';
import '../modules/feed-links/feed-links.graphql';
import '../modules/follows/follows.graphql';
import '../modules/notifications/notifications.graphql';

/** Sorted, so the printed schema.graphql diffs cleanly. */
export const schema = lexicographicSortSchema(builder.toSchema());
