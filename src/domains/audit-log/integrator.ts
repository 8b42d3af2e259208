import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import {
  EMPTY_ROOT, SubtreeCache, appendLeaves, formatCheckpoint, signNote, treeHash, type GrownTile, type TileReader,
} from '../../lib/tlog/index.js';
import { isoOf, type TextRow } from '../../db/raw-query.js';
import type { AuditRow } from '../admin-audit/index.js';
import { appendEntries, BUNDLE_WIDTH } from './entries.js';
import type { LeafHashCache } from './leaf-cache.js';
import { adminLeaf, eventLeafRef, type LeafRef } from './leaves.js';
import {
  findEvents, insertCheckpoint, latestCheckpoint, oldestWaiting, pendingAdmin, pendingEvents, readBundles, readState, saveState,
  snapshotHorizon, tileReader, tryIntegratorLock, writeBundles, writeTiles, type LogState,
} from './repository.js';

/**
 * Events read and hashed per page (one round trip each, plus one for admin rows); a run takes
 * pages until it reaches the horizon or the cap, and writes its tiles and bundles once at the end.
 */
const PAGE_ROWS = 5_000;
const MAX_LEAVES_PER_RUN = 25_000;
/** Whole event records read back (and hashed) per round trip, for hashes not remembered. */
const READ_BACK_ROWS = 500;

export interface IntegratorDeps {
  pool: Pick<pg.Pool, 'connect'>;
  /** Checkpoint origin and signed-note key name: `<CP_BASE_URL host>/audit`. */
  origin: string;
  /** The CP's Ed25519 seed (the identity that signs the manifest and revocation list). */
  seed: Uint8Array;
  /** Leaf hashes of events this process stored (remembered at commit). */
  remembered: LeafHashCache;
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
 * The leaves of the next page, moving `state` past them: up to PAGE_ROWS events in (txid, seq)
 * order after the state's position, and the admin rows of every transaction the page reaches,
 * before that transaction's events. A page that stops inside a transaction leaves `partialSeq`
 * set, so one huge transaction is taken in parts.
 */
async function nextPage(client: pg.PoolClient, state: LogState, horizon: number, remembered: LeafHashCache): Promise<LeafRef[]> {
  const page = { fromTxid: state.watermark, afterSeq: state.partialSeq ?? Number.MIN_SAFE_INTEGER, horizon, limit: PAGE_ROWS };
  const events = await eventLeaves(client, await pendingEvents(client, page), remembered);
  const last = events.length === PAGE_ROWS ? events[events.length - 1] : undefined;
  const full = last !== undefined;
  // Admin rows not taken yet: those of the watermark's transaction unless its events began.
  const adminFrom = state.partialSeq === null ? state.watermark : state.watermark + 1;
  const adminTo = full ? last.txid + 1 : horizon;
  const admin = adminFrom < adminTo ? await pendingAdmin(drizzle(client), adminFrom, adminTo) : [];
  if (full) {
    state.watermark = last.txid;
    state.partialSeq = last.seq;
  } else {
    state.watermark = horizon;
    state.partialSeq = null;
  }
  return mergeByTxid(admin, events);
}

/**
 * The leaves of a page of event positions, in page order: the hash remembered at commit when
 * this process stored the event, else hashed from the row read back.
 */
async function eventLeaves(client: pg.PoolClient, positions: TextRow[], remembered: LeafHashCache): Promise<PagedLeaf[]> {
  const createdMs = lastParsed((text) => Date.parse(isoOf(text)));
  const hashes = positions.map((row) => remembered.take(row['id']!));
  const missing = positions.filter((_, i) => hashes[i] === undefined).map((row) => row['id']!);
  const read = new Map<string, LeafRef>();
  // In slices, so that only a slice of whole records is alive at once (they are read for a
  // backlog: a restart, another replica's events, rows written in SQL).
  for (let at = 0; at < missing.length; at += READ_BACK_ROWS) {
    for (const row of await findEvents(client, missing.slice(at, at + READ_BACK_ROWS))) read.set(row['id']!, eventLeafRef(row));
  }
  return positions.map((row, i) => {
    const id = row['id']!;
    const hash = hashes[i];
    const leaf: LeafRef | undefined = hash === undefined ? read.get(id) : { kind: 'event', id, createdMs: createdMs(row['created_at']!), hash };
    // Rows below the horizon are final; only a DELETE racing the integrator removes one.
    if (leaf === undefined) throw new Error(`audit event ${id} vanished while being integrated`);
    return { txid: Number(row['txid']), seq: Number(row['seq']), leaf };
  });
}

/** `parse` remembering its last input: the events of one transaction share their created_at text. */
function lastParsed(parse: (text: string) => number): (text: string) => number {
  let lastText: string | undefined;
  let lastValue = 0;
  return (text) => {
    if (text !== lastText) {
      lastValue = parse(text);
      lastText = text;
    }
    return lastValue;
  };
}

interface PagedLeaf {
  txid: number;
  seq: number;
  leaf: LeafRef;
}

/** Admin and event leaves in (txid, kind, key) order: within one txid admin rows first. */
function mergeByTxid(admin: AuditRow[], events: readonly PagedLeaf[]): LeafRef[] {
  const leaves: LeafRef[] = [];
  let a = 0;
  for (const { txid, leaf } of events) {
    while (a < admin.length && admin[a]!.txid <= txid) leaves.push(adminLeaf(admin[a++]!));
    leaves.push(leaf);
  }
  while (a < admin.length) leaves.push(adminLeaf(admin[a++]!));
  return leaves;
}

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
    return keys.map((k) => {
      const own = tiles.get(`${k.level}/${k.index}`);
      if (own === undefined) return fetched[next++]!;
      return own.interior === undefined ? own.data : Buffer.concat([own.data, own.interior]);
    });
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

async function appendPage(writes: RunWrites, state: LogState, leaves: LeafRef[], subtrees: SubtreeCache): Promise<Uint8Array> {
  const grown = await appendLeaves(state.size, leaves.map((l) => l.hash), writes.read, subtrees);
  const bundleIndex = Math.floor(state.size / BUNDLE_WIDTH);
  const partial = state.size % BUNDLE_WIDTH === 0 ? Buffer.alloc(0) : await writes.partialBundle(bundleIndex);
  writes.add(grown.tiles, appendEntries(state.size, partial, leaves));
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
    const state = await readState(client);
    const startSize = state.size;
    // Per run, never kept: subtrees hashed from tiles this transaction wrote die with a rollback.
    const subtrees = new SubtreeCache();
    const writes = runWrites(client);
    let root: Uint8Array | undefined;
    while (state.watermark < horizon && state.size - startSize < MAX_LEAVES_PER_RUN && !signal.aborted) {
      const leaves = await nextPage(client, state, horizon, deps.remembered);
      if (leaves.length > 0) root = await appendPage(writes, state, leaves, subtrees);
    }
    await writes.flush();
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
