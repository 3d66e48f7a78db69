import {
  getNamedType,
  getOperationAST,
  isAbstractType,
  isIntrospectionType,
  isLeafType,
  isObjectType,
  Kind,
  type FieldNode,
  type GraphQLError,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLResolveInfo,
  type GraphQLSchema,
  type SelectionSetNode,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';
import { badUserInput } from '../errors';

export interface RequestBudgetSettings {
  /** How long one query may run, in ms. */
  timeoutMs: number;
  /** About how large its answer may grow, in bytes of JSON. */
  maxResponseBytes: number;
}

/**
 * The deadline is checked at the first field and then at every 16th: the clock is read about 60 times
 * for a 50-paper page rather than a thousand, and a list's fields resolve microseconds apart.
 */
const CLOCK_EVERY_FIELDS = 16;

/** What a field adds to the answer besides its value: its key, quotes, colon and comma. */
const FIELD_OVERHEAD_BYTES = 10;

/** One query's allowance of time and answer size, spent as its fields resolve. */
class RequestBudget {
  private readonly deadline: number;
  private bytes = 0;
  /** Fields checked so far: the clock is read at the first and then every CLOCK_EVERY_FIELDS-th. */
  private fields = 0;
  /** Set once the budget is spent: every field from then on fails with it. */
  exceeded: GraphQLError | null = null;

  constructor(private readonly settings: RequestBudgetSettings) {
    // A monotonic clock: a change of the system time does not move the deadline.
    this.deadline = performance.now() + settings.timeoutMs;
  }

  /** Before a field resolves: refuse once past the deadline or the size. */
  check(): void {
    if (this.exceeded) throw this.exceeded;
    if (this.fields++ % CLOCK_EVERY_FIELDS === 0 && performance.now() > this.deadline) {
      this.exceeded = badUserInput(`The query ran past its time limit of ${this.settings.timeoutMs} ms: ask for less.`, {
        reason: 'TIME_LIMIT',
      });
    } else if (this.bytes > this.settings.maxResponseBytes) {
      this.exceeded = badUserInput(`The answer grew past its size limit of ${this.settings.maxResponseBytes} bytes: ask for fewer items or fields.`, {
        reason: 'RESPONSE_SIZE_LIMIT',
      });
    }
    if (this.exceeded) throw this.exceeded;
  }

  /** Once the fields are done: refuse an answer that grew past the size with its last fields. */
  finish(): void {
    if (!this.exceeded && this.bytes > this.settings.maxResponseBytes) this.check();
  }

  /** After a field resolved: count what it adds to the answer (its strings; objects count by their own fields). */
  add(value: unknown): void {
    this.bytes += FIELD_OVERHEAD_BYTES + sizeOf(value);
  }
}

/**
 * Fields without a resolver of their own (a property of their parent's value)
 * are not wrapped, so that graphql-jit reads them inline. What they add is
 * counted when the value they are read from resolves: a resolver's value is
 * measured by the selected fields below it that have no resolver (the
 * selection of each place in a query is walked once, then kept). Fragments are
 * followed and @skip/@include ignored, so a skipped field counts: a little
 * more, never less.
 */
type Measure = (value: unknown, budget: RequestBudget) => void;

/** Below an object value: its selected resolver-less fields, each a leaf or an object to measure further. */
interface ReadField {
  key: string;
  /** For a field of object (or list of objects) type: its own resolver-less fields. */
  below: Measure | null;
}

const measures = new WeakMap<readonly FieldNode[], Measure | null>();

function measureOf(info: GraphQLResolveInfo): Measure | null {
  let measure = measures.get(info.fieldNodes);
  if (measure === undefined) {
    measure = buildMeasure(info.schema, info.fragments, getNamedType(info.returnType), info.fieldNodes);
    measures.set(info.fieldNodes, measure);
  }
  return measure;
}

function buildMeasure(
  schema: GraphQLSchema,
  fragments: GraphQLResolveInfo['fragments'],
  type: GraphQLNamedType,
  fieldNodes: readonly FieldNode[],
): Measure | null {
  if (isLeafType(type)) return null;
  const types = isAbstractType(type) ? schema.getPossibleTypes(type) : isObjectType(type) ? [type] : [];
  // The selected fields by name (a field asked for twice, or under several fragments, merges its selections).
  const selected = new Map<string, FieldNode[]>();
  const seenFragments = new Set<string>();
  const collect = (selectionSet: SelectionSetNode | undefined) => {
    for (const selection of selectionSet?.selections ?? []) {
      if (selection.kind === Kind.FIELD) {
        const nodes = selected.get(selection.name.value) ?? [];
        nodes.push(selection);
        selected.set(selection.name.value, nodes);
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        collect(selection.selectionSet);
      } else if (!seenFragments.has(selection.name.value)) {
        seenFragments.add(selection.name.value);
        collect(fragments[selection.name.value]?.selectionSet);
      }
    }
  };
  for (const node of fieldNodes) collect(node.selectionSet);
  const read: ReadField[] = [];
  for (const [name, nodes] of selected) {
    // Resolver-less in any of the types the value may be: read it (a type without the field reads undefined, 4 bytes).
    const field = types.map((candidate) => candidate.getFields()[name]).find((candidate) => candidate && !candidate.resolve);
    if (field) read.push({ key: name, below: buildMeasure(schema, fragments, getNamedType(field.type), nodes) });
  }
  if (read.length === 0) return null;
  const measure: Measure = (value, budget) => {
    if (value === null || typeof value !== 'object') return;
    if (isPromise(value)) {
      value.then(
        (resolved) => measure(resolved, budget),
        () => {},
      );
      return;
    }
    if (Array.isArray(value)) {
      for (const item of value) measure(item, budget);
      return;
    }
    for (const { key, below } of read) {
      const fieldValue = (value as Record<string, unknown>)[key];
      budget.add(fieldValue);
      if (below) below(fieldValue, budget);
    }
  };
  return measure;
}

function sizeOf(value: unknown): number {
  if (typeof value === 'string') return value.length + 2;
  if (Array.isArray(value)) return value.reduce((sum: number, item) => sum + (typeof item === 'string' ? item.length + 3 : 1), 2);
  return 4;
}

/** The request's budget, a property of its context (read for every field: cheaper than a WeakMap). */
const budgetOf = Symbol('requestBudget');
type Budgeted = { [budgetOf]?: RequestBudget };

/** Marks a field whose resolver spends from the budgets already. */
const spends = Symbol('spendsFromBudgets');

/**
 * Every field resolver of the schema spends from its request's budget. One
 * instance for the process: the hook wraps the (shared) schema's resolvers
 * once, however many apps use it; a request without a budget (a test calling
 * graphql() directly) passes through. A plain wrapper rather than
 * @envelop/on-resolve's: it runs for every resolver of every answer (a page of
 * 50 papers with authors has hundreds), and allocates nothing for a field that
 * resolves at once. Fields without a resolver stay so (see measureOf).
 */
const spendFromBudgets: Plugin = {
  onSchemaChange({ schema }) {
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || isIntrospectionType(type)) continue;
      for (const field of Object.values(type.getFields()) as (GraphQLField<unknown, object> & { [spends]?: true })[]) {
        // A field without a resolver is counted with the value it is read from (measureOf).
        if (field[spends] || !field.resolve) continue;
        const resolve = field.resolve;
        const leaf = isLeafType(getNamedType(field.type));
        field.resolve = (source, args, context, info) => {
          const budget = (context as Budgeted)[budgetOf];
          if (!budget) return resolve(source, args, context, info);
          budget.check();
          const result = resolve(source, args, context, info);
          const measure = leaf ? null : measureOf(info);
          if (!isPromise(result)) {
            budget.add(result);
            measure?.(result, budget);
            return result;
          }
          return result.then((value) => {
            budget.add(value);
            measure?.(value, budget);
            return value;
          });
        };
        field[spends] = true;
      }
    }
  },
};

const isPromise = (value: unknown): value is Promise<unknown> => typeof (value as Promise<unknown> | null)?.then === 'function';

/**
 * The second line behind the cost limit, for what a static cost cannot see
 * (a paper with thousands of authors, a slow database): each query gets
 * `timeoutMs` and about `maxResponseBytes` of answer. Past either, every
 * field still to resolve fails at once, so the work stops, and the answer is
 * that one error: no partial data, nothing cached. Mutations have none: one
 * that has done its work must not answer with an error.
 */
export function requestBudget(settings: RequestBudgetSettings): Plugin[] {
  const startBudget: Plugin = {
    onExecute({ args }) {
      if (getOperationAST(args.document, args.operationName)?.operation !== 'query') return;
      const budget = new RequestBudget(settings);
      (args.contextValue as Budgeted)[budgetOf] = budget;
      return {
        onExecuteDone({ setResult }) {
          try {
            budget.finish();
          } catch {
            // Set as budget.exceeded.
          }
          if (budget.exceeded) setResult({ errors: [budget.exceeded] });
        },
      };
    },
  };
  return [startBudget, spendFromBudgets];
}
