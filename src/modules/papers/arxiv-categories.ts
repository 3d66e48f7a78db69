import { setTimeout as sleep } from 'node:timers/promises';
import { and, asc, eq, gt, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { withLease, type Lease } from '../../db/leases';
import { papers } from '../../db/schema';
import { ArxivUnavailableError, fetchArxivEntries, type ArxivApiSettings } from './arxiv-api';

export interface CategoriesFillSettings extends ArxivApiSettings {
  /** Papers asked about per request. */
  batchSize: number;
  /** The pause after each request before the next. */
  requestIntervalMs: number;
}

export interface CategoriesFill {
  /** Requests sent to arXiv. */
  requests: number;
  /** Papers that got their categories. */
  filled: number;
  /** Papers arXiv returned no entry for: marked checked, with no categories. */
  unknownToArxiv: number;
  /** Why the run stopped before every paper was checked (arXiv unavailable); the next run goes on from there. */
  stoppedBy?: string;
  /** Set when another run (any process) was under way: this one sent nothing. */
  skipped?: 'another run is under way';
}

/** The lease that keeps two runs from asking arXiv at once (each would keep the pause only between its own requests). */
const FILL_LEASE = 'fill-arxiv-categories';
/** Beyond one step's pause and request: the slack a lease keeps for the step's write. */
const LEASE_SLACK_MS = 60_000;

/**
 * Asks arXiv for the categories of every paper that has never had them taken
 * from arXiv (imported papers), `batchSize` ids per request, pausing
 * `requestIntervalMs` after each request. Only unchecked papers are asked
 * about, so running it again sends nothing; each batch is written as soon as
 * it is answered, so a run stopped by an arXiv outage keeps what it did.
 * One run at a time across processes: a run that finds another under way
 * sends nothing.
 */
export async function fillArxivCategories(
  db: Database,
  settings: CategoriesFillSettings,
  wait: (ms: number) => Promise<unknown> = sleep,
): Promise<CategoriesFill> {
  const leaseMs = settings.requestIntervalMs + settings.timeoutMs + LEASE_SLACK_MS;
  const fill = await withLease(db, FILL_LEASE, leaseMs, (lease) => fillInBatches(db, settings, wait, lease));
  return fill ?? { requests: 0, filled: 0, unknownToArxiv: 0, skipped: 'another run is under way' };
}

async function fillInBatches(
  db: Database,
  settings: CategoriesFillSettings,
  wait: (ms: number) => Promise<unknown>,
  lease: Lease,
): Promise<CategoriesFill> {
  const fill: CategoriesFill = { requests: 0, filled: 0, unknownToArxiv: 0 };
  let afterId = 0;
  for (;;) {
    const batch = await db
      .select({ id: papers.id, arxivId: papers.arxivId })
      .from(papers)
      .where(and(isNull(papers.categoriesCheckedAt), gt(papers.id, afterId)))
      .orderBy(asc(papers.id))
      .limit(settings.batchSize);
    if (batch.length === 0) return fill;
    afterId = batch.at(-1)!.id;

    if (fill.requests > 0) await wait(settings.requestIntervalMs);
    // Lost only if this run stalled past the lease and another took it over: that one goes on from here.
    if (!(await lease.renew())) return { ...fill, stoppedBy: 'the lease expired and another run took over' };
    fill.requests += 1;
    let entries: Awaited<ReturnType<typeof fetchArxivEntries>>;
    try {
      entries = await fetchArxivEntries(
        settings,
        batch.map((paper) => paper.arxivId),
      );
    } catch (error) {
      if (!(error instanceof ArxivUnavailableError)) throw error;
      return { ...fill, stoppedBy: error.message };
    }

    const found = batch.filter((paper) => entries.has(paper.arxivId));
    const unknown = batch.filter((paper) => !entries.has(paper.arxivId));
    await db.transaction(async (tx) => {
      for (const paper of found) {
        // A submission may have written them meanwhile; both came from arXiv.
        await tx
          .update(papers)
          .set({ categories: entries.get(paper.arxivId)!.categories, categoriesCheckedAt: sql`now()` })
          .where(and(eq(papers.id, paper.id), isNull(papers.categoriesCheckedAt)));
      }
      if (unknown.length > 0) {
        await tx
          .update(papers)
          .set({ categoriesCheckedAt: sql`now()` })
          .where(
            and(
              inArray(
                papers.id,
                unknown.map((paper) => paper.id),
              ),
              isNull(papers.categoriesCheckedAt),
            ),
          );
      }
    });
    fill.filled += found.length;
    fill.unknownToArxiv += unknown.length;
  }
}
