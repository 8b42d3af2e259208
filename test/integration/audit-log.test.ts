import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tileReader } from '../../src/domains/audit-log/repository.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { canonicalJson, checkConsistency, checkInclusion, leafHash, merkleRoot, openCheckpoint } from '../helpers/rfc9162.js';

/**
 * The verifiable audit log through the real app: leaves are the records as the API serves them,
 * checkpoints verify with the manifest key, proofs verify with an independent RFC 9162 checker.
 */
let app: FastifyInstance;
let publicKey: Buffer;
const ORIGIN = 'cp.example.com/audit';

const b64 = (text: string) => Buffer.from(text, 'base64');

async function get(url: string, headers: Record<string, string> = AUTH) {
  return app.inject({ method: 'GET', url, headers });
}

async function ingest(count: number, run: string) {
  const events = Array.from({ length: count }, (_, i) => ({
    type: 'capability.invoked',
    run_id: run,
    aid_a: 'aid:a',
    payload: { n: i, nested: { b: 1.5, a: [true, null, 'x'] } },
  }));
  const res = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: JSON.stringify(events) });
  expect(res.statusCode).toBe(200);
}

async function checkpoint() {
  const res = await get('/.well-known/aitp-audit-checkpoint', {});
  expect(res.statusCode).toBe(200);
  return openCheckpoint(res.body, ORIGIN, publicKey);
}

async function allLeafHashes(size: number): Promise<Buffer[]> {
  const hashes: Buffer[] = [];
  for (let offset = 0; offset < size; offset += 1000) {
    const res = await get(`/api/audit-log/entries?offset=${offset}&limit=1000`);
    expect(res.statusCode).toBe(200);
    for (const entry of res.json().entries as Array<{ leafHash: string; record: unknown }>) {
      expect(leafHash(Buffer.from(canonicalJson(entry.record))).toString('base64')).toBe(entry.leafHash);
      hashes.push(b64(entry.leafHash));
    }
  }
  return hashes;
}

beforeAll(async () => {
  ({ app } = await buildTestApp({ CP_BASE_URL: 'https://cp.example.com', RATE_LIMIT_ENABLED: false }));
  const manifest = JSON.parse((await get('/.well-known/aitp-manifest', {})).body) as { manifest: { aid: string } };
  publicKey = Buffer.from(manifest.manifest.aid.replace('aid:pubkey:', ''), 'base64url');
});
afterAll(async () => {
  await app.close();
});

