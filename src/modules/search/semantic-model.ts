import { SeededRandom } from '../../demo/random';

/**
 * The semantic layer's model, in memory: latent semantic analysis (LSA) of
 * the tf-idf matrix of every paper's title, keywords and abstract. A
 * randomized truncated SVD (Halko, Martinsson & Tropp 2011) finds the k
 * directions along which words co-occur; a paper, or a query, is its tf-idf
 * vector projected onto them, so two texts that share no word but whose
 * words keep the same company come out close. Spherical k-means over the
 * paper vectors gives the buckets the search probes instead of reading every
 * vector. Pure TypeScript over typed arrays: the matrices are a sparse n x V
 * one and dense ones of k + 10 columns, small enough that a library would add
 * a dependency for a few loops (the SVD of the small (k+10)^2 matrix is a
 * cyclic Jacobi eigen-decomposition).
 */

export interface SemanticModel {
  /** The search_models row it came from: its version. */
  id: number;
  dimensions: number;
  /** Term -> row of `projection` and index into `idf`. */
  vocabulary: Map<string, number>;
  idf: Float32Array;
  /** Row-major, vocabulary size x dimensions: the top right singular vectors. */
  projection: Float32Array;
  /** Row-major, bucket count x dimensions, each of unit length. */
  centroids: Float32Array;
}

export interface FitOptions {
  /** k: the number of latent dimensions. */
  dimensions: number;
  /** How many words the vocabulary keeps at most (the most common, among those in at least 2 papers and at most half of them). */
  maxVocabulary?: number;
  seed?: number;
}

export interface PaperText {
  id: number;
  title: string;
  abstract: string;
  keywords: readonly string[];
}

/** English words that say nothing about a topic (and the demo's and arXiv abstracts' boilerplate words are left to idf). */
const STOP_WORDS = new Set(
  (
    'a about above after again against all also am an and any are as at be because been before being below between both but by can could did do does doing down ' +
    'during each few for from further had has have having he her here hers herself him himself his how i if in into is it its itself just me more most my myself ' +
    'no nor not now of off on once only or other our ours ourselves out over own same she should so some such than that the their theirs them themselves then there ' +
    'these they this those through to too under until up very was we were what when where which while who whom why will with would you your yours yourself via ' +
    'towards toward using use used uses us one two three new yet well within without across upon per'
  ).split(' '),
);

/**
 * Folds accents (NFKD, combining marks dropped: "Schrödinger" -> "Schrodinger")
 * and lower-cases. The same folding the lexical search applies (unaccent) for
 * the words it indexes.
 */
export function foldText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase();
}

/** A light English stemmer: plurals only ("models" -> "model", "studies" -> "study"); the SVD relates the rest. */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !/(ss|us|is)$/.test(word)) return word.slice(0, -1);
  return word;
}

/** The terms of a text: folded, split at anything but letters and digits, stop words and lone characters out, plurals stemmed. */
export function termsOf(text: string): string[] {
  const terms: string[] = [];
  for (const word of foldText(text).split(/[^\p{L}\p{N}]+/u)) {
    if (word.length < 2 || STOP_WORDS.has(word) || /^\p{N}+$/u.test(word)) continue;
    terms.push(stem(word));
  }
  return terms;
}

/** What an occurrence weighs by where it is: a title word says most about the paper. */
const FIELD_WEIGHTS = { title: 2, keywords: 1.5, abstract: 1 } as const;

/** Each term's weighted count in a paper (or a query: its words count as title words). */
export function termCounts(paper: Omit<PaperText, 'id'>): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (text: string, weight: number) => {
    for (const term of termsOf(text)) counts.set(term, (counts.get(term) ?? 0) + weight);
  };
  add(paper.title, FIELD_WEIGHTS.title);
  add(paper.keywords.join(' '), FIELD_WEIGHTS.keywords);
  add(paper.abstract, FIELD_WEIGHTS.abstract);
  return counts;
}

/** A sparse row: term indexes and unit-length tf-idf weights, ln(1 + count) x idf. */
interface SparseRow {
  terms: Int32Array;
  weights: Float64Array;
}

function tfIdfRow(counts: Map<string, number>, vocabulary: Map<string, number>, idf: ArrayLike<number>): SparseRow {
  const terms: number[] = [];
  const weights: number[] = [];
  for (const [term, count] of counts) {
    const index = vocabulary.get(term);
    if (index === undefined) continue;
    terms.push(index);
    weights.push(Math.log(1 + count) * idf[index]!);
  }
  const norm = Math.hypot(...weights) || 1;
  return { terms: Int32Array.from(terms), weights: Float64Array.from(weights, (weight) => weight / norm) };
}

