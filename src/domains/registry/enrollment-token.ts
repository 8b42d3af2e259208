import { createHmac, timingSafeEqual } from 'node:crypto';
import { decodeB64u, encodeB64u, jcsSha256 } from '../../aitp/index.js';

// The one token the CP mints (API.md §2.1): `<b64url(payload JSON)>.<b64url(HMAC-SHA256)>`,
// single-use (its jti is burned at register), bound to one manifest by `mh`.

export const TOKEN_TTL_SECS = 300;
const MAC_BYTES = 32;
const B64U_PART = /^[A-Za-z0-9_-]+$/;
const MAX_JTI_CHARS = 64;

export interface TokenPayload {
  sub: string;
  scope: 'register';
  iat: number;
  exp: number;
  jti: string;
  mh: string;
}

/** What register needs once the token is accepted. */
export interface EnrollmentGrant {
  aid: string;
  jti: string;
  exp: number;
}

/** The HMAC keys: `current` signs; every key verifies (OPERATIONS.md §7.3 rotation window). */
export interface TokenKeys {
  current: string;
  all: readonly string[];
}

/** A secret is usable when it is at least 32 characters (OPERATIONS.md §2.3). */
export function tokenKeys(current: string | undefined, previous: readonly string[]): TokenKeys | undefined {
  if (current === undefined || current.length < 32) return undefined;
  return { current, all: [current, ...previous.filter((s) => s.length >= 32)] };
}

/** `mh`: b64url(sha256(JCS(body))), equal for every re-serialization of the same JSON. */
export function manifestHash(body: unknown): string {
  return encodeB64u(jcsSha256(body));
}

function mac(secret: string, payloadB64: string): Buffer {
  return createHmac('sha256', secret).update(payloadB64, 'ascii').digest();
}

export function mintToken(secret: string, payload: TokenPayload): string {
  // Key order is normative (API.md §2.1): sub, scope, iat, exp, jti, mh.
  const { sub, scope, iat, exp, jti, mh } = payload;
  const payloadB64 = Buffer.from(JSON.stringify({ sub, scope, iat, exp, jti, mh }), 'utf8').toString('base64url');
  return `${payloadB64}.${encodeB64u(mac(secret, payloadB64))}`;
}

/** MAC check against every key, in constant time and with no early exit. */
function macMatches(keys: TokenKeys, payloadB64: string, presented: Uint8Array): boolean {
  let matched = false;
  for (const secret of keys.all) {
    if (timingSafeEqual(mac(secret, payloadB64), presented)) matched = true;
  }
  return matched;
}

function parsePayload(payloadB64: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(payloadB64, 'base64url').toString('utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export interface TokenExpectation {
  nowSecs: number;
  aid: string;
  mh: string;
}

/**
 * API.md §2.3 step 3: shape, MAC, payload, scope, `now ≤ exp`, `sub = aid`, jti 1–64 chars,
 * `mh` = hash of this body. Returns undefined for any failure; the caller answers TOKEN_INVALID
 * without saying which check failed.
 */
export function verifyToken(token: string | undefined, keys: TokenKeys, expected: TokenExpectation): EnrollmentGrant | undefined {
  const parts = token?.split('.') ?? [];
  if (parts.length !== 2 || !parts.every((part) => B64U_PART.test(part))) return undefined;
  const [payloadB64, macB64] = parts as [string, string];
  const presented = decodeB64u(macB64, MAC_BYTES);
  if (presented === null || !macMatches(keys, payloadB64, presented)) return undefined;
  const payload = parsePayload(payloadB64);
  if (payload === undefined) return undefined;
  const { sub, scope, exp, jti, mh } = payload;
  if (scope !== 'register' || !Number.isSafeInteger(exp) || expected.nowSecs > (exp as number)) return undefined;
  if (sub !== expected.aid || typeof mh !== 'string' || mh !== expected.mh) return undefined;
  if (typeof jti !== 'string' || jti.length < 1 || jti.length > MAX_JTI_CHARS) return undefined;
  return { aid: sub, jti, exp: exp as number };
}
