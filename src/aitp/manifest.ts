import { sha256 } from '@noble/hashes/sha2.js';
import { randomBytes } from '@noble/hashes/utils.js';
import { type AidKey, AID_PATTERN, aidFromEd25519PublicKey, resolveAid } from './aid.js';
import { decodeB64u, encodeB64u } from './base64url.js';
import { jcsSha256 } from './jcs.js';
import { ed25519PublicKey, parseSignature, signDigest, signJcs, verifyDigestSignature } from './signature.js';
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

// The Agent Manifest (SPEC §5): built for the CP's own well-known endpoint, verified on enroll.

export const AITP_VERSION = 'aitp/0.2';
export const POP_CHALLENGE_BYTES = 16;
export const DISPLAY_NAME_MAX_CHARS = 128;

export type IdentityType = 'oidc' | 'pinned_key';

export interface IdentityHint {
  type: IdentityType;
  subject: string;
  issuer?: string;
  public_key?: string;
}

/** The inner manifest after structural validation (SPEC §5.2); wire member names. */
export interface Manifest {
  version: string;
  aid: string;
  display_name?: string;
  identity_hint: IdentityHint;
  handshake_endpoint: string;
  accepted_trust_anchors: string[];
  accepted_identity_types?: IdentityType[];
  accepted_signature_algorithms?: ('ed25519' | 'p256')[];
  offered_capabilities: string[];
  required_peer_capabilities?: string[];
  proof_of_possession: { challenge: string; signature: string };
  published_at: number;
  expires_at: number;
  extensions?: JsonObject;
  signature: string;
}

export interface ManifestEnvelope {
  manifest: Manifest;
}

/** The SDK's `verifyCode` values that manifest verification produces (SPEC §5.6). */
export type ManifestVerifyCode =
  | 'malformed'
  | 'version_unknown'
  | 'expired'
  | 'signature_invalid'
  | 'pop_failed'
  | 'identity_hint_malformed';

/** The spec registry codes (SPEC §5.5). */
export type ManifestSpecCode =
  | 'MANIFEST_INVALID'
  | 'UNKNOWN_FIELD'
  | 'MANIFEST_VERSION_UNKNOWN'
  | 'MANIFEST_EXPIRED'
  | 'MANIFEST_SIGNATURE_INVALID'
  | 'MANIFEST_POP_FAILED';

export interface ManifestRejection {
  ok: false;
  verifyCode: ManifestVerifyCode;
  specCode: ManifestSpecCode;
  /** Our own short explanation, for logs. */
  detail: string;
}

export type ManifestVerification =
  | { ok: true; manifest: Manifest; envelope: ManifestEnvelope; key: AidKey }
  | ManifestRejection;

export interface BuildManifestInput {
  seed: Uint8Array;
  displayName: string;
  handshakeEndpoint: string;
  acceptedTrustAnchors?: readonly string[];
  offeredCapabilities: readonly string[];
  publishedAt: number;
  ttlSecs: number;
  /** The 16 PoP challenge bytes; fresh random bytes when absent (SPEC §5.4 step 2). */
  challenge?: Uint8Array;
  /** Omitted from the manifest when absent or empty: never `"extensions": {}` (SPEC §3). */
  extensions?: Readonly<Record<string, unknown>>;
}

export interface BuiltManifest {
  /** The exact envelope bytes to serve until the next rebuild. */
  body: string;
  publishedAt: number;
  expiresAt: number;
  aid: string;
}

/** PoP signing input: SHA-256 of the raw challenge bytes, never of their b64u text (SPEC §4). */
export function popDigest(challenge: Uint8Array): Uint8Array {
  return sha256(challenge);
}

// Member rules shared by the builder and the verifier (SPEC §5.2, with the Decisions'
// exceptions: an http handshake endpoint and an empty trust-anchor list are accepted).

const URI_PATTERN = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\p{Cc}]+$/u;
const HANDSHAKE_ENDPOINT_PATTERN = /^https?:\/\/[^\s\p{Cc}]+$/u;
const CAPABILITY_PATTERN = /^\S+$/;
const HINT_PUBLIC_KEY_PATTERN = /^[A-Za-z0-9_-]{43,44}$/;

type Check = (value: JsonValue) => boolean;

const isString = (value: JsonValue): value is string => typeof value === 'string';
const isUri: Check = (value) => isString(value) && URI_PATTERN.test(value);
const isCapability: Check = (value) => isString(value) && CAPABILITY_PATTERN.test(value);
const isHandshakeEndpoint: Check = (value) => isString(value) && HANDSHAKE_ENDPOINT_PATTERN.test(value);
const isOneOf =
  (...allowed: string[]): Check =>
  (value) =>
    isString(value) && allowed.includes(value);

function isUniqueArrayOf(value: JsonValue, item: Check): boolean {
  return Array.isArray(value) && value.every(item) && new Set(value).size === value.length;
}

function isDisplayName(value: JsonValue): boolean {
  if (!isString(value)) return false;
  // JSON Schema maxLength counts code points; only long strings need the count.
  return value.length <= DISPLAY_NAME_MAX_CHARS || [...value].length <= DISPLAY_NAME_MAX_CHARS;
}

