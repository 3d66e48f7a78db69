import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, sql } from 'drizzle-orm';
import { LRUCache } from 'lru-cache';
import type { PublicDataChange, PublicDataChanges } from '../../cache/public-data-changes';
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
    .select({ user: userProfileColumns, sessionId: sessions.id, expiresAt: sessions.expiresAt })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.tokenHash, sql.placeholder('tokenHash')), isNull(sessions.revokedAt), gt(sessions.expiresAt, sql.placeholder('now'))))
    .prepare('viewer_lookup'),
);

/** The user behind a bearer token, unless the session is unknown, revoked or expired; read from Postgres every time. */
export async function findViewer(db: Database, token: string, now: Date): Promise<Viewer | undefined> {
  const row = await findSession(db, hashToken(token), now);
  return row && { user: row.user, sessionId: row.sessionId };
}

async function findSession(db: Database, tokenHash: string, now: Date) {
  // A placeholder's value skips the column's encoding: the timestamp goes as text.
  const [row] = await viewerLookup(db).execute({ tokenHash, now: now.toISOString() });
  return row;
}

/** At most this many sessions are kept per process (the least recently used go first). */
const MAX_KEPT_SESSIONS = 10_000;

/**
 * The viewers of signed-in requests, kept per process for at most `maxAgeMs`
 * from their read, so that a request reads its session from Postgres once in
 * that time rather than every time. Only sessions found are kept, under the
 * token's hash (never the token). A session ended by the API (logOut) is
 * announced as `sessions-ended` and dropped at once here and, through Redis,
 * in every other process; expiry is checked on every request. What is not
 * announced (a user deleted or given another role in SQL, an announcement lost
 * while Redis was unreachable for the writer) holds within `maxAgeMs`.
 */
export class KeptSessions {
  private readonly kept: LRUCache<string, { viewer: Viewer; expiresAt: number }> | undefined;
  /** Counts the session ends heard, so that a read they overlapped is not kept. */
  private sequence = 0;

  constructor(
    private readonly db: Database,
    changes: PublicDataChanges,
    maxAgeMs: number,
  ) {
    if (maxAgeMs <= 0) return;
    this.kept = new LRUCache({ max: MAX_KEPT_SESSIONS, ttl: maxAgeMs });
    changes.subscribe((change) => this.end(change));
  }

  /** The user behind a bearer token, unless the session is unknown, revoked or expired. */
  async findViewer(token: string, now: Date): Promise<Viewer | undefined> {
    const tokenHash = hashToken(token);
    const kept = this.kept?.get(tokenHash);
    if (kept && kept.expiresAt > now.getTime()) return kept.viewer;
    const started = this.sequence;
    const row = await findSession(this.db, tokenHash, now);
    if (!row) return undefined;
    const viewer = { user: row.user, sessionId: row.sessionId };
    if (this.kept && this.sequence === started) this.kept.set(tokenHash, { viewer, expiresAt: row.expiresAt.getTime() });
    return viewer;
  }

  private end(change: PublicDataChange) {
    if (change.kind !== 'everything' && change.kind !== 'sessions-ended') return;
    this.sequence += 1;
    if (change.kind === 'everything') {
      this.kept!.clear();
      return;
    }
    const ended = new Set(change.sessionIds);
    const hashes: string[] = [];
    for (const [tokenHash, { viewer }] of this.kept!.entries()) if (ended.has(viewer.sessionId)) hashes.push(tokenHash);
    for (const tokenHash of hashes) this.kept!.delete(tokenHash);
  }
}

export async function revokeSession(db: Database, sessionId: number, now: Date): Promise<void> {
  await db
    .update(sessions)
    .set({ revokedAt: now })
    .where(and(eq(sessions.id, sessionId), isNull(sessions.revokedAt)));
}
