import { randomBytes, randomUUID } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { applyMigrations, MIGRATIONS_FOLDER } from '../../src/db/migrate.js';
import { DISPATCHER_JOB } from '../../src/domains/webhooks/dispatcher.job.js';
import { createKeyring, keyIdOf, webhookSecretContext } from '../../src/lib/sealing.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { adminUrl, createTestDatabase, urlFor } from '../helpers/database.js';
import { spawnServer, stopAll } from '../helpers/process.js';
import { verifiesSignatureList, verifiesStarHeaders } from '../helpers/signatures.js';
import { enqueue, startReceiver, storedEvent, type Receiver } from '../helpers/webhook-receiver.js';

/** Real time plus an offset the tests move forward; the dispatcher schedules and claims by it. */
const clock = { offset: 0, now: () => Date.now() + clock.offset };
const key = () => randomBytes(32).toString('hex');

let receiver: Receiver;
const scratch = mkdtempSync(join(inject('dataRoot'), 'key-rotation-'));

beforeAll(async () => {
  receiver = await startReceiver();
});
afterAll(async () => {
  await stopAll();
  await receiver.close();
  rmSync(scratch, { recursive: true, force: true });
});

interface Booted {
  app: FastifyInstance;
  logs: Array<Record<string, unknown>>;
}

/** A "restart": a new app on the same database with these keys (logs captured at info). */
async function boot(databaseUrl: string, current: string, previous: string[] = []): Promise<Booted> {
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) });
  const config = { DATABASE_URL: databaseUrl, SECRETS_KEY: current, SECRETS_KEY_PREVIOUS: previous, WEBHOOK_ALLOW_PRIVATE_TARGETS: true, WEBHOOK_TIMEOUT_MS: 2000 };
  const { app } = await buildTestApp(config, { clock, logger });
  return { app, logs };
}

/** `npm run secrets:reseal` against the database with these keys. */
async function resealCli(databaseUrl: string, current: string, previous: string[] = []) {
  const env = { DATABASE_URL: databaseUrl, SECRETS_KEY: current, SECRETS_KEY_PREVIOUS: previous.join(','), DATA_DIR: mkdtempSync(join(scratch, 'cli-')) };
  const cli = spawnServer(env, { script: 'src/cli/secrets-reseal.ts' });
  const code = await cli.exited;
  return { code, report: JSON.parse(cli.stdout()) as Record<string, unknown>, output: cli.stdout() + cli.stderr() };
}

interface Hook {
  id: string;
  secret: string;
  path: string;
}

async function createHooks(app: FastifyInstance, count: number): Promise<Hook[]> {
  const hooks: Hook[] = [];
  for (let i = 0; i < count; i++) {
    const path = `/key-rotation/${randomUUID()}`;
    const res = await app.inject({ method: 'POST', url: '/api/webhooks', headers: AUTH, payload: { url: `${receiver.origin}${path}`, events: ['tct.revoked'] } });
    expect(res.statusCode).toBe(201);
    hooks.push({ ...res.json<{ id: string; secret: string }>(), path });
  }
  return hooks;
}

const requestsFor = (hook: Hook, from: number) => receiver.received.slice(from).filter((r) => r.path === hook.path);

/** One event to every hook, the dispatcher run: each hook gets one request signed with its own secret. */
async function expectDeliveriesVerify(app: FastifyInstance, hooks: Hook[]): Promise<void> {
  const before = receiver.received.length;
  await enqueue(app, [storedEvent({ type: 'tct.revoked' })]);
  await app.jobs.runOnce(DISPATCHER_JOB);
  for (const hook of hooks) {
    const got = requestsFor(hook, before);
    expect(got).toHaveLength(1);
    expect(verifiesStarHeaders(got[0]!, hook.secret)).toBe(true);
    expect(verifiesSignatureList(got[0]!, hook.secret)).toBe(true);
  }
}

async function pendingOf(app: FastifyInstance, hook: Hook) {
  const res = await app.inject({ method: 'GET', url: `/api/webhooks/${hook.id}/deliveries?status=pending`, headers: AUTH });
  return res.json<{ deliveries: Array<{ attempts: number; error: string | null; nextRetryAt: string }> }>().deliveries;
}

