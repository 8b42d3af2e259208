import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/index.js';
import { retentionSettings } from '../../src/domains/retention/index.js';
import { createRetentionSweep, type RetentionDeps, type SweepResult } from '../../src/domains/retention/sweep.js';
import { createLogger } from '../../src/lib/logger.js';
import { buildTestApp } from '../helpers/app.js';

// RETENTION_LOCK_KEY 0x4149545052455400 as pg_locks shows a bigint advisory key: high and low halves.
const LOCK_CLASSID = 0x41495450;
const LOCK_OBJID = 0x52455400;

const apps: FastifyInstance[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((a) => a.close()));
});

function captureLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ level: 'info', replica: 'r-test' }, stream), lines };
}

async function newApp(overrides: Partial<Config> = {}, logger?: ReturnType<typeof createLogger>) {
  const built = await buildTestApp(overrides, logger ? { logger } : {});
  apps.push(built.app);
  return built.app;
}

const ago = (text: string) => sql`now() - ${text}::interval`;

async function count(app: FastifyInstance, table: string, where = 'true'): Promise<number> {
  const result = await app.db.execute<{ n: number }>(sql.raw(`SELECT count(*)::int AS n FROM ${table} WHERE ${where}`));
  return result.rows[0]!.n;
}

async function seedEvents(app: FastifyInstance, n: number, age: string, type = 'test.old'): Promise<void> {
  await app.db.execute(sql`
    INSERT INTO audit_events (id, type, ts, producer, created_at)
    SELECT gen_random_uuid(), ${type}, now(), 'cp', ${ago(age)} FROM generate_series(1, ${n}::int)`);
}

async function seedAdminAudit(app: FastifyInstance, n: number, age: string, action = 'test.old'): Promise<void> {
  await app.db.execute(sql`
    INSERT INTO admin_audit_log (action, created_at) SELECT ${action}, ${ago(age)} FROM generate_series(1, ${n}::int)`);
}

async function seedAgent(app: FastifyInstance, aid: string, status: string, deregisteredAge: string | null): Promise<void> {
  await app.db.execute(sql`
    INSERT INTO agents (aid, display_name, handshake_endpoint, manifest_json, manifest_sha256, status, deregistered_at, registered_at, updated_at)
    VALUES (${aid}, ${aid}, 'https://a.example.com/h', '{}', ${'0'.repeat(64)}, ${status},
            ${deregisteredAge === null ? null : ago(deregisteredAge)}, ${ago('3650 days')}, ${ago('3650 days')})`);
}

