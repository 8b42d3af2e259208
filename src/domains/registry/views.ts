import { jsonIso, type TextRow } from '../../db/raw-query.js';
import { jsonString } from '../../lib/json-text.js';
import { toIso } from '../../lib/timestamps.js';
import type { AgentRow } from './repository.js';

/** AIDs are `aid:<type>:<base64url>`: only the colons need encoding in a path segment. */
const PLAIN_AID = /^[A-Za-z0-9_.~:-]*$/;

/** `manifestUrl` (API.md §0.5): the path of the raw manifest route for this aid. */
export function manifestUrlOf(aid: string): string {
  const segment = PLAIN_AID.test(aid) ? aid.replaceAll(':', '%3A') : encodeURIComponent(aid);
  return `/api/registry/agents/${segment}/manifest`;
}

/** `<protocol>//<host>/.well-known/aitp-manifest` of the handshake endpoint, null if unparseable. */
function agentManifestHintOf(handshakeEndpoint: string): string | null {
  let url: URL;
  try {
    url = new URL(handshakeEndpoint);
  } catch {
    return null;
  }
  return `${url.protocol}//${url.host}/.well-known/aitp-manifest`;
}

/**
 * The hint is a pure function of the endpoint text, and parsing a URL costs more than the rest
 * of a discovery row, so results are remembered; the map is emptied when it reaches its cap.
 */
const MAX_HINTS = 10_000;
const hints = new Map<string, string | null>();

function hintJson(handshakeEndpoint: string): string {
  let hint = hints.get(handshakeEndpoint);
  if (hint === undefined) {
    if (hints.size >= MAX_HINTS) hints.clear();
    hint = agentManifestHintOf(handshakeEndpoint);
    hints.set(handshakeEndpoint, hint);
  }
  return jsonString(hint);
}

const str = jsonString;
const iso = jsonIso;

/**
 * The Agent view (API.md §0.5) as JSON text, from a row of listAgentRows/findAgentRow; the
 * key order of AgentSchema. `offered_caps` is jsonb text, spliced as is. `manifestJson` only
 * when the row carries it (include_manifest).
 */
export function agentJson(row: TextRow): string {
  const aid = row['aid']!;
  const endpoint = row['handshake_endpoint']!;
  const manifest = row['manifest_json'];
  return (
    `{"aid":${str(aid)},"displayName":${str(row['display_name'])},"handshakeEndpoint":${str(endpoint)},` +
    `"offeredCaps":${row['offered_caps']!},"status":${str(row['status'])},"namespace":${str(row['namespace'])},` +
    `"registeredAt":${iso(row['registered_at'])},"lastEnrolledAt":${iso(row['last_enrolled_at'])},` +
    `"lastSeenAt":${iso(row['last_seen_at'])},"manifestExpiresAt":${iso(row['manifest_expires_at'])},` +
    `"deregisteredAt":${iso(row['deregistered_at'])},"manifestUrl":${str(manifestUrlOf(aid))},` +
    `"agentManifestHint":${hintJson(endpoint)}${manifest === undefined ? '' : `,"manifestJson":${str(manifest)}`}}`
  );
}

/** AgentRecord (API.md §2.8): every `agents` column camelCased, the stored status as is. */
export function toAgentRecord(row: AgentRow): Record<string, unknown> {
  return {
    aid: row.aid,
    displayName: row.displayName,
    handshakeEndpoint: row.handshakeEndpoint,
    offeredCaps: row.offeredCaps,
    manifestJson: row.manifestJson,
    manifestSha256: row.manifestSha256,
    manifestExpiresAt: toIso(row.manifestExpiresAt),
    status: row.status,
    namespace: row.namespace,
    registeredAt: row.registeredAt.toISOString(),
    lastEnrolledAt: toIso(row.lastEnrolledAt),
    lastSeenAt: toIso(row.lastSeenAt),
    deregisteredAt: toIso(row.deregisteredAt),
    org: row.org,
    cloud: row.cloud,
    metadata: row.metadata,
    updatedAt: row.updatedAt.toISOString(),
  };
}
