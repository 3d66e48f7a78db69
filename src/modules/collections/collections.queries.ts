import { and, count, eq, getTableColumns, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { keysetCondition, keysetOrderBy, toPage, type KeysetOrder, type Page, type PageRequest } from '../../db/keyset';
import { collectionPapers, collections, paperColumns, papers, type CollectionRow, type PaperRow } from '../../db/schema';

/** A paper as a collection lists it: the paper, its place and the owner's note. */
export type CollectionPaperView = PaperRow & { position: number; note: string | null; addedAt: Date };

/** A collection is visible to everyone when public, else to its owner only (`viewerId`, null when anonymous). */
export const visibleTo = (viewerId: number | null): SQL =>
  viewerId === null ? eq(collections.isPublic, true) : or(eq(collections.isPublic, true), eq(collections.ownerId, viewerId))!;

/** Newest first, served by collections_owner_idx. */
export const collectionOrder: KeysetOrder<CollectionRow> = {
  name: 'COLLECTIONS',
  keys: [{ expression: collections.createdAt, type: 'timestamptz', valueOf: (collection) => collection.createdAt.toISOString() }],
  id: collections.id,
  idOf: (collection) => collection.id,
};

/** The owner's order, served by collection_papers_order_idx. */
export const collectionPaperOrder: KeysetOrder<CollectionPaperView> = {
  name: 'COLLECTION_PAPERS',
  sort: 'asc',
  keys: [{ expression: collectionPapers.position, type: 'int4', valueOf: (paper) => paper.position }],
  id: collectionPapers.paperId,
  idOf: (paper) => paper.id,
};

/** The collections among `ids` that `viewerId` may see. */
export async function findVisibleCollectionsByIds(db: Database, ids: readonly number[], viewerId: number | null): Promise<CollectionRow[]> {
  return db
    .select()
    .from(collections)
    .where(and(idIn(collections.id, ids), visibleTo(viewerId)));
}

/**
 * One page of the collections of each owner in `ownerIds` that `viewerId`
 * may see, in one statement: a lateral subquery reads each owner's through
 * the index.
 */
export function selectCollectionPagesOfOwners(db: Database, ownerIds: readonly number[], viewerId: number | null, request: PageRequest) {
  const orderBy = keysetOrderBy(collectionOrder, request);
  const page = db
    .select({
      ...getTableColumns(collections),
      // A join leaves the order of its rows open: the rank keeps each page's.
      rank: sql<number>`row_number() over (order by ${sql.join(orderBy, sql`, `)})`.as('rank'),
    })
    .from(collections)
    .where(and(eq(collections.ownerId, sql`owner.id`), visibleTo(viewerId), keysetCondition(collectionOrder, request)))
    .orderBy(...orderBy)
    .limit(request.size + 1)
    .as('page');
  return db
    .select({
      id: page.id,
      ownerId: page.ownerId,
      name: page.name,
      description: page.description,
      isPublic: page.isPublic,
      createdAt: page.createdAt,
      updatedAt: page.updatedAt,
    })
    .from(sql`unnest(${sql.param([...ownerIds])}::int[]) as owner(id)`)
    .crossJoinLateral(page)
    .orderBy(page.rank);
}

export async function listCollectionPagesOfOwners(
  db: Database,
  ownerIds: readonly number[],
  viewerId: number | null,
  request: PageRequest,
): Promise<Map<number, Page<CollectionRow>>> {
  const fetched: CollectionRow[] = await selectCollectionPagesOfOwners(db, ownerIds, viewerId, request);
  const rowsByOwner = new Map<number, CollectionRow[]>(ownerIds.map((id) => [id, []]));
  for (const collection of fetched) rowsByOwner.get(collection.ownerId)!.push(collection);
  return new Map([...rowsByOwner].map(([id, rows]) => [id, toPage(collectionOrder, request, rows)]));
}

/** How many collections of each owner `viewerId` may see (absent when none). */
export async function countCollectionsOfOwners(db: Database, ownerIds: readonly number[], viewerId: number | null): Promise<Map<number, number>> {
  const rows = await db
    .select({ ownerId: collections.ownerId, total: count() })
    .from(collections)
    .where(and(idIn(collections.ownerId, ownerIds), visibleTo(viewerId)))
    .groupBy(collections.ownerId);
  return new Map(rows.map((row) => [row.ownerId, row.total]));
}

/** One page of the papers of each collection in `collectionIds`, in the owner's order, in one statement. */
export function selectPaperPagesOfCollections(db: Database, collectionIds: readonly number[], request: PageRequest) {
  const orderBy = keysetOrderBy(collectionPaperOrder, request);
  const page = db
    .select({
      ...paperColumns,
      collectionId: collectionPapers.collectionId,
      position: collectionPapers.position,
      note: collectionPapers.note,
      addedAt: collectionPapers.addedAt,
      rank: sql<number>`row_number() over (order by ${sql.join(orderBy, sql`, `)})`.as('rank'),
    })
    .from(collectionPapers)
    .innerJoin(papers, eq(papers.id, collectionPapers.paperId))
    .where(and(eq(collectionPapers.collectionId, sql`collection.id`), keysetCondition(collectionPaperOrder, request)))
    .orderBy(...orderBy)
    .limit(request.size + 1)
    .as('page');
  const { rank: _rank, ...columns } = page._.selectedFields;
  return db
    .select(columns)
    .from(sql`unnest(${sql.param([...collectionIds])}::int[]) as collection(id)`)
    .crossJoinLateral(page)
    .orderBy(page.rank);
}

export async function listPaperPagesOfCollections(
  db: Database,
  collectionIds: readonly number[],
  request: PageRequest,
): Promise<Map<number, Page<CollectionPaperView>>> {
  const fetched = (await selectPaperPagesOfCollections(db, collectionIds, request)) as (CollectionPaperView & { collectionId: number })[];
  const rowsByCollection = new Map<number, CollectionPaperView[]>(collectionIds.map((id) => [id, []]));
  for (const { collectionId, ...row } of fetched) rowsByCollection.get(collectionId)!.push(row);
  return new Map([...rowsByCollection].map(([id, rows]) => [id, toPage(collectionPaperOrder, request, rows)]));
}

/** How many papers each collection holds (absent when none). */
export async function countPapersOfCollections(db: Database, collectionIds: readonly number[]): Promise<Map<number, number>> {
  const rows = await db
    .select({ collectionId: collectionPapers.collectionId, total: count() })
    .from(collectionPapers)
    .where(idIn(collectionPapers.collectionId, collectionIds))
    .groupBy(collectionPapers.collectionId);
  return new Map(rows.map((row) => [row.collectionId, row.total]));
}

/** How many public collections hold each paper (absent when none). */
export async function countPublicCollectionsOfPapers(db: Database, paperIds: readonly number[]): Promise<Map<number, number>> {
  const rows = await db
    .select({ paperId: collectionPapers.paperId, total: count() })
    .from(collectionPapers)
    .innerJoin(collections, eq(collections.id, collectionPapers.collectionId))
    .where(and(idIn(collectionPapers.paperId, paperIds), eq(collections.isPublic, true)))
    .groupBy(collectionPapers.paperId);
  return new Map(rows.map((row) => [row.paperId, row.total]));
}
