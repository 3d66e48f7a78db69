import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

/**
 * Passwords are hashed with scrypt (memory-hard, in node:crypto). The stored
 * string carries its own parameters, so raising the cost later keeps old
 * hashes verifiable: "scrypt$<log2 N>$<r>$<p>$<salt>$<hash>".
 */
const KEY_LENGTH = 32;
const BLOCK_SIZE = 8;
const PARALLELISM = 1;

function derive(password: string, salt: Buffer, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFKC'), salt, KEY_LENGTH, options, (error, key) => (error ? reject(error) : resolve(key))),
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
