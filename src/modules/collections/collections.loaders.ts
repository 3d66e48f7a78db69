import DataLoader from 'dataloader';
import type { Page, PageRequest } from '../../db/keyset';
import type { CollectionRow } from '../../db/schema';
import { loader, type Context } from '../../graphql/context';
import {
  countCollectionsOfOwners,
  countPapersOfCollections,
  listCollectionPagesOfOwners,
  listPaperPagesOfCollections,
  type CollectionPaperView,
} from './collections.queries';

interface PageKey {
  id: number;
  request: PageRequest;
}

const pageKey = (key: PageKey) => JSON.stringify([key.id, key.request]);

/**
 * Pages of several parents in one statement per distinct page request (the
 * same `first`/`after` on every parent of a page is one request).
 */
function pageLoader<Row>(listPages: (ids: number[], request: PageRequest) => Promise<Map<number, Page<Row>>>) {
  return new DataLoader<PageKey, Page<Row>, string>(
    async (keys) => {
      const byRequest = new Map<string, PageKey[]>();
      for (const key of keys) {
        const request = JSON.stringify(key.request);
        byRequest.set(request, [...(byRequest.get(request) ?? []), key]);
      }
      const pages = new Map<string, Page<Row>>();
      await Promise.all(
        [...byRequest.values()].map(async (group) => {
          const byId = await listPages(
            group.map((key) => key.id),
            group[0]!.request,
          );
          for (const key of group) pages.set(pageKey(key), byId.get(key.id)!);
        }),
      );
      return keys.map((key) => pages.get(pageKey(key))!);
    },
    { cacheKeyFn: pageKey },
  );
}

const viewerIdOf = (context: Context) => context.viewer?.user.id ?? null;

/** A page of a user's collections that the viewer may see. */
export const collectionsOfOwnerLoader = (context: Context) =>
  loader(context, 'collectionsOfOwner', () =>
    pageLoader<CollectionRow>((ownerIds, request) => listCollectionPagesOfOwners(context.db, ownerIds, viewerIdOf(context), request)),
  );

/** How many of a user's collections the viewer may see. */
export const collectionCountOfOwnerLoader = (context: Context) =>
  loader(
    context,
    'collectionCountOfOwner',
    () =>
      new DataLoader<number, number>(async (ownerIds) => {
        const counts = await countCollectionsOfOwners(context.db, ownerIds, viewerIdOf(context));
        return ownerIds.map((id) => counts.get(id) ?? 0);
      }),
  );

/** A page of a collection's papers (the collection was loaded for the viewer, so they may see it). */
export const papersOfCollectionLoader = (context: Context) =>
  loader(context, 'papersOfCollection', () =>
    pageLoader<CollectionPaperView>((collectionIds, request) => listPaperPagesOfCollections(context.db, collectionIds, request)),
  );

export const paperCountOfCollectionLoader = (context: Context) =>
  loader(
    context,
    'paperCountOfCollection',
    () =>
      new DataLoader<number, number>(async (collectionIds) => {
        const counts = await countPapersOfCollections(context.db, collectionIds);
        return collectionIds.map((id) => counts.get(id) ?? 0);
      }),
  );
