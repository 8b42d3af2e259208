import type { Database } from '../../db/client.js';
import { isDatabaseUnavailable } from '../../db/errors.js';
import { notifyInTx } from '../../db/notify.js';
import { withTxRetry } from '../../db/retry.js';
import { inTransaction, type TxPool } from '../../db/transaction.js';
import type { Clock } from '../../lib/clock.js';
import { AppError, bodyInvalid, insertFailed, internalError } from '../../lib/errors.js';
import { listEnvelope, parsePage } from '../../lib/pagination.js';
import { parseTimestamp } from '../../lib/timestamps.js';
import { recordAudit } from '../admin-audit/index.js';
import { cpEvent, type EventPipeline } from '../events/index.js';
import { findEntry, insertEntry, listEntries, type RevocationEntryRow } from './repository.js';
import type { CreateEntryBody, EntryListQuery, RevocationEntry } from './schemas.js';

interface Logger {
  warn(fields: Record<string, unknown>, message: string): void;
  error(fields: Record<string, unknown>, message: string): void;
}

export interface RevocationServiceDeps {
  db: Database;
  /** The pool behind `db`, for the entry's transaction. */
  pool: TxPool;
  clock: Clock;
  /** The local signed snapshot (OPERATIONS.md §7.2); resolves false when the rebuild failed. */
  rebuildSnapshot: () => Promise<boolean>;
  /** The events write path (projections, SSE notify; metrics once committed). */
  pipeline: EventPipeline;
  log: Logger;
}

export interface Actor {
  fingerprint: string;
  requestId: string;
}

/** OPERATIONS.md §7.2: the POST rebuilds the local snapshot synchronously, within 2 s. */
export const SNAPSHOT_REBUILD_BUDGET_MS = 2_000;

export function toEntryView(row: RevocationEntryRow): RevocationEntry {
  return { jti: row.jti, revokedAt: row.revokedAt.toISOString(), reason: row.reason, createdAt: row.createdAt.toISOString() };
}

async function within(work: Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** POST and GET /api/revocation/entries (API.md §6). */
export function createRevocationService(deps: RevocationServiceDeps) {
  const { db, log } = deps;

  /**
   * One transaction (API.md §6.1): the entry, the CP `tct.revoked` event whose projection marks
   * the TCT and the delegation tree (EVENTS.md §4.5, §5.1), the audit row, and NOTIFY
   * revocation_changed for every replica's snapshot. Undefined when the jti was already stored.
   */
  const insertWithEffects = async (entry: { jti: string; revokedAt: Date; reason: string | null }, actor: Actor) => {
    const outcome = await withTxRetry(() =>
      inTransaction(deps.pool, async (tx) => {
        const row = await insertEntry(tx.db, { ...entry, revokedBy: actor.fingerprint });
        if (row === undefined) return undefined;
        const event = cpEvent({ type: 'tct.revoked', ts: row.revokedAt, aidA: null, payload: { jti: row.jti, reason: row.reason } });
        const persisted = await deps.pipeline.persist(tx, [event]);
        await recordAudit(tx.db, { action: 'revocation.add', actorId: actor.fingerprint, targetId: row.jti, details: { reason: row.reason }, requestId: actor.requestId });
        await notifyInTx(tx.db, 'aitp_control', { kind: 'revocation_changed' });
        return { row, committed: persisted.committed };
      }),
    );
    outcome?.committed();
    return outcome?.row;
  };

  const storedEntry = async (jti: string) => {
    const stored = await findEntry(db, jti);
    if (stored === undefined) throw internalError();
    return { created: false, entry: toEntryView(stored) };
  };

  return {
    async add(body: CreateEntryBody, actor: Actor): Promise<{ created: boolean; entry: RevocationEntry }> {
      const jti = body.jti.toLowerCase();
      let revokedAt = new Date(deps.clock.now());
      if (body.revokedAt !== undefined && body.revokedAt !== null) {
        const parsed = parseTimestamp(body.revokedAt);
        if (parsed === undefined) throw bodyInvalid('revokedAt is not a timestamp', '/revokedAt');
        // The signed list carries revoked_at as epoch seconds ≥ 0 (SPEC §6.1): an earlier entry
        // could never be signed and would fail every snapshot rebuild after it.
        if (parsed.getTime() < 0) throw bodyInvalid('revokedAt must not be before 1970-01-01T00:00:00Z', '/revokedAt');
        revokedAt = parsed;
      }
      // Known jti: the stored row, body values ignored, no event, no audit.
      if ((await findEntry(db, jti)) !== undefined) return storedEntry(jti);
      let row: RevocationEntryRow | undefined;
      try {
        row = await insertWithEffects({ jti, revokedAt, reason: body.reason ?? null }, actor);
      } catch (err) {
        if (err instanceof AppError || isDatabaseUnavailable(err)) throw err;
        log.error({ err, jti }, 'revocation entry insert failed');
        throw insertFailed();
      }
      if (row === undefined) return storedEntry(jti);
      if (!(await within(deps.rebuildSnapshot(), SNAPSHOT_REBUILD_BUDGET_MS))) {
        log.warn({ jti }, 'revocation snapshot not rebuilt in time');
      }
      return { created: true, entry: toEntryView(row) };
    },

    async list(query: EntryListQuery) {
      const page = parsePage(query, { defaultLimit: 100, maxLimit: 1000 });
      const rows = await listEntries(db, { jti: query.jti?.toLowerCase() }, page);
      return listEnvelope('entries', rows.map(toEntryView), page);
    },
  };
}

export type RevocationService = ReturnType<typeof createRevocationService>;
