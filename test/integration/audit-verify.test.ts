import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, TEST_API_KEY, buildTestApp } from '../helpers/app.js';
import { spawnServer, stopAll } from '../helpers/process.js';
import { checkInclusion, openCheckpoint } from '../helpers/rfc9162.js';

/**
 * `npm run audit:verify` against a real listening CP: a clean log verifies (sampled, full, and
 * against a saved checkpoint), a swept event still proves, and an UPDATE or DELETE of a stored
 * event done in SQL makes --full fail naming that index.
 */
let app: FastifyInstance;
let base: string;
const cwd = mkdtempSync(join(tmpdir(), 'aitp-audit-verify-'));

beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false, AUDIT_EVENTS_TTL_DAYS: 30 }));
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await stopAll();
  await app.close();
  rmSync(cwd, { recursive: true, force: true });
});

async function verify(...args: string[]): Promise<{ code: number | null; report: { ok: boolean; index?: number; problem?: string; checkedLeaves: number; sweptLeaves: number }; stderr: string }> {
  const child = spawnServer({ AITP_API_KEY: TEST_API_KEY }, { cwd, script: 'src/cli/audit-verify.ts', args: ['--url', base, ...args] });
  const code = await child.exited;
  return { code, report: JSON.parse(child.stdout()), stderr: child.stderr() };
}

async function ingest(count: number): Promise<string[]> {
  const events = Array.from({ length: count }, (_, i) => ({ id: randomUUID(), type: 'capability.invoked', run_id: 'verify', payload: { i, text: 'é\u2028"' } }));
  const res = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: JSON.stringify(events) });
  expect(res.statusCode).toBe(200);
  return events.map((e) => e.id);
}

async function indexOf(id: string): Promise<number> {
  const body = (await app.inject({ method: 'GET', url: '/api/audit-log/entries?limit=1000', headers: AUTH })).json();
  return (body.entries as Array<{ id: string; index: number }>).find((e) => e.id === id)!.index;
}

describe('npm run audit:verify', () => {
  it('verifies a clean log: sampled, in full, and against a saved checkpoint', async () => {
    await ingest(120);
    await app.auditLog.run();
    const saved = join(cwd, 'checkpoint.txt');
    writeFileSync(saved, (await app.inject({ method: 'GET', url: '/.well-known/aitp-audit-checkpoint' })).body);
    await ingest(200);
    await app.auditLog.run();
    const sampled = await verify('--checkpoint', saved);
    expect(sampled.code, sampled.stderr).toBe(0);
    expect(sampled.report).toMatchObject({ ok: true, size: 320, checkedLeaves: 33 });
    const full = await verify('--full');
    expect(full.code, full.stderr).toBe(0);
    expect(full.report).toMatchObject({ ok: true, checkedLeaves: 320, sweptLeaves: 0 });
  });

  it('keeps proving a swept event, and still verifies', async () => {
    const id = randomUUID();
    await app.db.execute(sql`INSERT INTO audit_events (id, type, ts, producer, created_at) VALUES (${id}, 'capability.invoked', now(), 'test', now() - interval '40 days')`);
    await app.auditLog.run();
    const index = await indexOf(id);
    const before = (await app.inject({ method: 'GET', url: `/api/audit-log/entries/${index}`, headers: AUTH })).json();
    expect((await app.retention.run()).deleted.audit_events).toBe(1);

    const gone = await app.inject({ method: 'GET', url: `/api/audit-log/entries/${index}`, headers: AUTH });
    expect(gone.statusCode).toBe(410);
    expect(gone.json()).toMatchObject({ code: 'ENTRY_SWEPT', index, leafHash: before.leafHash });
    const cp = openCheckpoint((await app.inject({ method: 'GET', url: '/.well-known/aitp-audit-checkpoint' })).body, 'localhost:4000/audit', Buffer.from(app.identity.aid.replace('aid:pubkey:', ''), 'base64url'));
    const proof = (await app.inject({ method: 'GET', url: `/api/audit-log/proof/inclusion?index=${index}&size=${cp.size}`, headers: AUTH })).json().proof as string[];
    expect(checkInclusion(Buffer.from(before.leafHash, 'base64'), index, cp.size, proof.map((p) => Buffer.from(p, 'base64')), cp.root)).toBe(true);

    const full = await verify('--full');
    expect(full.code, full.stderr).toBe(0);
    expect(full.report).toMatchObject({ ok: true, sweptLeaves: 1 });
  });

  it('fails --full naming the index of an event changed in SQL', async () => {
    const [id] = await ingest(3);
    await app.auditLog.run();
    const index = await indexOf(id!);
    await app.db.execute(sql`UPDATE audit_events SET payload = '{"i": 99}' WHERE id = ${id}`);
    const full = await verify('--full');
    expect(full.code).toBe(1);
    expect(full.report).toMatchObject({ ok: false, index });
    expect(full.stderr).toContain(`index ${index}`);
    await app.db.execute(sql`DELETE FROM audit_events WHERE id = ${id}`);
    const deleted = await verify('--full');
    expect(deleted.code).toBe(1);
    expect(deleted.report).toMatchObject({ ok: false, index, problem: 'the record was deleted outside the retention sweep' });
    const entry = await app.inject({ method: 'GET', url: `/api/audit-log/entries/${index}`, headers: AUTH });
    expect(entry.json()).toMatchObject({ code: 'ENTRY_MISSING', index });
  });
});
