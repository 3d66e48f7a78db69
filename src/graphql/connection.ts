import type { Page, PageRequest } from '../db/keyset';
import { badUserInput } from '../errors';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

export interface ConnectionArgs {
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/** Validates Relay connection arguments: `first`/`after` or `last`/`before`, sizes 0..100. */
export function pageRequestFrom(args: ConnectionArgs): PageRequest {
  const { first, after, last, before } = args;
  for (const [name, value] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (value != null && (value < 0 || value > MAX_PAGE_SIZE)) {
      throw badUserInput(`\`${name}\` must be between 0 and ${MAX_PAGE_SIZE}, got ${value}.`);
    }
  }
  const forward = first != null || after != null;
  const backward = last != null || before != null;
  if (forward && backward) {
    throw badUserInput('Page forward with `first`/`after` or backward with `last`/`before`, not both.');
  }
  if (backward) return { direction: 'backward', size: last ?? DEFAULT_PAGE_SIZE, cursor: before ?? null };
  return { direction: 'forward', size: first ?? DEFAULT_PAGE_SIZE, cursor: after ?? null };
}

export interface Connection<Node> {
  edges: { cursor: string; node: Node }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  /** Counted only when the field is selected. */
  totalCount: () => Promise<number>;
}

export function toConnection<Row>(page: Page<Row>, totalCount: () => Promise<number>): Connection<Row> {
  const edges = page.rows.map((row) => ({ cursor: page.cursorOf(row), node: row }));
  return {
    edges,
    pageInfo: {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: page.hasPreviousPage,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount,
  };
}
