import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { queryRows } from '../../db/rows';
import { collectionPapers, collections, papers, type CollectionRow } from '../../db/schema';
import { AppError, badUserInput } from '../../errors';
import { requireText, type TextRule } from '../../text-input';

export const MAX_COLLECTION_NAME_LENGTH = 100;
export const MAX_COLLECTION_DESCRIPTION_LENGTH = 2_000;
export const MAX_COLLECTION_NOTE_LENGTH = 2_000;

const NAME: TextRule = { shape: 'line', maxLength: MAX_COLLECTION_NAME_LENGTH };
const DESCRIPTION: TextRule = { shape: 'lines', maxLength: MAX_COLLECTION_DESCRIPTION_LENGTH };
const NOTE: TextRule = { shape: 'lines', maxLength: MAX_COLLECTION_NOTE_LENGTH };

/** A name as stored, under the text rule; BAD_USER_INPUT otherwise. */
export const collectionName = (name: string) => requireText(name, NAME, 'name');

/** Optional text (a description, a note): null, or blank, means none. */
const optionalText = (text: string | null | undefined, rule: TextRule, field: string) =>
  text == null || text.trim() === '' ? null : requireText(text, rule, field);

export const collectionDescription = (description: string | null | undefined) => optionalText(description, DESCRIPTION, 'description');
export const collectionNote = (note: string | null | undefined) => optionalText(note, NOTE, 'note');

export interface NewCollection {
  ownerId: number;
  /** Already cleaned (collectionName, collectionDescription). */
  name: string;
  description: string | null;
  isPublic: boolean;
  at: Date;
}

export async function createCollection(db: Database, collection: NewCollection): Promise<CollectionRow> {
  const [row] = await db
    .insert(collections)
    .values({ ...collection, createdAt: collection.at, updatedAt: collection.at })
    .returning();
  return row!;
}

type Transaction = Parameters<Parameters<Database['transaction']>[0]>[0];

/**
 * The collection `id`, locked for the transaction, if `userId` owns it.
 * NOT_FOUND when it does not exist or is private to someone else (a private
 * collection's existence is not told); FORBIDDEN when it is someone else's
 * public one.
 */
async function lockOwnCollection(tx: Transaction, id: number, userId: number): Promise<CollectionRow> {
  const [collection] = await tx.select().from(collections).where(eq(collections.id, id)).for('update');
  if (!collection || (!collection.isPublic && collection.ownerId !== userId)) throw new AppError('NOT_FOUND', 'No collection has this ID.');
  if (collection.ownerId !== userId) throw new AppError('FORBIDDEN', 'Only the owner of a collection may change it.');
  return collection;
}

/** Marks the collection changed at `at` and returns it as it is now. */
async function touch(tx: Transaction, id: number, at: Date): Promise<CollectionRow> {
  const [row] = await tx.update(collections).set({ updatedAt: at }).where(eq(collections.id, id)).returning();
  return row!;
}

/** The papers of a collection (its order aside). */
export async function paperIdsOfCollection(db: Database, id: number): Promise<number[]> {
  const rows = await db.select({ paperId: collectionPapers.paperId }).from(collectionPapers).where(eq(collectionPapers.collectionId, id));
  return rows.map((row) => row.paperId);
}

export interface CollectionChanges {
  /** Cleaned; undefined leaves a field as it is (description null clears it). */
  name?: string;
  description?: string | null;
  isPublic?: boolean;
}

export function updateCollection(db: Database, id: number, userId: number, changes: CollectionChanges, at: Date): Promise<CollectionRow> {
  return db.transaction(async (tx) => {
    await lockOwnCollection(tx, id, userId);
    const [row] = await tx
      .update(collections)
      .set({ ...changes, updatedAt: at })
      .where(eq(collections.id, id))
      .returning();
    return row!;
  });
}

/** Deletes the collection and its papers (by cascade). */
export function deleteCollection(db: Database, id: number, userId: number): Promise<void> {
  return db.transaction(async (tx) => {
    await lockOwnCollection(tx, id, userId);
    await tx.delete(collections).where(eq(collections.id, id));
  });
}

/**
 * Adds a paper at the end of the collection, with a note (cleaned); a paper
 * already in it keeps its place and gets the new note. The collection row is
 * locked, so concurrent additions take distinct positions.
 */
export function addPaperToCollection(db: Database, id: number, userId: number, paperId: number, note: string | null, at: Date): Promise<CollectionRow> {
  return db.transaction(async (tx) => {
    await lockOwnCollection(tx, id, userId);
    const [paper] = await tx.select({ id: papers.id }).from(papers).where(eq(papers.id, paperId));
    if (!paper) throw new AppError('NOT_FOUND', 'No paper has this ID.');
    await tx
      .insert(collectionPapers)
      .values({
        collectionId: id,
        paperId,
        note,
        addedAt: at,
        position: sql`(select coalesce(max(${collectionPapers.position}) + 1, 0) from ${collectionPapers} where ${collectionPapers.collectionId} = ${id})`,
      })
      .onConflictDoUpdate({ target: [collectionPapers.collectionId, collectionPapers.paperId], set: { note } });
    return touch(tx, id, at);
  });
}

/** Takes a paper out of the collection; nothing to do if it is not in it. */
export function removePaperFromCollection(db: Database, id: number, userId: number, paperId: number, at: Date): Promise<CollectionRow> {
  return db.transaction(async (tx) => {
    await lockOwnCollection(tx, id, userId);
    await tx.delete(collectionPapers).where(and(eq(collectionPapers.collectionId, id), eq(collectionPapers.paperId, paperId)));
    return touch(tx, id, at);
  });
}

/**
 * Moves a paper to the 0-based `position` (past the end: last), the others
 * keeping their order; every position is renumbered 0..n-1 in one statement.
 */
export function movePaperInCollection(db: Database, id: number, userId: number, paperId: number, position: number, at: Date): Promise<CollectionRow> {
  if (!Number.isInteger(position) || position < 0) throw badUserInput(`\`position\` must be 0 or more, got ${position}.`);
  return db.transaction(async (tx) => {
    await lockOwnCollection(tx, id, userId);
    const moved = await queryRows<{ paper_id: number }>(
      tx,
      sql`
        with others as (
          select paper_id, row_number() over (order by position, paper_id) - 1 as place
          from collection_papers
          where collection_id = ${id} and paper_id <> ${paperId}
        ),
        target as (
          select least(${position}::int, (select count(*) from others)::int) as place
          where exists (select 1 from collection_papers where collection_id = ${id} and paper_id = ${paperId})
        ),
        renumbered as (
          select ${paperId}::int as paper_id, place from target
          union all
          select paper_id, place + case when place >= (select place from target) then 1 else 0 end from others
          where exists (select 1 from target)
        )
        update collection_papers set position = renumbered.place
        from renumbered
        where collection_papers.collection_id = ${id} and collection_papers.paper_id = renumbered.paper_id
        returning collection_papers.paper_id
      `,
    );
    if (!moved.some((row) => row.paper_id === paperId)) throw new AppError('NOT_FOUND', 'This paper is not in the collection.');
    return touch(tx, id, at);
  });
}
