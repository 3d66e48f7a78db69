import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { keysetCondition, keysetOrderBy, toPage, type KeysetOrder, type Page, type PageRequest } from '../../db/keyset';
import { authorshipClaims, type AuthorshipClaimRow } from '../../db/schema';

const claimedAtKey = {
  expression: authorshipClaims.createdAt,
  type: 'timestamptz',
  valueOf: (claim: AuthorshipClaimRow) => claim.createdAt.toISOString(),
} as const;

/** The review queue: oldest first, so no claim waits behind newer ones. */
const pendingOrder: KeysetOrder<AuthorshipClaimRow> = {
  name: 'PENDING_CLAIMS',
  sort: 'asc',
  keys: [claimedAtKey],
  id: authorshipClaims.id,
  idOf: (claim) => claim.id,
};

/** A user's own claims: newest first. */
const userClaimsOrder: KeysetOrder<AuthorshipClaimRow> = {
  name: 'USER_CLAIMS',
  keys: [claimedAtKey],
  id: authorshipClaims.id,
  idOf: (claim) => claim.id,
};

const isPending = eq(authorshipClaims.status, 'pending');

export async function findClaimsByIds(db: Database, ids: readonly number[]): Promise<AuthorshipClaimRow[]> {
  return db.select().from(authorshipClaims).where(idIn(authorshipClaims.id, ids));
}

export async function listPendingClaims(db: Database, request: PageRequest): Promise<Page<AuthorshipClaimRow>> {
  const fetched = await db
    .select()
    .from(authorshipClaims)
    .where(and(isPending, keysetCondition(pendingOrder, request)))
    .orderBy(...keysetOrderBy(pendingOrder, request))
    .limit(request.size + 1);
  return toPage(pendingOrder, request, fetched);
}

export async function countPendingClaims(db: Database): Promise<number> {
  return db.$count(authorshipClaims, isPending);
}

export async function listClaimsOfUser(db: Database, userId: number, request: PageRequest): Promise<Page<AuthorshipClaimRow>> {
  const fetched = await db
    .select()
    .from(authorshipClaims)
    .where(and(eq(authorshipClaims.userId, userId), keysetCondition(userClaimsOrder, request)))
    .orderBy(...keysetOrderBy(userClaimsOrder, request))
    .limit(request.size + 1);
  return toPage(userClaimsOrder, request, fetched);
}

export async function countClaimsOfUser(db: Database, userId: number): Promise<number> {
  return db.$count(authorshipClaims, eq(authorshipClaims.userId, userId));
}