/** Old and fresh rows in every swept table, per DATA-MODEL.md §Retention with default TTLs. */
async function seedEverySweptTable(app: FastifyInstance): Promise<void> {
  await app.db.execute(sql`
    INSERT INTO enrollment_jtis (jti, aid, expires_at) VALUES
      ('jti-expired', 'aid:x', ${ago('1 second')}), ('jti-live', 'aid:x', now() + interval '5 minutes')`);
  await app.db.execute(sql`
    INSERT INTO idempotency_keys (scope, caller, key, request_hash, state, created_at) VALUES
      ('events.ingest', 'anonymous', 'old-done', ${'a'.repeat(64)}, 'completed', ${ago('8 days')}),
      ('events.ingest', 'anonymous', 'old-running', ${'a'.repeat(64)}, 'in_progress', ${ago('8 days')}),
      ('events.ingest', 'anonymous', 'fresh', ${'a'.repeat(64)}, 'completed', ${ago('6 days')})`);
  await app.db.execute(sql`
    INSERT INTO webhooks (id, url, sealed_secret, created_at) VALUES ('00000000-0000-4000-8000-000000000001', 'https://h.example.com', 'v1.00000000.AAAA', ${ago('3650 days')})`);
  await app.db.execute(sql`
    INSERT INTO webhook_deliveries (id, webhook_id, event_type, body, status, lease_until, created_at)
    SELECT gen_random_uuid(), '00000000-0000-4000-8000-000000000001', v.tag, '{}', v.status, v.lease, v.created
    FROM (VALUES
      ('old-delivered', 'delivered', NULL::timestamptz, ${ago('15 days')}),
      ('old-failed', 'failed', NULL, ${ago('15 days')}),
      ('old-pending-unleased', 'pending', NULL, ${ago('15 days')}),
      ('old-pending-lease-expired', 'pending', ${ago('1 minute')}, ${ago('15 days')}),
      ('old-pending-leased', 'pending', now() + interval '1 minute', ${ago('15 days')}),
      ('fresh-delivered', 'delivered', NULL, ${ago('13 days')})
    ) AS v(tag, status, lease, created)`);
  await seedAdminAudit(app, 2, '366 days');
  await seedAdminAudit(app, 1, '364 days', 'test.fresh');
  await seedEvents(app, 3, '91 days');
  await seedEvents(app, 1, '89 days', 'test.fresh');
  await app.db.execute(sql`
    INSERT INTO handshake_sessions (session_id, created_at, updated_at) VALUES
      ('s-old', ${ago('400 days')}, ${ago('91 days')}), ('s-touched', ${ago('400 days')}, ${ago('89 days')})`);
  await seedAgent(app, 'aid:dereg-old', 'deregistered', '31 days');
  await seedAgent(app, 'aid:dereg-recent', 'deregistered', '29 days');
  await seedAgent(app, 'aid:expired-old', 'expired', null);
  await seedAgent(app, 'aid:active-old', 'active', null);
}

/** Authoritative and configuration tables, all ten years old: the sweep never touches them. */
async function seedAuthoritative(app: FastifyInstance): Promise<void> {
  const old = ago('3650 days');
  await app.db.execute(sql`INSERT INTO revocation_entries (jti, revoked_at, created_at) VALUES (gen_random_uuid(), ${old}, ${old})`);
  await app.db.execute(sql`
    INSERT INTO issued_tcts (jti, issuer_aid, subject_aid, audience_aid, issued_at, expires_at, created_at)
    VALUES (gen_random_uuid(), 'aid:a', 'aid:b', 'aid:b', ${old}, ${old}, ${old})`);
  await app.db.execute(sql`
    INSERT INTO delegations (jti, parent_jti, delegator_aid, delegatee_aid, issued_at, expires_at, created_at)
    VALUES (gen_random_uuid(), gen_random_uuid(), 'aid:b', 'aid:c', ${old}, ${old}, ${old})`);
  await app.db.execute(sql`INSERT INTO trust_anchors (issuer_url, created_at, updated_at) VALUES ('https://idp.example.com', ${old}, ${old})`);
  await app.db.execute(sql`INSERT INTO pinned_keys (aid, pubkey, expires_at, created_at, updated_at) VALUES ('aid:p', 'k', ${old}, ${old}, ${old})`);
}

