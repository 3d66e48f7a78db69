import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Passwords are hashed with scrypt (memory-hard, in node:crypto). The stored
 * string carries its own parameters, so raising the cost later keeps old
 * hashes verifiable: "scrypt$<log2 N>$<r>$<p>$<salt>$<hash>".
 */
const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

/** Password length in code points of the normalized form: what is hashed, counted once the same way everywhere. */
export const PASSWORD_LENGTH = { min: 8, max: 256 };

/** A UTF-16 surrogate without its partner: UTF-8 would turn it into U+FFFD, so two different passwords would hash alike. */
const LONE_SURROGATE = /\p{Cs}/u;

/** What is hashed: the NFKC form, so the same password typed on another keyboard or system matches. */
const normalizePassword = (password: string) => password.normalize('NFKC');

/**
 * The one password rule, for every path that takes a password (signUp,
 * logIn, the dashboard's Basic auth): well-formed Unicode, and 8 to 256 code
 * points once normalized as hashing normalizes it. Returns what is wrong, or
 * undefined for an acceptable password. A password it refuses is never
 * hashed and never matches.
 */
export function passwordProblem(password: string): string | undefined {
  if (LONE_SURROGATE.test(password)) return 'not valid Unicode (a lone surrogate)';
  let length = 0;
  for (const _codePoint of normalizePassword(password)) length += 1;
  if (length < PASSWORD_LENGTH.min) return `at least ${PASSWORD_LENGTH.min} characters`;
  if (length > PASSWORD_LENGTH.max) return `at most ${PASSWORD_LENGTH.max} characters`;
  return undefined;
}

/**
 * Whether a password given to sign in could match a stored hash: well-formed
 * Unicode, and not so long that hashing it is work for nothing. The length
 * floor is for new passwords only: accounts made before this rule may hold a
 * shorter one (counted in UTF-16 units then), and must still sign in.
 */
export function mayMatchStoredPassword(password: string): boolean {
  return !LONE_SURROGATE.test(password) && password.length <= 4 * PASSWORD_LENGTH.max;
}

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  // Never hash what the rule refuses: a lone surrogate would collapse into U+FFFD.
  if (LONE_SURROGATE.test(password)) return Promise.reject(new Error('refusing to hash a password that is not valid Unicode'));
  return new Promise((resolve, reject) =>
    scrypt(normalizePassword(password), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

const optionsFor = (log2Cost: number, blockSize: number, parallelism: number): ScryptOptions => ({
  N: 2 ** log2Cost,
  r: blockSize,
  p: parallelism,
  maxmem: 256 * 2 ** log2Cost * blockSize,
});

export async function hashPassword(password: string, log2Cost: number): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, optionsFor(log2Cost, BLOCK_SIZE, PARALLELISM));
  return ['scrypt', log2Cost, BLOCK_SIZE, PARALLELISM, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, log2Cost, blockSize, parallelism, salt, key] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !key) return false;
  const expected = Buffer.from(key, 'base64');
  const actual = await derive(password, Buffer.from(salt, 'base64'), optionsFor(Number(log2Cost), Number(blockSize), Number(parallelism)));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** The log2 cost a stored hash was made with. */
export function hashCost(stored: string): number {
  return Number(stored.split('$')[1]);
}
