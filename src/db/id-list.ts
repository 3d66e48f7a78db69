import { Placeholder, sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';

/**
 * `column = any($1::int[])`: the batched lookups of the loaders. Unlike
 * inArray(), which binds a parameter per id, this binds one array however
 * many ids a batch holds, so the statement is cheaper to build and its text
 * is the same for every batch size (one prepared statement serves them all).
 * `ids` may be a sql.placeholder() of a prepared query.
 */
export function idIn(column: AnyPgColumn, ids: readonly number[] | Placeholder): SQL {
  return sql`${column} = any(${ids instanceof Placeholder ? ids : sql.param([...ids])}::int[])`;
}
