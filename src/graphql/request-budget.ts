import { defaultFieldResolver, getOperationAST, isIntrospectionType, isObjectType, type GraphQLError, type GraphQLField } from 'graphql';
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

  /** After a field resolved: count what it adds to the answer (its strings; objects count by their own fields). */
  add(value: unknown): void {
    this.bytes += FIELD_OVERHEAD_BYTES + sizeOf(value);
  }
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
 * @envelop/on-resolve's: it runs for every field of every answer (a page of
 * 50 papers with authors has over a thousand), and allocates nothing for a
 * field that resolves at once.
 */
const spendFromBudgets: Plugin = {
  onSchemaChange({ schema }) {
    for (const type of Object.values(schema.getTypeMap())) {
      if (!isObjectType(type) || isIntrospectionType(type)) continue;
      for (const field of Object.values(type.getFields()) as (GraphQLField<unknown, object> & { [spends]?: true })[]) {
        if (field[spends]) continue;
        const resolve = field.resolve ?? defaultFieldResolver;
        field.resolve = (source, args, context, info) => {
          const budget = (context as Budgeted)[budgetOf];
          if (!budget) return resolve(source, args, context, info);
          budget.check();
          const result = resolve(source, args, context, info);
          if (!isPromise(result)) {
            budget.add(result);
            return result;
          }
          return result.then((value) => {
            budget.add(value);
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
          if (budget.exceeded) setResult({ errors: [budget.exceeded] });
        },
      };
    },
  };
  return [startBudget, spendFromBudgets];
}
