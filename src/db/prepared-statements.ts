import type { Sql } from 'postgres';

/**
 * A postgres.js client whose parameterized queries are prepared statements.
 *
 * drizzle's postgres.js driver sends every query not built with
 * `.prepare(name)` through `unsafe()` unprepared (drizzle-orm#6096), and for
 * an unprepared query with parameters postgres.js first asks Postgres for the
 * parameter types: two round trips per query, and a parse and plan each time.
 * Prepared, as postgres.js's own tagged queries are, a statement is described
 * once per connection and then runs in one round trip. Our SQL text never
 * holds values (they are always parameters), so the statements a connection
 * caches are bounded by the query shapes in the code: batched lookups bind
 * one array (idIn), and the import's lists vary only with its batch sizes.
 * Parameterless queries (migrations, which may hold several statements) keep
 * the simple protocol. Prepared statements live on a server connection: a
 * pooler in front of Postgres must pool by session, not by transaction.
 */
export function preparingStatements<T extends Sql<Record<string, never>>>(client: T): T {
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property === 'unsafe') {
        return (query: string, parameters?: unknown[], options?: object) =>
          target.unsafe(query, parameters as never, parameters?.length ? { ...options, prepare: true } : options);
      }
      if (property === 'begin') {
        // A transaction runs on a client of its own: prepare its queries too.
        return (...args: unknown[]) => {
          const callback = args.pop() as (transaction: Sql<Record<string, never>>) => unknown;
          return (target.begin as (...beginArgs: unknown[]) => unknown)(...args, (transaction: Sql<Record<string, never>>) =>
            callback(preparingStatements(transaction)),
          );
        };
      }
      return Reflect.get(target, property, receiver) as unknown;
    },
  });
}