/** Projects a sparse row through the projection and scales it to unit length; null when no term is known. */
function project(row: SparseRow, projection: ArrayLike<number>, dimensions: number): Float32Array | null {
  if (row.terms.length === 0) return null;
  const vector = new Float64Array(dimensions);
  for (let position = 0; position < row.terms.length; position++) {
    const offset = row.terms[position]! * dimensions;
    const weight = row.weights[position]!;
    for (let d = 0; d < dimensions; d++) vector[d]! += weight * projection[offset + d]!;
  }
  return unit(vector);
}

function unit(vector: Float64Array): Float32Array | null {
  let sum = 0;
  for (const value of vector) sum += value * value;
  if (!(sum > 1e-20)) return null;
  const norm = Math.sqrt(sum);
  return Float32Array.from(vector, (value) => value / norm);
}

/** The unit vector of a paper or a query under `model`; null when none of its words is in the vocabulary. */
export function embedText(model: SemanticModel, text: Omit<PaperText, 'id'>): Float32Array | null {
  return project(tfIdfRow(termCounts(text), model.vocabulary, model.idf), model.projection, model.dimensions);
}

/** The `count` buckets whose centroids are nearest the vector (cosine), nearest first. */
export function nearestBuckets(model: SemanticModel, vector: Float32Array, count: number): number[] {
  const bucketCount = model.centroids.length / model.dimensions;
  const scores: { bucket: number; score: number }[] = [];
  for (let bucket = 0; bucket < bucketCount; bucket++) {
    scores.push({ bucket, score: dot(model.centroids, bucket * model.dimensions, vector, model.dimensions) });
  }
  return scores
    .sort((a, b) => b.score - a.score || a.bucket - b.bucket)
    .slice(0, count)
    .map((entry) => entry.bucket);
}

/** The bucket whose centroid is nearest the vector. */
export function nearestBucket(centroids: Float32Array, dimensions: number, vector: Float32Array): number {
  let best = 0;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (let bucket = 0; bucket * dimensions < centroids.length; bucket++) {
    const score = dot(centroids, bucket * dimensions, vector, dimensions);
    if (score > bestScore) {
      best = bucket;
      bestScore = score;
    }
  }
  return best;
}

function dot(matrix: ArrayLike<number>, offset: number, vector: ArrayLike<number>, dimensions: number): number {
  let sum = 0;
  for (let d = 0; d < dimensions; d++) sum += matrix[offset + d]! * vector[d]!;
  return sum;
}

export interface FittedModel {
  dimensions: number;
  vocabulary: string[];
  idf: Float32Array;
  projection: Float32Array;
  centroids: Float32Array;
  /** Each paper's unit vector and bucket (papers with no vocabulary word are left out). */
  papers: { id: number; vector: Float32Array; bucket: number }[];
}

/** A word in more than this share of the papers says nothing about any of them. */
const MAX_DOCUMENT_SHARE = 0.5;
const OVERSAMPLING = 10;
const POWER_ITERATIONS = 2;
/** k-means: centroids are learned on at most this many papers (then every paper is assigned), in this many rounds. */
const KMEANS_SAMPLE = 20_000;
const KMEANS_ROUNDS = 10;
/** Buckets: about the square root of the papers, at most this many. */
const MAX_BUCKETS = 256;

/** Fits the model to the papers: vocabulary and idf, the LSA projection, paper vectors and their k-means buckets. */
export function fitSemanticModel(papers: readonly PaperText[], options: FitOptions): FittedModel {
  const random = new SeededRandom(options.seed ?? 15);
  const counts = papers.map((paper) => termCounts(paper));
  const documentFrequency = new Map<string, number>();
  for (const paperCounts of counts) for (const term of paperCounts.keys()) documentFrequency.set(term, (documentFrequency.get(term) ?? 0) + 1);
  const n = papers.length;
  const vocabularyTerms = [...documentFrequency]
    .filter(([, frequency]) => frequency >= 2 && frequency <= Math.max(2, MAX_DOCUMENT_SHARE * n))
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, options.maxVocabulary ?? 30_000)
    .map(([term]) => term)
    .sort();
  const vocabulary = new Map(vocabularyTerms.map((term, index) => [term, index]));
  const idf = Float32Array.from(vocabularyTerms, (term) => Math.log(n / documentFrequency.get(term)!));
  const rows = counts.map((paperCounts) => tfIdfRow(paperCounts, vocabulary, idf));
  const v = vocabularyTerms.length;
  const dimensions = Math.max(1, Math.min(options.dimensions, v, n));
  const projection = truncatedSvdProjection(rows, v, dimensions, random);
  const embedded: { id: number; vector: Float32Array }[] = [];
  for (const [index, row] of rows.entries()) {
    const vector = project(row, projection, dimensions);
    if (vector) embedded.push({ id: papers[index]!.id, vector });
  }
  const bucketCount = Math.max(1, Math.min(MAX_BUCKETS, Math.round(Math.sqrt(embedded.length))));
  const centroids = sphericalKMeans(
    embedded.map((paper) => paper.vector),
    bucketCount,
    dimensions,
    random,
  );
  return {
    dimensions,
    vocabulary: vocabularyTerms,
    idf,
    projection,
    centroids,
    papers: embedded.map((paper) => ({ ...paper, bucket: nearestBucket(centroids, dimensions, paper.vector) })),
  };
}

