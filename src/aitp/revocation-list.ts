import { AID_PATTERN, deriveAid, resolveAid } from './aid.js';
import { jcsSha256 } from './jcs.js';
import { AITP_VERSION } from './manifest.js';
import { parseSignature, signJcs, verifyDigestSignature } from './signature.js';
import {
  describeMemberProblem,
  findMemberProblem,
  isIntegerAtLeast,
  isJsonObject,
  type JsonObject,
  type JsonValue,
  type MemberRule,
  parseStrictJson,
} from './strict-json.js';

// The signed revocation snapshot (SPEC §6). The signature sits beside the body and covers
// SHA256(JCS(revocation_list)), the inner body only. The legacy wrapped form is neither
// emitted nor accepted (contract ruling 19).

const UUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
const UPPER_HEX = /[A-F]/;

export interface RevocationEntryInput {
  jti: string;
  revokedAt: number;
  reason?: string | null;
}

export interface BuildRevocationListInput {
  seed: Uint8Array;
  publishedAt: number;
  ttlSecs: number;
  entries: readonly RevocationEntryInput[];
}

export interface BuiltRevocationList {
  /** The exact envelope bytes to serve. */
  body: string;
  publishedAt: number;
  expiresAt: number;
  entryCount: number;
}

export interface RevocationEntry {
  jti: string;
  revoked_at: number;
  reason?: string;
}

/** A verified `revocation_list` body; wire member names, `jti` lower-case. */
export interface RevocationList {
  version: string;
  issuer: string;
  published_at: number;
  expires_at: number;
  entries: RevocationEntry[];
  extensions?: JsonObject;
}

/** The SDK's codes for snapshot verification (SPEC §6.3). */
export type RevocationVerifyCode = 'malformed' | 'version_unknown' | 'expired' | 'issuer_mismatch' | 'signature_invalid';

export type RevocationListVerification =
  | { ok: true; revocationList: RevocationList }
  | { ok: false; code: RevocationVerifyCode; detail: string };

/** True for a UUID in 8-4-4-4-12 hex form, any case. */
export function isUuid(text: string): boolean {
  return UUID_PATTERN.test(text);
}

function toEntry(input: RevocationEntryInput): RevocationEntry {
  if (!isUuid(input.jti)) throw new RangeError('revocation entry jti is not a UUID');
  if (!isIntegerAtLeast(input.revokedAt, 0)) throw new RangeError('revocation entry revokedAt is not a timestamp');
  // SPEC §6.2: the SDK re-serializes jti lower-case before verifying, so emit it lower-case;
  // a null reason is omitted, never emitted as null (SPEC §3).
  const entry: RevocationEntry = { jti: input.jti.toLowerCase(), revoked_at: input.revokedAt };
  if (input.reason !== undefined && input.reason !== null) entry.reason = input.reason;
  return entry;
}

function compareEntries(a: RevocationEntry, b: RevocationEntry): number {
  if (a.revoked_at !== b.revoked_at) return a.revoked_at - b.revoked_at;
  return a.jti < b.jti ? -1 : a.jti > b.jti ? 1 : 0;
}

/**
 * Builds and signs the inner-body snapshot (SPEC §6.2): entries ordered by revoked_at, then
 * jti, for byte stability; no `extensions` (SDK 0.4.x rejects it). Throws RangeError on bad input.
 */
export function buildRevocationList(input: BuildRevocationListInput): BuiltRevocationList {
  const { seed, publishedAt, ttlSecs } = input;
  const expiresAt = publishedAt + ttlSecs;
  if (!isIntegerAtLeast(publishedAt, 0) || !isIntegerAtLeast(ttlSecs, 1) || !Number.isSafeInteger(expiresAt)) {
    throw new RangeError('invalid revocation list timestamps');
  }
  const entries = input.entries.map(toEntry).sort(compareEntries);
  const revocationList = {
    version: AITP_VERSION,
    issuer: deriveAid(seed),
    published_at: publishedAt,
    expires_at: expiresAt,
    entries,
  };
  const signature = signJcs(seed, revocationList);
  const body = JSON.stringify({ revocation_list: revocationList, signature });
  return { body, publishedAt, expiresAt, entryCount: entries.length };
}

const isString = (value: JsonValue): value is string => typeof value === 'string';

const ENTRY_RULES: Readonly<Record<string, MemberRule>> = {
  jti: { required: true, check: (value) => isString(value) && isUuid(value) },
  revoked_at: { required: true, check: (value) => isIntegerAtLeast(value, 0) },
  reason: { required: false, check: isString },
};

const isEntry = (value: JsonValue): boolean => isJsonObject(value) && findMemberProblem(value, ENTRY_RULES) === null;

