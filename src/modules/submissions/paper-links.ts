import { and, eq, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { Database } from '../../db/client';
import { authors, paperAuthors, paperColumns, papers, type PaperRow } from '../../db/schema';
import { AppError, badUserInput } from '../../errors';
import { webUrl } from './submissions';

/** What updatePaperLinks changes: a field left out stays, null clears it. */
export interface PaperLinksEdit {
  paperId: number;
  /** Who asks: the paper's submitter or a verified author may. */
  userId: number;
  githubRepo?: string | null;
  projectPage?: string | null;
  at: Date;
}

const githubRepoUrl = webUrl.refine((url) => {
  const { hostname, pathname } = new URL(url);
  return (hostname === 'github.com' || hostname === 'www.github.com') && /^\/[^/]+\/[^/]+/.test(pathname);
}, 'expected a GitHub repository, e.g. "https://github.com/owner/repo"');

const linksSchema = z.object({ githubRepo: githubRepoUrl.nullish(), projectPage: webUrl.nullish() });

/** A verified author of the paper: an approved claim made them the user of one of its authors. */
const isVerifiedAuthor = (userId: number) =>
  sql`exists (select 1 from ${paperAuthors} join ${authors} on ${authors.id} = ${paperAuthors.authorId}
    where ${paperAuthors.paperId} = ${papers.id} and ${authors.userId} = ${userId})`;

/**
 * Sets a paper's code repository and project page for its submitter or a
 * verified author; later imports keep them (linksEditedAt). One statement
 * checks who asks and writes, so nothing changes for anyone else.
 */
export async function updatePaperLinks(db: Database, edit: PaperLinksEdit): Promise<PaperRow> {
  if (edit.githubRepo === undefined && edit.projectPage === undefined) {
    throw badUserInput('Give githubRepo or projectPage (null clears one).');
  }
  const parsed = linksSchema.safeParse({ githubRepo: edit.githubRepo, projectPage: edit.projectPage });
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const field = String(issue!.path[0]);
    throw badUserInput(`Invalid ${field}: ${issue!.message}.`, { field });
  }
  const links = Object.fromEntries(Object.entries(parsed.data).filter(([, value]) => value !== undefined));
  const [updated] = await db
    .update(papers)
    .set({ ...links, linksEditedAt: edit.at, updatedAt: edit.at })
    .where(and(eq(papers.id, edit.paperId), or(eq(papers.submittedById, edit.userId), isVerifiedAuthor(edit.userId))))
    .returning(paperColumns);
  if (updated) return updated;
  const [exists] = await db.select({ id: papers.id }).from(papers).where(eq(papers.id, edit.paperId));
  if (!exists) throw new AppError('NOT_FOUND', 'No paper has this ID.');
  throw new AppError('FORBIDDEN', "Only the paper's submitter or one of its verified authors may change its links.");
}