describe('SECRETS_KEY rotation end to end', () => {
  it('A → B with PREVIOUS=A → re-seal → B alone → C alone (deliveries wait, nothing unsigned) → B again delivers them', async () => {
    const databaseUrl = await createTestDatabase();
    const [a, b, c] = [key(), key(), key()];

    const first = await boot(databaseUrl, a);
    const hooks = await createHooks(first.app, 2);
    await first.app.close();

    const rotating = await boot(databaseUrl, b, [a]);
    expect(rotating.logs.find((l) => l['msg'] === 'sealed secrets')).toMatchObject({
      keyIdsInUse: { [keyIdOf(a)]: 2 },
      keyIdsConfigured: { current: keyIdOf(b), previous: [keyIdOf(a)] },
    });
    await expectDeliveriesVerify(rotating.app, hooks);
    await rotating.app.close();

    const resealed = await resealCli(databaseUrl, b, [a]);
    expect(resealed.code).toBe(0);
    expect(resealed.report).toEqual({ scanned: 2, resealed: 2, alreadyCurrent: 0, failed: 0, failedIds: [] });
    expect(resealed.output).not.toContain(b);
    const again = await resealCli(databaseUrl, b, [a]);
    expect(again.report).toEqual({ scanned: 2, resealed: 0, alreadyCurrent: 2, failed: 0, failedIds: [] });

    const onlyB = await boot(databaseUrl, b);
    await expectDeliveriesVerify(onlyB.app, hooks);
    await onlyB.app.close();

    const onlyC = await boot(databaseUrl, c);
    expect(onlyC.logs.find((l) => l['msg']?.toString().startsWith('sealed secrets under keys that are not configured'))).toMatchObject({ keyIds: [keyIdOf(b)] });
    const health = await onlyC.app.inject({ method: 'GET', url: '/api/readyz' });
    expect(health.statusCode).toBe(200);
    const before = receiver.received.length;
    await enqueue(onlyC.app, [storedEvent({ type: 'tct.revoked' })]);
    await onlyC.app.jobs.runOnce(DISPATCHER_JOB);
    clock.offset += 10 * 60_000;
    await onlyC.app.jobs.runOnce(DISPATCHER_JOB);
    for (const hook of hooks) {
      expect(requestsFor(hook, before)).toHaveLength(0);
      const pending = await pendingOf(onlyC.app, hook);
      expect(pending).toHaveLength(1);
      expect(pending[0]).toMatchObject({ attempts: 0, error: `secret unavailable (key ${keyIdOf(b)})` });
      expect(Date.parse(pending[0]!.nextRetryAt)).toBeGreaterThan(clock.now());
    }
    const metrics = (await onlyC.app.inject({ method: 'GET', url: '/api/metrics' })).body;
    expect(metrics).toContain(`aitp_control_plane_sealed_secrets{key_id="${keyIdOf(b)}"} 2`);
    const failing = await resealCli(databaseUrl, c);
    expect(failing.code).toBe(1);
    expect(failing.report).toMatchObject({ scanned: 2, resealed: 0, failed: 2 });
    expect((failing.report['failedIds'] as string[]).sort()).toEqual(hooks.map((h) => h.id).sort());
    await onlyC.app.close();

    const restored = await boot(databaseUrl, b);
    clock.offset += 10 * 60_000;
    await restored.app.jobs.runOnce(DISPATCHER_JOB);
    for (const hook of hooks) {
      const got = requestsFor(hook, before);
      expect(got).toHaveLength(1);
      expect(verifiesStarHeaders(got[0]!, hook.secret)).toBe(true);
      expect(await pendingOf(restored.app, hook)).toEqual([]);
    }
    await restored.app.close();
  }, 120_000);

  it('a re-seal while deliveries are in flight loses none: each is delivered once, signed with its secret', async () => {
    const databaseUrl = await createTestDatabase();
    const [a, b] = [key(), key()];
    const first = await boot(databaseUrl, a);
    const hooks = await createHooks(first.app, 3);
    await first.app.close();

    const { app } = await boot(databaseUrl, b, [a]);
    try {
      receiver.respondWith(() => ({ status: 200, delayMs: 20 }));
      const before = receiver.received.length;
      await enqueue(app, Array.from({ length: 20 }, () => storedEvent({ type: 'tct.revoked' })));
      const dispatching = app.jobs.runOnce(DISPATCHER_JOB);
      const reseal = await app.inject({ method: 'POST', url: '/api/admin/secrets/reseal', headers: AUTH });
      await dispatching;
      await app.jobs.runOnce(DISPATCHER_JOB);
      expect(reseal.statusCode).toBe(200);
      expect(reseal.json()).toEqual({ scanned: 3, resealed: 3, alreadyCurrent: 0, failed: 0, failedIds: [] });
      for (const hook of hooks) {
        const got = requestsFor(hook, before);
        expect(new Set(got.map((r) => r.headers['x-aitp-delivery'])).size).toBe(20);
        expect(got).toHaveLength(20);
        for (const request of got) expect(verifiesStarHeaders(request, hook.secret)).toBe(true);
      }
      const left = await app.db.execute<{ n: string }>(sql`SELECT count(*) AS n FROM webhook_deliveries WHERE status <> 'delivered'`);
      expect(Number(left.rows[0]!.n)).toBe(0);
      const audit = await app.db.execute<{ details: Record<string, unknown> }>(sql`SELECT details FROM admin_audit_log WHERE action = 'secrets.reseal'`);
      expect(audit.rows.map((r) => r.details)).toEqual([{ scanned: 3, resealed: 3, alreadyCurrent: 0, failed: 0, keyId: keyIdOf(b) }]);
    } finally {
      receiver.respondWith(() => ({ status: 200, body: 'ok' }));
      await app.close();
    }
  }, 60_000);
});