const LIST_RULES: Readonly<Record<string, MemberRule>> = {
  version: { required: true, check: isString },
  issuer: { required: true, check: (value) => isString(value) && AID_PATTERN.test(value) },
  published_at: { required: true, check: (value) => isIntegerAtLeast(value, 0) },
  expires_at: { required: true, check: (value) => isIntegerAtLeast(value, 1) },
  entries: { required: true, check: (value) => Array.isArray(value) && value.every(isEntry) },
  extensions: { required: false, check: isJsonObject },
};

const ENVELOPE_RULES: Readonly<Record<string, MemberRule>> = {
  revocation_list: { required: true, check: isJsonObject },
  signature: { required: true, check: isString },
};

type Failure = Extract<RevocationListVerification, { ok: false }>;

function fail(code: RevocationVerifyCode, detail: string): Failure {
  return { ok: false, code, detail };
}

/** Step 1: strict JSON and exactly the members SPEC §6.1 allows. */
function parseSnapshot(raw: string | Uint8Array): Failure | { list: RevocationList; signature: string } {
  const parsed = parseStrictJson(raw);
  if (!parsed.ok) return fail('malformed', `invalid JSON: ${parsed.reason}`);
  const envelope = parsed.value;
  if (!isJsonObject(envelope)) return fail('malformed', 'not a revocation snapshot object');
  const envelopeProblem = findMemberProblem(envelope, ENVELOPE_RULES);
  if (envelopeProblem !== null) return fail('malformed', describeMemberProblem(envelopeProblem, ''));
  const listProblem = findMemberProblem(envelope.revocation_list as JsonObject, LIST_RULES);
  if (listProblem !== null) return fail('malformed', describeMemberProblem(listProblem, '/revocation_list'));
  return { list: envelope.revocation_list as unknown as RevocationList, signature: envelope.signature as string };
}

/**
 * The SDK parses each jti as a UUID and writes it back lower-case before it checks the
 * signature (SPEC §6.2), so an upper-case jti signed verbatim fails as it does for SDK
 * consumers. Copies only when some jti is not lower-case already.
 */
function signingView(list: RevocationList): RevocationList {
  if (!list.entries.some((entry) => UPPER_HEX.test(entry.jti))) return list;
  return { ...list, entries: list.entries.map((entry) => ({ ...entry, jti: entry.jti.toLowerCase() })) };
}

/**
 * Verifies a snapshot from its raw bytes (SPEC §6.3 steps 1–5) against the issuer pinned out
 * of band: shape, version, expiry (`now >= expires_at` is expired), issuer, signature.
 */
export function verifyRevocationList(raw: string | Uint8Array, expectedIssuer: string, nowSecs: number): RevocationListVerification {
  if (!Number.isFinite(nowSecs)) throw new TypeError('nowSecs must be a finite number');
  const parsed = parseSnapshot(raw);
  if ('ok' in parsed) return parsed;
  const { list, signature } = parsed;
  if (list.version !== AITP_VERSION) return fail('version_unknown', 'unsupported version');
  if (nowSecs >= list.expires_at) return fail('expired', 'snapshot has expired');
  if (list.issuer !== expectedIssuer) return fail('issuer_mismatch', 'issuer is not the expected issuer');
  const key = resolveAid(list.issuer);
  if (!key.ok) return fail('malformed', `issuer does not name a usable key (${key.reason})`);
  const parsedSignature = parseSignature(signature);
  const view = signingView(list);
  if (parsedSignature === null || !verifyDigestSignature(key, jcsSha256(view), parsedSignature)) {
    return fail('signature_invalid', 'snapshot signature does not verify over the inner body');
  }
  return { ok: true, revocationList: view };
}

/** True when `jti` is on the verified deny list (SPEC §6.3 step 7). */
export function isRevoked(list: RevocationList, jti: string): boolean {
  const wanted = jti.toLowerCase();
  return list.entries.some((entry) => entry.jti === wanted);
}

export type RevocationFailMode = 'fail_closed' | 'soft_fail' | 'fail_open';

export interface RevocationPolicy {
  failMode: RevocationFailMode;
  maxStalenessSecs: number;
}

/** `not_revoked_safe_subset`: allowed, with grants narrowed to a safe subset (soft_fail). */
export type RevocationDecision = 'revoked' | 'not_revoked' | 'not_revoked_safe_subset';

/**
 * SPEC §6.3 steps 6–7, a consumer policy. `snapshot` is a verified snapshot, or null when none
 * could be obtained. A snapshot that failed verification is an authenticity failure, which the
 * fail modes must never soften: do not pass it here as null.
 */
export function decideRevocation(
  snapshot: RevocationList | null,
  jti: string,
  nowSecs: number,
  policy: RevocationPolicy,
): RevocationDecision {
  const isFresh = snapshot !== null && nowSecs - snapshot.published_at <= policy.maxStalenessSecs;
  if (isFresh) return isRevoked(snapshot, jti) ? 'revoked' : 'not_revoked';
  if (policy.failMode === 'fail_closed') return 'revoked';
  return policy.failMode === 'soft_fail' ? 'not_revoked_safe_subset' : 'not_revoked';
}
