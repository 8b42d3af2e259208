import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

let app: FastifyInstance;

beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }));
});
afterAll(async () => {
  await app.close();
});

const get = (url: string) => app.inject({ method: 'GET', url, headers: AUTH });

interface SessionSeed {
  id?: string;
  status?: 'started' | 'complete' | 'failed';
  aidA?: string | null;
  aidB?: string | null;
  runId?: string | null;
  createdAt: string;
}

async function insertSession(s: SessionSeed): Promise<string> {
  const id = s.id ?? `s-${randomUUID()}`;
  await app.db.execute(sql`
    INSERT INTO handshake_sessions (session_id, aid_a, aid_b, status, grants, run_id, boundary, created_at, updated_at)
    VALUES (${id}, ${s.aidA ?? null}, ${s.aidB ?? null}, ${s.status ?? 'started'}, '["weather.read"]', ${s.runId ?? null}, 'cross_org',
            ${s.createdAt}::timestamptz, ${s.createdAt}::timestamptz)`);
  return id;
}

/** `count` events for the session, 1 ms apart from `start`, type `test.tick`, payload {n}. */
async function insertEvents(sessionId: string, count: number, start = '2026-05-25T12:00:00.000Z'): Promise<void> {
  await app.db.execute(sql`
    INSERT INTO audit_events (id, type, ts, session_id, payload, source, producer)
    SELECT gen_random_uuid(), 'test.tick', ${start}::timestamptz + g * interval '1 millisecond', ${sessionId},
           jsonb_build_object('n', g), 'test', 'anonymous'
    FROM generate_series(0, ${count - 1}) AS g`);
}

