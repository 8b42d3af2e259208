import { and, asc, gte, inArray, lt } from 'drizzle-orm';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { AUDIT_LOG_LOCK_KEY } from '../../db/locks.js';
import { queryText, type TextRow } from '../../db/raw-query.js';
import { adminAuditLog } from '../../db/schema/index.js';
import type { Page } from '../../lib/pagination.js';
import { HASH_SIZE, TileReadError, type GrownTile, type TileKey, type TileReader } from '../../lib/tlog/index.js';
import type { AuditRow } from '../admin-audit/index.js';
import { EVENT_VIEW_COLUMNS } from '../events/index.js';
import type { TransactionSummary } from './remembered.js';

/** A pool or one checked-out client (inside a transaction). */
export type Queryable = Pick<pg.Pool, 'query'>;
type Drizzle = Pick<NodePgDatabase, 'select'>;

const num = (value: unknown): number => Number(value);

/** Transaction-scoped: released at COMMIT or ROLLBACK, so a crashed run never keeps it. */
export async function tryIntegratorLock(q: Queryable): Promise<boolean> {
  const { rows } = await q.query<{ locked: boolean }>('SELECT pg_try_advisory_xact_lock($1::bigint) AS locked', [AUDIT_LOG_LOCK_KEY]);
  return rows[0]?.locked === true;
}

/**
 * The oldest transaction id still running anywhere in the cluster (or the next one to be
 * assigned): every transaction below it has committed or aborted, so rows with a txid below it
 * are all visible now and no more will ever appear. Read before the caller's transaction takes
 * an id of its own.
 */
export async function snapshotHorizon(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ xmin: string }>('SELECT pg_snapshot_xmin(pg_current_snapshot())::text AS xmin');
  return num(rows[0]!.xmin);
}

export interface LogState {
  size: number;
  watermark: number;
  /** Set while the rows of txid `watermark` are taken in parts: its events up to this seq are in. */
  partialSeq: number | null;
}

/**
 * The integrator's state (all zero before the first run). A plain read, not a row lock: the
 * advisory lock already makes the run single-flight, and a lock or a write would give the run a
 * transaction id from its start. Every other session's cleanup horizon (HOT pruning of the rows
 * ingest updates, like agents.last_seen_at) would then wait for the whole run, where saveState
 * at the end holds it only while the run writes.
 */
export async function readState(q: Queryable): Promise<LogState> {
  const { rows } = await q.query<{ size: string; watermark: string; partial_seq: string | null }>(
    'SELECT size, watermark, partial_seq FROM audit_log_state WHERE id = 1',
  );
  const row = rows[0];
  if (row === undefined) return { size: 0, watermark: 0, partialSeq: null };
  return { size: num(row.size), watermark: num(row.watermark), partialSeq: row.partial_seq === null ? null : num(row.partial_seq) };
}

export async function saveState(q: Queryable, state: LogState): Promise<void> {
  await q.query(
    `INSERT INTO audit_log_state (id, size, watermark, partial_seq, updated_at) VALUES (1, $1, $2, $3, now())
     ON CONFLICT (id) DO UPDATE SET size = excluded.size, watermark = excluded.watermark, partial_seq = excluded.partial_seq, updated_at = excluded.updated_at`,
    [state.size, state.watermark, state.partialSeq],
  );
}

/** The tree size integrated so far (0 before the first run). */
export async function readSize(q: Queryable): Promise<number> {
  const { rows } = await q.query<{ size: string }>('SELECT size FROM audit_log_state WHERE id = 1');
  return rows[0] === undefined ? 0 : num(rows[0].size);
}

/**
 * Plans the integrator's queries over audit_events as walks of audit_events_txid_seq_idx in
 * (txid, seq) order that stop at their LIMIT. Rows the last statistics did not see are
 * estimated far too few, and the planner then picks a bitmap scan that reads every row up to
 * the horizon and sorts them, once per page: a backlog of a million rows would be read again
 * for every page of it. Transaction-scoped (SET LOCAL).
 */
export async function planIndexWalks(q: Queryable): Promise<void> {
  await q.query('SET LOCAL enable_bitmapscan = off');
}

/**
 * One summary per transaction (txid, count, seq bounds and sum) of the next `limit` events at
 * or after txid `fromTxid` written below `horizon`, in txid order; `rows` is how many events
 * the page covered. When it is `limit`, the last transaction may continue past the page.
 */