async function metricsText(app: FastifyInstance): Promise<string> {
  return (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
}

/** The sweep service over the app's own pool, as the plugin builds it, with test hooks. */
function directSweep(app: FastifyInstance, extra: Partial<RetentionDeps> = {}, settings = retentionSettings(app.config)) {
  return createRetentionSweep({
    settings,
    connect: async () => {
      const client = await app.pool.connect();
      return { db: drizzle(client), release: (destroy) => client.release(destroy) };
    },
    ...extra,
  });
}

describe('retention sweep (OPERATIONS.md §11, DATA-MODEL.md §Retention)', () => {
  it('deletes expired rows of every swept table, keeps fresh ones, leaves authoritative tables alone, logs and counts', async () => {
    const { logger, lines } = captureLogger();
    const app = await newApp({}, logger);
    await seedEverySweptTable(app);
    await seedAuthoritative(app);

    expect(app.jobs.names()).toContain('retention');
    await app.jobs.runOnce('retention');
    const result = app.retention.lastResult();
    expect(result).toMatchObject({
      status: 'completed',
      deleted: {
        enrollment_jtis: 1,
        idempotency_keys: 2,
        webhook_deliveries: 4,
        admin_audit_log: 2,
        audit_events: 3,
        handshake_sessions: 1,
        agents: 1,
      },
    });
    expect(await count(app, 'enrollment_jtis')).toBe(1);
    expect(await count(app, 'enrollment_jtis', "jti = 'jti-live'")).toBe(1);
    expect(await count(app, 'idempotency_keys', "key = 'fresh'")).toBe(1);
    expect(await count(app, 'idempotency_keys')).toBe(1);
    const deliveries = await app.db.execute<{ event_type: string }>(sql`SELECT event_type FROM webhook_deliveries ORDER BY event_type`);
    expect(deliveries.rows.map((r) => r.event_type)).toEqual(['fresh-delivered', 'old-pending-leased']);
    expect(await count(app, 'admin_audit_log')).toBe(1);
    expect(await count(app, 'admin_audit_log', "action = 'test.fresh'")).toBe(1);
    expect(await count(app, 'audit_events')).toBe(1);
    expect(await count(app, 'audit_events', "type = 'test.fresh'")).toBe(1);
    expect(await count(app, 'handshake_sessions', "session_id = 's-touched'")).toBe(1);
    expect(await count(app, 'handshake_sessions')).toBe(1);
    const agents = await app.db.execute<{ aid: string }>(sql`SELECT aid FROM agents ORDER BY aid`);
    expect(agents.rows.map((r) => r.aid)).toEqual(['aid:active-old', 'aid:dereg-recent', 'aid:expired-old']);
    for (const table of ['revocation_entries', 'issued_tcts', 'delegations', 'trust_anchors', 'pinned_keys', 'webhooks']) {
      expect(await count(app, table), table).toBe(1);
    }

    const logged = lines.filter((l) => l['msg'] === 'retention sweep');
    expect(logged).toHaveLength(1);
    expect(logged[0]).toMatchObject({ level: 'info', status: 'completed', deleted: result!.deleted, durationMs: expect.any(Number) });

    const text = await metricsText(app);
    expect(text).toContain('aitp_control_plane_retention_sweeps_total{status="completed"} 1');
    for (const status of ['partial', 'skipped', 'disabled', 'error']) {
      expect(text).toContain(`aitp_control_plane_retention_sweeps_total{status="${status}"} 0`);
    }
    expect(text).toContain('aitp_control_plane_retention_deleted_rows_total{table="webhook_deliveries"} 4');
    expect(text).toContain('aitp_control_plane_retention_deleted_rows_total{table="audit_events"} 3');
    expect(text).toContain('aitp_control_plane_retention_sweep_duration_seconds_count 1');
    expect(text).toMatch(/aitp_control_plane_retention_sweep_duration_seconds_bucket\{le="300"\} 1/);
    const lastSuccess = /^aitp_control_plane_retention_last_success_timestamp_seconds (\S+)$/m.exec(text);
    expect(Math.abs(Number(lastSuccess?.[1]) - Date.now() / 1000)).toBeLessThan(60);

    // Nothing left to delete: the next sweep completes with zeros.
    const again = await app.retention.run();
    expect(again.status).toBe('completed');
    expect(Object.values(again.deleted).every((n) => n === 0)).toBe(true);
  });

  it('keeps a table forever when its TTL is 0 (enrollment jtis are always swept)', async () => {
    const app = await newApp({
      IDEMPOTENCY_KEY_TTL_DAYS: 0,
      WEBHOOK_DELIVERY_TTL_DAYS: 0,
      ADMIN_AUDIT_TTL_DAYS: 0,
      AUDIT_EVENTS_TTL_DAYS: 0,
      SESSION_TTL_DAYS: 0,
      EXPIRED_AGENT_GRACE_DAYS: 0,
    });
    await seedEverySweptTable(app);
    const result = await app.retention.run();
    expect(result).toMatchObject({ status: 'completed', deleted: { enrollment_jtis: 1 } });
    expect(Object.keys(result.deleted)).toEqual(['enrollment_jtis']);
    expect(await count(app, 'idempotency_keys')).toBe(3);
    expect(await count(app, 'webhook_deliveries')).toBe(6);
    expect(await count(app, 'admin_audit_log')).toBe(3);
    expect(await count(app, 'audit_events')).toBe(4);
    expect(await count(app, 'handshake_sessions')).toBe(2);
    expect(await count(app, 'agents')).toBe(4);

    const one = await newApp({ AUDIT_EVENTS_TTL_DAYS: 0 });
    await seedEvents(one, 5, '10000 days');
    await seedAdminAudit(one, 5, '10000 days');
    const deleted = (await one.retention.run()).deleted;
    expect(deleted.admin_audit_log).toBe(5);
    expect(deleted).not.toHaveProperty('audit_events');
    expect(await count(one, 'audit_events')).toBe(5);
  });

  it('purges deregistered agents EXPIRED_AGENT_GRACE_DAYS after deregistered_at, not before', async () => {
    const app = await newApp({ EXPIRED_AGENT_GRACE_DAYS: 2 });
    await seedAgent(app, 'aid:just-inside', 'deregistered', '47 hours 59 minutes');
    await seedAgent(app, 'aid:just-past', 'deregistered', '48 hours 1 minute');
    await seedAgent(app, 'aid:expired-long-ago', 'expired', null);
    expect((await app.retention.run()).deleted.agents).toBe(1);
    const left = await app.db.execute<{ aid: string }>(sql`SELECT aid FROM agents ORDER BY aid`);
    expect(left.rows.map((r) => r.aid)).toEqual(['aid:expired-long-ago', 'aid:just-inside']);
    // Two minutes later (moved by backdating) the grace has run out for it too.
    await app.db.execute(sql`UPDATE agents SET deregistered_at = deregistered_at - interval '2 minutes' WHERE aid = 'aid:just-inside'`);
    expect((await app.retention.run()).deleted.agents).toBe(1);
    expect(await count(app, 'agents')).toBe(1);
  });

  it('drains a backlog larger than RETENTION_BATCH_LIMIT over several sweeps', async () => {
    const app = await newApp({ RETENTION_BATCH_LIMIT: 100 });
    await seedEvents(app, 250, '100 days');
    await seedAdminAudit(app, 120, '400 days');
    const sweeps: SweepResult[] = [];
    for (let i = 0; i < 4; i++) sweeps.push(await app.retention.run());
    expect(sweeps.map((s) => s.status)).toEqual(['completed', 'completed', 'completed', 'completed']);
    expect(sweeps.map((s) => s.deleted.audit_events)).toEqual([100, 100, 50, 0]);
    expect(sweeps.map((s) => s.deleted.admin_audit_log)).toEqual([100, 20, 0, 0]);
    expect(await count(app, 'audit_events')).toBe(0);
    expect(await metricsText(app)).toContain('aitp_control_plane_retention_deleted_rows_total{table="audit_events"} 250');
  });

  it('deletes in chunks of at most 1000 rows, round-robin over the tables in DATA-MODEL order', async () => {
    const app = await newApp();
    await seedEvents(app, 2600, '100 days');
    await seedAdminAudit(app, 1200, '400 days');
    const chunks: Array<[string, number]> = [];
    const settings = { ...retentionSettings(app.config), batchLimit: 2500 };
    const sweep = directSweep(app, { pauseMs: 0, onChunk: (table, rows) => chunks.push([table, rows]) }, settings);
    const result = await sweep.run();
    expect(result).toMatchObject({ status: 'completed', deleted: { audit_events: 2500, admin_audit_log: 1200 } });
    expect(chunks).toEqual([
      ['enrollment_jtis', 0],
      ['idempotency_keys', 0],
      ['webhook_deliveries', 0],
      ['admin_audit_log', 1000],
      ['audit_events', 1000],
      ['handshake_sessions', 0],
      ['agents', 0],
      ['admin_audit_log', 200],
      ['audit_events', 1000],
      ['audit_events', 500],
    ]);
    expect(await count(app, 'audit_events')).toBe(100);
  });

  it('commits every chunk on its own: between chunks the sweep connection is idle (no open transaction), holds the lock, and others see the deletes', async () => {
    const app = await newApp();
    await seedEvents(app, 2500, '100 days');
    const observed: Array<{ remaining: number; state: string; xid: string | null; rowLocks: number; lockHeld: boolean }> = [];
    const observer = new pg.Client({ connectionString: app.config.DATABASE_URL });
    await observer.connect();
    try {
      const sweep = directSweep(app, {
        pauseMs: 1,
        sleep: async () => {
          const lock = await observer.query<{ pid: number }>(
            `SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND classid = $1 AND objid = $2 AND objsubid = 1 AND granted`,
            [LOCK_CLASSID, LOCK_OBJID],
          );
          const pid = lock.rows[0]?.pid ?? -1;
          const activity = await observer.query<{ state: string; backend_xid: string | null }>(
            'SELECT state, backend_xid::text FROM pg_stat_activity WHERE pid = $1',
            [pid],
          );
          const locks = await observer.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_locks WHERE pid = $1 AND locktype IN ('relation', 'tuple', 'transactionid')`,
            [pid],
          );
          const remaining = await observer.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_events');
          observed.push({
            remaining: remaining.rows[0]!.n,
            state: activity.rows[0]?.state ?? 'gone',
            xid: activity.rows[0]?.backend_xid ?? null,
            rowLocks: locks.rows[0]!.n,
            lockHeld: lock.rows.length === 1,
          });
        },
      });
      expect((await sweep.run()).deleted.audit_events).toBe(2500);
    } finally {
      await observer.end();
    }
    // A pause precedes every chunk but the first; each audit_events deletion is visible at once.
    expect(observed.map((o) => o.remaining)).toEqual([2500, 2500, 2500, 2500, 1500, 1500, 1500, 500]);
    for (const o of observed) expect(o).toMatchObject({ state: 'idle', xid: null, rowLocks: 0, lockHeld: true });
  });

  it('stops at the budget with `partial`; the next sweep goes on', async () => {
    // With 50 ms between chunks, the four audit_events chunks a complete sweep needs (1000, 1000,
    // 1000, 0) come after at least nine pauses (450 ms): never within a 400 ms budget.
    const app = await newApp({ RETENTION_SWEEP_BUDGET_MS: 400 });
    await seedEvents(app, 3000, '100 days');
    const first = await app.retention.run();
    expect(first.status).toBe('partial');
    expect(first.deleted.audit_events).toBeGreaterThanOrEqual(1000);
    expect(first.deleted.audit_events).toBeLessThan(3000);
    let total = first.deleted.audit_events!;
    for (let i = 0; i < 10 && total < 3000; i++) total += (await app.retention.run()).deleted.audit_events ?? 0;
    expect(total).toBe(3000);
    expect(await metricsText(app)).toMatch(/aitp_control_plane_retention_sweeps_total\{status="partial"\} [1-9]/);
  });

  it('stops after the current chunk when its signal fires (drain), reporting `partial`', async () => {
    const app = await newApp();
    await seedEvents(app, 2500, '100 days');
    const controller = new AbortController();
    const sweep = directSweep(app, {
      onChunk: (table) => {
        if (table === 'audit_events') controller.abort();
      },
    });
    const result = await sweep.run(controller.signal);
    expect(result).toMatchObject({ status: 'partial', deleted: { audit_events: 1000 } });
    expect(await count(app, 'audit_events')).toBe(1500);
    // The lock was released: another sweep runs at once.
    expect((await app.retention.run()).status).toBe('completed');
  });

  it('stops a running job sweep when the app closes (OPERATIONS.md §13)', async () => {
    const app = await newApp();
    apps.pop();
    await seedEvents(app, 5000, '100 days');
    const running = app.jobs.runOnce('retention');
    await new Promise((resolve) => setTimeout(resolve, 120));
    await app.close();
    await running;
    expect(app.retention.lastResult()?.status).toBe('partial');
    expect(app.retention.lastResult()?.deleted.audit_events).toBeLessThan(5000);
  });

  it('lets one of two replicas sweep at a time: the other reports `skipped`', async () => {
    const first = await newApp();
    const second = await newApp({ DATABASE_URL: first.config.DATABASE_URL });
    // Four chunks with 50 ms pauses keep the winner busy well past the loser's lock attempt.
    await seedEvents(first, 3500, '100 days');
    await Promise.all([first.jobs.runOnce('retention'), second.jobs.runOnce('retention')]);
    const statuses = [first.retention.lastResult()!.status, second.retention.lastResult()!.status].sort();
    expect(statuses).toEqual(['completed', 'skipped']);
    const skipped = [first, second].find((a) => a.retention.lastResult()!.status === 'skipped')!;
    expect(skipped.retention.lastResult()!.deleted).toEqual({});
    expect(await metricsText(skipped)).toContain('aitp_control_plane_retention_sweeps_total{status="skipped"} 1');
    expect(await count(first, 'audit_events')).toBe(0);

    // A lock held by any other session also means skipped, until it is released.
    const holder = new pg.Client({ connectionString: first.config.DATABASE_URL });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', ['4704383989719585792']);
      expect((await first.retention.run()).status).toBe('skipped');
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', ['4704383989719585792']);
      expect((await first.retention.run()).status).toBe('completed');
    } finally {
      await holder.end();
    }
  });

  it('reports `disabled` when RETENTION_ENABLED=false and deletes nothing', async () => {
    const app = await newApp({ RETENTION_ENABLED: false });
    await seedEvents(app, 3, '1000 days');
    expect(await app.retention.run()).toMatchObject({ status: 'disabled', deleted: {} });
    expect(await count(app, 'audit_events')).toBe(3);
    const text = await metricsText(app);
    expect(text).toContain('aitp_control_plane_retention_sweeps_total{status="disabled"} 1');
    expect(text).toContain('aitp_control_plane_retention_sweep_duration_seconds_count 0');
  });

  it('ends with `error` naming the table, keeps committed chunks, logs it and releases the lock', async () => {
    const { logger, lines } = captureLogger();
    const app = await newApp({}, logger);
    await seedEvents(app, 3, '100 days');
    await app.db.execute(sql`INSERT INTO handshake_sessions (session_id, updated_at) VALUES (${randomUUID()}, ${ago('100 days')})`);
    // A column the sweep filters on vanishes: the handshake_sessions chunk fails.
    await app.db.execute(sql`ALTER TABLE handshake_sessions RENAME COLUMN updated_at TO touched_at`);
    const result = await app.retention.run();
    expect(result).toMatchObject({ status: 'error', table: 'handshake_sessions', deleted: { audit_events: 3, handshake_sessions: 0 } });
    expect(await count(app, 'audit_events')).toBe(0);
    const logged = lines.find((l) => l['msg'] === 'retention sweep');
    expect(logged).toMatchObject({ level: 'error', status: 'error', table: 'handshake_sessions', err: expect.any(Object) });
    expect(await metricsText(app)).toContain('aitp_control_plane_retention_sweeps_total{status="error"} 1');

    await app.db.execute(sql`ALTER TABLE handshake_sessions RENAME COLUMN touched_at TO updated_at`);
    expect(await app.retention.run()).toMatchObject({ status: 'completed', deleted: { handshake_sessions: 1 } });
  });
});
