import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
// A fixed "now" off every bucket boundary, so "the bucket containing since" is exercised.
const NOW = Math.floor(Date.now() / DAY) * DAY - DAY + 13 * HOUR + 27 * MINUTE + 42_123;
const ago = (ms: number) => new Date(NOW - ms).toISOString();

let app: FastifyInstance;
const aids = { a: `aid:pubkey:a-${randomUUID()}`, b: `aid:pubkey:b-${randomUUID()}`, c: `aid:pubkey:c-${randomUUID()}`, d: `aid:pubkey:d-${randomUUID()}` };

async function insertAgent(aid: string, status: 'active' | 'expired' | 'deregistered', registeredAt: string): Promise<void> {
  await app.db.execute(sql`
    INSERT INTO agents (aid, display_name, handshake_endpoint, manifest_json, manifest_sha256, status, registered_at, last_seen_at, deregistered_at)
    VALUES (${aid}, ${`name ${aid.slice(11, 12)}`}, 'https://agent.example.com/aitp', '{}', ${'0'.repeat(64)}, ${status}, ${registeredAt}::timestamptz,
            ${status === 'active' ? registeredAt : null}::timestamptz, ${status === 'deregistered' ? registeredAt : null}::timestamptz)`);
}

async function insertSession(createdAt: string, status: string, boundary: string | null, aidA: string | null, aidB: string | null): Promise<string> {
  const id = `s-${randomUUID()}`;
  await app.db.execute(sql`
    INSERT INTO handshake_sessions (session_id, aid_a, aid_b, status, boundary, created_at, updated_at)
    VALUES (${id}, ${aidA}, ${aidB}, ${status}, ${boundary}, ${createdAt}::timestamptz, ${createdAt}::timestamptz)`);
  return id;
}

async function insertInvocation(ts: string, aidA: string | null, capability: unknown): Promise<void> {
  await app.db.execute(sql`
    INSERT INTO audit_events (id, type, ts, aid_a, payload, source, producer)
    VALUES (gen_random_uuid(), 'capability.invoked', ${ts}::timestamptz, ${aidA}, ${JSON.stringify({ capability })}::jsonb, 'test', 'anonymous')`);
}

const sessionIds: Record<string, string> = {};

beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }, { clock: { now: () => NOW } }));
  await insertAgent(aids.a, 'active', '2026-01-01T00:00:00Z');
  await insertAgent(aids.b, 'active', '2026-01-02T00:00:00Z');
  await insertAgent(aids.c, 'expired', '2026-01-02T00:00:00Z');
  await insertAgent(aids.d, 'deregistered', '2026-01-03T00:00:00Z');
  sessionIds['s1'] = await insertSession(ago(10 * MINUTE), 'complete', 'cross_org', aids.a, aids.b);
  sessionIds['s2'] = await insertSession(ago(20 * MINUTE), 'started', null, aids.a, aids.c);
  sessionIds['s3'] = await insertSession(ago(30 * MINUTE), 'failed', 'intra_org', aids.b, aids.a);
  sessionIds['s4'] = await insertSession(ago(3 * HOUR), 'complete', 'cross_org', aids.a, null);
  sessionIds['s5'] = await insertSession(ago(3 * DAY), 'complete', 'cross_org', aids.a, aids.b);
  sessionIds['s6'] = await insertSession(ago(40 * DAY), 'started', null, null, null);
  for (let i = 0; i < 3; i++) await insertInvocation(ago((i + 1) * MINUTE), aids.a, 'weather.read');
  await insertInvocation(ago(2 * HOUR), aids.b, 'maps.query');
  await insertInvocation(ago(5 * MINUTE), aids.b, { not: 'a string' });
  await insertInvocation(ago(2 * DAY), aids.a, 'maps.query');
  await insertInvocation(ago(40 * DAY), aids.a, 'old.cap');
  const webhook = randomUUID();
  await app.db.execute(sql`INSERT INTO webhooks (id, url, sealed_secret) VALUES (${webhook}, 'https://hooks.example.com/x', 'v1.00000000.AAAA')`);
  for (const status of ['pending', 'pending', 'delivered']) {
    await app.db.execute(sql`
      INSERT INTO webhook_deliveries (id, webhook_id, event_type, body, status, next_retry_at)
      VALUES (gen_random_uuid(), ${webhook}, 'handshake.complete', '{}', ${status}, now())`);
  }
});
afterAll(async () => {
  await app.close();
});