const MANIFEST_RULES: Readonly<Record<string, MemberRule>> = {
  version: { required: true, check: isString },
  aid: { required: true, check: (value) => isString(value) && AID_PATTERN.test(value) },
  display_name: { required: false, check: isDisplayName },
  identity_hint: { required: true, check: isJsonObject },
  handshake_endpoint: { required: true, check: isHandshakeEndpoint },
  accepted_trust_anchors: { required: true, check: (value) => isUniqueArrayOf(value, isUri) },
  accepted_identity_types: { required: false, check: (value) => isUniqueArrayOf(value, isOneOf('oidc', 'pinned_key')) },
  accepted_signature_algorithms: { required: false, check: (value) => isUniqueArrayOf(value, isOneOf('ed25519', 'p256')) },
  offered_capabilities: { required: true, check: (value) => isUniqueArrayOf(value, isCapability) },
  required_peer_capabilities: { required: false, check: (value) => isUniqueArrayOf(value, isCapability) },
  proof_of_possession: { required: true, check: isJsonObject },
  published_at: { required: true, check: (value) => isIntegerAtLeast(value, 0) },
  expires_at: { required: true, check: (value) => isIntegerAtLeast(value, 1) },
  extensions: { required: false, check: isJsonObject },
  // Signature and challenge text is parsed at the crypto steps, so that its failure reports
  // the SDK's signature_invalid / pop_failed (SPEC §5.6, case padded_signature).
  signature: { required: true, check: isString },
};

const IDENTITY_HINT_RULES: Readonly<Record<string, MemberRule>> = {
  type: { required: true, check: isOneOf('oidc', 'pinned_key') },
  subject: { required: true, check: (value) => isString(value) && value.length > 0 },
  issuer: { required: false, check: isUri },
  public_key: { required: false, check: (value) => isString(value) && HINT_PUBLIC_KEY_PATTERN.test(value) },
};

const POP_RULES: Readonly<Record<string, MemberRule>> = {
  challenge: { required: true, check: isString },
  signature: { required: true, check: isString },
};

// Building (SPEC §5.4, member order §8.1)

function assertBuildInput(input: BuildManifestInput, anchors: readonly string[], challenge: Uint8Array): void {
  const problems: string[] = [];
  if (!isDisplayName(input.displayName)) problems.push('displayName');
  if (!isHandshakeEndpoint(input.handshakeEndpoint)) problems.push('handshakeEndpoint');
  if (!isUniqueArrayOf([...anchors], isUri)) problems.push('acceptedTrustAnchors');
  if (!isUniqueArrayOf([...input.offeredCapabilities], isCapability)) problems.push('offeredCapabilities');
  if (!isIntegerAtLeast(input.publishedAt, 0)) problems.push('publishedAt');
  if (!isIntegerAtLeast(input.ttlSecs, 1) || !Number.isSafeInteger(input.publishedAt + input.ttlSecs)) problems.push('ttlSecs');
  if (challenge.length !== POP_CHALLENGE_BYTES) problems.push('challenge');
  if (problems.length > 0) throw new RangeError(`invalid manifest input: ${problems.join(', ')}`);
}

/** Builds and signs the CP's manifest envelope; throws RangeError on an invalid input. */
export function buildManifest(input: BuildManifestInput): BuiltManifest {
  const anchors = input.acceptedTrustAnchors ?? [];
  const challenge = input.challenge ?? randomBytes(POP_CHALLENGE_BYTES);
  assertBuildInput(input, anchors, challenge);
  const publicKey = ed25519PublicKey(input.seed);
  const aid = aidFromEd25519PublicKey(publicKey);
  const expiresAt = input.publishedAt + input.ttlSecs;
  const inner: Record<string, unknown> = {
    version: AITP_VERSION,
    aid,
    display_name: input.displayName,
    identity_hint: { type: 'pinned_key', subject: input.displayName, public_key: encodeB64u(publicKey) },
    handshake_endpoint: input.handshakeEndpoint,
    accepted_trust_anchors: [...anchors],
    accepted_identity_types: ['pinned_key'],
    offered_capabilities: [...input.offeredCapabilities],
    proof_of_possession: { challenge: encodeB64u(challenge), signature: signDigest(input.seed, popDigest(challenge)) },
    published_at: input.publishedAt,
    expires_at: expiresAt,
  };
  if (input.extensions !== undefined && Object.keys(input.extensions).length > 0) inner.extensions = input.extensions;
  inner.signature = signJcs(input.seed, inner);
  return { body: JSON.stringify({ manifest: inner }), publishedAt: input.publishedAt, expiresAt, aid };
}

// Verifying (SPEC §5.5 in the SDK's order; codes per §5.6)

function reject(verifyCode: ManifestVerifyCode, specCode: ManifestSpecCode, detail: string): ManifestRejection {
  return { ok: false, verifyCode, specCode, detail };
}