describe('GET /api/sessions', () => {
  it('orders by created_at desc then session_id asc, and filters by status, run id (snake wins) and aid', async () => {
    const run = `run-${randomUUID()}`;
    const aid = `aid:pubkey:${randomUUID()}`;
    const older = await insertSession({ runId: run, createdAt: '2026-05-25T10:00:00Z', aidB: aid, status: 'complete' });
    const b = await insertSession({ id: `b-${randomUUID()}`, runId: run, createdAt: '2026-05-25T11:00:00Z', aidA: aid });
    const a = await insertSession({ id: `a-${randomUUID()}`, runId: run, createdAt: '2026-05-25T11:00:00Z', status: 'failed' });

    const all = await get(`/api/sessions?run_id=${run}`);
    expect(all.statusCode).toBe(200);
    expect(all.json()).toMatchObject({ count: 3, limit: 200, offset: 0, hasMore: false });
    expect(all.json().sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([a, b, older]);
    expect(all.json().sessions[2]).toEqual({
      sessionId: older,
      aidA: null,
      aidB: aid,
      status: 'complete',
      grants: ['weather.read'],
      runId: run,
      boundary: 'cross_org',
      error: null,
      startedAt: null,
      completedAt: null,
      createdAt: '2026-05-25T10:00:00.000Z',
      updatedAt: '2026-05-25T10:00:00.000Z',
    });

    const failed = await get(`/api/sessions?runId=${run}&status=failed`);
    expect(failed.json().sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([a]);
    const snakeWins = await get(`/api/sessions?run_id=${run}&runId=other-run`);
    expect(snakeWins.json().count).toBe(3);
    const byAid = await get(`/api/sessions?aid=${encodeURIComponent(aid)}`);
    expect(byAid.json().sessions.map((s: { sessionId: string }) => s.sessionId)).toEqual([b, older]);
  });

  it('paginates with limit/offset/hasMore, clamps the limit to 1000 and rejects bad parameters', async () => {
    const run = `run-${randomUUID()}`;
    for (let i = 0; i < 3; i++) await insertSession({ runId: run, createdAt: `2026-05-2${i}T00:00:00Z` });
    const first = await get(`/api/sessions?run_id=${run}&limit=2`);
    expect(first.json()).toMatchObject({ count: 2, limit: 2, offset: 0, hasMore: true });
    const second = await get(`/api/sessions?run_id=${run}&limit=2&offset=2`);
    expect(second.json()).toMatchObject({ count: 1, limit: 2, offset: 2, hasMore: false });
    expect(second.json().sessions[0].createdAt).toBe('2026-05-20T00:00:00.000Z');
    expect((await get(`/api/sessions?run_id=${run}&limit=5000`)).json().limit).toBe(1000);

    for (const [query, field] of [
      ['limit=0', 'limit'],
      ['limit=abc', 'limit'],
      ['status=done', 'status'],
      ['aid=a&aid=b', 'aid'],
    ]) {
      const res = await get(`/api/sessions?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BAD_REQUEST', field });
    }
  });
});

describe('GET /api/sessions/:sessionId', () => {
  it('answers the session with its events ts asc, and 404 for an unknown or over-long id', async () => {
    const id = await insertSession({ createdAt: '2026-05-25T12:00:00Z' });
    await insertEvents(id, 3);
    const res = await get(`/api/sessions/${encodeURIComponent(id)}`);
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.session.sessionId).toBe(id);
    expect(body.eventsTruncated).toBe(false);
    expect(body.events.map((e: { payload: { n: number } }) => e.payload.n)).toEqual([0, 1, 2]);
    expect(Object.keys(body.events[0])).toEqual(['id', 'type', 'ts', 'aidA', 'aidB', 'sessionId', 'runId', 'grants', 'payload', 'source', 'createdAt']);
    expect(body.events[0]).toMatchObject({ type: 'test.tick', ts: '2026-05-25T12:00:00.000Z', sessionId: id, source: 'test', grants: null });

    const missing = await get(`/api/sessions/unknown-${randomUUID()}`);
    expect(missing.statusCode).toBe(404);
    expect(missing.json().code).toBe('NOT_FOUND');
    expect((await get(`/api/sessions/${'x'.repeat(256)}`)).statusCode).toBe(404);
  });

  it('shows the first 1000 events and flags eventsTruncated when there are more', async () => {
    const id = await insertSession({ createdAt: '2026-05-25T12:00:00Z' });
    await insertEvents(id, 1001);
    const body = (await get(`/api/sessions/${id}`)).json();
    expect(body.events).toHaveLength(1000);
    expect(body.eventsTruncated).toBe(true);
    expect(body.events[999].payload.n).toBe(999);
  });

  it('shows a session created by ingested playground events', async () => {
    const id = `pg-${randomUUID()}`;
    const ingest = await app.inject({
      method: 'POST',
      url: '/api/events',
      headers: AUTH,
      payload: [
        { type: 'handshake.started', session_id: id, aid_a: 'aid:pubkey:a', aid_b: 'aid:pubkey:b', ts: '2026-05-25T12:00:00Z' },
        { type: 'handshake.completed', session_id: id, grants: ['weather.read'], ts: '2026-05-25T12:00:01Z' },
      ],
    });
    expect(ingest.statusCode).toBe(200);
    const body = (await get(`/api/sessions/${id}`)).json();
    expect(body.session).toMatchObject({ sessionId: id, status: 'complete', aidA: 'aid:pubkey:a', completedAt: '2026-05-25T12:00:01.000Z' });
    expect(body.events.map((e: { type: string }) => e.type)).toEqual(['handshake.started', 'handshake.completed']);
  });
});

describe('GET /api/sessions/:sessionId/export', () => {
  async function seedExportable(): Promise<{ id: string; tctJtis: string[] }> {
    const id = await insertSession({ createdAt: '2026-05-25T12:00:00Z', status: 'complete' });
    await insertEvents(id, 3);
    const tctJtis = [randomUUID(), randomUUID()];
    for (const [i, jti] of tctJtis.entries()) {
      await app.db.execute(sql`
        INSERT INTO issued_tcts (jti, issuer_aid, subject_aid, audience_aid, grants, issued_at, session_id)
        VALUES (${jti}, 'aid:pubkey:i', 'aid:pubkey:s', 'aid:pubkey:s', '["weather.read"]', ${`2026-05-25T12:00:0${i}Z`}::timestamptz, ${id})`);
    }
    return { id, tctJtis };
  }

  it('JSON: {session, tcts, events, exportedAt} with TctRecords issued_at asc, not truncated', async () => {
    const { id, tctJtis } = await seedExportable();
    const res = await get(`/api/sessions/${id}/export`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['x-aitp-export-truncated']).toBeUndefined();
    const body = res.json();
    expect(Object.keys(body)).toEqual(['session', 'tcts', 'events', 'exportedAt']);
    expect(body.session.sessionId).toBe(id);
    expect(body.tcts.map((t: { jti: string }) => t.jti)).toEqual(tctJtis);
    expect(Object.keys(body.tcts[0])).toEqual([
      'jti', 'issuerAid', 'subjectAid', 'audienceAid', 'grants', 'bindingCnf', 'issuedAt', 'expiresAt', 'sessionId', 'revoked', 'revokedAt', 'createdAt',
    ]);
    expect(body.events.map((e: { payload: { n: number } }) => e.payload.n)).toEqual([0, 1, 2]);
    expect(Number.isNaN(Date.parse(body.exportedAt))).toBe(false);
  });

  it('JSONL: one {kind, record} line each, session then tct then event, as an attachment', async () => {
    const { id } = await seedExportable();
    const res = await get(`/api/sessions/${id}/export?format=jsonl`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="session-${encodeURIComponent(id)}.jsonl"`);
    expect(res.body.endsWith('\n')).toBe(true);
    const lines = res.body.trimEnd().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.kind)).toEqual(['session', 'tct', 'tct', 'event', 'event', 'event']);
    expect(lines[0].record.sessionId).toBe(id);
  });

  it('encodes the id in the filename, caps events at 10000 and says so in a header', async () => {
    const id = await insertSession({ id: `big "one" ${randomUUID()}`, createdAt: '2026-05-25T12:00:00Z' });
    await insertEvents(id, 10_001);
    const json = await get(`/api/sessions/${encodeURIComponent(id)}/export`);
    expect(json.headers['x-aitp-export-truncated']).toBe('true');
    const events = json.json().events as Array<{ payload: { n: number } }>;
    expect(events).toHaveLength(10_000);
    expect(events.every((e, i) => e.payload.n === i)).toBe(true);
    const jsonl = await get(`/api/sessions/${encodeURIComponent(id)}/export?format=jsonl`);
    expect(jsonl.headers['x-aitp-export-truncated']).toBe('true');
    expect(jsonl.headers['content-disposition']).toBe(`attachment; filename="session-${encodeURIComponent(id)}.jsonl"`);
    expect(jsonl.body.trimEnd().split('\n')).toHaveLength(10_001);
  });

  it('HEAD answers the same headers with no body', async () => {
    const { id } = await seedExportable();
    const res = await app.inject({ method: 'HEAD', url: `/api/sessions/${id}/export?format=jsonl`, headers: AUTH });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(res.headers['content-disposition']).toBe(`attachment; filename="session-${encodeURIComponent(id)}.jsonl"`);
    expect(res.body).toBe('');
  });

  it('404 without a session row; 400 for an unknown format', async () => {
    expect((await get(`/api/sessions/none-${randomUUID()}/export`)).statusCode).toBe(404);
    const id = await insertSession({ createdAt: '2026-05-25T12:00:00Z' });
    const bad = await get(`/api/sessions/${id}/export?format=xml`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'BAD_REQUEST', field: 'format' });
  });
});