export async function pendingTransactions(
  q: Queryable,
  page: { fromTxid: number; horizon: number; limit: number },
): Promise<{ transactions: TransactionSummary[]; rows: number }> {
  const rows = await queryText(
    q,
    `SELECT txid, count(*) AS n, min(seq) AS min_seq, max(seq) AS max_seq, sum(seq) AS seq_sum
     FROM (SELECT txid, seq FROM audit_events WHERE txid >= $1 AND txid < $2 ORDER BY txid, seq LIMIT $3) AS page
     GROUP BY txid ORDER BY txid`,
    [page.fromTxid, page.horizon, page.limit],
  );
  let covered = 0;
  const transactions = rows.map((r) => {
    const count = num(r['n']);
    covered += count;
    return { txid: num(r['txid']), count, minSeq: num(r['min_seq']), maxSeq: num(r['max_seq']), seqSum: r['seq_sum']! };
  });
  return { transactions, rows: covered };
}

/**
 * The next `limit` whole event records after (`fromTxid`, `afterSeq`) written by transactions
 * below `horizon`, in commit-safe order (txid, seq): txid, seq and EVENT_VIEW_COLUMNS as text.
 */
export async function pendingEventRecords(q: Queryable, page: { fromTxid: number; afterSeq: number; horizon: number; limit: number }): Promise<TextRow[]> {
  return queryText(
    q,
    `SELECT txid, seq, ${EVENT_VIEW_COLUMNS} FROM audit_events
     WHERE (txid, seq) > ($1, $2) AND txid < $3 ORDER BY txid, seq LIMIT $4`,
    [page.fromTxid, page.afterSeq, page.horizon, page.limit],
  );
}

/** Admin-audit rows written by transactions in [from, to), in (txid, id) order. */
export async function pendingAdmin(db: Drizzle, from: number, to: number): Promise<AuditRow[]> {
  return db
    .select()
    .from(adminAuditLog)
    .where(and(gte(adminAuditLog.txid, from), lt(adminAuditLog.txid, to)))
    .orderBy(asc(adminAuditLog.txid), asc(adminAuditLog.id));
}

export async function findEvents(q: Queryable, ids: string[]): Promise<TextRow[]> {
  return queryText(q, `SELECT ${EVENT_VIEW_COLUMNS} FROM audit_events WHERE id = ANY($1::uuid[])`, [ids]);
}

export async function findAdmin(db: Drizzle, ids: string[]): Promise<AuditRow[]> {
  return db.select().from(adminAuditLog).where(inArray(adminAuditLog.id, ids));
}

/** created_at (epoch ms) of the oldest committed row not yet integrated, if any. */
export async function oldestWaiting(q: Queryable, state: LogState): Promise<number | undefined> {
  const { rows } = await q.query<{ at: Date | null }>(
    `SELECT least(
       (SELECT created_at FROM audit_events WHERE (txid, seq) > ($1, $2) ORDER BY txid, seq LIMIT 1),
       (SELECT created_at FROM admin_audit_log WHERE txid >= $3 ORDER BY txid LIMIT 1)) AS at`,
    [state.watermark, state.partialSeq ?? Number.MIN_SAFE_INTEGER, state.partialSeq === null ? state.watermark : state.watermark + 1],
  );
  return rows[0]?.at?.getTime() ?? undefined;
}

/**
 * A TileReader over the tile table (hashes only), one named statement per call; a stored tile
 * may be wider than asked (it grew since).
 */
export function tileReader(q: Queryable): TileReader {
  return async (keys: TileKey[]) => {
    const { rows } = await q.query<{ tile: Buffer | null }>({
      name: 'aitp_audit_log_tiles',
      // A subquery per key: always a primary-key lookup, whatever the generic plan of the named
      // statement guesses about the arrays' length.
      text: `SELECT (SELECT t.hashes FROM audit_log_tiles t
                     WHERE t.level = k.level AND t.tile_index = k.tile_index) AS tile
             FROM unnest($1::smallint[], $2::bigint[]) WITH ORDINALITY AS k(level, tile_index, n) ORDER BY k.n`,
      values: [keys.map((k) => k.level), keys.map((k) => k.index)],
    });
    return keys.map((key, i) => {
      const data = rows[i]?.tile ?? null;
      if (data === null || data.length < key.width * HASH_SIZE) throw new TileReadError(`tile ${key.level}/${key.index} is missing`);
      return data;
    });
  };
}

export async function readTile(q: Queryable, level: number, index: number): Promise<Buffer | undefined> {
  const { rows } = await q.query<{ hashes: Buffer }>('SELECT hashes FROM audit_log_tiles WHERE level = $1 AND tile_index = $2', [level, index]);
  return rows[0]?.hashes;
}

const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);

