import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRevoked, verifyRevocationList } from '../../src/aitp/index.js';
import { fingerprintOf } from '../../src/plugins/auth.js';
import { AUTH, buildTestApp, TEST_API_KEY } from '../helpers/app.js';

let app: FastifyInstance;

beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }));
});
afterAll(async () => {
  await app.close();
});

const post = (payload: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method: 'POST', url: '/api/revocation/entries', headers: { ...AUTH, ...headers }, payload: payload as object });
const get = (url: string) => app.inject({ method: 'GET', url, headers: AUTH });

async function rows<T>(query: ReturnType<typeof sql>): Promise<T[]> {
  return (await app.db.execute(query)).rows as T[];
}

const revokedEvents = (jti: string) =>
  rows<{ type: string; ts: Date; aid_a: string | null; payload: unknown; source: string; producer: string; session_id: string | null }>(
    sql`SELECT type, ts, aid_a, payload, source, producer, session_id FROM audit_events WHERE type = 'tct.revoked' AND payload->>'jti' = ${jti}`,
  );
const auditRows = (jti: string) =>
  rows<{ action: string; actor_id: string; details: unknown; request_id: string }>(
    sql`SELECT action, actor_id, details, request_id FROM admin_audit_log WHERE target_id = ${jti}`,
  );

