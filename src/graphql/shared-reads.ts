import { LRUCache } from 'lru-cache';
import type { PublicDataChange, PublicDataChanges } from '../cache/public-data-changes';
import type { PaperAuthorView } from '../modules/papers/papers.queries';

/** How many papers' author lists are kept (a few hundred bytes each). */
const MAX_PAPERS = 20_000;

/**
 * What every reader sees the same, kept across requests and readers
 * (signed in or not): the authors of a paper. A list ends when its paper
 * changes (an announced change to it, or to everything); votes leave it be.
 * A list read before such a change is not kept, nor one older than `ttlMs`
 * (what writes from outside the API may leave stale); with `ttlMs` 0 nothing
 * is kept. The rows are shared: read them, never change them.
 */
export class SharedReads {
  private sequence = 0;
  private everythingAt = 0;
  private readonly authorsByPaper: LRUCache<number, readonly PaperAuthorView[]>;
  /** The sequence of the last change to a paper; older ones may be forgotten (then nothing read before is kept). */
  private readonly paperChangedAt = new LRUCache<number, number>({
    max: MAX_PAPERS,
    dispose: (sequence, _id, reason) => {
      if (reason === 'evict') this.everythingAt = Math.max(this.everythingAt, sequence);
    },
  });

  constructor(
    changes: PublicDataChanges,
    private readonly ttlMs: number,
  ) {
    this.authorsByPaper = new LRUCache({ max: MAX_PAPERS, ttl: Math.max(ttlMs, 1) });
    if (ttlMs > 0) changes.subscribe((change) => this.end(change));
  }

  private end(change: PublicDataChange) {
    this.sequence += 1;
    if (change.kind === 'everything') {
      this.everythingAt = this.sequence;
      this.authorsByPaper.clear();
    } else if (change.kind === 'entities') {
      for (const { typename, id } of change.entities) {
        if (typename !== 'Paper' || id === undefined) continue;
        this.paperChangedAt.set(id, this.sequence);
        this.authorsByPaper.delete(id);
      }
    }
  }

  /** The authors of each paper, in `paperIds` order: those kept, and the others from `load` (then kept). */
  async authorsOfPapers(paperIds: readonly number[], load: (paperIds: readonly number[]) => Promise<PaperAuthorView[]>) {
    // What is kept now: a change heard while the others load must not leave a paper without its list.
    const found = new Map<number, readonly PaperAuthorView[]>();
    for (const paperId of this.ttlMs === 0 ? [] : paperIds) {
      const rows = this.authorsByPaper.get(paperId);
      if (rows) found.set(paperId, rows);
    }
    const missing = paperIds.filter((paperId) => !found.has(paperId));
    if (missing.length > 0) {
      const started = this.sequence;
      const loaded = new Map<number, PaperAuthorView[]>(missing.map((paperId) => [paperId, []]));
      for (const row of await load(missing)) loaded.get(row.paperId)?.push(row);
      const unchanged = (paperId: number) => this.everythingAt <= started && (this.paperChangedAt.get(paperId) ?? -1) <= started;
      for (const [paperId, rows] of loaded) {
        found.set(paperId, rows);
        if (this.ttlMs > 0 && unchanged(paperId)) this.authorsByPaper.set(paperId, rows);
      }
    }
    return paperIds.map((paperId) => found.get(paperId)!);
  }
}
