import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

let app: FastifyInstance;
const CALLER = /^apikey:[0-9a-f]{16}$/;
const PUBKEY = 'R6TKgamchzYduyfO-gFbRM-ryuhK5odCdDvdQ8Dy0sQ';
const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

beforeAll(async () => {
  ({ app } = await buildTestApp());
});
afterAll(async () => {
  await app.close();
});

const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method, url, headers: { ...AUTH, ...headers }, ...(payload === undefined ? {} : { payload: JSON.stringify(payload) }) });

const issuer = () => `https://idp-${randomUUID()}.example.com`;
const uniqueNamespace = () => `ns-${randomUUID()}`;

async function createAnchor(body: Record<string, unknown>) {
  const res = await call('POST', '/api/trust-anchors', body);
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; namespace: string; issuerUrl: string }>();
}

async function auditRows(targetId: string) {
  const result = await app.db.execute<{ action: string; actor_id: string; details: Record<string, unknown>; request_id: string }>(
    sql`SELECT action, actor_id, details, request_id FROM admin_audit_log WHERE target_id = ${targetId} ORDER BY created_at, id`,
  );
  return result.rows;
}

describe('trust anchors (API.md §10.1–10.5)', () => {
  it('creates an anchor (201, TrustAnchor view, default namespace) and audits it in the same request', async () => {
    const url = issuer();
    const res = await call('POST', '/api/trust-anchors', { issuerUrl: url, label: 'corp idp', namespace: '' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      namespace: 'default',
      issuerUrl: url,
      jwksUrl: null,
      label: 'corp idp',
      jwksCachedAt: null,
      addedBy: expect.stringMatching(CALLER),
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    const audit = await auditRows(body.id);
    expect(audit).toEqual([
      { action: 'trust-anchor.create', actor_id: body.addedBy, details: { namespace: 'default', issuerUrl: url }, request_id: res.headers['x-request-id'] },
    ]);
  });

  it('validates the body: URLs absolute http(s) ≤ 2048, label ≤ 128, namespace ≤ 128', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{}, '/issuerUrl'],
      [{ issuerUrl: 'ftp://idp.example.com' }, '/issuerUrl'],
      [{ issuerUrl: '/relative/path' }, '/issuerUrl'],
      [{ issuerUrl: 'https://' }, '/issuerUrl'],
      [{ issuerUrl: 'https://idp.example.com/a b' }, '/issuerUrl'],
      [{ issuerUrl: `https://idp.example.com/${'a'.repeat(2030)}` }, '/issuerUrl'],
      [{ issuerUrl: 42 }, '/issuerUrl'],
      [{ issuerUrl: issuer(), jwksUrl: 'not a url' }, '/jwksUrl'],
      [{ issuerUrl: issuer(), jwksUrl: '' }, '/jwksUrl'],
      [{ issuerUrl: issuer(), label: 'x'.repeat(129) }, '/label'],
      [{ issuerUrl: issuer(), namespace: 'n'.repeat(129) }, '/namespace'],
    ];
    for (const [payload, field] of bad) {
      const res = await call('POST', '/api/trust-anchors', payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BODY_INVALID', field });
    }
    // Limits count code points: 128 astral characters are a valid label.
    const ok = await call('POST', '/api/trust-anchors', { issuerUrl: `HTTP://${randomUUID()}.example.com:8443/x?y=1`, label: '😀'.repeat(128), jwksUrl: null });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ jwksUrl: null, label: '😀'.repeat(128) });
  });

  it('answers 409 ALREADY_EXISTS with existing.id for the same (namespace, issuerUrl), in any namespace order', async () => {
    const url = issuer();
    const ns = uniqueNamespace();
    const first = await createAnchor({ issuerUrl: url, namespace: ns });
    const again = await call('POST', '/api/trust-anchors', { issuerUrl: url, namespace: ns, label: 'other' });
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'ALREADY_EXISTS', existing: { id: first.id } });
    // The same issuer in another namespace is a different anchor.
    expect((await call('POST', '/api/trust-anchors', { issuerUrl: url, namespace: uniqueNamespace() })).statusCode).toBe(201);
  });

  it('lets exactly one of concurrent identical creates win; the others get 409 with its id', async () => {
    const url = issuer();
    const results = await Promise.all(Array.from({ length: 6 }, () => call('POST', '/api/trust-anchors', { issuerUrl: url })));
    const created = results.filter((r) => r.statusCode === 201);
    const conflicts = results.filter((r) => r.statusCode === 409);
    expect(created).toHaveLength(1);
    expect(conflicts).toHaveLength(5);
    for (const c of conflicts) expect(c.json()).toMatchObject({ code: 'ALREADY_EXISTS', existing: { id: created[0]!.json().id } });
    expect(await auditRows(created[0]!.json().id)).toHaveLength(1);
  });

  it('gets an anchor by id (any case), 404 for unknown or non-UUID ids', async () => {
    const anchor = await createAnchor({ issuerUrl: issuer() });
    const got = await call('GET', `/api/trust-anchors/${anchor.id.toUpperCase()}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toMatchObject({ id: anchor.id });
    expect(got.headers['cache-control']).toBe('no-store');
    for (const id of [randomUUID(), 'not-a-uuid', '123', `${anchor.id}x`]) {
      for (const method of ['GET', 'PATCH', 'DELETE'] as const) {
        const res = await call(method, `/api/trust-anchors/${id}`, method === 'PATCH' ? { label: 'x' } : undefined);
        expect(res.statusCode, `${method} ${id}`).toBe(404);
        expect(res.json()).toMatchObject({ code: 'NOT_FOUND' });
      }
    }
  });

  it('patches issuerUrl/jwksUrl/label, ignores namespace, audits the changed keys only', async () => {
    const ns = uniqueNamespace();
    const anchor = await createAnchor({ issuerUrl: issuer(), namespace: ns, label: 'before' });
    const newUrl = issuer();
    const res = await call('PATCH', `/api/trust-anchors/${anchor.id}`, {
      issuerUrl: newUrl,
      jwksUrl: `${newUrl}/jwks.json`,
      label: 'before',
      namespace: 'elsewhere',
    });
    expect(res.statusCode).toBe(200);
    const patched = res.json();
    expect(patched).toMatchObject({ id: anchor.id, namespace: ns, issuerUrl: newUrl, jwksUrl: `${newUrl}/jwks.json`, label: 'before' });
    expect(Date.parse(patched.updatedAt)).toBeGreaterThanOrEqual(Date.parse(patched.createdAt));
    const cleared = await call('PATCH', `/api/trust-anchors/${anchor.id}`, { jwksUrl: null, label: null });
    expect(cleared.json()).toMatchObject({ jwksUrl: null, label: null });
    const audit = await auditRows(anchor.id);
    expect(audit.map((a) => [a.action, a.details])).toEqual([
      ['trust-anchor.create', { namespace: ns, issuerUrl: anchor.issuerUrl }],
      ['trust-anchor.update', { issuerUrl: newUrl, jwksUrl: `${newUrl}/jwks.json` }],
      ['trust-anchor.update', { jwksUrl: null, label: null }],
    ]);
  });

  it('answers {} with 200 unchanged and writes no audit row; validates patch members', async () => {
    const anchor = await createAnchor({ issuerUrl: issuer() });
    const before = (await call('GET', `/api/trust-anchors/${anchor.id}`)).json();
    const res = await call('PATCH', `/api/trust-anchors/${anchor.id}`, {});
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual(before);
    expect(await auditRows(anchor.id)).toHaveLength(1);
    const bad = await call('PATCH', `/api/trust-anchors/${anchor.id}`, { issuerUrl: 'mailto:a@b.c' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'BODY_INVALID', field: '/issuerUrl' });
    expect((await call('PATCH', `/api/trust-anchors/${anchor.id}`, { issuerUrl: null })).json()).toMatchObject({ field: '/issuerUrl' });
  });

  it('answers 409 with existing.id when a patch collides with another anchor of the namespace', async () => {
    const ns = uniqueNamespace();
    const a = await createAnchor({ issuerUrl: issuer(), namespace: ns });
    const b = await createAnchor({ issuerUrl: issuer(), namespace: ns });
    const res = await call('PATCH', `/api/trust-anchors/${b.id}`, { issuerUrl: a.issuerUrl, label: 'x' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'ALREADY_EXISTS', existing: { id: a.id } });
    expect((await call('GET', `/api/trust-anchors/${b.id}`)).json()).toMatchObject({ issuerUrl: b.issuerUrl, label: null });
    expect(await auditRows(b.id)).toHaveLength(1);
  });

  it('deletes (204, empty body, audited) and then 404s', async () => {
    const anchor = await createAnchor({ issuerUrl: issuer() });
    const res = await call('DELETE', `/api/trust-anchors/${anchor.id}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await call('GET', `/api/trust-anchors/${anchor.id}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/api/trust-anchors/${anchor.id}`)).statusCode).toBe(404);
    expect((await auditRows(anchor.id)).map((a) => [a.action, a.details])).toEqual([
      ['trust-anchor.create', expect.any(Object)],
      ['trust-anchor.delete', {}],
    ]);
  });

  it('lists with the namespace filter, created_at desc then id asc, and pagination', async () => {
    const ns = uniqueNamespace();
    const made = [];
    for (let i = 0; i < 3; i++) made.push(await createAnchor({ issuerUrl: issuer(), namespace: ns }));
    // Two rows with the same created_at: id ascending breaks the tie.
    await app.db.execute(sql`UPDATE trust_anchors SET created_at = '2030-01-01T00:00:00Z' WHERE id IN (${made[0]!.id}::uuid, ${made[1]!.id}::uuid)`);
    const tied = [made[0]!.id, made[1]!.id].sort();
    const all = await call('GET', `/api/trust-anchors?namespace=${ns}`);
    expect(all.statusCode).toBe(200);
    expect(all.json()).toMatchObject({ count: 3, limit: 100, offset: 0, hasMore: false });
    expect(all.json().trustAnchors.map((a: { id: string }) => a.id)).toEqual([...tied, made[2]!.id]);
    const page = await call('GET', `/api/trust-anchors?namespace=${ns}&limit=1&offset=1`);
    expect(page.json()).toMatchObject({ count: 1, limit: 1, offset: 1, hasMore: true, trustAnchors: [{ id: tied[1] }] });
    const other = await call('GET', `/api/trust-anchors?namespace=${uniqueNamespace()}`);
    expect(other.json()).toMatchObject({ trustAnchors: [], count: 0 });
    const defaults = (await call('GET', '/api/trust-anchors?namespace=&limit=1000')).json();
    expect(defaults.count).toBeGreaterThan(0);
    expect(defaults.trustAnchors.every((a: { namespace: string }) => a.namespace === 'default')).toBe(true);
    const unfiltered = await call('GET', '/api/trust-anchors?limit=5000');
    expect(unfiltered.json().limit).toBe(1000);
    for (const query of ['limit=0', 'limit=abc', 'offset=-1', `namespace=${'n'.repeat(129)}`, 'namespace=a&namespace=b']) {
      const res = await call('GET', `/api/trust-anchors?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BAD_REQUEST' });
    }
  });

  it('replays an idempotent create (same key and body) without a second row or audit', async () => {
    const url = issuer();
    const key = `ta-${randomUUID()}`;
    const first = await call('POST', '/api/trust-anchors', { issuerUrl: url }, { 'idempotency-key': key });
    const replay = await call('POST', '/api/trust-anchors', { issuerUrl: url }, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    expect(await auditRows(first.json().id)).toHaveLength(1);
    const reused = await call('POST', '/api/trust-anchors', { issuerUrl: issuer() }, { 'idempotency-key': key });
    expect(reused.statusCode).toBe(422);
  });

  it('requires an API key', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/trust-anchors' });
    expect(res.statusCode).toBe(401);
    expect(res.json()).toMatchObject({ code: 'INVALID_API_KEY' });
  });
});

describe('pinned keys (API.md §10.6–10.8)', () => {
  const aid = () => `aid:pubkey:${randomUUID()}`;

  it('upserts: 201 on insert and on update, addedBy kept, label/expiresAt replaced, audited each time', async () => {
    const ns = uniqueNamespace();
    const id = aid();
    const first = await call('POST', '/api/pinned-keys', { aid: id, pubkey: PUBKEY, namespace: ns, label: 'k1', expiresAt: '2030-01-01' });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toEqual({
      namespace: ns,
      aid: id,
      pubkey: PUBKEY,
      label: 'k1',
      expiresAt: '2030-01-01T00:00:00.000Z',
      addedBy: expect.stringMatching(CALLER),
      createdAt: expect.stringMatching(ISO),
      updatedAt: expect.stringMatching(ISO),
    });
    // A P-256 key is 44 characters (Ruling 9).
    const p256 = `${PUBKEY}A`;
    await app.db.execute(sql`UPDATE pinned_keys SET added_by = 'apikey:original0000000' WHERE aid = ${id}`);
    const second = await call('POST', '/api/pinned-keys', { aid: id, pubkey: p256, namespace: ns, expiresAt: '2031-02-03T04:05:06.789+01:00' });
    expect(second.statusCode).toBe(201);
    expect(second.json()).toMatchObject({ pubkey: p256, label: null, expiresAt: '2031-02-03T03:05:06.789Z', addedBy: 'apikey:original0000000' });
    expect(second.json().createdAt).toBe(first.json().createdAt);
    const audit = await auditRows(id);
    expect(audit.map((a) => [a.action, a.details])).toEqual([
      ['pinned-key.upsert', { namespace: ns }],
      ['pinned-key.upsert', { namespace: ns }],
    ]);
  });

  it('validates aid, pubkey, namespace, label and expiresAt', async () => {
    const bad: Array<[Record<string, unknown>, string]> = [
      [{ pubkey: PUBKEY }, '/aid'],
      [{ aid: '', pubkey: PUBKEY }, '/aid'],
      [{ aid: 'a'.repeat(513), pubkey: PUBKEY }, '/aid'],
      [{ aid: aid() }, '/pubkey'],
      [{ aid: aid(), pubkey: PUBKEY.slice(1) }, '/pubkey'],
      [{ aid: aid(), pubkey: `${PUBKEY}AA` }, '/pubkey'],
      [{ aid: aid(), pubkey: `${PUBKEY.slice(1)}+` }, '/pubkey'],
      [{ aid: aid(), pubkey: PUBKEY, namespace: '' }, '/namespace'],
      [{ aid: aid(), pubkey: PUBKEY, namespace: 'n'.repeat(129) }, '/namespace'],
      [{ aid: aid(), pubkey: PUBKEY, label: 'l'.repeat(129) }, '/label'],
      [{ aid: aid(), pubkey: PUBKEY, expiresAt: 'tomorrow' }, '/expiresAt'],
      [{ aid: aid(), pubkey: PUBKEY, expiresAt: '2030-02-30' }, '/expiresAt'],
      [{ aid: aid(), pubkey: PUBKEY, expiresAt: 1893456000 }, '/expiresAt'],
    ];
    for (const [payload, field] of bad) {
      const res = await call('POST', '/api/pinned-keys', payload);
      expect(res.statusCode, JSON.stringify(payload).slice(0, 80)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BODY_INVALID', field });
    }
    const ok = await call('POST', '/api/pinned-keys', { aid: 'a'.repeat(512), pubkey: PUBKEY, expiresAt: null, label: null });
    expect(ok.statusCode).toBe(201);
    expect(ok.json()).toMatchObject({ namespace: 'default', expiresAt: null, label: null });
  });

  it('looks up one key (namespace default "default") and 404s an unknown one', async () => {
    const id = aid();
    const ns = uniqueNamespace();
    await call('POST', '/api/pinned-keys', { aid: id, pubkey: PUBKEY });
    const other = `${PUBKEY.slice(0, 42)}Z`;
    await call('POST', '/api/pinned-keys', { aid: id, pubkey: other, namespace: ns });
    const inDefault = await call('GET', `/api/pinned-keys?aid=${encodeURIComponent(id)}`);
    expect(inDefault.statusCode).toBe(200);
    expect(inDefault.json()).toMatchObject({ namespace: 'default', aid: id, pubkey: PUBKEY });
    expect(inDefault.json().pinnedKeys).toBeUndefined();
    const scoped = await call('GET', `/api/pinned-keys?aid=${encodeURIComponent(id)}&namespace=${ns}`);
    expect(scoped.json()).toMatchObject({ namespace: ns, pubkey: other });
    const missing = await call('GET', `/api/pinned-keys?aid=${encodeURIComponent(aid())}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'NOT_FOUND' });
    expect((await call('GET', `/api/pinned-keys?aid=${encodeURIComponent(id)}&namespace=${uniqueNamespace()}`)).statusCode).toBe(404);
  });

  it('lists keys (all namespaces or one), created_at desc then namespace, aid; expired keys included', async () => {
    const ns = uniqueNamespace();
    const ids = [aid(), aid(), aid()];
    for (const id of ids) await call('POST', '/api/pinned-keys', { aid: id, pubkey: PUBKEY, namespace: ns, expiresAt: '2001-01-01' });
    await app.db.execute(sql`UPDATE pinned_keys SET created_at = '2030-01-01T00:00:00Z' WHERE namespace = ${ns}`);
    const res = await call('GET', `/api/pinned-keys?namespace=${ns}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ count: 3, limit: 100, offset: 0, hasMore: false });
    expect(res.json().pinnedKeys.map((k: { aid: string }) => k.aid)).toEqual([...ids].sort());
    expect(res.json().pinnedKeys[0].expiresAt).toBe('2001-01-01T00:00:00.000Z');
    const page = await call('GET', `/api/pinned-keys?namespace=${ns}&limit=2`);
    expect(page.json()).toMatchObject({ count: 2, hasMore: true });
    const all = await call('GET', '/api/pinned-keys?limit=1000');
    expect(all.json().pinnedKeys.length).toBeGreaterThanOrEqual(3);
    expect(all.json().pinnedKeys.slice(0, 3).map((k: { aid: string }) => k.aid)).toEqual([...ids].sort());
    for (const query of ['limit=0', 'namespace=', 'aid=', 'aid=a&aid=b']) {
      expect((await call('GET', `/api/pinned-keys?${query}`)).statusCode, query).toBe(400);
    }
  });

  it('deletes by namespace and aid (204, audited), 404 when absent, 400 field aid without aid', async () => {
    const id = aid();
    const ns = uniqueNamespace();
    await call('POST', '/api/pinned-keys', { aid: id, pubkey: PUBKEY, namespace: ns });
    expect((await call('DELETE', `/api/pinned-keys?aid=${encodeURIComponent(id)}`)).statusCode).toBe(404);
    const res = await call('DELETE', `/api/pinned-keys?namespace=${ns}&aid=${encodeURIComponent(id)}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
    expect((await call('GET', `/api/pinned-keys?aid=${encodeURIComponent(id)}&namespace=${ns}`)).statusCode).toBe(404);
    expect((await call('DELETE', `/api/pinned-keys?namespace=${ns}&aid=${encodeURIComponent(id)}`)).statusCode).toBe(404);
    const noAid = await call('DELETE', `/api/pinned-keys?namespace=${ns}`);
    expect(noAid.statusCode).toBe(400);
    expect(noAid.json()).toMatchObject({ code: 'BAD_REQUEST', field: 'aid' });
    expect((await auditRows(id)).map((a) => [a.action, a.details])).toEqual([
      ['pinned-key.upsert', { namespace: ns }],
      ['pinned-key.delete', { namespace: ns }],
    ]);
  });

  it('replays an idempotent upsert with the stored 201 body', async () => {
    const id = aid();
    const key = `pk-${randomUUID()}`;
    const first = await call('POST', '/api/pinned-keys', { aid: id, pubkey: PUBKEY }, { 'idempotency-key': key });
    const replay = await call('POST', '/api/pinned-keys', { aid: id, pubkey: PUBKEY }, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
    expect(await auditRows(id)).toHaveLength(1);
  });
});
