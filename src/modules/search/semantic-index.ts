import { desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { searchModels } from '../../db/schema';
import { embedText, fitSemanticModel, nearestBucket, nearestBuckets, type PaperText, type SemanticModel } from './semantic-model';

/**
 * The semantic layer's storage: fitting the model to every paper
 * (search_models, paper_embeddings), folding new papers in with the stored
 * model, and the query side (the model cached per process, checked against
 * the newest version on every search).
 */

/** Arbitrary, fixed: the advisory lock that keeps a fit and a fold-in from writing vectors of two models at once. */
const EMBEDDING_LOCK_KEY = 4_720_261_128;

/** Vectors written per statement. */
const WRITE_BATCH = 2_000;

export interface SemanticFit {
  modelId: number;
  dimensions: number;
  papers: number;
  vocabulary: number;
  buckets: number;
  ms: number;
}

async function readPaperTexts(db: Database, paperIds: readonly number[] | 'all'): Promise<PaperText[]> {
  const which = paperIds === 'all' ? sql`true` : sql`id = any(${sql.param(paperIds)}::int[])`;
  return queryRows<PaperText & Record<string, unknown>>(
    db,
    sql`select id, title, abstract, keywords from papers where withdrawn_at is null and ${which} order by id`,
  );
}

const bytesOf = (values: Float32Array) => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
const floatsOf = (bytes: Uint8Array) => new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
/** A Postgres array literal of the vector (6 significant digits: float4 holds about 7). */
export const vectorLiteral = (vector: ArrayLike<number>) => `{${Array.from(vector, (value) => Number(value.toPrecision(6))).join(',')}}`;

async function writeEmbeddings(tx: Database, modelId: number, rows: readonly { id: number; vector: Float32Array; bucket: number }[]): Promise<void> {
  for (let offset = 0; offset < rows.length; offset += WRITE_BATCH) {
    const batch = rows.slice(offset, offset + WRITE_BATCH).map((row) => ({ paper_id: row.id, bucket: row.bucket, vector: vectorLiteral(row.vector) }));
    await tx.execute(sql`
      insert into paper_embeddings (paper_id, model_id, bucket, vector)
      select r.paper_id, ${modelId}, r.bucket, r.vector
      from json_to_recordset(${JSON.stringify(batch)}::json) as r(paper_id int, bucket int, vector real[])
      where exists (select from papers p where p.id = r.paper_id)
      on conflict (paper_id) do update set model_id = excluded.model_id, bucket = excluded.bucket, vector = excluded.vector
    `);
  }
}

/**
 * Fits a new model to every standing paper and stores it with every paper's
 * vector, in one transaction: readers see the old model and vectors or the
 * new ones, never a mix. Older models are deleted. The new row's id is the
 * new version.
 */
export async function fitSearchModel(db: Database, options: { dimensions: number }): Promise<SemanticFit> {
  const startedAt = performance.now();
  const texts = await readPaperTexts(db, 'all');
  const fitted = fitSemanticModel(texts, { dimensions: options.dimensions });
  const modelId = await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${EMBEDDING_LOCK_KEY})`);
    const [row] = await tx
      .insert(searchModels)
      .values({
        dimensions: fitted.dimensions,
        paperCount: texts.length,
        vocabulary: fitted.vocabulary,
        idf: Array.from(fitted.idf),
        projection: bytesOf(fitted.projection),
        centroids: bytesOf(fitted.centroids),
      })
      .returning({ id: searchModels.id });
    await writeEmbeddings(tx, row!.id, fitted.papers);
    // Papers without a single vocabulary word keep no vector of an older model.
    await tx.execute(sql`delete from paper_embeddings where model_id <> ${row!.id}`);
    await tx.execute(sql`delete from search_models where id <> ${row!.id}`);
    return row!.id;
  });
  return {
    modelId,
    dimensions: fitted.dimensions,
    papers: fitted.papers.length,
    vocabulary: fitted.vocabulary.length,
    buckets: fitted.centroids.length / fitted.dimensions,
    ms: Math.round(performance.now() - startedAt),
  };
}

/** Whether there are papers but no model yet (search is lexical only until one is fitted). */
export async function lacksSearchModel(db: Database): Promise<boolean> {
  const [row] = await queryRows<{ lacks: boolean }>(db, sql`select exists (select from papers) and not exists (select from search_models) as lacks`);
  return row!.lacks;
}

/** The newest model, read in full; null when none was fitted yet. */
export async function loadSearchModel(db: Database, id?: number): Promise<SemanticModel | null> {
  const [row] = await db
    .select()
    .from(searchModels)
    .where(id === undefined ? undefined : eq(searchModels.id, id))
    .orderBy(desc(searchModels.id))
    .limit(1);
  if (!row) return null;
  return {
    id: row.id,
    dimensions: row.dimensions,
    vocabulary: new Map(row.vocabulary.map((term, index) => [term, index])),
    idf: Float32Array.from(row.idf),
    projection: floatsOf(row.projection),
    centroids: floatsOf(row.centroids),
  };
}

/**
 * Folds papers into the newest model: their vectors are their tf-idf
 * (under the model's vocabulary and idf) projected through it, each in the
 * bucket of its nearest centroid. Run when a paper is saved; without a model
 * it does nothing (the next fit covers them). Returns how many got a vector.
 */
export async function embedPapers(db: Database, paperIds: readonly number[]): Promise<number> {
  if (paperIds.length === 0) return 0;
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${EMBEDDING_LOCK_KEY})`);
    const model = await loadSearchModel(tx);
    if (!model) return 0;
    const rows: { id: number; vector: Float32Array; bucket: number }[] = [];
    for (const paper of await readPaperTexts(tx, paperIds)) {
      const vector = embedText(model, paper);
      if (vector) rows.push({ id: paper.id, vector, bucket: nearestBucket(model.centroids, model.dimensions, vector) });
    }
    await writeEmbeddings(tx, model.id, rows);
    return rows.length;
  });
}

/** What the search statement needs of the semantic layer for one query. */
export interface SemanticQuery {
  modelId: number;
  /** The query's unit vector, as a Postgres array literal. */
  vector: string;
  /** The buckets to read, nearest first. */
  buckets: number[];
}

/** The model each database handle's process holds, by version. */
const cachedModels = new WeakMap<Database, SemanticModel | null>();

/**
 * The model in use for `db`: one statement asks for the newest version, and
 * the model is read again only when that changed (a refit). Null without a model.
 */
export async function currentSearchModel(db: Database): Promise<SemanticModel | null> {
  const [row] = await queryRows<{ id: number | null }>(db, sql`select max(id) as id from search_models`);
  const newest = row?.id ?? null;
  const cached = cachedModels.get(db);
  if (newest === null) return null;
  if (cached && cached.id === newest) return cached;
  const model = await loadSearchModel(db, newest);
  cachedModels.set(db, model);
  return model;
}

/** The semantic side of a search for `query` under `model`: null when none of its words is in the vocabulary. */
export function semanticQueryOf(model: SemanticModel | null, query: string, probes: number): SemanticQuery | null {
  if (!model) return null;
  // Web-search syntax: excluded words and quotes are not what the query is about.
  const wanted = query.replace(/(^|\s)-\S+/g, ' ').replace(/"/g, ' ');
  const vector = embedText(model, { title: wanted, abstract: '', keywords: [] });
  if (!vector) return null;
  return { modelId: model.id, vector: vectorLiteral(vector), buckets: nearestBuckets(model, vector, probes) };
}
