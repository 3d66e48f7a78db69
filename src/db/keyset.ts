import { sql, type AnyColumn, type SQL } from 'drizzle-orm';
import { badUserInput } from '../errors';

/**
 * Keyset (cursor) pagination: a page starts strictly after the row its cursor
 * names, in an order that ends with the row id, so pages never skip or repeat
 * rows and cost the same however deep they go (no OFFSET). An order sorts all
 * its keys one way (newest first by default); a btree index on the same keys
 * serves both directions of paging.
 */

export type KeyType = 'float8' | 'int4' | 'timestamptz';
export type KeyValue = number | string;

export interface SortKey<Row> {
  expression: SQL | AnyColumn;
  type: KeyType;
  /** The row's value of this key, as the cursor stores it (timestamps as ISO strings or '-infinity'). */
  valueOf(row: Row): KeyValue;
}

export interface KeysetOrder<Row> {
  /** Written into cursors, so a cursor is only used with the order that made it. */
  name: string;
  /** 'desc' (the default): highest or newest first; 'asc': oldest first, as a discussion reads. */
  sort?: 'asc' | 'desc';
  keys: SortKey<Row>[];
  id: AnyColumn;
  idOf(row: Row): number;
}

export interface Position {
  values: KeyValue[];
  id: number;
}

export interface PageRequest {
  /** forward: `first` rows after `after`; backward: `last` rows before `before`. */
  direction: 'forward' | 'backward';
  size: number;
  cursor: string | null;
}

export interface Page<Row> {
  rows: Row[];
  hasNextPage: boolean;
  hasPreviousPage: boolean;
  cursorOf(row: Row): string;
}

export function encodeCursor<Row>(order: KeysetOrder<Row>, row: Row): string {
  const payload = [order.name, ...order.keys.map((key) => key.valueOf(row)), order.idOf(row)];
  return Buffer.from(JSON.stringify(payload)).toString('base64url');
}

const invalidCursor = (cursor: string, why: string) =>
  badUserInput(`Invalid cursor "${cursor.slice(0, 100)}": ${why}. Use a cursor from this connection's pageInfo or edges.`);

export function decodeCursor<Row>(order: KeysetOrder<Row>, cursor: string): Position {
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalidCursor(cursor, 'not a cursor of this API');
  }
  if (!Array.isArray(payload) || payload.length !== order.keys.length + 2) {
    throw invalidCursor(cursor, 'not a cursor of this API');
  }
  const [name, ...rest] = payload as unknown[];
  if (name !== order.name) {
    throw invalidCursor(cursor, `it was made for the ${String(name)} order, not ${order.name}`);
  }
  const id = rest.pop();
  if (!isInt4(id) || (id as number) < 1) throw invalidCursor(cursor, 'not a cursor of this API');
  order.keys.forEach((key, index) => {
    if (!isValidKeyValue(key.type, rest[index])) throw invalidCursor(cursor, 'not a cursor of this API');
  });
  return { values: rest as KeyValue[], id: id as number };
}

const isInt4 = (value: unknown) => Number.isInteger(value) && Math.abs(value as number) <= 2 ** 31 - 1;

/** Exactly what encodeCursor writes: nothing a forged cursor could make Postgres reject. */
function isValidKeyValue(type: KeyType, value: unknown): boolean {
  switch (type) {
    case 'float8':
      return typeof value === 'number' && Number.isFinite(value);
    case 'int4':
      return isInt4(value);
    case 'timestamptz':
      return (
        value === '-infinity' ||
        // Four-digit years from 0001: Postgres has no year 0000.
        (typeof value === 'string' && /^(?!0000)\d{4}-/.test(value) && !Number.isNaN(Date.parse(value)) && new Date(value).toISOString() === value)
      );
  }
}

/** The WHERE condition selecting rows past the cursor, in the request's direction. */
export function keysetCondition<Row>(order: KeysetOrder<Row>, request: PageRequest): SQL | undefined {
  if (!request.cursor) return undefined;
  const position = decodeCursor(order, request.cursor);
  const columns = sql.join([...order.keys.map((key) => key.expression), order.id], sql`, `);
  const values = sql.join([...order.keys.map((key, index) => sql`${position.values[index]}::${sql.raw(key.type)}`), sql`${position.id}::int4`], sql`, `);
  return readsDescending(order, request) ? sql`(${columns}) < (${values})` : sql`(${columns}) > (${values})`;
}

/** Whether this page is read from the high end down: a descending order paged forward, or an ascending one paged back. */
const readsDescending = <Row>(order: KeysetOrder<Row>, request: PageRequest) =>
  (order.sort ?? 'desc') === 'desc' ? request.direction === 'forward' : request.direction === 'backward';

export function keysetOrderBy<Row>(order: KeysetOrder<Row>, request: PageRequest): SQL[] {
  const direction = readsDescending(order, request) ? sql`desc` : sql`asc`;
  return [...order.keys.map((key) => key.expression), order.id].map((expression) => sql`${expression} ${direction}`);
}

/**
 * Turns the rows fetched with `limit: request.size + 1` into a page: the
 * extra row only tells whether there is more.
 */
export function toPage<Row>(order: KeysetOrder<Row>, request: PageRequest, fetched: Row[]): Page<Row> {
  const hasMore = fetched.length > request.size;
  const rows = fetched.slice(0, request.size);
  if (request.direction === 'backward') rows.reverse();
  return {
    rows,
    hasNextPage: request.direction === 'forward' ? hasMore : request.cursor !== null,
    hasPreviousPage: request.direction === 'forward' ? request.cursor !== null : hasMore,
    cursorOf: (row) => encodeCursor(order, row),
  };
}
