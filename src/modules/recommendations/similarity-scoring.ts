/**
 * The scoring half of the similar-papers refresh, in memory: the content
 * vectors and the votes are read once (content-vectors.ts, co-upvotes.ts) into
 * compact arrays indexed by a dense paper index, and each source paper's
 * candidates are accumulated in typed arrays. The same sums as the SQL
 * self-joins that did it before, without materializing and hash-aggregating
 * every (paper, co-upvoted paper) pair: at 2,000,000 upvotes the papers a
 * tuner reads paired up into 90 million rows, most of them a single shared
 * voter, and grouping them took most of an hour.
 */

/** Every paper, by a dense index in ascending id order (so comparing indexes compares ids). */
export interface PaperIndex {
  ids: Int32Array;
  byId: Map<number, number>;
}

export function buildPaperIndex(ids: readonly number[]): PaperIndex {
  const sorted = Int32Array.from(ids).sort();
  return { ids: sorted, byId: new Map(Array.from(sorted, (id, index) => [id, index])) };
}

/**
 * A bipartite graph in compressed rows: `rows[i]`'s items are
 * `items[start[i] .. start[i + 1])`, with `values` alongside when weighted.
 */
export interface CompressedRows {
  start: Int32Array;
  items: Int32Array;
  values?: Float64Array;
}

/** Builds compressed rows from per-row item lists (and values). */
export function compressRows(rowCount: number, rows: ReadonlyMap<number, { items: number[]; values?: number[] }>, weighted: boolean): CompressedRows {
  const start = new Int32Array(rowCount + 1);
  for (const [row, { items }] of rows) start[row + 1] = items.length;
  for (let row = 0; row < rowCount; row++) start[row + 1]! += start[row]!;
  const items = new Int32Array(start[rowCount]!);
  const values = weighted ? new Float64Array(start[rowCount]!) : undefined;
  for (const [row, entry] of rows) {
    items.set(entry.items, start[row]!);
    if (values && entry.values) values.set(entry.values, start[row]!);
  }
  return values ? { start, items, values } : { start, items };
}

/** The rows of `graph` turned around: for each item, the rows holding it (in row order), with their values if any. */
export function transposeRows(graph: CompressedRows, itemCount: number): CompressedRows {
  const rowCount = graph.start.length - 1;
  const start = new Int32Array(itemCount + 1);
  for (const item of graph.items) start[item + 1]! += 1;
  for (let item = 0; item < itemCount; item++) start[item + 1]! += start[item]!;
  const fill = start.slice(0, itemCount);
  const items = new Int32Array(graph.items.length);
  const values = graph.values ? new Float64Array(graph.items.length) : undefined;
  for (let row = 0; row < rowCount; row++) {
    for (let at = graph.start[row]!; at < graph.start[row + 1]!; at++) {
      const slot = fill[graph.items[at]!]!++;
      items[slot] = row;
      if (values) values[slot] = graph.values![at]!;
    }
  }
  return values ? { start, items, values } : { start, items };
}

/**
 * The k best (paper index, value) pairs offered, best first: higher value,
 * then higher index (higher id), as the SQL's `order by value desc, id desc`.
 */
export class TopK {
  readonly papers: Int32Array;
  readonly values: Float64Array;
  size = 0;

  constructor(readonly capacity: number) {
    this.papers = new Int32Array(capacity);
    this.values = new Float64Array(capacity);
  }

  clear(): void {
    this.size = 0;
  }

  offer(paper: number, value: number): void {
    if (this.capacity === 0) return;
    if (this.size === this.capacity) {
      const last = this.size - 1;
      const worstValue = this.values[last]!;
      if (value < worstValue || (value === worstValue && paper < this.papers[last]!)) return;
    } else {
      this.size++;
    }
    let at = this.size - 1;
    while (at > 0) {
      const before = this.values[at - 1]!;
      if (before > value || (before === value && this.papers[at - 1]! > paper)) break;
      this.papers[at] = this.papers[at - 1]!;
      this.values[at] = before;
      at--;
    }
    this.papers[at] = paper;
    this.values[at] = value;
  }
}

/**
 * Sums, for one source paper at a time, a similarity over every candidate it
 * reaches, in a dense array; `touched` lists the candidates reached (each
 * once), so clearing costs what the source reached rather than the corpus.
 */
export class Accumulator {
  readonly sums: Float64Array;
  readonly touched: Int32Array;
  count = 0;

  constructor(paperCount: number) {
    this.sums = new Float64Array(paperCount);
    this.touched = new Int32Array(paperCount);
  }

  add(paper: number, value: number): void {
    if (this.sums[paper] === 0) this.touched[this.count++] = paper;
    this.sums[paper]! += value;
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.sums[this.touched[i]!] = 0;
    this.count = 0;
  }
}

/**
 * Content similarity of `source` to every paper sharing a lexeme with it in
 * that lexeme's champion list: the sum over shared lexemes of the two
 * weights (the cosine of unit vectors, over the champions only).
 * `terms`: each paper's lexemes and weights; `champions`: each lexeme's
 * heaviest papers and their weights.
 */
export function accumulateContent(source: number, terms: CompressedRows, champions: CompressedRows, into: Accumulator): void {
  const termWeights = terms.values!;
  const championWeights = champions.values!;
  for (let term = terms.start[source]!; term < terms.start[source + 1]!; term++) {
    const lexeme = terms.items[term]!;
    const weight = termWeights[term]!;
    for (let at = champions.start[lexeme]!; at < champions.start[lexeme + 1]!; at++) {
      const paper = champions.items[at]!;
      if (paper !== source) into.add(paper, weight * championWeights[at]!);
    }
  }
}

/**
 * Co-voter counts of `source`: for every paper one of its voters also
 * upvoted, how many of its voters did. `votes`: each user's papers;
 * `voters`: each paper's users.
 */
export function accumulateCoVoters(source: number, votes: CompressedRows, voters: CompressedRows, into: Accumulator): void {
  for (let at = voters.start[source]!; at < voters.start[source + 1]!; at++) {
    const user = voters.items[at]!;
    for (let vote = votes.start[user]!; vote < votes.start[user + 1]!; vote++) {
      const paper = votes.items[vote]!;
      if (paper !== source) into.add(paper, 1);
    }
  }
}
