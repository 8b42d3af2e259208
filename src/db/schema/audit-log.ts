import { sql } from 'drizzle-orm';
import { bigint, customType, pgTable, primaryKey, smallint, text, timestamp, varchar } from 'drizzle-orm/pg-core';

/**
 * Raw bytes (hashes, tiles, entry bundles). The log's columns are stored uncompressed (SET STORAGE
 * EXTERNAL, drizzle/0008): hashes do not compress, and a partial tile or bundle is rewritten by
 * every integrator run, which would run pglz over it each time.
 */
const bytea = customType<{ data: Buffer; driverData: Buffer }>({ dataType: () => 'bytea' });

/**
 * The writing transaction's 64-bit id (pg_current_xact_id, epoch-extended so it never wraps) on
 * every audited row. The integrator appends rows whose txid is below the snapshot xmin: every
 * transaction below it has finished, so that set of rows is final (README §Verifiable audit log).
 */
export const writerTxid = () =>
  bigint('txid', { mode: 'number' })
    .notNull()
    .default(sql`(pg_current_xact_id()::text)::bigint`);

/**
 * The integrator's position: leaves appended so far; every row with a txid below `watermark` is
 * in the log; when `partialSeq` is set, so are the admin rows of txid `watermark` and its events
 * up to that seq (one transaction's rows, e.g. a migration backfill, can exceed a run's chunk).
 */
export const auditLogState = pgTable('audit_log_state', {
  id: smallint('id').primaryKey(),
  size: bigint('size', { mode: 'number' }).notNull().default(0),
  watermark: bigint('watermark', { mode: 'number' }).notNull().default(0),
  partialSeq: bigint('partial_seq', { mode: 'number' }),
  updatedAt: timestamp('updated_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * The Merkle tree as tlog-tiles (height 8): each row holds the hashes of one tile, a partial
 * tile rewritten in place as it grows (its width is length / 32). `interior` is no longer
 * written or read: a full tile's 254 interior nodes are hashed once when the proof tile cache
 * loads it (src/lib/tlog/tile-cache.ts). The column stays so replicas of the release that wrote
 * and read it keep working through a rolling upgrade (they read NULL as "rehash"); a later
 * migration drops it.
 */
export const auditLogTiles = pgTable(
  'audit_log_tiles',
  {
    level: smallint('level').notNull(),
    tileIndex: bigint('tile_index', { mode: 'number' }).notNull(),
    hashes: bytea('hashes').notNull(),
    interior: bytea('interior'),
  },
  (t) => [primaryKey({ name: 'audit_log_tiles_pkey', columns: [t.level, t.tileIndex] })],
);

/** Which record each leaf is: 256 leaves per bundle, a fixed-size entry per leaf (entries.ts). */
export const auditLogBundles = pgTable('audit_log_bundles', {
  bundleIndex: bigint('bundle_index', { mode: 'number' }).primaryKey(),
  entries: bytea('entries').notNull(),
});

/** Every signed checkpoint, one per tree size. */
export const auditLogCheckpoints = pgTable('audit_log_checkpoints', {
  size: bigint('size', { mode: 'number' }).primaryKey(),
  root: bytea('root').notNull(),
  note: text('note').notNull(),
  createdAt: timestamp('created_at', { withTimezone: true, mode: 'date' }).notNull().defaultNow(),
});

/**
 * Per record kind, the newest `created_at` the retention sweep has deleted: a record missing at
 * or below it was swept; one missing above it was deleted some other way.
 */
export const auditLogSweeps = pgTable('audit_log_sweeps', {
  kind: varchar('kind', { length: 16 }).primaryKey(),
  sweptThrough: timestamp('swept_through', { withTimezone: true, mode: 'date' }).notNull(),
});
