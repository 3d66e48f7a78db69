import type { Database } from './client';

/**
 * A drizzle prepared query (built with sql.placeholder()s, then .prepare())
 * made once per database handle and reused: drizzle otherwise rebuilds a
 * query's SQL text from its builder on every call. For the fixed-shape
 * statements that run on every request, such as the session lookup. A
 * transaction is a handle of its own, so it gets (and drops) its own.
 */
export function preparedPerDatabase<Query>(prepare: (db: Database) => Query): (db: Database) => Query {
  const prepared = new WeakMap<Database, Query>();
  return (db) => {
    let query = prepared.get(db);
    if (query === undefined) {
      query = prepare(db);
      prepared.set(db, query);
    }
    return query;
  };
}