describe('GET /api/sessions/:sessionId/replay', () => {
  it('works without a session row, filters by since/until inclusively and paginates', async () => {
    const id = `orphan-${randomUUID()}`;
    await insertEvents(id, 5, '2026-05-25T12:00:00.000Z');
    const all = await get(`/api/sessions/${id}/replay`);
    expect(all.statusCode).toBe(200);
    expect(all.json()).toMatchObject({ sessionId: id, count: 5, limit: 1000, offset: 0, hasMore: false });
    expect(Object.keys(all.json())).toEqual(['sessionId', 'count', 'events', 'limit', 'offset', 'hasMore']);

    const ranged = await get(`/api/sessions/${id}/replay?since=2026-05-25T12:00:00.001Z&until=2026-05-25%2012:00:00.003%2B00:00`);
    expect(ranged.json().events.map((e: { payload: { n: number } }) => e.payload.n)).toEqual([1, 2, 3]);
    const paged = await get(`/api/sessions/${id}/replay?limit=2&offset=2`);
    expect(paged.json()).toMatchObject({ count: 2, limit: 2, offset: 2, hasMore: true });
    expect(paged.json().events.map((e: { payload: { n: number } }) => e.payload.n)).toEqual([2, 3]);
    expect((await get(`/api/sessions/${id}/replay?limit=20000`)).json().limit).toBe(10_000);

    const unknown = await get(`/api/sessions/never-${randomUUID()}/replay`);
    expect(unknown.statusCode).toBe(200);
    expect(unknown.json()).toMatchObject({ count: 0, events: [], hasMore: false });
  });

  it('400 BAD_REQUEST naming since or until when unparseable', async () => {
    for (const [query, field] of [
      ['since=yesterday', 'since'],
      ['until=2026-13-01', 'until'],
      ['since=2026-05-25T12:00:00Z&until=nope', 'until'],
    ]) {
      const res = await get(`/api/sessions/s-1/replay?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json()).toMatchObject({ code: 'BAD_REQUEST', field });
    }
  });
});
