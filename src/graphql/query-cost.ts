import {
  getNamedType,
  GraphQLError,
  getNullableType,
  isListType,
  isCompositeType,
  type DocumentNode,
  type GraphQLCompositeType,
  type GraphQLField,
  type GraphQLSchema,
  visit,
} from 'graphql';
import { getComplexity, type ComplexityEstimatorArgs } from 'graphql-query-complexity';
import type { Plugin } from 'graphql-yoga';
import { badUserInput, REFUSED_REQUEST_HTTP } from '../errors';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from './connection';

/** What a list without a page size (a paper's authors, say) is counted as: it has no bound the query states. */
const UNPAGED_LIST_ESTIMATE = 10;

/**
 * The cost of a field: 1, plus its selection once per item it may return.
 * A field with `first`/`last` returns that many (20 when absent, unless the
 * schema gives another default; at most 100, a larger page is the
 * resolver's to refuse), `nodes(ids:)` one per id, the edges of a connection
 * (a type named ...Connection) as many as the connection's page, and any
 * other list of objects UNPAGED_LIST_ESTIMATE. So the cost is about the number of values the
 * answer may hold. Introspection costs nothing: its answer is the schema's size.
 */
function fieldCost({ field, type, args, childComplexity }: ComplexityEstimatorArgs): number {
  if (field.name.startsWith('__')) return 0;
  return 1 + itemsOf(field, type, args) * childComplexity;
}

function itemsOf(field: GraphQLField<unknown, unknown>, parent: GraphQLCompositeType, args: Record<string, unknown>): number {
  const takes = (name: string) => field.args.some((arg) => arg.name === name);
  if (takes('first') || takes('last')) {
    const sizes = [args.first, args.last].filter((size): size is number => typeof size === 'number');
    const size = sizes.length > 0 ? Math.max(...sizes) : DEFAULT_PAGE_SIZE;
    return Math.min(Math.max(size, 0), MAX_PAGE_SIZE);
  }
  if (takes('ids') && Array.isArray(args.ids)) return Math.min(args.ids.length, MAX_PAGE_SIZE);
  const listOfObjects = isListType(getNullableType(field.type)) && isCompositeType(getNamedType(field.type));
  return listOfObjects && !parent.name.endsWith('Connection') ? UNPAGED_LIST_ESTIMATE : 1;
}

/** The cost of running `document` with these variables, as fieldCost counts it. */
function queryCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string) {
  return getComplexity({ schema, query: document, variables: variables ?? {}, operationName, estimators: [fieldCost] });
}

/** How many costs (by operation and variables) are kept per document before its list starts over. */
const COSTS_PER_DOCUMENT = 100;

/** The arguments fieldCost reads: a page size, or the ids of nodes(ids:). */
const COUNTED_ARGUMENTS = new Set(['first', 'last', 'ids']);

/**
 * The variables of `document` that can change its cost: those given to an argument fieldCost reads, or
 * to a directive (@include and @skip decide which fields count). The rest (a paper's id, say) never do.
 */
function costVariablesOf(document: DocumentNode): string[] {
  const names = new Set<string>();
  let counting = 0;
  const enter = () => {
    counting += 1;
  };
  const leave = () => {
    counting -= 1;
  };
  visit(document, {
    Argument: {
      enter: (node) => (COUNTED_ARGUMENTS.has(node.name.value) ? enter() : undefined),
      leave: (node) => (COUNTED_ARGUMENTS.has(node.name.value) ? leave() : undefined),
    },
    Directive: { enter, leave },
    Variable(node) {
      if (counting > 0) names.add(node.name.value);
    },
  });
  return [...names].sort();
}

interface DocumentCosts {
  costVariables: string[];
  byVariables: Map<string, number>;
}

/**
 * The cost of a query, kept per parsed document (yoga's parser cache hands
 * the same object for the same text) and per operation name and the values
 * of its cost variables: the same page asked again, or the same mutation on
 * another paper, is not walked again.
 */
const costs = new WeakMap<DocumentNode, DocumentCosts>();

function keptQueryCost(schema: GraphQLSchema, document: DocumentNode, variables: Record<string, unknown> | undefined, operationName?: string) {
  let kept = costs.get(document);
  if (!kept) {
    kept = { costVariables: costVariablesOf(document), byVariables: new Map() };
    costs.set(document, kept);
  }
  const values = kept.costVariables.map((name) => variables?.[name]);
  const key = `${operationName ?? ''}\u0000${values.length > 0 ? JSON.stringify(values) : ''}`;
  let cost = kept.byVariables.get(key);
  if (cost === undefined) {
    cost = queryCost(schema, document, variables, operationName);
    if (kept.byVariables.size >= COSTS_PER_DOCUMENT) kept.byVariables.clear();
    kept.byVariables.set(key, cost);
  }
  return cost;
}

/**
 * Refuses an operation whose cost, computed with the request's variables
 * (and the arguments' defaults), is over `maxCost`, before anything runs:
 * the limit holds however `first` is given. It runs where the variables are
 * known: validation is cached per document and never sees them.
 */
export function costLimit(maxCost: number): Plugin {
  return {
    onExecute({ args, setResultAndStopExecution }) {
      const refuse = (why: string) =>
        setResultAndStopExecution({
          errors: [badUserInput(`Query cost limit of ${maxCost} exceeded: ${why}`, { reason: 'COST_LIMIT', http: REFUSED_REQUEST_HTTP })],
        });
      let cost: number;
      try {
        cost = keptQueryCost(args.schema, args.document, args.variableValues ?? undefined, args.operationName ?? undefined);
      } catch (error) {
        // Too many fields to even count (fragments spread into each other).
        if (!(error instanceof GraphQLError)) throw error;
        refuse(error.message);
        return;
      }
      if (cost > maxCost) {
        refuse(
          `this query could cost ${cost} (about one per value it may return, each list counted at its \`first\` or its default). ` +
            'Ask for fewer items or fewer nested lists.',
        );
      }
    },
  };
}
