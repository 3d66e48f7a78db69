import { LRUCache } from 'lru-cache';
import type { PublicDataChange, PublicDataChanges } from '../cache/public-data-changes';
import type { Page } from '../db/keyset';
import type { OrganizationRow, PaperRow } from '../db/schema';
import type { PaperAuthorView } from '../modules/papers/papers.queries';

/** How many papers' author lists are kept (a few hundred bytes each). */
const MAX_PAPERS = 20_000;
/** How many organizations are kept (a few hundred bytes each). */
const MAX_ORGANIZATIONS = 20_000;
/** How many pages of papers are kept (the rows of up to 100 papers each, shared with the other caches' readers). */
const MAX_PAGES = 500;
/** How many papers found by arXiv id are kept (a few kilobytes each: the abstract). */
const MAX_PAPER_ROWS = 5_000;
/** How many rows the kept similar-papers lists hold in all (up to 20 a list). */
const MAX_SIMILAR_ROWS = 10_000;

/** A page of papers as kept: its rows in order and their cursors, computed once. */
interface KeptPage {
  page: Page<PaperRow>;
  cursors: WeakMap<PaperRow, string>;
}

/**
 * What every reader sees the same, kept across requests and readers
 * (signed in or not): the authors of a paper, an organization, the page of
 * a list (see paperPage), a paper found by arXiv id and its similar papers
 * (the paper page; see paperByArxivId and similarPapersOf, whose rows'
 * upvote counts are read fresh). A list of authors ends when its paper
 * changes (an announced change to it, or to everything); votes leave it be.
 * A list read before such a change is not kept, nor one older than `ttlMs`
 * (what writes from outside the API may leave stale); with `ttlMs` 0 nothing
 * is kept. An organization ends at a change to it, to everything, or to an
 * unnamed paper (a submission, which may bring new organization details).
 * The rows are shared: read them, never change them.
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

  private readonly organizations: LRUCache<number, OrganizationRow>;
  /** The sequence of the last change that ended every kept organization. */
  private organizationsEndedAt = 0;

  /** Papers found by arXiv id: the id of each (which never changes), and the row by id until a change to the paper. */
  private readonly paperIdByArxivId = new LRUCache<string, number>({ max: MAX_PAPER_ROWS });
  private readonly papersById: LRUCache<number, PaperRow>;
  /** Similar-papers lists by paper and length; each ends at a change to any paper. */
  private readonly similarLists: LRUCache<string, readonly PaperRow[]>;
  /** The sequence of the last change that ended every kept similar-papers list. */
  private similarListsEndedAt = 0;
  /**
   * The rows handed out from papersById and similarLists: what a vote changes on them (upvote count, trending
   * key) may be old, so readers take those fields from a fresh read (livePaperFieldsLoader).
   */
  private readonly keptRows = new WeakSet<PaperRow>();

  /** Pages of papers by list (criteria, order, page request): each lives at most `listMaxAgeMs` from its read. */
  private readonly pages: LRUCache<string, KeptPage>;
  private readonly listMaxAgeMs: number;

  constructor(
    changes: PublicDataChanges,
    private readonly ttlMs: number,
    listMaxAgeMs = 0,
  ) {
    this.authorsByPaper = new LRUCache({ max: MAX_PAPERS, ttl: Math.max(ttlMs, 1) });
    this.organizations = new LRUCache({ max: MAX_ORGANIZATIONS, ttl: Math.max(ttlMs, 1) });
    this.listMaxAgeMs = ttlMs > 0 ? Math.min(listMaxAgeMs, ttlMs) : 0;
    this.pages = new LRUCache({ max: MAX_PAGES, ttl: Math.max(this.listMaxAgeMs, 1) });
    this.papersById = new LRUCache({ max: MAX_PAPER_ROWS, ttl: Math.max(ttlMs, 1) });
    this.similarLists = new LRUCache({ maxSize: MAX_SIMILAR_ROWS, sizeCalculation: (rows) => Math.max(rows.length, 1), ttl: Math.max(ttlMs, 1) });
    if (ttlMs > 0) changes.subscribe((change) => this.end(change));
  }

  private end(change: PublicDataChange) {
    if (change.kind === 'sessions-ended') return;
    this.sequence += 1;
    if (change.kind === 'everything') {
      this.everythingAt = this.sequence;
      this.authorsByPaper.clear();
      this.organizations.clear();
      this.pages.clear();
      this.paperIdByArxivId.clear();
      this.papersById.clear();
      this.similarLists.clear();
    } else if (change.kind === 'entities') {
      // Any change to an object may add a paper to a list, take one out or change what a page shows (a new paper,
      // a withdrawal, a renamed organization a filter names): every kept page ends. Votes leave pages to end by age.
      this.pagesEndedAt = this.sequence;
      this.pages.clear();
      for (const { typename, id } of change.entities) {
        if (typename === 'Organization' || (typename === 'Paper' && id === undefined)) {
          this.organizationsEndedAt = this.sequence;
          this.organizations.clear();
        }
        if (typename !== 'Paper') continue;
        // A changed paper may be in any list of similar papers (withdrawn, retitled), a refresh changes its own.
        this.similarListsEndedAt = this.sequence;
        this.similarLists.clear();
        if (id === undefined) continue;
        this.paperChangedAt.set(id, this.sequence);
        this.authorsByPaper.delete(id);
        this.papersById.delete(id);
      }
    }
  }

  /** The sequence of the last change that ended every kept page. */
  private pagesEndedAt = 0;

  /**
   * The page of a list under `key` (what decides the rows: criteria, order, page request), kept
   * for `listMaxAgeMs` from when it began to be read, for every reader: `shared` says it was kept
   * (its order and rows may be that old; the caller brings what must be fresh), rather than read
   * now by `load`. A page read while an object changed is not kept.
   */
  async paperPage(key: string, load: () => Promise<Page<PaperRow>>): Promise<{ page: Page<PaperRow>; shared: boolean }> {
    if (this.listMaxAgeMs === 0) return { page: await load(), shared: false };
    const kept = this.pages.get(key);
    if (kept) return { page: { ...kept.page, cursorOf: (row) => kept.cursors.get(row) ?? kept.page.cursorOf(row) }, shared: true };
    const started = this.sequence;
    // The cache's clock: the page lives `listMaxAgeMs` from the start of its read, not from its end.
    const startedAt = performance.now();
    const page = await load();
    if (Math.max(this.everythingAt, this.pagesEndedAt) <= started) {
      const cursors = new WeakMap(page.rows.map((row) => [row, page.cursorOf(row)]));
      this.pages.set(key, { page, cursors }, { start: startedAt });
    }
    return { page, shared: false };
  }

  /** Whether `paper` was handed out kept, its upvote count and trending key maybe old (callers read them fresh). */
  isKept(paper: PaperRow): boolean {
    return this.keptRows.has(paper);
  }

  /** A copy of `row` to keep: the reader who loaded `row` has it fresh, later readers get the copy, known as kept. */
  private keep(row: PaperRow): PaperRow {
    const copy = { ...row };
    this.keptRows.add(copy);
    return copy;
  }

  /** The paper of an arXiv id if kept (callers read the others through paperByArxivId). */
  keptPaperByArxivId(arxivId: string): PaperRow | undefined {
    if (this.ttlMs === 0) return undefined;
    const id = this.paperIdByArxivId.get(arxivId);
    return id === undefined ? undefined : this.papersById.get(id);
  }

  /**
   * The paper of an arXiv id (withdrawn or not; undefined when unknown, which is not kept): kept from `load`
   * until a change to the paper is announced, at most `ttlMs`. A kept row's counts may be old (see isKept).
   */
  async paperByArxivId(arxivId: string, load: () => Promise<PaperRow | undefined>): Promise<PaperRow | undefined> {
    const kept = this.keptPaperByArxivId(arxivId);
    if (kept || this.ttlMs === 0) return kept ?? load();
    const started = this.sequence;
    const paper = await load();
    if (paper && this.everythingAt <= started && (this.paperChangedAt.get(paper.id) ?? -1) <= started) {
      this.paperIdByArxivId.set(arxivId, paper.id);
      this.papersById.set(paper.id, this.keep(paper));
    }
    return paper;
  }

  /** The similar papers of a paper at length `first` if kept (callers read the others through similarPapersOf). */
  keptSimilarPapers(paperId: number, first: number): readonly PaperRow[] | undefined {
    return this.ttlMs === 0 ? undefined : this.similarLists.get(`${paperId}:${first}`);
  }

  /**
   * The similar papers of each paper at length `first`, in `paperIds` order: those kept, and the others from
   * `load`, then kept until any paper changes (at most `ttlMs`; a list `load` filled with trending papers, which
   * votes reorder, at most `listMaxAgeMs`). Kept rows' counts may be old (see isKept).
   */
  async similarPapersOf(
    paperIds: readonly number[],
    first: number,
    load: (paperIds: readonly number[]) => Promise<{ papers: PaperRow[]; filled: boolean }[]>,
  ): Promise<(readonly PaperRow[])[]> {
    const found = new Map<number, readonly PaperRow[]>();
    for (const paperId of paperIds) {
      const kept = this.keptSimilarPapers(paperId, first);
      if (kept) found.set(paperId, kept);
    }
    const missing = paperIds.filter((paperId) => !found.has(paperId));
    if (missing.length > 0) {
      const started = this.sequence;
      const startedAt = performance.now();
      const loaded = await load(missing);
      const unchanged = Math.max(this.everythingAt, this.similarListsEndedAt) <= started;
      missing.forEach((paperId, index) => {
        const { papers, filled } = loaded[index]!;
        found.set(paperId, papers);
        const ttl = filled ? this.listMaxAgeMs : this.ttlMs;
        if (ttl > 0 && unchanged) {
          this.similarLists.set(
            `${paperId}:${first}`,
            papers.map((row) => this.keep(row)),
            { ttl, start: startedAt },
          );
        }
      });
    }
    return paperIds.map((paperId) => found.get(paperId)!);
  }

  /** The authors of a paper if kept (callers read the others through authorsOfPapers). */
  keptAuthors(paperId: number): readonly PaperAuthorView[] | undefined {
    return this.ttlMs === 0 ? undefined : this.authorsByPaper.get(paperId);
  }

  /** An organization if kept (callers read the others through organizationsByIds). */
  keptOrganization(id: number): OrganizationRow | undefined {
    return this.ttlMs === 0 ? undefined : this.organizations.get(id);
  }

  /** The organizations of `ids` (unknown ones left out): those kept, and the others from `load` (then kept). */
  async organizationsByIds(ids: readonly number[], load: (ids: readonly number[]) => Promise<OrganizationRow[]>): Promise<OrganizationRow[]> {
    const found: OrganizationRow[] = [];
    const missing: number[] = [];
    for (const id of ids) {
      const kept = this.keptOrganization(id);
      if (kept) found.push(kept);
      else missing.push(id);
    }
    if (missing.length === 0) return found;
    const started = this.sequence;
    const loaded = await load(missing);
    const unchanged = Math.max(this.everythingAt, this.organizationsEndedAt) <= started;
    for (const row of loaded) {
      found.push(row);
      if (this.ttlMs > 0 && unchanged) this.organizations.set(row.id, row);
    }
    return found;
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
