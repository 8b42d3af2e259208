import { buildManifest, type BuiltManifest } from '../aitp/index.js';
import { nowSeconds, type Clock } from '../lib/clock.js';

/** OPERATIONS.md §7.1: TTL 86400 s; rebuilt at half of it or when ≤ 3600 s remain. */
export const MANIFEST_TTL_SECS = 86_400;
const REBUILD_WHEN_REMAINING_SECS = 3_600;

export interface ManifestCacheInput {
  seed: Uint8Array;
  baseUrl: string;
  acceptedTrustAnchors: readonly string[];
  clock: Clock;
  onRebuildError: (err: unknown) => void;
}

export interface ManifestCache {
  /** The signed manifest to serve now, rebuilt first if due; undefined once it cannot be. */
  current(): BuiltManifest | undefined;
}

/**
 * The CP's own signed manifest (SPEC.md §5.4, §7.2). The bytes are cached; a rebuild that
 * fails keeps the previous manifest while it is unexpired. A manifest is never served at or
 * after its expires_at.
 */
export function createManifestCache(input: ManifestCacheInput): ManifestCache {
  let built: BuiltManifest | undefined;

  const isDue = (m: BuiltManifest, now: number): boolean =>
    now - m.publishedAt >= MANIFEST_TTL_SECS / 2 || m.expiresAt - now <= REBUILD_WHEN_REMAINING_SECS;

  const rebuild = (now: number): void => {
    try {
      built = buildManifest({
        seed: input.seed,
        displayName: 'aitp-control-plane',
        handshakeEndpoint: `${input.baseUrl}/api/aitp/handshake/hello`,
        acceptedTrustAnchors: input.acceptedTrustAnchors,
        offeredCapabilities: [],
        publishedAt: now,
        ttlSecs: MANIFEST_TTL_SECS,
        extensions: { 'rfc-aitp-0008.revocation_list_uri': `${input.baseUrl}/.well-known/aitp-revocation-list` },
      });
    } catch (err) {
      input.onRebuildError(err);
    }
  };

  return {
    current() {
      const now = nowSeconds(input.clock);
      if (built === undefined || isDue(built, now)) rebuild(now);
      return built !== undefined && now < built.expiresAt ? built : undefined;
    },
  };
}
