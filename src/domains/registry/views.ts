import { toIso } from '../../lib/timestamps.js';
import type { AgentRow, AgentSummaryRow } from './repository.js';
import type { Agent } from './schemas.js';

/** `manifestUrl` (API.md §0.5): the path of the raw manifest route for this aid. */
export function manifestUrlOf(aid: string): string {
  return `/api/registry/agents/${encodeURIComponent(aid)}/manifest`;
}

/** `<protocol>//<host>/.well-known/aitp-manifest` of the handshake endpoint, null if unparseable. */
export function agentManifestHintOf(handshakeEndpoint: string): string | null {
  let url: URL;
  try {
    url = new URL(handshakeEndpoint); // one parse per row: discovery builds up to 1000 of these
  } catch {
    return null;
  }
  return `${url.protocol}//${url.host}/.well-known/aitp-manifest`;
}

/** Ruling 14: `now >= expires_at` is expired everywhere, also before the expiry job ran. */
export function effectiveStatus(row: Pick<AgentSummaryRow, 'status' | 'manifestExpiresAt'>, now: Date): Agent['status'] {
  if (row.status === 'active' && row.manifestExpiresAt !== null && row.manifestExpiresAt.getTime() <= now.getTime()) return 'expired';
  return row.status;
}

/** The Agent view (API.md §0.5); `manifestJson` only when the row carries it (include_manifest). */
export function toAgentView(row: AgentSummaryRow, now: Date): Agent {
  const view: Agent = {
    aid: row.aid,
    displayName: row.displayName,
    handshakeEndpoint: row.handshakeEndpoint,
    offeredCaps: row.offeredCaps,
    status: effectiveStatus(row, now),
    namespace: row.namespace,
    registeredAt: row.registeredAt.toISOString(),
    lastEnrolledAt: toIso(row.lastEnrolledAt),
    lastSeenAt: toIso(row.lastSeenAt),
    manifestExpiresAt: toIso(row.manifestExpiresAt),
    deregisteredAt: toIso(row.deregisteredAt),
    manifestUrl: manifestUrlOf(row.aid),
    agentManifestHint: agentManifestHintOf(row.handshakeEndpoint),
  };
  if (row.manifestJson !== undefined) view.manifestJson = row.manifestJson;
  return view;
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
