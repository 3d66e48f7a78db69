import { eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { users, type UserRow } from '../../db/schema';

export async function findUsersByIds(db: Database, ids: readonly number[]): Promise<UserRow[]> {
  return db.select().from(users).where(inArray(users.id, [...ids]));
}

/** Usernames are unique regardless of case. */
export async function findUserByUsername(db: Database, username: string): Promise<UserRow | undefined> {
  const [user] = await db
    .select()
    .from(users)
    .where(eq(sql`lower(${users.username})`, username.toLowerCase()));
  return user;
}
