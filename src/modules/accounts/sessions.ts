import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { sessions, userProfileColumns, users, type UserProfile } from '../../db/schema';

/** The prefix makes a leaked token recognizable to secret scanners. */
const TOKEN_PREFIX = 'dp_';

const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

export interface Viewer {
  user: UserProfile;
  sessionId: number;
}

/** Starts a session; the token is returned once and only its hash is kept. */
export async function createSession(db: Database, userId: number, now: Date, ttlDays: number): Promise<string> {
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  await db.insert(sessions).values({
    userId,
    tokenHash: hashToken(token),
    createdAt: now,
    expiresAt: new Date(now.getTime() + ttlDays * 86_400_000),
  });
  return token;
}

/** The user behind a bearer token, unless the session is unknown, revoked or expired. */
export async function findViewer(db: Database, token: string, now: Date): Promise<Viewer | undefined> {
  const [row] = await db
    .select({ user: userProfileColumns, sessionId: sessions.id })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, hashToken(token)), isNull(sessions.revokedAt), gt(sessions.expiresAt, now)));
  return row;
}

export async function revokeSession(db: Database, sessionId: number, now: Date): Promise<void> {
  await db.update(sessions).set({ revokedAt: now }).where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
}
