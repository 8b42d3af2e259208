import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.js';

type Executor = Pick<Database, 'execute'>;

export interface RecordId {
  scope: string;
  caller: string;
  key: string;
}

export interface StoredRecord {
  requestHash: string;
  state: 'in_progress' | 'completed';
  lockExpired: boolean;
  responseStatus: number | null;
  responseBody: unknown;
}

/** In-progress lock (API.md §0.4 rule 5): a dead owner's claim can be taken over after this. */
const LOCK_SECONDS = 60;

/** Claims a new record; false when one exists already (then read it). */
export async function claim(db: Executor, id: RecordId, requestHash: string): Promise<boolean> {
  const result = await db.execute(sql`
    INSERT INTO idempotency_keys (scope, caller, key, request_hash, state, locked_until)
    VALUES (${id.scope}, ${id.caller}, ${id.key}, ${requestHash}, 'in_progress', now() + make_interval(secs => ${LOCK_SECONDS}))
    ON CONFLICT DO NOTHING`);
  return (result.rowCount ?? 0) === 1;
}

export async function read(db: Executor, id: RecordId): Promise<StoredRecord | undefined> {
  const result = await db.execute<{
    request_hash: string;
    state: 'in_progress' | 'completed';
    lock_expired: boolean;
    response_status: number | null;
    response_body: unknown;
  }>(sql`
    SELECT request_hash, state, coalesce(locked_until < now(), true) AS lock_expired, response_status, response_body
    FROM idempotency_keys WHERE scope = ${id.scope} AND caller = ${id.caller} AND key = ${id.key}`);
  const row = result.rows[0];
  if (!row) return undefined;
  return {
    requestHash: row.request_hash,
    state: row.state,
    lockExpired: row.lock_expired,
    responseStatus: row.response_status,
    responseBody: row.response_body,
  };
}

/** Takes over an in-progress record whose owner died (lock expired); false if someone else did. */
export async function takeOver(db: Executor, id: RecordId): Promise<boolean> {
  const result = await db.execute(sql`
    UPDATE idempotency_keys SET locked_until = now() + make_interval(secs => ${LOCK_SECONDS})
    WHERE scope = ${id.scope} AND caller = ${id.caller} AND key = ${id.key}
      AND state = 'in_progress' AND locked_until < now()`);
  return (result.rowCount ?? 0) === 1;
}

export async function complete(db: Executor, id: RecordId, status: number, body: unknown): Promise<void> {
  await db.execute(sql`
    UPDATE idempotency_keys
    SET state = 'completed', response_status = ${status}, response_body = ${JSON.stringify(body)}::jsonb,
        completed_at = now(), locked_until = NULL
    WHERE scope = ${id.scope} AND caller = ${id.caller} AND key = ${id.key}`);
}

/** A non-2xx outcome: forget the attempt so a retry executes again (API.md §0.4 rule 6). */
export async function release(db: Executor, id: RecordId): Promise<void> {
  await db.execute(sql`
    DELETE FROM idempotency_keys
    WHERE scope = ${id.scope} AND caller = ${id.caller} AND key = ${id.key} AND state = 'in_progress'`);
}
