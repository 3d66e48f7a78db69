import SchemaBuilder from '@pothos/core';
import DataloaderPlugin from '@pothos/plugin-dataloader';
import RelayPlugin from '@pothos/plugin-relay';
import { badUserInput } from '../errors';
import { MAX_PAGE_SIZE } from './connection';
import type { Context } from './context';
import { decodeGlobalId, isNodeTypename } from './global-id';

/** Configuration only: the types live in src/modules/*, gathered by schema.ts. */
export const builder = new SchemaBuilder<{
  Context: Context;
  DefaultFieldNullability: false;
  DefaultEdgesNullability: false;
  DefaultNodeNullability: false;
  Scalars: {
    ID: { Input: string; Output: string | number };
    DateTime: { Input: Date; Output: Date };
    Date: { Input: string; Output: string };
  };
  Connection: { totalCount: () => Promise<number> };
}>({
  plugins: [RelayPlugin, DataloaderPlugin],
  defaultFieldNullability: false,
  relay: {
    decodeGlobalID: decodeGlobalId,
    edgesFieldOptions: { nullable: false, description: 'The items of this page, in order.' },
    nodeFieldOptions: { nullable: false, description: 'The item at the end of the edge.' },
    cursorFieldOptions: { description: 'Opaque cursor: pass it as `after` (or `before`) to continue from this item.' },
    pageInfoFieldOptions: { description: 'Where this page sits in the whole list.' },
    hasNextPageFieldOptions: { description: 'Whether more items follow this page.' },
    hasPreviousPageFieldOptions: { description: 'Whether items precede this page.' },
    startCursorFieldOptions: { description: 'Cursor of the first item of the page; null when the page is empty.' },
    endCursorFieldOptions: { description: 'Cursor of the last item of the page; null when the page is empty.' },
    nodeTypeOptions: { description: 'An object with a global ID, fetchable with `node(id:)`.' },
    pageInfoTypeOptions: { description: 'Relay pagination state of a connection.' },
    idFieldOptions: { description: 'Opaque global ID of this object.' },
    firstArgOptions: { description: 'Return the first n items (0 to 100, default 20).' },
    afterArgOptions: { description: 'Start after the item with this cursor.' },
    lastArgOptions: { description: 'Return the last n items (0 to 100).' },
    beforeArgOptions: { description: 'End before the item with this cursor.' },
    nodeQueryOptions: {
      description: 'Fetch any object by its global ID; null when it does not exist.',
      args: { id: { description: 'A global ID from this API.' } },
      resolve: (_root, { id }, _context, info, resolveNode) => (isNodeTypename(info.schema, id.typename) ? resolveNode(id) : null),
    },
    nodesQueryOptions: {
      description: 'Fetch objects by their global IDs, in order; null for each that does not exist.',
      args: { ids: { description: 'Global IDs from this API (at most 100).' } },
      resolve: (_root, args, _context, info, resolveNodes) => {
        const { ids } = args;
        if (ids.length > MAX_PAGE_SIZE) throw badUserInput(`\`nodes\` takes at most ${MAX_PAGE_SIZE} IDs, got ${ids.length}.`);
        // resolveNodes loads `args.ids`: an ID of a type this API does not have becomes null there.
        args.ids = ids.map((id) => (isNodeTypename(info.schema, id.typename) ? id : null)) as typeof ids;
        return resolveNodes(args.ids);
      },
    },
  },
});

builder.queryType({ description: 'Everything a Daily Papers frontend reads.' });
builder.mutationType({ description: 'Everything a Daily Papers frontend changes.' });

builder.globalConnectionField('totalCount', (t) =>
  t.int({ description: 'How many items the whole list holds.', resolve: (connection) => connection.totalCount() }),
);
