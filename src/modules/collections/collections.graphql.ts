import { encodeGlobalID } from '@pothos/plugin-relay';
import { builder } from '../../graphql/builder';
import { pageRequestFrom, toConnection } from '../../graphql/connection';
import { publicCollectionCountOfPaperLoader } from '../../graphql/loaders';
import { CollectionRef, PaperRef, UserRef } from '../../graphql/node-refs';
import type { Context } from '../../graphql/context';
import { requireViewer } from '../accounts/accounts.graphql';
import {
  MAX_COLLECTION_DESCRIPTION_LENGTH,
  MAX_COLLECTION_NAME_LENGTH,
  MAX_COLLECTION_NOTE_LENGTH,
  addPaperToCollection,
  collectionDescription,
  collectionName,
  collectionNote,
  createCollection,
  deleteCollection,
  paperIdsOfCollection,
  movePaperInCollection,
  removePaperFromCollection,
  updateCollection,
  type CollectionChanges,
} from './collections';
import { collectionCountOfOwnerLoader, collectionsOfOwnerLoader, paperCountOfCollectionLoader, papersOfCollectionLoader } from './collections.loaders';
import type { CollectionPaperView } from './collections.queries';

const characters = (count: number) => `${count.toLocaleString('en')} characters`;

const CollectionPaperConnection = builder.connectionObject(
  { type: PaperRef, name: 'CollectionPaperConnection', description: "A page of a collection's papers, in the owner's order." },
  {
    name: 'CollectionPaperEdge',
    description: 'A paper in a collection, with its place and note.',
    fields: (t) => ({
      note: t.string({
        nullable: true,
        description: "The owner's note on the paper (plain text); null when none.",
        resolve: (edge) => (edge.node as CollectionPaperView).note,
      }),
      position: t.int({
        description: '0-based place in the collection (positions are renumbered 0..n-1 on every move).',
        resolve: (edge) => (edge.node as CollectionPaperView).position,
      }),
      addedAt: t.field({ type: 'DateTime', description: 'When it was added.', resolve: (edge) => (edge.node as CollectionPaperView).addedAt }),
    }),
  },
);

const CollectionConnection = builder.connectionObject(
  { type: CollectionRef, name: 'CollectionConnection', description: 'A page of collections, newest first.' },
  { name: 'CollectionEdge', description: 'A collection in a page of collections.' },
);

