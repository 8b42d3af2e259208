import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { EMPTY_ROOT, SubtreeCache, appendLeaves, formatCheckpoint, signNote, treeHash } from '../../lib/tlog/index.js';
import { appendEntries, BUNDLE_WIDTH } from './entries.js';
import { adminLeaf, eventLeaf, type Leaf } from './leaves.js';
import {
  eventsOfTxid, insertCheckpoint, latestCheckpoint, lockState, nthPendingTxid, oldestWaiting, pendingAdmin, pendingEvents,
  readBundles, saveState, snapshotHorizon, tileReader, tryIntegratorLock, writeBundles, writeTiles, type LogState,
} from './repository.js';

/** Events read, hashed and appended per step; a run takes steps until it catches up or hits the cap. */
const CHUNK_ROWS = 5_000;
const MAX_LEAVES_PER_RUN = 100_000;

export interface IntegratorDeps {
  pool: Pick<pg.Pool, 'connect'>;
  /** Checkpoint origin and signed-note key name: `<CP_BASE_URL host>/audit`. */
  origin: string;
  /** The CP's Ed25519 seed (the identity that signs the manifest and revocation list). */
  seed: Uint8Array;
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

/** Leaves of the rows written by transactions in [from, to), in (txid, kind, key) order. */
async function leavesBetween(client: pg.PoolClient, from: number, to: number): Promise<Leaf[]> {
  const [events, admin] = await Promise.all([pendingEvents(client, from, to), pendingAdmin(drizzle(client), from, to)]);
  const keyed = [
    ...admin.map((row) => ({ txid: row.txid, leaf: adminLeaf(row) })),
    ...events.map((row) => ({ txid: Number(row['txid']), leaf: eventLeaf(row) })),
  ];
  // Stable sort: within one txid admin rows come first, each kind keeping its query order.
  keyed.sort((a, b) => a.txid - b.txid || (a.leaf.kind === b.leaf.kind ? 0 : a.leaf.kind === 'admin' ? -1 : 1));
  return keyed.map((k) => k.leaf);
}

/**
 * The leaves of the next step, moving `state` past them: every row of the transactions below the
 * txid of the CHUNK_ROWS-th waiting event, or, when the transaction at the watermark alone holds
 * that many, its admin rows and its next CHUNK_ROWS events (seq order), so memory stays bounded.
 */
async function nextStep(client: pg.PoolClient, state: LogState, horizon: number): Promise<Leaf[]> {
  if (state.partialSeq === null) {
    const nth = await nthPendingTxid(client, state.watermark, horizon, CHUNK_ROWS);
    if (nth === undefined || nth > state.watermark) {
      const bound = nth ?? horizon;
      const leaves = await leavesBetween(client, state.watermark, bound);
      state.watermark = bound;
      return leaves;
    }
  }
  const txid = state.watermark;
  const admin = state.partialSeq === null ? await pendingAdmin(drizzle(client), txid, txid + 1) : [];
  const events = await eventsOfTxid(client, txid, state.partialSeq ?? Number.MIN_SAFE_INTEGER, CHUNK_ROWS);
  if (events.length < CHUNK_ROWS) {
    state.watermark = txid + 1;
    state.partialSeq = null;
  } else {
    state.partialSeq = Number(events[events.length - 1]!['seq']);
  }
  return [...admin.map(adminLeaf), ...events.map(eventLeaf)];
}

async function appendStep(client: pg.PoolClient, state: LogState, leaves: Leaf[], subtrees: SubtreeCache): Promise<Uint8Array> {
  const read = tileReader(client);
  const grown = await appendLeaves(state.size, leaves.map((l) => l.hash), read, subtrees);
  await writeTiles(client, grown.tiles);
  const bundleIndex = Math.floor(state.size / BUNDLE_WIDTH);
  const partial = state.size % BUNDLE_WIDTH === 0 ? Buffer.alloc(0) : ((await readBundles(client, [bundleIndex])).get(bundleIndex) ?? Buffer.alloc(0));
  await writeBundles(client, appendEntries(state.size, partial, leaves));
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
    const state = await lockState(client);
    const startSize = state.size;
    // Per run, never kept: subtrees hashed from tiles this transaction wrote die with a rollback.
    const subtrees = new SubtreeCache();
    let root: Uint8Array | undefined;
    while (state.watermark < horizon && state.size - startSize < MAX_LEAVES_PER_RUN && !signal.aborted) {
      const leaves = await nextStep(client, state, horizon);
      if (leaves.length > 0) root = await appendStep(client, state, leaves, subtrees);
    }
    await saveState(client, state);
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
