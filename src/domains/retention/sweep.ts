import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import type { Database } from '../../db/client.js';
import { RETENTION_TABLES, deleteChunk, releaseRetentionLock, tryRetentionLock, type RetentionTable } from './repository.js';

export type SweepStatus = 'completed' | 'partial' | 'skipped' | 'disabled' | 'error';
export const SWEEP_STATUSES: readonly SweepStatus[] = ['completed', 'partial', 'skipped', 'disabled', 'error'];

export interface SweepResult {
  status: SweepStatus;
  /** Rows deleted in this sweep per swept table (tables with TTL 0 are absent). */
  deleted: Partial<Record<RetentionTable, number>>;
  durationMs: number;
  /** The table whose chunk failed (`error` only; absent when the connection itself failed). */
  table?: RetentionTable;
}

export interface SweepSettings {
  enabled: boolean;
  /** Max rows per table per sweep (RETENTION_BATCH_LIMIT). */
  batchLimit: number;
  budgetMs: number;
  /** TTL in days per table, 0 = keep forever; enrollment_jtis has none (swept by expires_at). */
  ttlDays: Record<Exclude<RetentionTable, 'enrollment_jtis'>, number>;
}

/** One pooled connection, held for the whole sweep (the advisory lock is bound to it). */
export interface SweepConnection {
  db: Pick<Database, 'execute'>;
  /** `destroy` drops the connection instead of pooling it, which also ends its session lock. */
  release(destroy: boolean): void;
}

export interface RetentionDeps {
  settings: SweepSettings;
  connect(): Promise<SweepConnection>;
  /** Pause between chunks (OPERATIONS.md §11: 50 ms); tests may shorten or observe it. */
  pauseMs?: number;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** Monotonic milliseconds for the budget and the duration. */
  elapsed?: () => number;
  /** Called after each committed chunk, so counters stay true even if a later chunk fails. */
  onChunk?: (table: RetentionTable, rows: number) => void;
  /** Called once per sweep with its result (and the error of an `error` sweep). */
  onResult?: (result: SweepResult, err?: unknown) => void;
}

/** Largest chunk, whatever RETENTION_BATCH_LIMIT says (OPERATIONS.md §2.6). */
export const MAX_CHUNK_ROWS = 1000;
const DEFAULT_PAUSE_MS = 50;

const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  delay(ms, undefined, { signal }).catch(() => undefined);

interface Outcome {
  status: SweepStatus;
  deleted: Partial<Record<RetentionTable, number>>;
  table?: RetentionTable;
  err?: unknown;
}

/**
 * The retention sweep of OPERATIONS.md §11: under a session advisory lock on one connection,
 * round-robin over the tables deleting chunks of at most min(1000, what is left of the batch
 * limit), each its own short transaction, until every table is done, the budget is spent, or
 * the signal fires (drain: stop after the current chunk, §13).
 */
export function createRetentionSweep(deps: RetentionDeps) {
  const { settings } = deps;
  const pauseMs = deps.pauseMs ?? DEFAULT_PAUSE_MS;
  const sleep = deps.sleep ?? abortableSleep;
  const elapsed = deps.elapsed ?? (() => performance.now());
  let last: SweepResult | undefined;

  const ttlOf = (table: RetentionTable): number => (table === 'enrollment_jtis' ? 0 : settings.ttlDays[table]);
  const isSwept = (table: RetentionTable): boolean => table === 'enrollment_jtis' || settings.ttlDays[table] > 0;

  async function sweepTables(conn: SweepConnection, signal: AbortSignal, startedAt: number): Promise<Outcome> {
    const pending = RETENTION_TABLES.filter(isSwept);
    const deleted: Partial<Record<RetentionTable, number>> = Object.fromEntries(pending.map((t) => [t, 0]));
    let index = 0;
    let first = true;
    while (pending.length > 0) {
      if (!first) await sleep(pauseMs, signal);
      first = false;
      if (signal.aborted || elapsed() - startedAt >= settings.budgetMs) return { status: 'partial', deleted };
      index %= pending.length;
      const table = pending[index]!;
      const done = deleted[table] ?? 0;
      const want = Math.min(MAX_CHUNK_ROWS, settings.batchLimit - done);
      let rows: number;
      try {
        rows = await deleteChunk(conn.db, table, ttlOf(table), want);
      } catch (err) {
        return { status: 'error', deleted, table, err };
      }
      deleted[table] = done + rows;
      deps.onChunk?.(table, rows);
      if (rows < want || done + rows >= settings.batchLimit) pending.splice(index, 1);
      else index++;
    }
    return { status: 'completed', deleted };
  }

  async function underLock(signal: AbortSignal, startedAt: number): Promise<Outcome> {
    let conn: SweepConnection;
    try {
      conn = await deps.connect();
    } catch (err) {
      return { status: 'error', deleted: {}, err };
    }
    let locked: boolean;
    try {
      locked = await tryRetentionLock(conn.db);
    } catch (err) {
      conn.release(true);
      return { status: 'error', deleted: {}, err };
    }
    if (!locked) {
      conn.release(false);
      return { status: 'skipped', deleted: {} };
    }
    let destroy = true;
    try {
      return await sweepTables(conn, signal, startedAt);
    } finally {
      // §11 step 5: unlock in finally; if that fails the connection is dropped, which ends the lock.
      await releaseRetentionLock(conn.db).then(
        () => (destroy = false),
        () => undefined,
      );
      conn.release(destroy);
    }
  }

  /** Runs one sweep and reports it; never throws. */
  async function run(signal: AbortSignal = new AbortController().signal): Promise<SweepResult> {
    const startedAt = elapsed();
    const outcome: Outcome = settings.enabled ? await underLock(signal, startedAt) : { status: 'disabled', deleted: {} };
    const result: SweepResult = { status: outcome.status, deleted: outcome.deleted, durationMs: Math.round(elapsed() - startedAt) };
    if (outcome.table !== undefined) result.table = outcome.table;
    last = result;
    deps.onResult?.(result, outcome.err);
    return result;
  }

  return { run, lastResult: (): SweepResult | undefined => last };
}

export type RetentionSweep = ReturnType<typeof createRetentionSweep>;