/** Step 3 for one object: an unknown member is UNKNOWN_FIELD, anything else MANIFEST_INVALID. */
function checkMembers(object: JsonObject, rules: Readonly<Record<string, MemberRule>>, path: string): ManifestRejection | null {
  const problem = findMemberProblem(object, rules);
  if (problem === null) return null;
  const specCode = problem.kind === 'unknown' ? 'UNKNOWN_FIELD' : 'MANIFEST_INVALID';
  return reject('malformed', specCode, describeMemberProblem(problem, path));
}

/** Steps 1–3: strict parse, the envelope, and the structure of the inner manifest. */
function parseEnvelope(raw: string | Uint8Array): ManifestRejection | { inner: JsonObject; envelope: JsonObject } {
  const parsed = parseStrictJson(raw);
  if (!parsed.ok) return reject('malformed', 'MANIFEST_INVALID', `invalid JSON: ${parsed.reason}`);
  const envelope = parsed.value;
  if (!isJsonObject(envelope) || !isJsonObject(envelope.manifest)) {
    return reject('malformed', 'MANIFEST_INVALID', 'not a ManifestEnvelope {"manifest": {...}}');
  }
  if (Object.keys(envelope).length !== 1) return reject('malformed', 'UNKNOWN_FIELD', 'unknown envelope member');
  const inner = envelope.manifest;
  const problem =
    checkMembers(inner, MANIFEST_RULES, '/manifest') ??
    checkMembers(inner.identity_hint as JsonObject, IDENTITY_HINT_RULES, '/manifest/identity_hint') ??
    checkMembers(inner.proof_of_possession as JsonObject, POP_RULES, '/manifest/proof_of_possession');
  return problem ?? { inner, envelope };
}

/** Step 7: the outer signature over SHA256(JCS(manifest minus signature)). */
function checkOuterSignature(manifest: Manifest, key: AidKey): ManifestRejection | null {
  const parsed = parseSignature(manifest.signature);
  if (parsed === null) return reject('signature_invalid', 'MANIFEST_INVALID', 'signature is not a valid signature string');
  const { signature: _signature, ...unsigned } = manifest;
  if (!verifyDigestSignature(key, jcsSha256(unsigned), parsed)) {
    return reject('signature_invalid', 'MANIFEST_SIGNATURE_INVALID', 'manifest signature does not verify');
  }
  return null;
}

/** Step 8: proof of possession over SHA256(decoded challenge). */
function checkProofOfPossession(manifest: Manifest, key: AidKey): ManifestRejection | null {
  const { challenge, signature } = manifest.proof_of_possession;
  const challengeBytes = decodeB64u(challenge, POP_CHALLENGE_BYTES);
  if (challengeBytes === null) return reject('pop_failed', 'MANIFEST_INVALID', 'challenge is not 16 base64url bytes');
  const parsed = parseSignature(signature);
  if (parsed === null) return reject('pop_failed', 'MANIFEST_INVALID', 'PoP signature is not a valid signature string');
  if (!verifyDigestSignature(key, popDigest(challengeBytes), parsed)) {
    return reject('pop_failed', 'MANIFEST_POP_FAILED', 'proof-of-possession does not verify');
  }
  return null;
}

/** Step 9: the conditional identity_hint rules (SPEC §5.3). */
function checkIdentityHint(hint: IdentityHint): ManifestRejection | null {
  const broken =
    hint.type === 'oidc'
      ? hint.issuer === undefined || hint.public_key !== undefined
      : hint.public_key === undefined;
  return broken ? reject('identity_hint_malformed', 'MANIFEST_INVALID', `identity_hint breaks the ${hint.type} rules`) : null;
}

/**
 * Verifies a ManifestEnvelope from its raw bytes at `nowSecs` (SPEC §5.5): strict parse,
 * shape, version, expiry (`now >= expires_at` is expired), AID key, outer signature, PoP,
 * identity hint. The CP's 5-minute enrollment guard is the caller's policy, not done here.
 */
export function verifyManifest(raw: string | Uint8Array, nowSecs: number): ManifestVerification {
  if (!Number.isFinite(nowSecs)) throw new TypeError('nowSecs must be a finite number');
  const parsed = parseEnvelope(raw);
  if ('ok' in parsed) return parsed;
  const manifest = parsed.inner as unknown as Manifest;
  if (manifest.version !== AITP_VERSION) return reject('version_unknown', 'MANIFEST_VERSION_UNKNOWN', 'unsupported version');
  if (nowSecs >= manifest.expires_at) return reject('expired', 'MANIFEST_EXPIRED', 'manifest has expired');
  const resolved = resolveAid(manifest.aid);
  if (!resolved.ok) return reject('malformed', 'MANIFEST_INVALID', `aid does not name a usable key (${resolved.reason})`);
  const key: AidKey = { alg: resolved.alg, publicKey: resolved.publicKey };
  const problem =
    checkOuterSignature(manifest, key) ?? checkProofOfPossession(manifest, key) ?? checkIdentityHint(manifest.identity_hint);
  if (problem !== null) return problem;
  return { ok: true, manifest, envelope: parsed.envelope as unknown as ManifestEnvelope, key };
}
