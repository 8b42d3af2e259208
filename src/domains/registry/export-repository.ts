import type pg from 'pg';
import type { AgentRow } from './repository.js';

// The agent export (API.md §2.8) reads through server-side cursors inside one REPEATABLE READ,
// READ ONLY transaction: one consistent snapshot, at most BATCH rows in memory at a time.

/** Sessions and TCTs per export (API.md §2.8). */
export const EXPORT_ROW_CAP = 10_000;
const BATCH = 500;

export type ExportKind = 'session' | 'tct' | 'event';
type Row = Record<string, unknown>;

// Columns are aliased to the view's key names, in the view's key order (API.md §0.5, §2.8).
const AGENT_SQL = `SELECT aid, display_name AS "displayName", handshake_endpoint AS "handshakeEndpoint",
  offered_caps AS "offeredCaps", manifest_json AS "manifestJson", manifest_sha256 AS "manifestSha256",
  manifest_expires_at AS "manifestExpiresAt", status, namespace, registered_at AS "registeredAt",
  last_enrolled_at AS "lastEnrolledAt", last_seen_at AS "lastSeenAt", deregistered_at AS "deregisteredAt",
  org, cloud, metadata, updated_at AS "updatedAt"
  FROM agents WHERE aid = $1`;

const SECTIONS: Record<ExportKind, { from: string; order: string; select: string }> = {
  session: {
    select: `session_id AS "sessionId", aid_a AS "aidA", aid_b AS "aidB", status, grants, run_id AS "runId", boundary, error,
      started_at AS "startedAt", completed_at AS "completedAt", created_at AS "createdAt", updated_at AS "updatedAt"`,
    from: 'handshake_sessions WHERE aid_a = $1 OR aid_b = $1',
    order: 'created_at DESC, session_id ASC',
  },
  tct: {
    select: `jti, issuer_aid AS "issuerAid", subject_aid AS "subjectAid", audience_aid AS "audienceAid", grants,
      binding_cnf AS "bindingCnf", issued_at AS "issuedAt", expires_at AS "expiresAt", session_id AS "sessionId",
      revoked, revoked_at AS "revokedAt", created_at AS "createdAt"`,
    from: 'issued_tcts WHERE issuer_aid = $1 OR subject_aid = $1 OR audience_aid = $1',
    order: 'issued_at DESC, jti ASC',
  },
  event: {
    select: `id, type, ts, aid_a AS "aidA", aid_b AS "aidB", session_id AS "sessionId", run_id AS "runId", grants, payload,
      source, created_at AS "createdAt"`,
    from: 'audit_events WHERE aid_a = $1 OR aid_b = $1',
    order: 'ts DESC, seq DESC',
  },
};

export interface ExportSnapshot {
  agent: AgentRow;
  /** A section held more rows than its cap. */
  truncated: boolean;
  /** Batches of rows of one section, newest first. */
  batches(kind: ExportKind): AsyncGenerator<Row[]>;
  close(failed?: unknown): Promise<void>;
}

async function exceeds(client: pg.PoolClient, kind: ExportKind, aid: string, cap: number): Promise<boolean> {
  const { from } = SECTIONS[kind];
  const result = await client.query<{ n: string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM ${from} LIMIT $2) capped`, [aid, cap + 1]);
  return Number(result.rows[0]?.n ?? 0) > cap;
}

async function* batches(client: pg.PoolClient, kind: ExportKind, aid: string, cap: number): AsyncGenerator<Row[]> {
  const { select, from, order } = SECTIONS[kind];
  const cursor = `export_${kind}`;
  await client.query(`DECLARE ${cursor} NO SCROLL CURSOR FOR SELECT ${select} FROM ${from} ORDER BY ${order} LIMIT $2`, [aid, cap]);
  try {
    for (;;) {
      const { rows } = await client.query<Row>(`FETCH ${BATCH} FROM ${cursor}`);
      if (rows.length > 0) yield rows;
      if (rows.length < BATCH) return;
    }
  } finally {
    await client.query(`CLOSE ${cursor}`);
  }
}

/** Opens the snapshot; undefined (connection already returned) when the agent does not exist. */
export async function openExportSnapshot(pool: pg.Pool, aid: string, eventLimit: number): Promise<ExportSnapshot | undefined> {
  const client = await pool.connect();
  // After a failure the connection may sit in an aborted transaction: destroy it, never reuse.
  const close = async (failed?: unknown): Promise<void> => {
    if (failed !== undefined) {
      client.release(true);
      return;
    }
    try {
      await client.query('ROLLBACK');
    } catch (err) {
      client.release(true);
      throw err;
    }
    client.release();
  };
  try {
    await client.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const agent = (await client.query<AgentRow>(AGENT_SQL, [aid])).rows[0];
    if (agent === undefined) {
      await close();
      return undefined;
    }
    const caps: Record<ExportKind, number> = { session: EXPORT_ROW_CAP, tct: EXPORT_ROW_CAP, event: eventLimit };
    const truncated =
      (await exceeds(client, 'session', aid, caps.session)) ||
      (await exceeds(client, 'tct', aid, caps.tct)) ||
      (await exceeds(client, 'event', aid, caps.event));
    return { agent, truncated, batches: (kind) => batches(client, kind, aid, caps[kind]), close };
  } catch (err) {
    await close(err);
    throw err;
  }
}
