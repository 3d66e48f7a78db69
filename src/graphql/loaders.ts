import DataLoader from 'dataloader';
import type { Database } from '../db/client';
import { countPapersOfAuthors } from '../modules/authors/authors.queries';
import { createCommentLoaders } from '../modules/comments/comments.loaders';
import { countPapersOfOrganizations } from '../modules/organizations/organizations.queries';
import { findAuthorsOfPapers, type PaperAuthorView } from '../modules/papers/papers.queries';
import { findUpvotedPaperIds } from '../modules/upvotes/upvotes.queries';

/**
 * Batched loads of relations that are not objects by id (those are Pothos
 * loadable nodes). A new set per request: nothing is cached across requests.
 */
export function createLoaders(db: Database, viewerId: number | null) {
  return {
    /** Whether the viewer upvoted a paper; false for everything when anonymous. */
    viewerUpvoted: new DataLoader<number, boolean>(async (paperIds) => {
      if (viewerId === null) return paperIds.map(() => false);
      const upvoted = await findUpvotedPaperIds(db, viewerId, paperIds);
      return paperIds.map((paperId) => upvoted.has(paperId));
    }),
    /** The authors of a paper in order; shared by Paper.authors and Paper.authorCount. */
    authorsOfPaper: new DataLoader<number, PaperAuthorView[]>(async (paperIds) => {
      const byPaper = new Map<number, PaperAuthorView[]>(paperIds.map((paperId) => [paperId, []]));
      for (const row of await findAuthorsOfPapers(db, paperIds)) byPaper.get(row.paperId)?.push(row);
      return paperIds.map((paperId) => byPaper.get(paperId)!);
    }),
    paperCountOfAuthor: new DataLoader<number, number>(async (authorIds) => {
      const counts = await countPapersOfAuthors(db, authorIds);
      return authorIds.map((id) => counts.get(id) ?? 0);
    }),
    paperCountOfOrganization: new DataLoader<number, number>(async (organizationIds) => {
      const counts = await countPapersOfOrganizations(db, organizationIds);
      return organizationIds.map((id) => counts.get(id) ?? 0);
    }),
    ...createCommentLoaders(db),
  };
}

export type Loaders = ReturnType<typeof createLoaders>;
