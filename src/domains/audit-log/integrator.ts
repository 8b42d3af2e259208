import type pg from 'pg';
import {
  EMPTY_ROOT, SubtreeCache, appendLeaves, formatCheckpoint, signNote, treeHash, type GrownTile, type TileReader,
} from '../../lib/tlog/index.js';
import { appendEntries, BUNDLE_WIDTH } from './entries.js';
import { nextPage, type PageLeaves } from './pages.js';
import type { RememberedLeaves } from './remembered.js';
import {
  insertCheckpoint, latestCheckpoint, oldestWaiting, planIndexWalks, readBundles, readState, saveState, snapshotHorizon, tileReader,
  tryIntegratorLock, writeBundles, writeTiles, type LogState,
} from './repository.js';

/** Leaves a run appends at most; the rest waits for the next run. */
const MAX_LEAVES_PER_RUN = 25_000;

export interface IntegratorDeps {
  pool: Pick<pg.Pool, 'connect'>;
  /** Checkpoint origin and signed-note key name: `<CP_BASE_URL host>/audit`. */
  origin: string;
  /** The CP's Ed25519 seed (the identity that signs the manifest and revocation list). */
  seed: Uint8Array;
  /** Leaves of the transactions this process stored (remembered at commit). */
  remembered: RememberedLeaves;
}

export type IntegrationResult =
  | { status: 'skipped' }
  | {
      status: 'integrated';
      size: number;
      appended: number;
      /** The checkpoint signed by this run, if the tree grew (or none existed yet). */
      checkpointSize?: number;
      checkpointAt: number;
      /** created_at (epoch ms) of the oldest row still waiting after the run. */
      oldestWaitingMs?: number;
    };

/**
 * What one run writes, kept until its end: the newest version of every tile and bundle that
 * grew, and a reader that sees them over the stored ones (a later page grows what an earlier
 * one wrote).
 */
function runWrites(client: pg.PoolClient) {
  const tiles = new Map<string, GrownTile>();
  const bundles = new Map<number, Buffer>();
  const stored = tileReader(client);
  const read: TileReader = async (keys) => {
    const missing = keys.filter((k) => !tiles.has(`${k.level}/${k.index}`));
    const fetched = missing.length > 0 ? await stored(missing) : [];
    let next = 0;
    return keys.map((k) => tiles.get(`${k.level}/${k.index}`)?.bytes ?? fetched[next++]!);
  };
  return {
    read,
    async partialBundle(index: number): Promise<Buffer> {
      return bundles.get(index) ?? (await readBundles(client, [index])).get(index) ?? Buffer.alloc(0);
    },
    add(grown: readonly GrownTile[], grownBundles: ReadonlyArray<{ bundleIndex: number; entries: Buffer }>): void {
      for (const tile of grown) tiles.set(`${tile.key.level}/${tile.key.index}`, tile);
      for (const bundle of grownBundles) bundles.set(bundle.bundleIndex, bundle.entries);
    },
    async flush(): Promise<void> {
      await writeTiles(client, [...tiles.values()]);
      await writeBundles(client, [...bundles].map(([bundleIndex, entries]) => ({ bundleIndex, entries })));
    },
  };
}

type RunWrites = ReturnType<typeof runWrites>;

async function appendPage(writes: RunWrites, state: LogState, page: PageLeaves, subtrees: SubtreeCache): Promise<Uint8Array> {
  const grown = await appendLeaves(state.size, page.hashes, writes.read, subtrees);
  const bundleIndex = Math.floor(state.size / BUNDLE_WIDTH);
  const partial = state.size % BUNDLE_WIDTH === 0 ? Buffer.alloc(0) : await writes.partialBundle(bundleIndex);
  writes.add(grown.tiles, appendEntries(state.size, partial, page.entries));
  state.size = grown.size;
  return grown.root;
}

/**
 * The integrator (single-flight under a transaction advisory lock, any replica). Commit-safe
 * order: it appends only rows written by transactions below the snapshot xmin horizon, all of
 * which have finished, so a row still in flight is never skipped and every row is taken once;
 * rows at or above the horizon wait for the next run. Tiles, bundles, the state and the signed
 * checkpoint commit together.
 */
export function createIntegrator(deps: IntegratorDeps) {
  async function integrate(client: pg.PoolClient, signal: AbortSignal): Promise<IntegrationResult> {
    if (!(await tryIntegratorLock(client))) return { status: 'skipped' };
    const horizon = await snapshotHorizon(client);
    await planIndexWalks(client);
    const state = await readState(client);
    const startSize = state.size;
    // Per run, never kept: subtrees hashed from tiles this transaction wrote die with a rollback.
    const subtrees = new SubtreeCache();
    const writes = runWrites(client);
    let root: Uint8Array | undefined;
    while (state.watermark < horizon && state.size - startSize < MAX_LEAVES_PER_RUN && !signal.aborted) {
      const page = await nextPage(client, state, horizon, deps.remembered);
      if (page.count > 0) root = await appendPage(writes, state, page, subtrees);
    }
    deps.remembered.forgetBelow(state.watermark);
    await writes.flush();
    // A run that appended nothing leaves the state as it was: any watermark it passed covers no
    // row, so the next run may pass it again. An idle CP's run then writes nothing, and takes no
    // transaction id of its own (which would move the horizon, and the watermark, every run).
    if (state.size > startSize) await saveState(client, state);
    const latest = await latestCheckpoint(client);
    let checkpointSize: number | undefined;
    let checkpointAt = latest?.createdAt.getTime() ?? 0;
    if (latest === undefined || state.size > latest.size) {
      root ??= state.size === 0 ? EMPTY_ROOT : await treeHash(state.size, tileReader(client), subtrees);
      const note = await signNote(formatCheckpoint({ origin: deps.origin, size: state.size, root }), deps.origin, deps.seed);
      checkpointAt = await insertCheckpoint(client, state.size, root, note);
      checkpointSize = state.size;
    }
    const oldest = await oldestWaiting(client, state);
    return {
      status: 'integrated',
      size: state.size,
      appended: state.size - startSize,
      ...(checkpointSize === undefined ? {} : { checkpointSize }),
      checkpointAt,
      ...(oldest === undefined ? {} : { oldestWaitingMs: oldest }),
    };
  }

  /** One run in its own transaction; throws on failure (the jobs plugin logs it). */
  async function run(signal: AbortSignal = new AbortController().signal): Promise<IntegrationResult> {
    const client = await deps.pool.connect();
    let destroy = false;
    try {
      await client.query('BEGIN');
      const result = await integrate(client, signal);
      await client.query(result.status === 'skipped' ? 'ROLLBACK' : 'COMMIT');
      return result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => (destroy = true));
      throw err;
    } finally {
      client.release(destroy);
    }
  }

  return { run };
}

export type Integrator = ReturnType<typeof createIntegrator>;
