import DataLoader from 'dataloader';
import { countPublicCollectionsOfPapers } from '../modules/collections/collections.queries';
import { countPapersOfAuthors } from '../modules/authors/authors.queries';
import { countPapersOfOrganizations } from '../modules/organizations/organizations.queries';
import { findAuthorsOfPapers, findLivePaperFields, type LivePaperFields, type PaperAuthorView } from '../modules/papers/papers.queries';
import { searchSnippets } from '../modules/search/search.queries';
import { findUpvotedPaperIds } from '../modules/upvotes/upvotes.queries';
import { loader, type Context } from './context';

/** Whether the viewer upvoted a paper; false for everything when anonymous. */
export const viewerUpvotedLoader = (context: Context) =>
  loader(
    context,
    'viewerUpvoted',
    () =>
      new DataLoader<number, boolean>(async (paperIds) => {
        const viewerId = context.viewer?.user.id;
        if (viewerId === undefined) return paperIds.map(() => false);
        const upvoted = await findUpvotedPaperIds(context.db, viewerId, paperIds);
        return paperIds.map((paperId) => upvoted.has(paperId));
      }),
  );

/**
 * What a vote changes on a paper (upvote count, trending key) as it is now, and whether the viewer upvoted it
 * (false when anonymous), in one query for the request: for rows kept across requests (context.sharedReads.isKept).
 * Undefined for a paper deleted since.
 */
export const livePaperFieldsLoader = (context: Context) =>
  loader(
    context,
    'livePaperFields',
    () =>
      new DataLoader<number, LivePaperFields | undefined>(async (paperIds) => {
        // No user has id 0: anonymous readers upvoted nothing.
        const live = new Map((await findLivePaperFields(context.db, context.viewer?.user.id ?? 0, paperIds)).map((fields) => [fields.id, fields]));
        return paperIds.map((paperId) => live.get(paperId));
      }),
  );

/** The highlighted excerpt of a paper for a search `query` (normalized): one statement for the page's edges that ask. */
export const searchSnippetLoader = (context: Context, query: string) =>
  loader(
    context,
    `searchSnippet:${query}`,
    () =>
      new DataLoader<number, string | undefined>(async (paperIds) => {
        const snippets = await searchSnippets(context.db, query, paperIds);
        return paperIds.map((paperId) => snippets.get(paperId));
      }),
  );

/** The authors of a paper in order; shared by Paper.authors and Paper.authorCount. */
export const authorsOfPaperLoader = (context: Context) =>
  loader(
    context,
    'authorsOfPaper',
    () =>
      // Shared by every request: a page of papers reads the authors only of papers whose list is not kept.
      new DataLoader<number, readonly PaperAuthorView[]>((paperIds) =>
        context.sharedReads.authorsOfPapers(paperIds, (missing) => findAuthorsOfPapers(context.db, missing)),
      ),
  );

export const paperCountOfAuthorLoader = (context: Context) =>
  loader(
    context,
    'paperCountOfAuthor',
    () =>
      new DataLoader<number, number>(async (authorIds) => {
        const counts = await countPapersOfAuthors(context.db, authorIds);
        return authorIds.map((id) => counts.get(id) ?? 0);
      }),
  );

export const paperCountOfOrganizationLoader = (context: Context) =>
  loader(
    context,
    'paperCountOfOrganization',
    () =>
      new DataLoader<number, number>(async (organizationIds) => {
        const counts = await countPapersOfOrganizations(context.db, organizationIds);
        return organizationIds.map((id) => counts.get(id) ?? 0);
      }),
  );

/** In how many public collections a paper is. */
export const publicCollectionCountOfPaperLoader = (context: Context) =>
  loader(
    context,
    'publicCollectionCountOfPaper',
    () =>
      new DataLoader<number, number>(async (paperIds) => {
        const counts = await countPublicCollectionsOfPapers(context.db, paperIds);
        return paperIds.map((id) => counts.get(id) ?? 0);
      }),
  );
