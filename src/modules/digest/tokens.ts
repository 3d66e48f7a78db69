import { createHash, createHmac, randomBytes } from 'node:crypto';

/** What the database keeps of a token: its SHA-256, as for sessions. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

/** A confirmation token: 256 random bits, mailed once; only its hash is stored. */
export const newConfirmToken = () => randomBytes(32).toString('base64url');

/**
 * The unsubscribe token of an address: an HMAC of the address under a server
 * secret. Every digest must carry it, yet only its hash is stored; being
 * derived, it is rebuilt for each edition, stays the same across editions
 * and resubscriptions, and cannot be forged or read back from the database
 * without the secret. Changing the secret voids the links of mails already
 * sent; each subscriber's next digest stores the hash of the new token.
 */
export function unsubscribeToken(secret: string, email: string): string {
  return createHmac('sha256', secret).update(`digest-unsubscribe:${email.toLowerCase()}`).digest('base64url');
}