/**
 * `INSERT … VALUES` rows of `width` parameters each, for `count` rows: bytea values go as
 * top-level parameters, which pg sends as raw bytes, where an array parameter would be spelled
 * out as hex text for Postgres to parse back (twice the bytes, both ways).
 */
function valueRows(count: number, casts: readonly string[]): string {
  const rows: string[] = [];
  for (let r = 0; r < count; r++) rows.push(`(${casts.map((cast, c) => `$${r * casts.length + c + 1}::${cast}`).join(', ')})`);
  return rows.join(', ');
}

/** Rows per INSERT: at 3 or 2 parameters each, far below the protocol's 65,535. */
const ROWS_PER_INSERT = 1_000;

async function insertChunks<T>(items: readonly T[], write: (chunk: readonly T[]) => Promise<unknown>): Promise<void> {
  for (let at = 0; at < items.length; at += ROWS_PER_INSERT) await write(items.slice(at, at + ROWS_PER_INSERT));
}

export async function writeTiles(q: Queryable, tiles: readonly GrownTile[]): Promise<void> {
  await insertChunks(tiles, (chunk) =>
    q.query(
      `INSERT INTO audit_log_tiles (level, tile_index, hashes) VALUES ${valueRows(chunk.length, ['smallint', 'bigint', 'bytea'])}
       ON CONFLICT (level, tile_index) DO UPDATE SET hashes = excluded.hashes`,
      chunk.flatMap((t) => [t.key.level, t.key.index, asBuffer(t.bytes)]),
    ),
  );
}

export async function readBundles(q: Queryable, indexes: number[]): Promise<Map<number, Buffer>> {
  const { rows } = await q.query<{ bundle_index: string; entries: Buffer }>(
    'SELECT bundle_index, entries FROM audit_log_bundles WHERE bundle_index = ANY($1::bigint[])',
    [indexes],
  );
  return new Map(rows.map((r) => [num(r.bundle_index), r.entries]));
}

export async function writeBundles(q: Queryable, bundles: ReadonlyArray<{ bundleIndex: number; entries: Buffer }>): Promise<void> {
  await insertChunks(bundles, (chunk) =>
    q.query(
      `INSERT INTO audit_log_bundles (bundle_index, entries) VALUES ${valueRows(chunk.length, ['bigint', 'bytea'])}
       ON CONFLICT (bundle_index) DO UPDATE SET entries = excluded.entries`,
      chunk.flatMap((b) => [b.bundleIndex, b.entries]),
    ),
  );
}

export interface StoredCheckpoint {
  size: number;
  root: Buffer;
  note: string;
  createdAt: Date;
}

type CheckpointRow = { size: string; root: Buffer; note: string; created_at: Date };
const toCheckpoint = (r: CheckpointRow): StoredCheckpoint => ({ size: num(r.size), root: r.root, note: r.note, createdAt: r.created_at });

export async function latestCheckpoint(q: Queryable): Promise<StoredCheckpoint | undefined> {
  const { rows } = await q.query<CheckpointRow>('SELECT size, root, note, created_at FROM audit_log_checkpoints ORDER BY size DESC LIMIT 1');
  return rows[0] === undefined ? undefined : toCheckpoint(rows[0]);
}

/**
 * Stores a signed checkpoint; returns its created_at (epoch ms): the moment of signing, at the
 * end of the run (clock_timestamp), not the start of the integrator's transaction.
 */
export async function insertCheckpoint(q: Queryable, size: number, root: Uint8Array, note: string): Promise<number> {
  const { rows } = await q.query<{ created_at: Date }>(
    'INSERT INTO audit_log_checkpoints (size, root, note, created_at) VALUES ($1, $2, $3, clock_timestamp()) RETURNING created_at',
    [size, Buffer.from(root), note],
  );
  return rows[0]!.created_at.getTime();
}

/** Newest first (size desc, unique), `limit + 1` rows for `hasMore`. */
export async function listCheckpoints(q: Queryable, page: Page): Promise<StoredCheckpoint[]> {
  const { rows } = await q.query<CheckpointRow>(
    'SELECT size, root, note, created_at FROM audit_log_checkpoints ORDER BY size DESC LIMIT $1 OFFSET $2',
    [page.limit + 1, page.offset],
  );
  return rows.map(toCheckpoint);
}

/** Per kind, the newest created_at (epoch ms) the retention sweep has deleted. */
export async function sweptThrough(q: Queryable): Promise<Partial<Record<string, number>>> {
  const { rows } = await q.query<{ kind: string; swept_through: Date }>('SELECT kind, swept_through FROM audit_log_sweeps');
  return Object.fromEntries(rows.map((r) => [r.kind, r.swept_through.getTime()]));
}
