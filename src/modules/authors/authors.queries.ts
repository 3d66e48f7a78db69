import { and, count, eq, isNull, not } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { authorColumns, authors, paperAuthors, papers, type AuthorRow } from '../../db/schema';

export async function findAuthorsByIds(db: Database, ids: readonly number[]): Promise<AuthorRow[]> {
  return db.select(authorColumns).from(authors).where(idIn(authors.id, ids));
}

/** Papers listed on each author's page (hidden authorships and withdrawn papers left out), keyed by author id. */
export async function countPapersOfAuthors(db: Database, authorIds: readonly number[]): Promise<Map<number, number>> {
  const rows = await db
    .select({ authorId: paperAuthors.authorId, total: count() })
    .from(paperAuthors)
    .innerJoin(papers, eq(papers.id, paperAuthors.paperId))
    .where(and(idIn(paperAuthors.authorId, authorIds), not(paperAuthors.hidden), isNull(papers.withdrawnAt)))
    .groupBy(paperAuthors.authorId);
  return new Map(rows.map((row) => [row.authorId, row.total]));
}
