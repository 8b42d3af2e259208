import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { createTestDatabase } from '../helpers/database.js';
import { canonicalJson, checkConsistency, checkInclusion, leafHash, merkleRoot, openCheckpoint } from '../helpers/rfc9162.js';

/**
 * Two replicas (two apps, each with its own pool) on one database, writing and integrating at
 * the same time, while one writer transaction that took its seq first stays open across several
 * integrations: every stored row must end up in the log exactly once, none skipped.
 */
const ORIGIN = 'cp.example.com/audit';
let a: FastifyInstance;
let b: FastifyInstance;
let held: pg.Client;
let publicKey: Buffer;

const b64 = (text: string) => Buffer.from(text, 'base64');

beforeAll(async () => {
  const DATABASE_URL = await createTestDatabase();
  const shared = { DATABASE_URL, CP_AID_SEED_HEX: randomBytes(32).toString('hex'), CP_BASE_URL: 'https://cp.example.com', RATE_LIMIT_ENABLED: false };
  ({ app: a } = await buildTestApp(shared));
  ({ app: b } = await buildTestApp(shared));
  held = new pg.Client({ connectionString: DATABASE_URL });
  await held.connect();
  const manifest = JSON.parse((await a.inject({ method: 'GET', url: '/.well-known/aitp-manifest' })).body) as { manifest: { aid: string } };
  publicKey = Buffer.from(manifest.manifest.aid.replace('aid:pubkey:', ''), 'base64url');
});
afterAll(async () => {
  await held.end();
  await a.close();
  await b.close();
});

async function ingest(app: FastifyInstance, count: number): Promise<void> {
  const events = Array.from({ length: count }, (_, i) => ({ type: 'capability.invoked', run_id: `run-${randomUUID()}`, payload: { i } }));
  const res = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: JSON.stringify(events) });
  expect(res.statusCode).toBe(200);
}

async function revoke(app: FastifyInstance): Promise<void> {
  const res = await app.inject({ method: 'POST', url: '/api/revocation/entries', headers: AUTH, payload: { jti: randomUUID() } });
  expect(res.statusCode).toBe(201);
}

type Entry = { index: number; kind: string; id: string; leafHash: string; record: unknown };

async function logEntries(app: FastifyInstance): Promise<Entry[]> {
  const out: Entry[] = [];
  for (let offset = 0; ; offset += 1000) {
    const body = (await app.inject({ method: 'GET', url: `/api/audit-log/entries?offset=${offset}&limit=1000`, headers: AUTH })).json();
    out.push(...(body.entries as Entry[]));
    if (!body.hasMore) return out;
  }
}

async function storedIds(): Promise<string[]> {
  const { rows } = await held.query<{ id: string }>('SELECT id FROM audit_events UNION ALL SELECT id FROM admin_audit_log');
  return rows.map((r) => r.id);
}

/** Writers on both replicas and integrators on both replicas, all at once. */
async function busyRound(): Promise<void> {
  await Promise.all([
    ingest(a, 50), ingest(b, 50), ingest(a, 7), ingest(b, 120), revoke(a), revoke(b),
    a.auditLog.run(), b.auditLog.run(), a.auditLog.run(),
  ]);
}

describe('the audit log under concurrent writers and a long transaction', () => {
  it('takes every committed row exactly once and none of an open transaction', async () => {
    await busyRound();
    const heldId = randomUUID();
    await held.query('BEGIN');
    await held.query(`INSERT INTO audit_events (id, type, ts, producer) VALUES ($1, 'capability.invoked', now(), 'test')`, [heldId]);
    const afterHeld: string[] = [];
    for (let round = 0; round < 4; round++) {
      await busyRound();
      await Promise.all([a.auditLog.run(), b.auditLog.run()]);
      const ids = new Set((await logEntries(a)).map((e) => e.id));
      expect(ids.has(heldId)).toBe(false);
      afterHeld.push(...(await storedIds()).filter((id) => !ids.has(id)));
    }
    // Rows committed after the open transaction began wait behind it (its seq is the lowest of them).
    expect(afterHeld.length).toBeGreaterThan(0);
    await held.query('COMMIT');
    await busyRound();
    await a.auditLog.run();
    await b.auditLog.run();

    const entries = await logEntries(b);
    const stored = await storedIds();
    const logged = entries.map((e) => e.id);
    expect(new Set(logged).size).toBe(logged.length);
    expect([...logged].sort()).toEqual([...stored].sort());
    expect(entries.map((e) => e.index)).toEqual(entries.map((_, i) => i));
    for (const entry of entries) expect(leafHash(Buffer.from(canonicalJson(entry.record))).toString('base64')).toBe(entry.leafHash);

    const note = (await a.inject({ method: 'GET', url: '/.well-known/aitp-audit-checkpoint' })).body;
    const cp = openCheckpoint(note, ORIGIN, publicKey);
    expect(cp.size).toBe(stored.length);
    const hashes = entries.map((e) => b64(e.leafHash));
    expect(merkleRoot(hashes).equals(cp.root)).toBe(true);
    for (let i = 0; i < 25; i++) {
      const index = Math.floor(Math.random() * cp.size);
      const proof = (await b.inject({ method: 'GET', url: `/api/audit-log/proof/inclusion?index=${index}&size=${cp.size}`, headers: AUTH })).json().proof;
      expect(checkInclusion(hashes[index]!, index, cp.size, proof.map(b64), cp.root)).toBe(true);
    }
  });

  it('signs every checkpoint with the manifest key, each consistent with the one before', async () => {
    const listed = (await a.inject({ method: 'GET', url: '/api/audit-log/checkpoints?limit=1000', headers: AUTH })).json().checkpoints as Array<{ note: string }>;
    const checkpoints = listed.map((c) => openCheckpoint(c.note, ORIGIN, publicKey)).reverse();
    expect(checkpoints.length).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < checkpoints.length; i++) {
      const [older, newer] = [checkpoints[i - 1]!, checkpoints[i]!];
      expect(newer.size).toBeGreaterThan(older.size);
      if (older.size === 0) continue;
      const proof = (await b.inject({ method: 'GET', url: `/api/audit-log/proof/consistency?from=${older.size}&to=${newer.size}`, headers: AUTH })).json().proof;
      expect(checkConsistency(older.size, newer.size, proof.map(b64), older.root, newer.root)).toBe(true);
    }
  });
});
