import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { makeManifest, type TestManifest } from '../helpers/manifests.js';

// Discovery and history render each row once and serve it again while Postgres reports the row
// at the same version (src/lib/version-cache.ts). Every change must show on the very next read,
// on this replica and on another one, and a served page must equal the one-statement read.
let now = Date.now();
const clock = { now: () => now };
let app: FastifyInstance;
let replica: FastifyInstance;

beforeAll(async () => {
  const first = await buildTestApp({ RATE_LIMIT_ENABLED: false }, { clock });
  app = first.app;
  ({ app: replica } = await buildTestApp({ DATABASE_URL: first.config.DATABASE_URL, RATE_LIMIT_ENABLED: false }, { clock }));
});
afterAll(async () => {
  await replica.close();
  await app.close();
});

async function registered(manifest: TestManifest, target = app): Promise<void> {
  const enroll = await target.inject({ method: 'POST', url: '/api/registry/enroll', payload: manifest.body });
  expect(enroll.statusCode, enroll.body).toBe(200);
  const token = enroll.json<{ token: string }>().token;
  const res = await target.inject({ method: 'POST', url: '/api/registry/agents', payload: manifest.body, headers: { authorization: `Bearer ${token}` } });
  expect(res.statusCode, res.body).toBe(201);
}

type Agent = Record<string, unknown> & { aid: string };

async function discover(cap: string, target = app, extra = ''): Promise<Agent[]> {
  const res = await target.inject({ method: 'GET', url: `/api/registry/agents?capability=${cap}${extra}`, headers: AUTH });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ agents: Agent[] }>().agents;
}

async function detail(aid: string): Promise<Agent> {
  const res = await app.inject({ method: 'GET', url: `/api/registry/agents/${encodeURIComponent(aid)}`, headers: AUTH });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<Agent>();
}

/** The list without the rendered-row cache: include_manifest always reads whole rows. */
async function discoverUncached(cap: string, extra = ''): Promise<Agent[]> {
  return (await discover(cap, app, `&include_manifest=true${extra}`)).map(({ manifestJson: _manifest, ...agent }) => agent as Agent);
}

describe('discovery served from rendered rows', () => {
  it('shows every change of a listed agent on the next read, on either replica', async () => {
    const cap = `cache.${randomUUID()}`;
    const seed = new Uint8Array(32).fill(9);
    const first = makeManifest({ seed, capabilities: [cap], displayName: 'before' });
    await registered(first);
    const [before] = await discover(cap);
    expect(before).toMatchObject({ aid: first.aid, displayName: 'before', status: 'active', lastSeenAt: null });
    expect(await discover(cap)).toEqual([before]);
    expect(await discover(cap, replica)).toEqual([before]);

    // Re-registration with a new manifest, through the other replica.
    await registered(makeManifest({ seed, capabilities: [cap], displayName: 'after' }), replica);
    const [after] = await discover(cap);
    expect(after).toMatchObject({ aid: first.aid, displayName: 'after' });
    expect(after).toEqual(await detail(first.aid));

    // An ingested event touches last_seen_at.
    const ingest = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: { events: [{ type: 'ping', aid_a: first.aid }] } });
    expect(ingest.statusCode, ingest.body).toBe(200);
    const [seen] = await discover(cap, replica);
    expect(seen!['lastSeenAt']).toEqual(expect.any(String));
    expect(seen).toEqual(await detail(first.aid));

    // Deregistration.
    const gone = await replica.inject({ method: 'DELETE', url: `/api/registry/agents/${encodeURIComponent(first.aid)}`, headers: AUTH });
    expect(gone.statusCode, gone.body).toBe(200);
    expect(await discover(cap)).toEqual([]);
    const [deregistered] = await discover(cap, app, '&status=all');
    expect(deregistered).toMatchObject({ aid: first.aid, status: 'deregistered', deregisteredAt: expect.any(String) });
    expect(deregistered).toEqual(await detail(first.aid));
  });

  it('reads a cached agent as expired once the clock passes its manifest expiry (Ruling 14)', async () => {
    const cap = `cache.${randomUUID()}`;
    const manifest = makeManifest({ capabilities: [cap], ttlSecs: 400 });
    await registered(manifest);
    expect((await discover(cap)).map((a) => a.status)).toEqual(['active']);
    expect((await discover(cap)).map((a) => a.status)).toEqual(['active']);
    now += 401_000;
    try {
      expect(await discover(cap)).toEqual([]);
      const [expired] = await discover(cap, app, '&status=all');
      expect(expired).toMatchObject({ aid: manifest.aid, status: 'expired' });
      expect(expired).toEqual(await detail(manifest.aid));
    } finally {
      now -= 401_000;
    }
  });

  it('pages equal the one-statement read, cold and warm, with hasMore and offsets', async () => {
    const cap = `cache.${randomUUID()}`;
    for (let i = 0; i < 5; i++) await registered(makeManifest({ capabilities: [cap, 'other'], displayName: `agent "${i}" ✓` }));
    for (const extra of ['&limit=2', '&limit=2&offset=2', '&limit=2&offset=4', '']) {
      const cold = await app.inject({ method: 'GET', url: `/api/registry/agents?capability=${cap}${extra}`, headers: AUTH });
      const warm = await app.inject({ method: 'GET', url: `/api/registry/agents?capability=${cap}${extra}`, headers: AUTH });
      expect(warm.body).toBe(cold.body);
      const body = warm.json<{ agents: Agent[]; count: number; hasMore: boolean }>();
      expect(body.agents).toEqual(await discoverUncached(cap, extra));
      expect(body.count).toBe(body.agents.length);
      expect(body.hasMore).toBe(extra === '&limit=2' || extra === '&limit=2&offset=2');
    }
  });
});

describe('history served from rendered events', () => {
  it('serves the same bytes warm as cold, and never an event retention has deleted', async () => {
    const run = `run-${randomUUID()}`;
    const events = Array.from({ length: 5 }, (_, i) => ({ type: 'tool.called', ts: 1767323045 + i, run_id: run, payload: { i, text: `"${i}" ✓` } }));
    const ingest = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: { events } });
    expect(ingest.statusCode, ingest.body).toBe(200);
    const page = (target = app) => target.inject({ method: 'GET', url: `/api/events/history?run_id=${run}&limit=3`, headers: AUTH });
    const cold = await page();
    expect(cold.json()).toMatchObject({ count: 3, hasMore: true });
    expect((await page()).body).toBe(cold.body);
    expect((await page(replica)).body).toBe(cold.body);

    const newest = cold.json<{ events: Array<{ id: string; payload: { i: number } }> }>().events[0]!;
    expect(newest.payload.i).toBe(4);
    await app.pool.query('DELETE FROM audit_events WHERE id = $1', [newest.id]);
    const after = (await page()).json<{ events: Array<{ id: string; payload: { i: number } }>; hasMore: boolean }>();
    expect(after.events.map((e) => e.payload.i)).toEqual([3, 2, 1]);
    expect(after.hasMore).toBe(true);
  });
});
