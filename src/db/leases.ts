import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from './client';
import { jobLeases } from './schema';

export interface Lease {
  /** Extends the lease by its duration from now; false when it was lost (expired and taken over). */
  renew(): Promise<boolean>;
}

/**
 * Runs `work` holding the lease `name` for `durationMs` at a time, or answers
 * undefined at once when another holder's lease has not expired. `work` calls
 * renew() before each step that could outlast the lease and stops when it
 * answers false. The lease is given back when `work` ends, however it ends.
 */
export async function withLease<T>(db: Database, name: string, durationMs: number, work: (lease: Lease) => Promise<T>): Promise<T | undefined> {
  const holder = randomUUID();
  const until = sql`now() + make_interval(secs => ${durationMs / 1000})`;
  const taken = await db
    .insert(jobLeases)
    .values({ name, holder, expiresAt: until })
    .onConflictDoUpdate({
      target: jobLeases.name,
      set: { holder, expiresAt: until },
      setWhere: sql`${jobLeases.expiresAt} < now()`,
    })
    .returning({ holder: jobLeases.holder });
  if (taken.length === 0) return undefined;

  const mine = and(eq(jobLeases.name, name), eq(jobLeases.holder, holder));
  try {
    return await work({
      async renew() {
        const renewed = await db.update(jobLeases).set({ expiresAt: until }).where(mine).returning({ name: jobLeases.name });
        return renewed.length > 0;
      },
    });
  } finally {
    await db.delete(jobLeases).where(mine);
  }
}
