import { eq, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import type { AppConfig } from '../../config';
import type { Database } from '../../db/client';
import { users, type UserRow } from '../../db/schema';
import { AppError, badUserInput } from '../../errors';
import type { RateLimiter, RateLimiters } from '../../rate-limit';
import { hashCost, hashPassword, mayMatchStoredPassword, passwordProblem, verifyPassword } from './passwords';
import { createSession } from './sessions';

const USERNAME = /^[A-Za-z0-9_-]{3,30}$/;

const signUpSchema = z.object({
  username: z.string().regex(USERNAME, '3 to 30 characters: letters, digits, "-" and "_"'),
  email: z.string().trim().max(254, 'at most 254 characters').pipe(z.email('expected an address like ada@example.org')),
  password: z.string().superRefine((password, context) => {
    const problem = passwordProblem(password);
    if (problem) context.addIssue({ code: 'custom', message: problem });
  }),
});

export interface AuthResult {
  token: string;
  user: UserRow;
}

/** Hashes compared against when the account does not exist, so a failed logIn takes as long either way; by cost. */
const decoyHashes = new Map<number, Promise<string>>();

/** The decoy for `cost`, computed once; call at start so the first unknown login is not the slow one. */
export function decoyHash(cost: number): Promise<string> {
  let hash = decoyHashes.get(cost);
  if (!hash) {
    hash = hashPassword('decoy password', cost);
    decoyHashes.set(cost, hash);
  }
  return hash;
}

const invalidCredentials = () => new AppError('UNAUTHENTICATED', 'Wrong username, email or password.');

/**
 * Creates an account and signs it in. The address is not checked here: it
 * waits as the account's pending address (see email-verification.ts), so the
 * answer, and the work behind it, are the same whether or not it has an
 * account. Only a taken username (public anyway) is CONFLICT.
 */
export async function signUp(
  db: Database,
  config: AppConfig,
  input: { username: string; email: string; password: string },
  now: Date,
): Promise<AuthResult> {
  const parsed = signUpSchema.safeParse(input);
  if (!parsed.success) {
    const [issue] = parsed.error.issues;
    const field = String(issue!.path[0]);
    throw badUserInput(`Invalid ${field}: ${issue!.message}.`, { field });
  }
  const { username, email, password } = parsed.data;
  const usernameTaken = () => new AppError('CONFLICT', `The username "${username}" is taken.`, { field: 'username' });
  const [taken] = await db
    .select({ id: users.id })
    .from(users)
    .where(eq(sql`lower(${users.username})`, username.toLowerCase()));
  if (taken) throw usernameTaken();

  const passwordHash = await hashPassword(password, config.passwordHashCost);
  return db.transaction(async (tx) => {
    const [user] = await tx.insert(users).values({ username, pendingEmail: email, passwordHash, createdAt: now }).onConflictDoNothing().returning();
    // Someone took the name since the check above.
    if (!user) throw usernameTaken();
    const token = await createSession(tx, user.id, now, config.sessionTtlDays);
    return { token, user };
  });
}

/**
 * The account a username or email and password belong to, or undefined. It
 * takes as long whether or not the account exists (a decoy hash stands in),
 * and brings a hash made at another cost up to the current one.
 */
export async function verifyCredentials(
  db: Database,
  config: AppConfig,
  input: { usernameOrEmail: string; password: string },
): Promise<UserRow | undefined> {
  const identifier = input.usernameOrEmail.trim().toLowerCase();
  // A password that could not have been hashed matches nothing.
  if (!mayMatchStoredPassword(input.password) || identifier.length > 254) return undefined;
  const [user] = await db
    .select()
    .from(users)
    .where(or(eq(sql`lower(${users.username})`, identifier), eq(sql`lower(${users.email})`, identifier)))
    .limit(1);
  const matches = await verifyPassword(input.password, user?.passwordHash ?? (await decoyHash(config.passwordHashCost)));
  if (!user?.passwordHash || !matches) return undefined;
  if (hashCost(user.passwordHash) !== config.passwordHashCost) {
    // The cost setting changed: bring this hash up to it, so every account takes as long to check.
    const passwordHash = await hashPassword(input.password, config.passwordHashCost);
    await db.update(users).set({ passwordHash }).where(eq(users.id, user.id));
    return { ...user, passwordHash };
  }
  return user;
}

/** The limits a password check counts against. */
export type SignInLimiters = Pick<RateLimiters, 'auth' | 'signInFailures' | 'signInFailuresPerLogin' | 'signInFailuresDuringAttack'>;

const isRateLimited = (error: unknown) => error instanceof AppError && error.extensions.code === 'RATE_LIMITED';

/** Whether `key` holds more failures than `limiter` allows, spending nothing. */
async function isSpent(limiter: RateLimiter, key: string): Promise<boolean> {
  try {
    await limiter.consume(key, 0);
    return false;
  } catch (error) {
    if (isRateLimited(error)) return true;
    throw error;
  }
}

/**
 * verifyCredentials under the sign-in limits, for logIn and the dashboard's
 * Basic auth. Every check counts against its client address's allowance; a
 * failed one counts against the (login name, client address) pair, and a
 * pair out of allowance is refused. Others' failures, from other addresses,
 * thus never refuse the owner's correct password from an address that has
 * not failed.
 *
 * Against many addresses guessing at one name: once the name's failures
 * across addresses pass their cap, the name is under attack, and an address
 * that has already failed twice for it within the hour is refused. A new
 * address still gets its check (the owner's way in), but each address's
 * guesses at that name drop to two an hour.
 */
export async function checkSignIn(
  db: Database,
  config: AppConfig,
  limiters: SignInLimiters,
  clientAddress: string,
  input: { usernameOrEmail: string; password: string },
): Promise<UserRow | undefined> {
  await limiters.auth.consume(`address:${clientAddress}`);
  const login = input.usernameOrEmail.trim().toLowerCase().slice(0, 254);
  const pair = JSON.stringify([login, clientAddress]);
  await limiters.signInFailures.consume(pair, 0);
  if (await isSpent(limiters.signInFailuresPerLogin, login)) await limiters.signInFailuresDuringAttack.consume(pair, 0);
  const user = await verifyCredentials(db, config, input);
  if (!user) {
    // A failure that spends an allowance is still answered as a wrong password; the next check is refused.
    for (const [limiter, key] of [
      [limiters.signInFailures, pair],
      [limiters.signInFailuresPerLogin, login],
      [limiters.signInFailuresDuringAttack, pair],
    ] as const) {
      await limiter.consume(key).catch((error: unknown) => {
        if (!isRateLimited(error)) throw error;
      });
    }
  }
  return user;
}

/** Signs in by username or email under the sign-in limits; the error never says which part was wrong. */
export async function logIn(
  db: Database,
  config: AppConfig,
  limiters: SignInLimiters,
  clientAddress: string,
  input: { usernameOrEmail: string; password: string },
  now: Date,
): Promise<AuthResult> {
  const user = await checkSignIn(db, config, limiters, clientAddress, input);
  if (!user) throw invalidCredentials();
  return { token: await createSession(db, user.id, now, config.sessionTtlDays), user };
}