describe('upgrading a database that holds plain secrets', () => {
  const journal = JSON.parse(readFileSync(join(MIGRATIONS_FOLDER, 'meta', '_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
  const pools: pg.Pool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((pool) => pool.end()));
  });

  /** A database migrated as the release before sealing left it: drizzle/ up to the migration before 0005. */
  async function releaseBeforeSealing(): Promise<{ pool: pg.Pool; url: string }> {
    const name = `s_${randomBytes(6).toString('hex')}`;
    const admin = new pg.Client({ connectionString: adminUrl() });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = urlFor(name);
    const pool = new pg.Pool({ connectionString: url, max: 2 });
    pools.push(pool);
    const dir = mkdtempSync(join(scratch, 'drizzle-'));
    mkdirSync(join(dir, 'meta'));
    const entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === '0005_webhook_secrets_sealed_columns'));
    writeFileSync(join(dir, 'meta', '_journal.json'), JSON.stringify({ ...journal, entries }));
    for (const { tag } of entries) copyFileSync(join(MIGRATIONS_FOLDER, `${tag}.sql`), join(dir, `${tag}.sql`));
    await migrate(drizzle(pool), { migrationsFolder: dir });
    return { pool, url };
  }

  it('refuses to migrate without SECRETS_KEY, then seals every row and drops the plain column; deliveries sign with the old secrets', async () => {
    const { pool, url } = await releaseBeforeSealing();
    const ids = [randomUUID(), randomUUID()];
    const paths = ids.map((id) => `/plain/${id}`);
    for (const [i, id] of ids.entries()) {
      await pool.query(`INSERT INTO webhooks (id, url, events, secret) VALUES ($1, $2, '["tct.revoked"]', $3)`, [id, `${receiver.origin}${paths[i]}`, `plain-secret-${i}`]);
    }
    await expect(applyMigrations(pool)).rejects.toThrow(/2 webhook secret\(s\) are stored in plain text; SECRETS_KEY is needed/);

    const secretsKey = key();
    await applyMigrations(pool, { keyring: createKeyring(secretsKey) });
    const columns = await pool.query<{ column_name: string }>(`SELECT column_name FROM information_schema.columns WHERE table_name = 'webhooks'`);
    expect(columns.rows.map((r) => r.column_name)).not.toContain('secret');
    const rows = await pool.query<{ id: string; sealed_secret: string }>('SELECT id, sealed_secret FROM webhooks ORDER BY id');
    const ring = createKeyring(secretsKey);
    for (const row of rows.rows) expect(ring.open(row.sealed_secret, webhookSecretContext(row.id)).ok).toBe(true);

    const { app } = await boot(url, secretsKey);
    try {
      await expectDeliveriesVerify(app, ids.map((id, i) => ({ id, secret: `plain-secret-${i}`, path: paths[i]! })));
    } finally {
      await app.close();
    }
  });
});
