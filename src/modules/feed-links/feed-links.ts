import { randomBytes } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { feedLinks, users } from '../../db/schema';
import { hashToken } from '../digest/tokens';

/** The prefix makes a leaked feed token recognizable to secret scanners. */
const TOKEN_PREFIX = 'dpf_';

/** The feeds a private link may serve. */
export type FeedLinkKind = 'RECOMMENDATIONS' | 'FOLLOWING';

/** The path of a private feed; its token goes in `?token=`. */
export const PRIVATE_FEED_PATHS: Record<FeedLinkKind, string> = { RECOMMENDATIONS: '/feeds/personal.atom', FOLLOWING: '/feeds/following.atom' };

/**
 * Makes a new private link to the user's feed of `kind`, revoking the one they
 * had (in one transaction, the user's row locked): the token is returned once,
 * only its hash is kept.
 */
export function createFeedLink(db: Database, userId: number, kind: FeedLinkKind, at: Date): Promise<string> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  return db.transaction(async (tx) => {
    // The user's row, locked: two links made at once (a double click) take turns, rather than the second
    // missing the first's uncommitted row when revoking and failing on feed_links_live_key.
    await tx.execute(sql`select 1 from ${users} where ${users.id} = ${userId} for update`);
    await revokeLiveLink(tx, userId, kind, at);
    await tx.insert(feedLinks).values({ userId, kind, tokenHash: hashToken(token), createdAt: at });
    return token;
  });
}

/** Revokes the user's live link of `kind`; whether there was one. */
export async function revokeFeedLink(db: Database, userId: number, kind: FeedLinkKind, at: Date): Promise<boolean> {
  return (await revokeLiveLink(db, userId, kind, at)) > 0;
}

async function revokeLiveLink(db: Pick<Database, 'update'>, userId: number, kind: FeedLinkKind, at: Date): Promise<number> {
  const revoked = await db
    .update(feedLinks)
    .set({ revokedAt: at })
    .where(and(eq(feedLinks.userId, userId), eq(feedLinks.kind, kind), isNull(feedLinks.revokedAt)))
    .returning({ id: feedLinks.id });
  return revoked.length;
}

/** The user a live link of `kind` with this token belongs to; undefined for an unknown or revoked token. */
export async function findFeedLinkUser(db: Database, token: string, kind: FeedLinkKind): Promise<number | undefined> {
  const [link] = await db
    .select({ userId: feedLinks.userId })
    .from(feedLinks)
    .where(and(eq(feedLinks.tokenHash, hashToken(token)), eq(feedLinks.kind, kind), isNull(feedLinks.revokedAt)));
  return link?.userId;
}

/** When the user's live link of `kind` was made; null when they have none. */
export async function liveFeedLinkCreatedAt(db: Database, userId: number, kind: FeedLinkKind): Promise<Date | null> {
  const [link] = await db
    .select({ createdAt: feedLinks.createdAt })
    .from(feedLinks)
    .where(and(eq(feedLinks.userId, userId), eq(feedLinks.kind, kind), isNull(feedLinks.revokedAt)));
  return link?.createdAt ?? null;
}
