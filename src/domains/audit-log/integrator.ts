import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import {
  EMPTY_ROOT, HASH_SIZE, SubtreeCache, appendLeaves, formatCheckpoint, signNote, treeHash, type GrownTile, type TileReader,
} from '../../lib/tlog/index.js';
import type { AuditRow } from '../admin-audit/index.js';
import type { TextRow } from '../../db/raw-query.js';
import { appendEntries, BUNDLE_WIDTH, type EntryRef } from './entries.js';
import { adminLeaf, eventLeafRef } from './leaves.js';
import type { RememberedLeaves, TransactionLeaves } from './remembered.js';
import {
  insertCheckpoint, latestCheckpoint, oldestWaiting, pendingAdmin, pendingEventRecords, pendingTransactions, planIndexWalks, readBundles,
  readState, saveState, snapshotHorizon, tileReader, tryIntegratorLock, writeBundles, writeTiles, type LogState,
} from './repository.js';

/**
 * Events per page: a page of remembered transactions covers up to PAGE_ROWS events in one
 * summary query (plus one for admin rows); a run takes pages until it reaches the horizon or
 * the cap, and writes its tiles and bundles once at the end.
 */
const PAGE_ROWS = 5_000;
const MAX_LEAVES_PER_RUN = 25_000;
/**
 * Whole event records read back (and hashed) per page, for transactions not remembered (a
 * restart, another replica's events, rows written in SQL): only a slice of them is alive at once.
 */
const READ_BACK_ROWS = 500;

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
 * The leaves of the next page, moving `state` past them, with every transaction's admin rows
 * before its events. Remembered transactions come from memory; the others are read back, in
 * pages of whole records up to the next remembered one. A read-back page that stops inside a
 * transaction leaves `partialSeq` set, so one huge transaction is taken in parts.
 */
async function nextPage(client: pg.PoolClient, state: LogState, horizon: number, remembered: RememberedLeaves): Promise<PageLeaves> {
  let readUpTo = horizon;
  if (state.partialSeq === null) {
    const page = await rememberedPage(client, state.watermark, horizon, remembered);
    if (page.readBackUpTo === undefined) return withAdmin(client, state, page.upTo, page.transactions);
    readUpTo = page.readBackUpTo;
  }
  const rows = await pendingEventRecords(client, {
    fromTxid: state.watermark,
    afterSeq: state.partialSeq ?? Number.MIN_SAFE_INTEGER,
    horizon: readUpTo,
    limit: READ_BACK_ROWS,
  });
  const transactions = byTransaction(rows);
  if (rows.length < READ_BACK_ROWS) return withAdmin(client, state, readUpTo, transactions);
  const last = transactions[transactions.length - 1]!;
  return withAdmin(client, state, last.txid, transactions, last.seqs[last.seqs.length - 1]!);
}

/** Read-back rows (in txid, seq order) hashed and grouped by transaction, in the remembered shape. */
function byTransaction(rows: readonly TextRow[]): TransactionLeaves[] {
  const transactions: TransactionLeaves[] = [];
  const hashes = Buffer.allocUnsafe(rows.length * HASH_SIZE);
  let current: TransactionLeaves | undefined;
  let start = 0;
  rows.forEach((row, i) => {
    const txid = Number(row['txid']);
    if (current?.txid !== txid) {
      if (current !== undefined) current.hashes = hashes.subarray(start * HASH_SIZE, i * HASH_SIZE);
      current = { txid, seqs: [], ids: [], createdMs: [], hashes };
      transactions.push(current);
      start = i;
    }
    const leaf = eventLeafRef(row);
    current.seqs.push(Number(row['seq']));
    current.ids.push(leaf.id);
    current.createdMs.push(leaf.createdMs);
    hashes.set(leaf.hash, i * HASH_SIZE);
  });
  if (current !== undefined) current.hashes = hashes.subarray(start * HASH_SIZE, rows.length * HASH_SIZE);
  return transactions;
}

