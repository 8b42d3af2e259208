import type { Manifest } from '../../aitp/index.js';
import { type AppError, badRequest, bodyInvalid, manifestExpired, manifestInvalid } from '../../lib/errors.js';
import { MAX_AID_LENGTH } from '../../lib/schemas.js';

// The CP's own rules on top of the verifier (API.md §2.1 steps 5–8, §2.3 steps 6–8, §2.4).

/** Step 7: a token lives 300 s, so the manifest must outlive it (SPEC.md §5.5 step 10). */
export const EXPIRY_GUARD_SECS = 300;
/** 9999-12-31T23:59:59Z, the last instant a timestamptz column and the API can carry. */
const MAX_EXPIRES_AT = 253_402_300_799;
const MAX_DISPLAY_NAME = 256;
const MAX_ENDPOINT = 2048;
const MAX_CAPS = 256;
const MAX_CAP = 256;
const MAX_NAMESPACE = 128;
const CONTROL_CHARS = /\p{Cc}/u;

/** The `agents` columns a manifest fills (§2.4); namespace is resolved at register. */
export interface AgentFields {
  aid: string;
  displayName: string;
  handshakeEndpoint: string;
  offeredCaps: string[];
  manifestExpiresAt: Date | null;
  /** `manifest.extensions.namespace`, already checked. */
  extensionNamespace: string | undefined;
}

/** A policy rejection and its `enroll_verification_failures_total` label (OPERATIONS.md §15). */
export interface PolicyRejection {
  error: AppError;
  metricCode: 'cp_field' | 'cp_expiry_guard';
}

export type PolicyResult = { ok: true; fields: AgentFields } | ({ ok: false } & PolicyRejection);

/** Code points, as Postgres varchar(n) counts them (contract README §Bodies and validation). */
function chars(text: string): number {
  return text.length <= 1 ? text.length : [...text].length;
}

function isHttpUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const protocol = new URL(text).protocol;
  return protocol === 'http:' || protocol === 'https:';
}

function fieldProblem(manifest: Manifest): AppError | undefined {
  const displayName = manifest.display_name;
  if (displayName !== undefined && chars(displayName) > MAX_DISPLAY_NAME) {
    return bodyInvalid(`display_name exceeds ${MAX_DISPLAY_NAME} characters`, '/manifest/display_name');
  }
  const endpoint = manifest.handshake_endpoint;
  if (chars(endpoint) > MAX_ENDPOINT || !isHttpUrl(endpoint)) {
    return bodyInvalid(`handshake_endpoint must be an absolute http(s) URL of at most ${MAX_ENDPOINT} characters`, '/manifest/handshake_endpoint');
  }
  const caps = manifest.offered_capabilities;
  if (caps.length > MAX_CAPS) return bodyInvalid(`at most ${MAX_CAPS} offered capabilities`, '/manifest/offered_capabilities');
  const bad = caps.findIndex((cap) => cap.length === 0 || chars(cap) > MAX_CAP);
  if (bad >= 0) return bodyInvalid(`a capability is 1–${MAX_CAP} characters`, `/manifest/offered_capabilities/${bad}`);
  const namespace = manifest.extensions?.['namespace'];
  if (namespace !== undefined && (typeof namespace !== 'string' || namespace.length === 0 || chars(namespace) > MAX_NAMESPACE)) {
    return bodyInvalid(`extensions.namespace must be a string of 1–${MAX_NAMESPACE} characters`, '/manifest/extensions/namespace');
  }
  return undefined;
}

/** Steps 5–8 on a manifest the verifier accepted, at `nowSecs`. */
export function checkManifestPolicy(manifest: Manifest, nowSecs: number): PolicyResult {
  const { aid, expires_at: expiresAt } = manifest as { aid: unknown; expires_at: unknown };
  if (typeof aid !== 'string' || !aid.startsWith('aid:') || chars(aid) > MAX_AID_LENGTH) {
    return { ok: false, metricCode: 'cp_field', error: manifestInvalid(`aid must start with "aid:" and be at most ${MAX_AID_LENGTH} characters`) };
  }
  const hasExpiry = expiresAt !== undefined && expiresAt !== null;
  if (hasExpiry && !(Number.isSafeInteger(expiresAt) && (expiresAt as number) >= 0 && (expiresAt as number) <= MAX_EXPIRES_AT)) {
    return { ok: false, metricCode: 'cp_field', error: manifestInvalid('expires_at must be an integer in [0, 253402300799]') };
  }
  if (hasExpiry && (expiresAt as number) < nowSecs + EXPIRY_GUARD_SECS) {
    return { ok: false, metricCode: 'cp_expiry_guard', error: manifestExpired(`manifest must stay valid for at least ${EXPIRY_GUARD_SECS} s`) };
  }
  const problem = fieldProblem(manifest);
  if (problem !== undefined) return { ok: false, metricCode: 'cp_field', error: problem };
  const namespace = manifest.extensions?.['namespace'];
  return {
    ok: true,
    fields: {
      aid,
      displayName: manifest.display_name ?? aid,
      handshakeEndpoint: manifest.handshake_endpoint,
      offeredCaps: [...manifest.offered_capabilities],
      manifestExpiresAt: hasExpiry ? new Date((expiresAt as number) * 1000) : null,
      extensionNamespace: typeof namespace === 'string' ? namespace : undefined,
    },
  };
}

/**
 * API.md §2.3: `X-Aitp-Namespace` (trimmed; empty is ignored; 1–128 characters, no control
 * characters) → `manifest.extensions.namespace` → `default`.
 */
export function resolveNamespace(header: string | string[] | undefined, fromManifest: string | undefined): string {
  const value = (Array.isArray(header) ? header.join(', ') : (header ?? '')).trim();
  if (value === '') return fromManifest ?? 'default';
  if (chars(value) > MAX_NAMESPACE || CONTROL_CHARS.test(value)) {
    throw badRequest(`X-Aitp-Namespace must be 1–${MAX_NAMESPACE} characters without control characters`, 'x-aitp-namespace');
  }
  return value;
}