/** Gaussian numbers (Box-Muller) from the seeded generator. */
function gaussian(random: SeededRandom): number {
  const u = Math.max(random.next(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random.next());
}

/** A x M: A sparse n x V (rows), M dense V x c row-major; the result n x c row-major. */
function times(rows: readonly SparseRow[], matrix: Float64Array, columns: number): Float64Array {
  const result = new Float64Array(rows.length * columns);
  for (const [i, row] of rows.entries()) {
    const out = i * columns;
    for (let position = 0; position < row.terms.length; position++) {
      const offset = row.terms[position]! * columns;
      const weight = row.weights[position]!;
      for (let c = 0; c < columns; c++) result[out + c]! += weight * matrix[offset + c]!;
    }
  }
  return result;
}

/** A^T x M: M dense n x c row-major; the result V x c row-major. */
function transposeTimes(rows: readonly SparseRow[], v: number, matrix: Float64Array, columns: number): Float64Array {
  const result = new Float64Array(v * columns);
  for (const [i, row] of rows.entries()) {
    const from = i * columns;
    for (let position = 0; position < row.terms.length; position++) {
      const out = row.terms[position]! * columns;
      const weight = row.weights[position]!;
      for (let c = 0; c < columns; c++) result[out + c]! += weight * matrix[from + c]!;
    }
  }
  return result;
}

/** M^T M of a dense r x c row-major matrix: c x c. */
function gram(matrix: Float64Array, r: number, c: number): Float64Array {
  const result = new Float64Array(c * c);
  for (let i = 0; i < r; i++) {
    const row = i * c;
    for (let a = 0; a < c; a++) {
      const value = matrix[row + a]!;
      if (value === 0) continue;
      for (let b = a; b < c; b++) result[a * c + b]! += value * matrix[row + b]!;
    }
  }
  for (let a = 0; a < c; a++) for (let b = 0; b < a; b++) result[a * c + b] = result[b * c + a]!;
  return result;
}

/**
 * Eigen-decomposition of a symmetric c x c matrix by cyclic Jacobi rotations:
 * eigenvalues descending, eigenvectors as the columns of a c x c row-major matrix.
 */
function symmetricEigen(input: Float64Array, c: number): { values: Float64Array; vectors: Float64Array } {
  const a = Float64Array.from(input);
  const vectors = new Float64Array(c * c);
  for (let i = 0; i < c; i++) vectors[i * c + i] = 1;
  for (let sweep = 0; sweep < 60; sweep++) {
    let off = 0;
    for (let p = 0; p < c; p++) for (let q = p + 1; q < c; q++) off += a[p * c + q]! ** 2;
    if (off < 1e-22) break;
    for (let p = 0; p < c; p++) {
      for (let q = p + 1; q < c; q++) {
        const apq = a[p * c + q]!;
        if (Math.abs(apq) < 1e-300) continue;
        const theta = (a[q * c + q]! - a[p * c + p]!) / (2 * apq);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const cos = 1 / Math.sqrt(t * t + 1);
        const sin = t * cos;
        for (let k = 0; k < c; k++) {
          const akp = a[k * c + p]!;
          const akq = a[k * c + q]!;
          a[k * c + p] = cos * akp - sin * akq;
          a[k * c + q] = sin * akp + cos * akq;
        }
        for (let k = 0; k < c; k++) {
          const apk = a[p * c + k]!;
          const aqk = a[q * c + k]!;
          a[p * c + k] = cos * apk - sin * aqk;
          a[q * c + k] = sin * apk + cos * aqk;
        }
        for (let k = 0; k < c; k++) {
          const vkp = vectors[k * c + p]!;
          const vkq = vectors[k * c + q]!;
          vectors[k * c + p] = cos * vkp - sin * vkq;
          vectors[k * c + q] = sin * vkp + cos * vkq;
        }
      }
    }
  }
  const order = Array.from({ length: c }, (_, i) => i).sort((x, y) => a[y * c + y]! - a[x * c + x]!);
  const values = Float64Array.from(order, (i) => a[i * c + i]!);
  const sorted = new Float64Array(c * c);
  for (let row = 0; row < c; row++) for (const [column, from] of order.entries()) sorted[row * c + column] = vectors[row * c + from]!;
  return { values, vectors: sorted };
}

/**
 * Orthonormal columns spanning those of a dense r x c matrix (through the
 * eigen-decomposition of its Gram matrix; columns that add nothing are
 * dropped, so a rank-deficient matrix, as a tiny corpus gives, is fine).
 */
function orthonormalize(matrix: Float64Array, r: number, c: number): { basis: Float64Array; columns: number } {
  const { values, vectors } = symmetricEigen(gram(matrix, r, c), c);
  const kept: number[] = [];
  for (let i = 0; i < c; i++) if (values[i]! > values[0]! * 1e-10 && values[i]! > 1e-18) kept.push(i);
  const transform = new Float64Array(c * kept.length);
  for (let row = 0; row < c; row++) {
    for (const [column, i] of kept.entries()) transform[row * kept.length + column] = vectors[row * c + i]! / Math.sqrt(values[i]!);
  }
  return { basis: denseTimes(matrix, r, c, transform, kept.length), columns: kept.length };
}

/** Dense r x c times c x d, row-major. */
function denseTimes(left: Float64Array, r: number, c: number, right: Float64Array, d: number): Float64Array {
  const result = new Float64Array(r * d);
  for (let i = 0; i < r; i++) {
    for (let k = 0; k < c; k++) {
      const value = left[i * c + k]!;
      if (value === 0) continue;
      for (let j = 0; j < d; j++) result[i * d + j]! += value * right[k * d + j]!;
    }
  }
  return result;
}

/**
 * The top `dimensions` right singular vectors of the n x V matrix (V x
 * dimensions, row-major, float32): randomized range finder with power
 * iterations, then the exact SVD of the small projected matrix.
 */
function truncatedSvdProjection(rows: readonly SparseRow[], v: number, dimensions: number, random: SeededRandom): Float32Array {
  const n = rows.length;
  // No paper, or no word in two of them: nothing to project onto (every text's vector is then null).
  if (v === 0 || n === 0) return new Float32Array(v * dimensions);
  const sketch = Math.min(dimensions + OVERSAMPLING, v, n);
  const omega = Float64Array.from({ length: v * sketch }, () => gaussian(random));
  let range = orthonormalize(times(rows, omega, sketch), n, sketch);
  for (let iteration = 0; iteration < POWER_ITERATIONS; iteration++) {
    const back = orthonormalize(transposeTimes(rows, v, range.basis, range.columns), v, range.columns);
    range = orthonormalize(times(rows, back.basis, back.columns), n, back.columns);
  }
  // B^T = A^T Q (V x l); B B^T = (A^T Q)^T (A^T Q); right singular vectors of A: B^T u / sigma.
  const bt = transposeTimes(rows, v, range.basis, range.columns);
  const l = range.columns;
  const { values, vectors } = symmetricEigen(gram(bt, v, l), l);
  const projection = new Float32Array(v * dimensions);
  for (let d = 0; d < Math.min(dimensions, l); d++) {
    const sigma = Math.sqrt(Math.max(values[d]!, 0));
    if (sigma < 1e-9) continue;
    for (let term = 0; term < v; term++) {
      let sum = 0;
      for (let k = 0; k < l; k++) sum += bt[term * l + k]! * vectors[k * l + d]!;
      projection[term * dimensions + d] = sum / sigma;
    }
  }
  return projection;
}

/** Spherical k-means (cosine) over unit vectors: `buckets` unit centroids, row-major. */
function sphericalKMeans(vectors: readonly Float32Array[], buckets: number, dimensions: number, random: SeededRandom): Float32Array {
  const centroids = new Float32Array(buckets * dimensions);
  if (vectors.length === 0) return centroids;
  const sample = vectors.length <= KMEANS_SAMPLE ? [...vectors] : random.sample(vectors, KMEANS_SAMPLE);
  // Seeds: distinct sample vectors picked at random.
  for (const [bucket, seed] of random.sample(sample, Math.min(buckets, sample.length)).entries()) centroids.set(seed, bucket * dimensions);
  for (let round = 0; round < KMEANS_ROUNDS; round++) {
    const sums = new Float64Array(buckets * dimensions);
    const sizes = new Int32Array(buckets);
    for (const vector of sample) {
      const bucket = nearestBucket(centroids, dimensions, vector);
      sizes[bucket]! += 1;
      for (let d = 0; d < dimensions; d++) sums[bucket * dimensions + d]! += vector[d]!;
    }
    for (let bucket = 0; bucket < buckets; bucket++) {
      if (sizes[bucket] === 0) {
        // An empty bucket restarts at a random vector.
        centroids.set(random.pick(sample), bucket * dimensions);
        continue;
      }
      const centroid = unit(sums.subarray(bucket * dimensions, (bucket + 1) * dimensions));
      if (centroid) centroids.set(centroid, bucket * dimensions);
    }
  }
  return centroids;
}
