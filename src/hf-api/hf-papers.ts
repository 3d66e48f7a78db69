import type { Database } from '../db/client';
import type { PaperRow } from '../db/schema';
import { findOrganizationsByIds } from '../modules/organizations/organizations.queries';
import { findAuthorsOfPapers } from '../modules/papers/papers.queries';
import { findUsersByIds } from '../modules/users/users.queries';
import type { HfAuthor, PaperWithRelations } from './hf-shapes';

const distinct = (ids: (number | null)[]) => [...new Set(ids.filter((id): id is number => id !== null))];

/**
 * A page of papers with their authors, organizations and submitters, read
 * with the functions the GraphQL loaders batch through: three statements
 * whatever the page size (fewer when no paper has an organization or a
 * submitter), after the one that read the page.
 */
export async function withRelations(db: Database, rows: readonly PaperRow[]): Promise<PaperWithRelations[]> {
  if (rows.length === 0) return [];
  const organizationIds = distinct(rows.map((row) => row.organizationId));
  const submitterIds = distinct(rows.map((row) => row.submittedById));
  const [authorships, organizations, submitters] = await Promise.all([
    findAuthorsOfPapers(
      db,
      rows.map((row) => row.id),
    ),
    organizationIds.length > 0 ? findOrganizationsByIds(db, organizationIds) : [],
    submitterIds.length > 0 ? findUsersByIds(db, submitterIds) : [],
  ]);
  const authorsOf = new Map<number, HfAuthor[]>(rows.map((row) => [row.id, []]));
  for (const authorship of authorships) authorsOf.get(authorship.paperId)?.push({ name: authorship.name, hidden: authorship.hidden });
  const organizationById = new Map(organizations.map((organization) => [organization.id, organization]));
  const submitterById = new Map(submitters.map((user) => [user.id, user]));
  return rows.map((paper) => ({
    paper,
    authors: authorsOf.get(paper.id)!,
    organization: paper.organizationId === null ? null : (organizationById.get(paper.organizationId) ?? null),
    submitter: paper.submittedById === null ? null : (submitterById.get(paper.submittedById) ?? null),
  }));
}