/**
 * The remembered transactions at the front of what waits from txid `from` (one summary query
 * over up to PAGE_ROWS events): their events and the txid all of them are below (`upTo`). When
 * the first waiting transaction is not remembered, nothing is taken and `readBackUpTo` says how
 * far to read back: to the next remembered transaction, or the horizon.
 */
async function rememberedPage(
  client: pg.PoolClient,
  from: number,
  horizon: number,
  remembered: RememberedLeaves,
): Promise<{ transactions: TransactionLeaves[]; upTo: number; readBackUpTo?: number }> {
  const page = await pendingTransactions(client, { fromTxid: from, horizon, limit: PAGE_ROWS });
  // A full page may cut its last transaction short: it waits for the next page.
  const whole = page.rows < PAGE_ROWS ? page.transactions : page.transactions.slice(0, -1);
  const transactions: TransactionLeaves[] = [];
  for (const summary of whole) {
    const tx = remembered.take(summary);
    if (tx === undefined) {
      if (transactions.length > 0) return { transactions, upTo: summary.txid };
      const next = whole.find((s) => s.txid > summary.txid && remembered.matches(s));
      return { transactions, upTo: from, readBackUpTo: next?.txid ?? horizon };
    }
    transactions.push(tx);
  }
  if (whole.length < page.transactions.length) {
    // Nothing whole on this page: one transaction of PAGE_ROWS events or more, read back in parts.
    if (whole.length === 0) return { transactions, upTo: from, readBackUpTo: horizon };
    return { transactions, upTo: whole[whole.length - 1]!.txid + 1 };
  }
  return { transactions, upTo: horizon };
}

/**
 * `events` with the admin rows not taken yet merged in, moving `state` to its new position:
 * every transaction below `upTo` is in (or, with `partialSeq`, txid `upTo` up to that seq).
 * Admin rows of the watermark's transaction are taken unless its events began.
 */
async function withAdmin(
  client: pg.PoolClient,
  state: LogState,
  upTo: number,
  transactions: readonly TransactionLeaves[],
  partialSeq: number | null = null,
): Promise<PageLeaves> {
  const adminFrom = state.partialSeq === null ? state.watermark : state.watermark + 1;
  const adminTo = partialSeq === null ? upTo : upTo + 1;
  const admin = adminFrom < adminTo ? await pendingAdmin(drizzle(client), adminFrom, adminTo) : [];
  state.watermark = upTo;
  state.partialSeq = partialSeq;
  return mergeByTxid(admin, transactions);
}

/** A page's leaves in log order: which record each is, and their hashes packed 32 bytes each. */
interface PageLeaves {
  entries: EntryRef[];
  hashes: Buffer;
}

/** Admin and event leaves in (txid, kind, key) order: within one txid admin rows first. */
function mergeByTxid(admin: readonly AuditRow[], transactions: readonly TransactionLeaves[]): PageLeaves {
  let count = admin.length;
  for (const tx of transactions) count += tx.ids.length;
  const page: PageLeaves = { entries: [], hashes: Buffer.allocUnsafe(count * HASH_SIZE) };
  let a = 0;
  for (const tx of transactions) {
    while (a < admin.length && admin[a]!.txid <= tx.txid) pushAdmin(page, admin[a++]!);
    tx.hashes.copy(page.hashes, page.entries.length * HASH_SIZE);
    for (let i = 0; i < tx.ids.length; i++) page.entries.push({ kind: 'event', id: tx.ids[i]!, createdMs: tx.createdMs[i]! });
  }
  while (a < admin.length) pushAdmin(page, admin[a++]!);
  return page;
}

function pushAdmin(page: PageLeaves, row: AuditRow): void {
  const leaf = adminLeaf(row);
  page.hashes.set(leaf.hash, page.entries.length * HASH_SIZE);
  page.entries.push(leaf);
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
      if (page.entries.length > 0) root = await appendPage(writes, state, page, subtrees);
    }
    deps.remembered.forgetBelow(state.watermark);
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