const overview = async (query = '') => {
  const res = await app.inject({ method: 'GET', url: `/api/dashboard/overview${query}`, headers: AUTH });
  expect(res.statusCode).toBe(200);
  return res.json();
};

describe('GET /api/dashboard/overview', () => {
  it('24h by default: every KPI, recent sessions, charts', async () => {
    const body = await overview();
    expect(Object.keys(body)).toEqual(['range', 'kpis', 'recentSessions', 'charts']);
    expect(body.range).toBe('24h');
    expect(body.kpis).toEqual({
      agentsRegistered: 2,
      handshakesTotal: 6,
      handshakesInRange: 4,
      handshakesSuccessInRange: 2,
      capabilityInvocationsInRange: 5,
      activeSessions: 1,
      pendingWebhookDeliveries: 2,
    });
    expect(body.recentSessions.map((s: { sessionId: string }) => s.sessionId)).toEqual(['s1', 's2', 's3', 's4'].map((k) => sessionIds[k]));
    expect(body.recentSessions[0]).toEqual({
      sessionId: sessionIds['s1'],
      aidA: aids.a,
      aidB: aids.b,
      status: 'complete',
      grants: [],
      boundary: 'cross_org',
      startedAt: null,
      completedAt: null,
      createdAt: ago(10 * MINUTE),
    });
    expect(body.charts.handshakesByBoundary).toEqual([
      { boundary: 'cross_org', count: 2 },
      { boundary: 'intra_org', count: 1 },
      { boundary: 'unknown', count: 1 },
    ]);
    expect(body.charts.topCapabilities).toEqual([
      { capability: 'weather.read', count: 3 },
      { capability: 'maps.query', count: 1 },
    ]);
  });

  it('24h chart: 25 zero-filled hour buckets from the one holding since to the one holding now', async () => {
    const buckets = (await overview('?range=24h')).charts.handshakesOverTime as Array<{ bucket: string; count: number }>;
    expect(buckets).toHaveLength(25);
    expect(buckets[0]!.bucket).toBe(new Date(Math.floor((NOW - DAY) / HOUR) * HOUR).toISOString());
    expect(buckets[24]!.bucket).toBe(new Date(Math.floor(NOW / HOUR) * HOUR).toISOString());
    const counted = buckets.filter((b) => b.count > 0);
    const hourOf = (ms: number) => new Date(Math.floor((NOW - ms) / HOUR) * HOUR).toISOString();
    const expected = new Map<string, number>();
    for (const ms of [10 * MINUTE, 20 * MINUTE, 30 * MINUTE, 3 * HOUR]) expected.set(hourOf(ms), (expected.get(hourOf(ms)) ?? 0) + 1);
    expect(counted).toEqual([...expected].map(([bucket, count]) => ({ bucket, count })).sort((x, y) => x.bucket.localeCompare(y.bucket)));
  });

  it('1h: 61 minute buckets and only the last hour counted', async () => {
    const body = await overview('?range=1h');
    expect(body.range).toBe('1h');
    expect(body.kpis).toMatchObject({ handshakesInRange: 3, handshakesSuccessInRange: 1, activeSessions: 1, capabilityInvocationsInRange: 4, handshakesTotal: 6 });
    const buckets = body.charts.handshakesOverTime as Array<{ bucket: string; count: number }>;
    expect(buckets).toHaveLength(61);
    expect(buckets[0]!.bucket).toBe(new Date(Math.floor((NOW - HOUR) / MINUTE) * MINUTE).toISOString());
    expect(buckets[60]!.bucket).toBe(new Date(Math.floor(NOW / MINUTE) * MINUTE).toISOString());
    expect(buckets[50]).toEqual({ bucket: new Date(Math.floor((NOW - 10 * MINUTE) / MINUTE) * MINUTE).toISOString(), count: 1 });
    expect(buckets.reduce((n, b) => n + b.count, 0)).toBe(3);
    expect(body.charts.topCapabilities).toEqual([{ capability: 'weather.read', count: 3 }]);
  });

  it('7d and 30d: 8 and 31 day buckets; the window alias; range wins; invalid → 24h', async () => {
    const week = await overview('?window=7d');
    expect(week.range).toBe('7d');
    expect(week.charts.handshakesOverTime).toHaveLength(8);
    expect(week.charts.handshakesOverTime[0].bucket).toBe(new Date(Math.floor((NOW - 7 * DAY) / DAY) * DAY).toISOString());
    expect(week.kpis.handshakesInRange).toBe(5);
    expect(week.charts.topCapabilities).toEqual([
      { capability: 'weather.read', count: 3 },
      { capability: 'maps.query', count: 2 },
    ]);

    const month = await overview('?range=30d');
    expect(month.charts.handshakesOverTime).toHaveLength(31);
    expect(month.charts.handshakesOverTime.reduce((n: number, b: { count: number }) => n + b.count, 0)).toBe(5);

    expect((await overview('?range=1h&window=7d')).range).toBe('1h');
    expect((await overview('?range=90d')).range).toBe('24h');
    expect((await overview('?range=bogus&window=7d')).range).toBe('24h');
    expect((await overview('?window=2h')).charts.handshakesOverTime).toHaveLength(25);
  });
});