describe('the audit log', () => {
  it('has a signed empty checkpoint after the first run', async () => {
    expect((await get('/.well-known/aitp-audit-checkpoint', {})).statusCode).toBe(404);
    await app.auditLog.run();
    const res = await get('/.well-known/aitp-audit-checkpoint', {});
    expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(res.headers['cache-control']).toBe('max-age=1');
    const cp = openCheckpoint(res.body, ORIGIN, publicKey);
    expect(cp).toEqual({ origin: ORIGIN, size: 0, root: merkleRoot([]) });
  });

  it('logs every event and admin row once, as served by the API, under signed roots', async () => {
    const run = `run-${randomUUID()}`;
    await ingest(300, run);
    const revoked = await app.inject({ method: 'POST', url: '/api/revocation/entries', headers: AUTH, payload: { jti: randomUUID(), reason: 'test' } });
    expect(revoked.statusCode).toBe(201);
    await app.auditLog.run();
    const cp = await checkpoint();
    const { rows } = await app.db.execute<{ n: string }>(sql`SELECT (SELECT count(*) FROM audit_events) + (SELECT count(*) FROM admin_audit_log) AS n`);
    expect(cp.size).toBe(Number(rows[0]!.n));
    const hashes = await allLeafHashes(cp.size);
    expect(merkleRoot(hashes).equals(cp.root)).toBe(true);

    const history = (await get(`/api/events/history?run_id=${run}&limit=1000`)).json().events as Array<{ id: string }>;
    const served = new Set(hashes.map((h) => h.toString('base64')));
    for (const event of history) expect(served.has(leafHash(Buffer.from(canonicalJson({ ...event, kind: 'event' }))).toString('base64'))).toBe(true);
    const audit = (await get('/api/audit?action=revocation.add')).json().entries as unknown[];
    expect(audit).toHaveLength(1);
    expect(served.has(leafHash(Buffer.from(canonicalJson({ ...(audit[0] as object), kind: 'admin' }))).toString('base64'))).toBe(true);
  });

  it('hashes remembered at commit equal the records as served, for values JCS must canonicalize', async () => {
    await app.auditLog.run();
    expect(app.auditLog.rememberedCount()).toBe(0);
    const run = `run-${randomUUID()}`;
    const payloads: unknown[] = [
      { z: 1, a: { y: [3, 2, 1], b: null }, é: 'ü', '10': 'ten', '9': 'nine', '': 'empty key' },
      { float: 1.5, whole: 2.0, big: 1e21, small: 1e-7, neg: -0, huge: Number('12345678901234567890'), exp: 1.23e-10 },
      { text: 'line\nbreak\ttab "quoted" back\\slash \u001f emoji 😀 \u2028' },
      ['array', 'payload', { k: true }],
      'a string payload',
      42,
      null,
      {},
    ];
    const events = payloads.map((payload, i) => ({
      type: i % 2 === 0 ? 'capability.invoked' : 'x.custom "type" ü',
      run_id: run,
      aid_a: i % 3 === 0 ? null : 'aid:a "quoted"',
      aid_b: i % 2 === 0 ? 'aid:b' : null,
      session_id: i % 2 === 0 ? `sess-ü-${i}` : null,
      grants: i % 2 === 0 ? ['read', 'we"ird', 'ünï'] : null,
      ts: `2026-12-06T10:00:0${i}.123456Z`,
      payload,
    }));
    const res = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: JSON.stringify(events) });
    expect(res.statusCode).toBe(200);
    expect(app.auditLog.rememberedCount()).toBe(payloads.length);
    await app.auditLog.run();
    expect(app.auditLog.rememberedCount()).toBe(0);
    const cp = await checkpoint();
    const served = new Set((await allLeafHashes(cp.size)).map((h) => h.toString('base64')));
    const history = (await get(`/api/events/history?run_id=${run}&limit=100`)).json().events as object[];
    expect(history).toHaveLength(payloads.length);
    for (const event of history) expect(served.has(leafHash(Buffer.from(canonicalJson({ ...event, kind: 'event' }))).toString('base64'))).toBe(true);
  });

  it('proves inclusion of random leaves and consistency between successive checkpoints', async () => {
    const first = await checkpoint();
    await ingest(37, `run-${randomUUID()}`);
    await app.auditLog.run();
    const second = await checkpoint();
    expect(second.size).toBe(first.size + 37);
    const consistency = await get(`/api/audit-log/proof/consistency?from=${first.size}&to=${second.size}`);
    expect(consistency.statusCode).toBe(200);
    expect(checkConsistency(first.size, second.size, consistency.json().proof.map(b64), first.root, second.root)).toBe(true);
    expect(checkConsistency(first.size, second.size, consistency.json().proof.map(b64), second.root, first.root)).toBe(false);

    const hashes = await allLeafHashes(second.size);
    for (let i = 0; i < 20; i++) {
      const index = Math.floor(Math.random() * second.size);
      const res = await get(`/api/audit-log/proof/inclusion?index=${index}&size=${second.size}`);
      expect(res.statusCode).toBe(200);
      expect(checkInclusion(hashes[index]!, index, second.size, res.json().proof.map(b64), second.root)).toBe(true);
    }
    const entry = await get('/api/audit-log/entries/5');
    expect(entry.statusCode).toBe(200);
    expect(entry.json()).toMatchObject({ index: 5, status: 'present', leafHash: hashes[5]!.toString('base64') });
  });

  it('serves tiles in the tlog-tiles layout', async () => {
    const cp = await checkpoint();
    const hashes = await allLeafHashes(cp.size);
    const full = await get('/api/audit-log/tile/0/000', {});
    expect(full.statusCode).toBe(200);
    expect(full.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(full.rawPayload.equals(Buffer.concat(hashes.slice(0, 256)))).toBe(true);
    const width = cp.size - 256;
    const partial = await get(`/api/audit-log/tile/0/001.p/${width}`, {});
    expect(partial.statusCode).toBe(200);
    expect(partial.rawPayload.equals(Buffer.concat(hashes.slice(256)))).toBe(true);
    expect((await get(`/api/audit-log/tile/0/001.p/${width + 1}`, {})).statusCode).toBe(404);
    expect((await get('/api/audit-log/tile/0/1', {})).json()).toMatchObject({ code: 'BAD_REQUEST', field: 'path' });
  });

  it('answers 400 with the field for bad or out-of-range parameters', async () => {
    const cp = await checkpoint();
    const cases: Array<[string, string]> = [
      ['/api/audit-log/entries/abc', 'index'],
      [`/api/audit-log/entries/${cp.size}`, 'index'],
      [`/api/audit-log/proof/inclusion?index=0&size=${cp.size + 1}`, 'size'],
      ['/api/audit-log/proof/inclusion?index=5&size=5', 'index'],
      ['/api/audit-log/proof/inclusion?index=-1&size=5', 'index'],
      ['/api/audit-log/proof/inclusion?index=1', 'size'],
      [`/api/audit-log/proof/consistency?from=0&to=${cp.size + 1}`, 'to'],
      ['/api/audit-log/proof/consistency?from=3&to=2', 'from'],
      ['/api/audit-log/proof/consistency?from=x&to=2', 'from'],
      ['/api/audit-log/checkpoints?limit=0', 'limit'],
    ];
    for (const [url, field] of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json(), url).toMatchObject({ code: 'BAD_REQUEST', field });
    }
  });

  it('lists every checkpoint, newest first, paginated', async () => {
    const res = await get('/api/audit-log/checkpoints?limit=2');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ count: 2, limit: 2, offset: 0, hasMore: true });
    expect(body.checkpoints[0].size).toBeGreaterThan(body.checkpoints[1].size);
    const newest = openCheckpoint(body.checkpoints[0].note, ORIGIN, publicKey);
    expect(newest.root.toString('base64')).toBe(body.checkpoints[0].root);
  });

  it('takes remembered transactions from memory and reads back the rest, in commit-safe order', async () => {
    const before = await checkpoint();
    const run = `run-${randomUUID()}`;
    await ingest(40, `${run}-a`); // remembered
    await app.db.execute(sql`INSERT INTO audit_events (id, type, ts, run_id, producer)
      SELECT gen_random_uuid(), 'capability.invoked', now(), ${`${run}-b`}, 'sql' FROM generate_series(1, 3)`); // not remembered
    await ingest(25, `${run}-c`); // remembered
    await ingest(10, `${run}-d`); // remembered, then one row deleted: read back
    await app.db.execute(sql`DELETE FROM audit_events WHERE seq = (SELECT max(seq) FROM audit_events WHERE run_id = ${`${run}-d`}) - 4`);
    await ingest(5, `${run}-e`); // remembered
    expect(app.auditLog.rememberedCount()).toBe(80);
    await app.auditLog.run();
    expect(app.auditLog.rememberedCount()).toBe(0);
    const after = await checkpoint();
    expect(after.size).toBe(before.size + 40 + 3 + 25 + 9 + 5);
    expect(merkleRoot(await allLeafHashes(after.size)).equals(after.root)).toBe(true);
    const logged = (await get(`/api/audit-log/entries?offset=${before.size}&limit=1000`)).json().entries as Array<{ id: string }>;
    const { rows } = await app.db.execute<{ id: string }>(sql`SELECT id FROM audit_events WHERE run_id LIKE ${`${run}-%`} ORDER BY txid, seq`);
    expect(logged.map((e) => e.id)).toEqual(rows.map((r) => r.id));
  });

  it("stores a tile's hashes only, and ignores an interior a previous release stored", async () => {
    const cp = await checkpoint();
    expect(cp.size).toBeGreaterThan(256);
    const { rows } = await app.db.execute<{ n: number }>(sql`SELECT count(*)::int AS n FROM audit_log_tiles WHERE interior IS NOT NULL`);
    expect(rows[0]!.n).toBe(0);
    // A full tile written by the release that kept interiors, here with nodes that are all wrong.
    await app.db.execute(sql`UPDATE audit_log_tiles SET interior = decode(repeat('ff', 254 * 32), 'hex') WHERE level = 0 AND tile_index = 0`);
    const [stored] = await tileReader(app.pool)([{ level: 0, index: 0, width: 256 }]);
    expect(stored).toHaveLength(256 * 32);
    const hashes = await allLeafHashes(cp.size);
    for (const index of [0, 3, 100, 255]) {
      const res = await get(`/api/audit-log/proof/inclusion?index=${index}&size=${cp.size}`);
      expect(checkInclusion(hashes[index]!, index, cp.size, res.json().proof.map(b64), cp.root)).toBe(true);
    }
  });

  it('writes nothing in a run that appends nothing', async () => {
    await ingest(3, `run-${randomUUID()}`);
    expect((await app.auditLog.run()).status).toBe('integrated');
    const version = async () =>
      (await app.db.execute<{ xmin: string; size: string }>(sql`SELECT xmin::text, size::text FROM audit_log_state WHERE id = 1`)).rows[0];
    const before = await version();
    for (let i = 0; i < 3; i++) expect(await app.auditLog.run()).toMatchObject({ status: 'integrated', appended: 0 });
    expect(await version()).toEqual(before);
    await ingest(2, `run-${randomUUID()}`);
    expect(await app.auditLog.run()).toMatchObject({ status: 'integrated', appended: 2, size: Number(before!.size) + 2 });
    expect((await version())!.xmin).not.toBe(before!.xmin);
  });

  it('stores tiles and bundles uncompressed (no pglz over every rewrite)', async () => {
    const { rows } = await app.db.execute<{ col: string; storage: string }>(sql`
      SELECT attrelid::regclass::text || '.' || attname AS col, attstorage AS storage FROM pg_attribute
      WHERE attrelid IN ('audit_log_tiles'::regclass, 'audit_log_bundles'::regclass) AND atttypid = 'bytea'::regtype ORDER BY 1`);
    expect(rows).toEqual([
      { col: 'audit_log_bundles.entries', storage: 'e' },
      { col: 'audit_log_tiles.hashes', storage: 'e' },
      { col: 'audit_log_tiles.interior', storage: 'e' },
    ]);
  });

  it('takes a transaction larger than a step in parts, each row once, in seq order', async () => {
    const before = await checkpoint();
    await app.db.execute(sql`INSERT INTO audit_events (id, type, ts, producer)
      SELECT gen_random_uuid(), 'capability.invoked', now(), 'test' FROM generate_series(1, 12000)`);
    await app.auditLog.run();
    const after = await checkpoint();
    expect(after.size).toBe(before.size + 12000);
    const hashes = await allLeafHashes(after.size);
    expect(merkleRoot(hashes).equals(after.root)).toBe(true);
    const ids: string[] = [];
    for (let offset = before.size; offset < after.size; offset += 1000) {
      ids.push(...((await get(`/api/audit-log/entries?offset=${offset}&limit=1000`)).json().entries as Array<{ id: string }>).map((e) => e.id));
    }
    const { rows } = await app.db.execute<{ id: string }>(sql`SELECT id FROM audit_events WHERE producer = 'test' ORDER BY seq`);
    expect(ids).toEqual(rows.map((r) => r.id));
  });
});