CollectionRef.implement({
  description: "A user's named list of papers, each with a note. A private one exists only for its owner: to everyone else it is null.",
  fields: (t) => ({
    name: t.exposeString('name', { description: `1 to ${characters(MAX_COLLECTION_NAME_LENGTH)}, one line.` }),
    description: t.exposeString('description', {
      nullable: true,
      description: `Plain text, up to ${characters(MAX_COLLECTION_DESCRIPTION_LENGTH)}; null when none.`,
    }),
    isPublic: t.exposeBoolean('isPublic', { description: 'Whether everyone may see it (and its Atom feed); else only its owner.' }),
    owner: t.field({ type: UserRef, description: 'Who made it.', resolve: (collection) => collection.ownerId }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was made.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it or its papers last changed.' }),
    paperCount: t.int({
      description: 'How many papers it holds.',
      resolve: (collection, _args, context) => paperCountOfCollectionLoader(context).load(collection.id),
    }),
    papers: t.field({
      type: CollectionPaperConnection,
      description: "Its papers in the owner's order; edges carry the note.",
      args: t.arg.connectionArgs(),
      resolve: async (collection, args, context) => {
        const page = await papersOfCollectionLoader(context).load({ id: collection.id, request: pageRequestFrom(args) });
        return toConnection(page, () => paperCountOfCollectionLoader(context).load(collection.id));
      },
    }),
  }),
});

builder.objectField(UserRef, 'collections', (t) =>
  t.field({
    type: CollectionConnection,
    description: 'Their collections, newest first: the public ones, and the private ones too for the user themselves.',
    args: t.arg.connectionArgs(),
    resolve: async (user, args, context) => {
      const page = await collectionsOfOwnerLoader(context).load({ id: user.id, request: pageRequestFrom(args) });
      return toConnection(page, () => collectionCountOfOwnerLoader(context).load(user.id));
    },
  }),
);

builder.objectField(PaperRef, 'collectionCount', (t) =>
  t.int({
    description: 'In how many public collections it is.',
    resolve: (paper, _args, context) => publicCollectionCountOfPaperLoader(context).load(paper.id),
  }),
);

builder.queryField('collection', (t) =>
  t.field({
    type: CollectionRef,
    nullable: true,
    description: "A collection by ID; null when unknown or someone else's private one.",
    args: { id: t.arg.globalID({ required: true, for: [CollectionRef], description: 'A Collection ID.' }) },
    resolve: (_root, { id }) => id.id,
  }),
);

const CreateCollectionInput = builder.inputType('CreateCollectionInput', {
  description: 'A new collection.',
  fields: (t) => ({
    name: t.string({ required: true, description: `1 to ${characters(MAX_COLLECTION_NAME_LENGTH)}; white space collapses to one space.` }),
    description: t.string({ description: `Plain text up to ${characters(MAX_COLLECTION_DESCRIPTION_LENGTH)}; blank or omitted: none.` }),
    isPublic: t.boolean({ required: true, description: 'Whether everyone may see it; else only you.' }),
  }),
});

const UpdateCollectionInput = builder.inputType('UpdateCollectionInput', {
  description: 'What to change in a collection; omitted fields stay as they are.',
  fields: (t) => ({
    name: t.string({ description: `A new name, 1 to ${characters(MAX_COLLECTION_NAME_LENGTH)}.` }),
    description: t.string({ description: `A new description up to ${characters(MAX_COLLECTION_DESCRIPTION_LENGTH)}; null or blank removes it.` }),
    isPublic: t.boolean({ description: 'Make it public or private.' }),
  }),
});

/**
 * Ends the cached anonymous answers a collection change may show: the collection, its owner's list of
 * collections, and the collection counts of `paperIds`.
 */
function announceCollectionChange(context: Context, collection: { id: number; ownerId: number }, paperIds: readonly number[] = []) {
  const papers = paperIds.map((id) => ({ typename: 'Paper', id }));
  void context.publicDataChanges.announce({
    kind: 'entities',
    entities: [{ typename: 'Collection', id: collection.id }, { typename: 'User', id: collection.ownerId }, ...papers],
  });
}

const ownCollectionRule = 'Signed in; NOT_FOUND for an unknown collection or a private one of someone else, FORBIDDEN for a public one of someone else.';

builder.mutationFields((t) => ({
  createCollection: t.field({
    type: CollectionRef,
    description: 'Make a collection (signed in).',
    args: { input: t.arg({ type: CreateCollectionInput, required: true, description: 'The collection.' }) },
    resolve: async (_root, { input }, context) => {
      const { user } = requireViewer(context);
      const collection = await createCollection(context.db, {
        ownerId: user.id,
        name: collectionName(input.name),
        description: collectionDescription(input.description),
        isPublic: input.isPublic,
        at: context.now,
      });
      if (collection.isPublic) announceCollectionChange(context, collection);
      return collection;
    },
  }),
  updateCollection: t.field({
    type: CollectionRef,
    description: `Rename, describe, or make a collection public or private. ${ownCollectionRule}`,
    args: {
      id: t.arg.globalID({ required: true, for: [CollectionRef], description: 'The Collection ID.' }),
      input: t.arg({ type: UpdateCollectionInput, required: true, description: 'The changes.' }),
    },
    resolve: async (_root, { id, input }, context) => {
      const { user } = requireViewer(context);
      const changes: CollectionChanges = {};
      if (input.name != null) changes.name = collectionName(input.name);
      if (input.description !== undefined) changes.description = collectionDescription(input.description);
      if (input.isPublic != null) changes.isPublic = input.isPublic;
      const collection = await updateCollection(context.db, id.id, user.id, changes, context.now);
      // Made private or public, it leaves or joins its papers' counts.
      announceCollectionChange(context, collection, changes.isPublic === undefined ? [] : await paperIdsOfCollection(context.db, collection.id));
      return collection;
    },
  }),
  deleteCollection: t.id({
    description: `Delete a collection and its notes; answers its ID. ${ownCollectionRule}`,
    args: { id: t.arg.globalID({ required: true, for: [CollectionRef], description: 'The Collection ID.' }) },
    resolve: async (_root, { id }, context) => {
      const { user } = requireViewer(context);
      const paperIds = await paperIdsOfCollection(context.db, id.id);
      await deleteCollection(context.db, id.id, user.id);
      announceCollectionChange(context, { id: id.id, ownerId: user.id }, paperIds);
      return encodeGlobalID('Collection', id.id);
    },
  }),
  addPaperToCollection: t.field({
    type: CollectionRef,
    description: `Add a paper at the end of a collection, with a note; a paper already in it keeps its place and gets the new note. NOT_FOUND for an unknown paper. ${ownCollectionRule}`,
    args: {
      collectionId: t.arg.globalID({ required: true, for: [CollectionRef], description: 'The Collection ID.' }),
      paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }),
      note: t.arg.string({ description: `Plain text up to ${characters(MAX_COLLECTION_NOTE_LENGTH)}; blank or omitted: none.` }),
    },
    resolve: async (_root, args, context) => {
      const { user } = requireViewer(context);
      const collection = await addPaperToCollection(context.db, args.collectionId.id, user.id, args.paperId.id, collectionNote(args.note), context.now);
      announceCollectionChange(context, collection, [args.paperId.id]);
      return collection;
    },
  }),
  removePaperFromCollection: t.field({
    type: CollectionRef,
    description: `Take a paper out of a collection (nothing to do if it is not in it). ${ownCollectionRule}`,
    args: {
      collectionId: t.arg.globalID({ required: true, for: [CollectionRef], description: 'The Collection ID.' }),
      paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }),
    },
    resolve: async (_root, args, context) => {
      const { user } = requireViewer(context);
      const collection = await removePaperFromCollection(context.db, args.collectionId.id, user.id, args.paperId.id, context.now);
      announceCollectionChange(context, collection, [args.paperId.id]);
      return collection;
    },
  }),
  movePaperInCollection: t.field({
    type: CollectionRef,
    description: `Move a paper of a collection to a 0-based position (past the end: last); the others keep their order. NOT_FOUND if the paper is not in it. ${ownCollectionRule}`,
    args: {
      collectionId: t.arg.globalID({ required: true, for: [CollectionRef], description: 'The Collection ID.' }),
      paperId: t.arg.globalID({ required: true, for: [PaperRef], description: 'The Paper ID.' }),
      position: t.arg.int({ required: true, description: 'Where it goes: 0 is first.' }),
    },
    resolve: async (_root, args, context) => {
      const { user } = requireViewer(context);
      const collection = await movePaperInCollection(context.db, args.collectionId.id, user.id, args.paperId.id, args.position, context.now);
      announceCollectionChange(context, collection);
      return collection;
    },
  }),
}));
