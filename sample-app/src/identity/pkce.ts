import { createHash, timingSafeEqual } from 'node:crypto';

// RFC 7636 §4.1: 43 to 128 characters of [A-Z] / [a-z] / [0-9] / "-" / "." / "_" / "~"
const VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
// §4.2: BASE64URL(SHA256(verifier)) is always 43 characters
const S256_CHALLENGE = /^[A-Za-z0-9\-_]{43}$/;

export const isS256Challenge = (challenge: unknown): challenge is string => typeof challenge === 'string' && S256_CHALLENGE.test(challenge);

/** RFC 7636 §4.6: BASE64URL-ENCODE(SHA256(ASCII(code_verifier))) == code_challenge. */
export function verifyS256(verifier: unknown, challenge: string): boolean {
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier)) return false;
  const computed = Buffer.from(createHash('sha256').update(verifier, 'ascii').digest('base64url'));
  const expected = Buffer.from(challenge);
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
