import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { idIn } from '../../db/id-list';
import { userProfileColumns, users, type UserProfile } from '../../db/schema';

export async function findUsersByIds(db: Database, ids: readonly number[]): Promise<UserProfile[]> {
  return db.select(userProfileColumns).from(users).where(idIn(users.id, ids));
}

/** Usernames are unique regardless of case. */
export async function findUserByUsername(db: Database, username: string): Promise<UserProfile | undefined> {
  const [user] = await db
    .select(userProfileColumns)
    .from(users)
    .where(eq(sql`lower(${users.username})`, username.toLowerCase()));
  return user;
}