describe('GET /api/dashboard/agents', () => {
  const list = (query = '') => app.inject({ method: 'GET', url: `/api/dashboard/agents${query}`, headers: AUTH });

  it('every status by default, registered_at asc then aid asc, with all-time counts', async () => {
    const res = await list();
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ count: 4, limit: 1000, offset: 0, hasMore: false });
    const [b, c] = [aids.b, aids.c].sort();
    expect(body.agents.map((a: { aid: string }) => a.aid)).toEqual([aids.a, b, c, aids.d]);
    expect(body.agents[0]).toEqual({
      aid: aids.a,
      displayName: 'name a',
      status: 'active',
      registeredAt: '2026-01-01T00:00:00.000Z',
      lastSeenAt: '2026-01-01T00:00:00.000Z',
      handshakesAsInitiator: 4,
      handshakesAsResponder: 1,
      capabilityInvocations: 5,
    });
    const byAid = new Map(body.agents.map((a: { aid: string }) => [a.aid, a]));
    expect(byAid.get(aids.b)).toMatchObject({ handshakesAsInitiator: 1, handshakesAsResponder: 2, capabilityInvocations: 2 });
    expect(byAid.get(aids.c)).toMatchObject({ status: 'expired', handshakesAsInitiator: 0, handshakesAsResponder: 1, capabilityInvocations: 0 });
    expect(byAid.get(aids.d)).toMatchObject({ status: 'deregistered', lastSeenAt: null, handshakesAsInitiator: 0, handshakesAsResponder: 0 });
  });

  it('filters by status, paginates, rejects a bad status', async () => {
    const active = (await list('?status=active')).json();
    expect(active.agents.map((a: { aid: string }) => a.aid)).toEqual([aids.a, aids.b]);
    const page = (await list('?status=active&limit=1&offset=1')).json();
    expect(page).toMatchObject({ count: 1, limit: 1, offset: 1, hasMore: false });
    expect(page.agents[0]).toMatchObject({ aid: aids.b, handshakesAsInitiator: 1 });
    expect((await list('?limit=1')).json()).toMatchObject({ count: 1, hasMore: true });
    const bad = await list('?status=gone');
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toMatchObject({ code: 'BAD_REQUEST', field: 'status' });
  });
});

describe('the dashboard over an empty database', () => {
  it('answers zeros, empty lists and still every zero-filled bucket', async () => {
    const { app: empty } = await buildTestApp({ RATE_LIMIT_ENABLED: false });
    try {
      const res = await empty.inject({ method: 'GET', url: '/api/dashboard/overview?range=1h', headers: AUTH });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body.kpis).toEqual({
        agentsRegistered: 0,
        handshakesTotal: 0,
        handshakesInRange: 0,
        handshakesSuccessInRange: 0,
        capabilityInvocationsInRange: 0,
        activeSessions: 0,
        pendingWebhookDeliveries: 0,
      });
      expect(body.recentSessions).toEqual([]);
      expect(body.charts.handshakesByBoundary).toEqual([]);
      expect(body.charts.topCapabilities).toEqual([]);
      expect(body.charts.handshakesOverTime).toHaveLength(61);
      const agents = await empty.inject({ method: 'GET', url: '/api/dashboard/agents', headers: AUTH });
      expect(agents.json()).toEqual({ agents: [], count: 0, limit: 1000, offset: 0, hasMore: false });
    } finally {
      await empty.close();
    }
  });
});
