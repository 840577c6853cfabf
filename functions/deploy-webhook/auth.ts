/**
 * Shared-token authentication for the ArgoCD webhook, in constant time.
 *
 * Why HMACs and not `timingSafeEqual(presented, expected)` directly: timingSafeEqual throws (fast) on
 * different lengths, so a length check before it leaks the token's length, and a naive `===` leaks the
 * common prefix. Both sides are first HMAC-SHA256'd under a random per-container key: the digests always
 * have 32 bytes, compare in constant time whatever was sent, and an attacker cannot precompute them.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY = randomBytes(32);

const digest = (value: string): Buffer => createHmac('sha256', KEY).update(value, 'utf8').digest();

/** True when `presented` equals `expected`, in time independent of where or whether they differ. */
export function tokensMatch(presented: string, expected: string): boolean {
  const same = timingSafeEqual(digest(presented), digest(expected));
  // An empty configured token must never authenticate an empty presented one.
  return same && expected.length > 0;
}

/** The token of an `Authorization: Bearer <token>` header (header names arrive lower-cased), or undefined. */
export function bearerToken(headers: Readonly<Record<string, string | undefined>> | undefined): string | undefined {
  const value = headers?.['authorization'] ?? headers?.['Authorization'];
  const m = value === undefined ? null : /^Bearer[ ]+(\S+)\s*$/i.exec(value);
  return m?.[1];
}