describe('POST /api/revocation/entries', () => {
  it('201 with the stored row; event, audit row and revoked_by in the same change', async () => {
    const jti = randomUUID();
    const res = await post({ jti: jti.toUpperCase(), reason: 'key compromised', revokedAt: '2026-05-25T14:00:00.123+02:00' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(Object.keys(body)).toEqual(['jti', 'revokedAt', 'reason', 'createdAt']);
    expect(body).toMatchObject({ jti, revokedAt: '2026-05-25T12:00:00.123Z', reason: 'key compromised' });
    expect(Number.isNaN(Date.parse(body.createdAt))).toBe(false);

    const [event, more] = await revokedEvents(jti);
    expect(more).toBeUndefined();
    expect(event).toMatchObject({ type: 'tct.revoked', aid_a: null, source: 'cp', producer: 'cp', session_id: null, payload: { jti, reason: 'key compromised' } });
    expect(new Date(event!.ts).toISOString()).toBe('2026-05-25T12:00:00.123Z');

    const fingerprint = fingerprintOf(TEST_API_KEY);
    expect(await auditRows(jti)).toEqual([
      { action: 'revocation.add', actor_id: fingerprint, details: { reason: 'key compromised' }, request_id: res.headers['x-request-id'] },
    ]);
    const [stored] = await rows<{ revoked_by: string }>(sql`SELECT revoked_by FROM revocation_entries WHERE jti = ${jti}`);
    expect(stored?.revoked_by).toBe(fingerprint);
  });

  it('puts the jti on the signed list served right after the POST', async () => {
    const jti = randomUUID();
    const res = await post({ jti, reason: 'lost laptop' });
    expect(res.statusCode).toBe(201);
    const list = await app.inject({ method: 'GET', url: '/.well-known/aitp-revocation-list' });
    expect(list.statusCode).toBe(200);
    const verified = verifyRevocationList(list.body, app.identity.aid, Math.floor(Date.now() / 1000));
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    expect(isRevoked(verified.revocationList, jti)).toBe(true);
    const entry = verified.revocationList.entries.find((e) => e.jti === jti);
    expect(entry).toEqual({ jti, revoked_at: Math.floor(Date.parse(res.json().revokedAt) / 1000), reason: 'lost laptop' });
  });

  it('a known jti answers 200 with the stored row, ignoring the new body, with no second event or audit row', async () => {
    const jti = randomUUID();
    const first = await post({ jti, reason: 'first', revokedAt: '2026-01-01' });
    expect(first.statusCode).toBe(201);
    const again = await post({ jti, reason: 'second', revokedAt: '2027-01-01' });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual(first.json());
    expect(again.json()).toMatchObject({ reason: 'first', revokedAt: '2026-01-01T00:00:00.000Z' });
    expect(await revokedEvents(jti)).toHaveLength(1);
    expect(await auditRows(jti)).toHaveLength(1);
  });

  it('two concurrent POSTs of one new jti: one 201, one 200, the same row, one event', async () => {
    const jti = randomUUID();
    const [a, b] = await Promise.all([post({ jti, reason: 'a' }), post({ jti, reason: 'b' })]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 201]);
    expect(a.json()).toEqual(b.json());
    expect(await revokedEvents(jti)).toHaveLength(1);
    expect(await auditRows(jti)).toHaveLength(1);
  });

  it('defaults revokedAt to now and keeps a null reason, which the signed list omits', async () => {
    const jti = randomUUID();
    const before = Date.now();
    const res = await post({ jti, reason: null, revokedAt: null, unknownMember: true });
    expect(res.statusCode).toBe(201);
    expect(res.json().reason).toBeNull();
    const at = Date.parse(res.json().revokedAt);
    expect(at).toBeGreaterThanOrEqual(before - 1);
    expect(at).toBeLessThanOrEqual(Date.now());
    const list = await app.inject({ method: 'GET', url: '/.well-known/aitp-revocation-list' });
    const verified = verifyRevocationList(list.body, app.identity.aid, Math.floor(Date.now() / 1000));
    expect(verified.ok && verified.revocationList.entries.find((e) => e.jti === jti)).toEqual({ jti, revoked_at: Math.floor(at / 1000) });
    expect((await revokedEvents(jti))[0]?.payload).toEqual({ jti, reason: null });
  });

  it('JTI_INVALID with field /jti for a missing, malformed or non-string jti', async () => {
    for (const body of [{}, { jti: 'nope' }, { jti: 42 }, { jti: `${randomUUID()}x` }, { jti: null, reason: 'x'.repeat(600) }]) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toEqual({ error: expect.any(String), code: 'JTI_INVALID', field: '/jti' });
    }
  });

  it('BODY_INVALID for a long reason (code points), a bad revokedAt or a non-object body', async () => {
    const emoji = '\u{1F511}';
    expect((await post({ jti: randomUUID(), reason: emoji.repeat(500) })).statusCode).toBe(201);
    expect((await post({ jti: randomUUID(), revokedAt: '1970-01-01' })).statusCode).toBe(201);
    for (const [body, field] of [
      [{ jti: randomUUID(), reason: emoji.repeat(501) }, '/reason'],
      [{ jti: randomUUID(), reason: 7 }, '/reason'],
      [{ jti: randomUUID(), revokedAt: 'yesterday' }, '/revokedAt'],
      [{ jti: randomUUID(), revokedAt: '2026-02-30' }, '/revokedAt'],
      [{ jti: randomUUID(), revokedAt: 1_700_000_000 }, '/revokedAt'],
      [{ jti: randomUUID(), revokedAt: '1969-12-31T23:59:59Z' }, '/revokedAt'],
      [[], ''],
      ['text', ''],
    ] as const) {
      const res = await post(body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BODY_INVALID', field });
    }
  });

  it('replays a completed Idempotency-Key with the stored status and body', async () => {
    const jti = randomUUID();
    const key = `k-${randomUUID()}`;
    const first = await post({ jti, reason: 'r' }, { 'idempotency-key': key });
    const replay = await post({ jti, reason: 'r' }, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(replay.statusCode).toBe(201);
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.json()).toEqual(first.json());
  });

  it('marks the TCT and cascades through delegations reported via events', async () => {
    const [tct, d1, d2, d3, other, o1, o2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const delegation = (jti: string, parent: string, from: string, to: string, second: number) => ({
      type: 'delegation.issued',
      ts: `2026-05-25T12:00:0${second}Z`,
      payload: { jti, parent_jti: parent, delegator_aid: `aid:pubkey:${from}`, delegatee_aid: `aid:pubkey:${to}` },
    });
    const ingest = await app.inject({
      method: 'POST',
      url: '/api/events',
      headers: AUTH,
      payload: [
        { type: 'tct.issued', ts: '2026-05-25T12:00:00Z', payload: { tct: { jti: tct, iss: 'aid:pubkey:a', sub: 'aid:pubkey:b' } } },
        delegation(d1, tct, 'b', 'c', 1),
        delegation(d2, d1, 'c', 'd', 2),
        delegation(d3, d2, 'd', 'e', 3),
        delegation(o1, other, 'x', 'y', 4),
        delegation(o2, o1, 'y', 'z', 5),
      ],
    });
    expect(ingest.statusCode).toBe(200);
    expect((await get(`/api/delegations?root_jti=${tct}`)).json().delegations.map((d: { jti: string }) => d.jti)).toEqual([d1, d2, d3]);

    const revokedAt = '2026-05-25T12:30:00.000Z';
    expect((await post({ jti: tct, revokedAt })).statusCode).toBe(201);
    expect((await get(`/api/tcts?jti=${tct}`)).json().tcts[0]).toMatchObject({ revoked: true, revokedAt });
    const tree = (await get(`/api/delegations?root_jti=${tct}`)).json().delegations;
    expect(tree.map((d: { revoked: boolean; revokedReason: string; revokedAt: string }) => [d.revoked, d.revokedReason, d.revokedAt])).toEqual([
      [true, 'parent_revoked', revokedAt],
      [true, 'parent_revoked', revokedAt],
      [true, 'parent_revoked', revokedAt],
    ]);

    expect((await post({ jti: o1, revokedAt })).statusCode).toBe(201);
    const sub = (await get(`/api/delegations?root_jti=${o1}`)).json().delegations;
    expect(sub.map((d: { jti: string; revokedReason: string }) => [d.jti, d.revokedReason])).toEqual([
      [o1, 'explicit'],
      [o2, 'parent_revoked'],
    ]);
  });
});

describe('GET /api/revocation/entries', () => {
  it('lists revoked_at desc then jti asc, filters by jti, paginates', async () => {
    const [lo, hi] = [randomUUID(), randomUUID()].sort() as [string, string];
    const newest = randomUUID();
    await post({ jti: hi, revokedAt: '2001-01-01T00:00:00Z' });
    await post({ jti: lo, revokedAt: '2001-01-01T00:00:00Z' });
    await post({ jti: newest, revokedAt: '2001-01-02T00:00:00Z' });

    const all = await get('/api/revocation/entries?limit=1000');
    expect(all.statusCode).toBe(200);
    const entries = all.json().entries as Array<{ jti: string; revokedAt: string }>;
    for (let i = 1; i < entries.length; i++) {
      const [prev, next] = [entries[i - 1]!, entries[i]!];
      expect(prev.revokedAt > next.revokedAt || (prev.revokedAt === next.revokedAt && prev.jti < next.jti)).toBe(true);
    }
    const at = entries.findIndex((e) => e.jti === newest);
    const page = await get(`/api/revocation/entries?limit=2&offset=${at + 1}`);
    expect(page.json()).toMatchObject({ count: 2, limit: 2, offset: at + 1 });
    expect(page.json().entries.map((e: { jti: string }) => e.jti)).toEqual([lo, hi]);

    const one = await get(`/api/revocation/entries?jti=${newest.toUpperCase()}`);
    expect(one.json()).toEqual({
      entries: [{ jti: newest, revokedAt: '2001-01-02T00:00:00.000Z', reason: null, createdAt: expect.any(String) }],
      count: 1,
      limit: 100,
      offset: 0,
      hasMore: false,
    });
  });

  it('400 BAD_REQUEST with field jti for a non-UUID filter', async () => {
    const res = await get('/api/revocation/entries?jti=abc');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'BAD_REQUEST', field: 'jti' });
  });
});

describe('POST /api/revocation/entries when the insert fails', () => {
  it('500 INSERT_FAILED, nothing stored', async () => {
    const { app: broken } = await buildTestApp({ RATE_LIMIT_ENABLED: false });
    try {
      // A real database-side refusal (not connectivity): the row breaks a constraint added here.
      await broken.db.execute(sql`ALTER TABLE revocation_entries ADD CONSTRAINT test_refuse CHECK (reason IS DISTINCT FROM 'refuse')`);
      const jti = randomUUID();
      const res = await broken.inject({ method: 'POST', url: '/api/revocation/entries', headers: AUTH, payload: { jti, reason: 'refuse' } });
      expect(res.statusCode).toBe(500);
      expect(res.json()).toEqual({ error: expect.any(String), code: 'INSERT_FAILED' });
      const events = await broken.db.execute(sql`SELECT 1 FROM audit_events WHERE payload->>'jti' = ${jti}`);
      expect(events.rows).toHaveLength(0);
      const audit = await broken.db.execute(sql`SELECT 1 FROM admin_audit_log WHERE target_id = ${jti}`);
      expect(audit.rows).toHaveLength(0);
    } finally {
      await broken.close();
    }
  });
});
