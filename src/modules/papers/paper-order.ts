import { sql } from 'drizzle-orm';
import type { KeysetOrder } from '../../db/keyset';
import { papers, submittedAtSortKey, type PaperRow } from '../../db/schema';

export type PaperOrder = 'TRENDING' | 'UPVOTES' | 'PUBLISHED_AT' | 'SUBMITTED_AT';

/** Each order is served by a btree index on the same keys (see schema/papers.ts). */
export const paperOrders: Record<PaperOrder, KeysetOrder<PaperRow>> = {
  TRENDING: {
    name: 'TRENDING',
    keys: [{ expression: papers.trendingKey, type: 'float8', valueOf: (paper) => paper.trendingKey }],
    id: papers.id,
    idOf: (paper) => paper.id,
  },
  UPVOTES: {
    name: 'UPVOTES',
    keys: [{ expression: papers.upvoteCount, type: 'int4', valueOf: (paper) => paper.upvoteCount }],
    id: papers.id,
    idOf: (paper) => paper.id,
  },
  PUBLISHED_AT: {
    name: 'PUBLISHED_AT',
    keys: [{ expression: papers.publishedAt, type: 'timestamptz', valueOf: (paper) => paper.publishedAt.toISOString() }],
    id: papers.id,
    idOf: (paper) => paper.id,
  },
  SUBMITTED_AT: {
    name: 'SUBMITTED_AT',
    keys: [
      {
        expression: sql`${submittedAtSortKey(papers.submittedAt)}`,
        type: 'timestamptz',
        valueOf: (paper) => paper.submittedAt?.toISOString() ?? '-infinity',
      },
    ],
    id: papers.id,
    idOf: (paper) => paper.id,
  },
};
