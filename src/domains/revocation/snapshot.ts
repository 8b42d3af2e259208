import { buildRevocationList, type BuiltRevocationList } from '../../aitp/index.js';
import { nowSeconds, type Clock } from '../../lib/clock.js';
import type { StoredRevocation } from './repository.js';

export interface SnapshotDeps {
  readEntries: () => Promise<StoredRevocation[]>;
  seed: Uint8Array;
  ttlSecs: number;
  clock: Clock;
  onRebuilt: (snapshot: BuiltRevocationList) => void;
  onError: (err: unknown) => void;
}

export interface RevocationSnapshot {
  /** Rebuilds now; concurrent callers share one rebuild (single flight). Never throws. */
  rebuild(): Promise<boolean>;
  /** The snapshot to serve, or undefined when none is unexpired (fail closed → 503). */
  current(): BuiltRevocationList | undefined;
}

/**
 * The signed revocation list (OPERATIONS.md §7.2). A new snapshot replaces the current one
 * only when the read and the signing both succeeded, so a failing database never yields a
 * signed list that omits entries; the last good one is served until it expires.
 */
export function createRevocationSnapshot(deps: SnapshotDeps): RevocationSnapshot {
  let latest: BuiltRevocationList | undefined;
  let inFlight: Promise<boolean> | undefined;
  let again = false;

  const buildOnce = async (): Promise<boolean> => {
    try {
      const rows = await deps.readEntries();
      const snapshot = buildRevocationList({
        seed: deps.seed,
        publishedAt: nowSeconds(deps.clock),
        ttlSecs: deps.ttlSecs,
        entries: rows.map((r) => ({ jti: r.jti, revokedAt: Math.floor(r.revokedAt.getTime() / 1000), reason: r.reason })),
      });
      latest = snapshot;
      deps.onRebuilt(snapshot);
      return true;
    } catch (err) {
      deps.onError(err);
      return false;
    }
  };

  // A change announced while a rebuild is reading must not be lost: run once more after it.
  const run = async (): Promise<boolean> => {
    let ok = await buildOnce();
    while (again) {
      again = false;
      ok = await buildOnce();
    }
    return ok;
  };

  return {
    rebuild() {
      if (inFlight) {
        again = true;
        return inFlight;
      }
      inFlight = run().finally(() => {
        inFlight = undefined;
      });
      return inFlight;
    },
    current() {
      return latest !== undefined && nowSeconds(deps.clock) < latest.expiresAt ? latest : undefined;
    },
  };
}
