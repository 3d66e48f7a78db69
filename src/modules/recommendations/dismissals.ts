import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { paperColumns, papers, recommendationDismissals, recommendations, type PaperRow } from '../../db/schema';

/**
 * "Not interested": a dismissed paper leaves the reader's stored feed at once
 * and is never recommended to them again; from their next refresh it also
 * counts against papers like it (ranking.ts). Both calls are idempotent and
 * return the paper, or null for an unknown paper (nothing written).
 */
export async function dismissRecommendation(db: Database, userId: number, paperId: number): Promise<PaperRow | null> {
  return db.transaction(async (tx) => {
    const [paper] = await tx.select(paperColumns).from(papers).where(eq(papers.id, paperId));
    if (!paper) return null;
    await tx.insert(recommendationDismissals).values({ userId, paperId }).onConflictDoNothing();
    await tx.delete(recommendations).where(and(eq(recommendations.userId, userId), eq(recommendations.paperId, paperId)));
    return paper;
  });
}

export async function undoDismissRecommendation(db: Database, userId: number, paperId: number): Promise<PaperRow | null> {
  const [paper] = await db.select(paperColumns).from(papers).where(eq(papers.id, paperId));
  if (!paper) return null;
  await db.delete(recommendationDismissals).where(and(eq(recommendationDismissals.userId, userId), eq(recommendationDismissals.paperId, paperId)));
  return paper;
}
