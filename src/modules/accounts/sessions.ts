import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { DAY_MS } from '../../calendar';
import type { Database } from '../../db/client';
import { preparedPerDatabase } from '../../db/prepared-queries';
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
    expiresAt: new Date(now.getTime() + ttlDays * DAY_MS),
  });
  return token;
}

/** Runs on every signed-in request: prepared once per database handle. */
const viewerLookup = preparedPerDatabase((db) =>
  db
    .select({ user: userProfileColumns, sessionId: sessions.id })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, sql.placeholder('tokenHash')), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql.placeholder('now'))))
    .prepare('viewer_lookup'),
);

/** The user behind a bearer token, unless the session is unknown, revoked or expired. */
export async function findViewer(db: Database, token: string, now: Date): Promise<Viewer | undefined> {
  // A placeholder's value skips the column's encoding: the timestamp goes as text.
  const [row] = await viewerLookup(db).execute({ tokenHash: hashToken(token), now: now.toISOString() });
  return row;
}

export async function revokeSession(db: Database, sessionId: number, now: Date): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
}
