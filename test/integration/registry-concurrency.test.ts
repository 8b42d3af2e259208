import { get } from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AGENT_EXPIRY_JOB } from '../../src/domains/registry/expiry.job.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { makeManifest } from '../helpers/manifests.js';

async function count(app: FastifyInstance, query: ReturnType<typeof sql>): Promise<number> {
  const result = await app.db.execute<{ n: string }>(query);
  return Number(result.rows[0]!.n);
}

async function tokenFor(app: FastifyInstance, body: string): Promise<string> {
  const res = await app.inject({ method: 'POST', url: '/api/registry/enroll', payload: body });
  expect(res.statusCode, res.body).toBe(200);
  return res.json<{ token: string }>().token;
}

const register = (app: FastifyInstance, body: string, token: string) =>
  app.inject({ method: 'POST', url: '/api/registry/agents', payload: body, headers: { authorization: `Bearer ${token}` } });

describe('one token, concurrent registrations', () => {
  let first: FastifyInstance;
  let second: FastifyInstance;
  beforeAll(async () => {
    const a = await buildTestApp({ RATE_LIMIT_ENABLED: false });
    first = a.app;
    ({ app: second } = await buildTestApp({ DATABASE_URL: a.config.DATABASE_URL, ENROLLMENT_SECRET: a.config.ENROLLMENT_SECRET, RATE_LIMIT_ENABLED: false }));
  });
  afterAll(async () => {
    await Promise.all([first.close(), second.close()]);
  });

  it('gives exactly one 201 and one 401 TOKEN_REPLAYED, across two replicas too', async () => {
    for (let round = 0; round < 5; round++) {
      const manifest = makeManifest();
      const token = await tokenFor(first, manifest.body);
      const results = await Promise.all([register(first, manifest.body, token), register(second, manifest.body, token), register(first, manifest.body, token)]);
      const statuses = results.map((r) => r.statusCode).sort();
      expect(statuses).toEqual([201, 401, 401]);
      for (const r of results.filter((x) => x.statusCode === 401)) expect(r.json().code).toBe('TOKEN_REPLAYED');
      expect(await count(first, sql`SELECT count(*) AS n FROM audit_events WHERE aid_a = ${manifest.aid}`)).toBe(1);
      expect(await count(first, sql`SELECT count(*) AS n FROM admin_audit_log WHERE target_id = ${manifest.aid}`)).toBe(1);
    }
  });
});

describe('agent expiry job (OPERATIONS.md §10)', () => {
  it('expires a lapsed manifest once, with one agent.expired event, with two replicas running the job', async () => {
    let now = Date.now();
    const clock = { now: () => now };
    const a = await buildTestApp({ RATE_LIMIT_ENABLED: false }, { clock });
    const { app: b } = await buildTestApp({ DATABASE_URL: a.config.DATABASE_URL, RATE_LIMIT_ENABLED: false }, { clock });
    try {
      const lapsing = makeManifest({ publishedAt: Math.floor(now / 1000) - 60, ttlSecs: 3600 });
      const lasting = makeManifest({ publishedAt: Math.floor(now / 1000) - 60, ttlSecs: 86_400 });
      for (const m of [lapsing, lasting]) expect((await register(a.app, m.body, await tokenFor(a.app, m.body))).statusCode).toBe(201);

      await Promise.all([a.app.jobs.runOnce(AGENT_EXPIRY_JOB), b.jobs.runOnce(AGENT_EXPIRY_JOB)]);
      expect(await count(a.app, sql`SELECT count(*) AS n FROM audit_events WHERE type = 'agent.expired'`)).toBe(0);

      now = lapsing.expiresAt * 1000; // now >= expires_at is expired (Ruling 14)
      await Promise.all([a.app.jobs.runOnce(AGENT_EXPIRY_JOB), b.jobs.runOnce(AGENT_EXPIRY_JOB)]);
      await Promise.all([a.app.jobs.runOnce(AGENT_EXPIRY_JOB), b.jobs.runOnce(AGENT_EXPIRY_JOB)]);

      const events = await a.app.db.execute<{ aid_a: string; payload: Record<string, unknown>; source: string; producer: string }>(
        sql`SELECT aid_a, payload, source, producer FROM audit_events WHERE type = 'agent.expired'`,
      );
      expect(events.rows).toEqual([
        {
          aid_a: lapsing.aid,
          source: 'cp',
          producer: 'cp',
          payload: {
            displayName: lapsing.displayName,
            namespace: 'default',
            reason: 'manifest_expired',
            manifestExpiresAt: new Date(lapsing.expiresAt * 1000).toISOString(),
          },
        },
      ]);
      const statuses = await a.app.db.execute<{ aid: string; status: string }>(sql`SELECT aid, status FROM agents ORDER BY status`);
      expect(statuses.rows).toEqual([
        { aid: lasting.aid, status: 'active' },
        { aid: lapsing.aid, status: 'expired' },
      ]);
      const metricText = async (app: FastifyInstance) => app.metrics.registry.getSingleMetricAsString('aitp_control_plane_agents_expired_total');
      const total = (text: string) => Number(/_total (\d+)/.exec(text)?.[1] ?? 0);
      expect(total(await metricText(a.app)) + total(await metricText(b))).toBe(1);
      expect(a.app.jobs.names()).toContain(AGENT_EXPIRY_JOB);
    } finally {
      await Promise.all([a.app.close(), b.close()]);
    }
  });
});

describe('export streaming', () => {
  let app: FastifyInstance;
  let base: string;
  beforeAll(async () => {
    ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await app.close();
  });

  it('streams a large export in chunks and frees the connection when the client walks away mid-stream', async () => {
    const manifest = makeManifest();
    expect((await register(app, manifest.body, await tokenFor(app, manifest.body))).statusCode).toBe(201);
    await app.db.execute(sql`
      INSERT INTO audit_events (id, type, ts, aid_a, payload, source, producer)
      SELECT gen_random_uuid(), 'capability.invoked', now() - make_interval(secs => g), ${manifest.aid}, jsonb_build_object('n', g, 'pad', repeat('x', 500)), 'test', 'test'
      FROM generate_series(1, 6000) AS g`);
    const url = `${base}/api/registry/agents/${encodeURIComponent(manifest.aid)}/export?format=jsonl&eventLimit=10000`;

    const full = await fetch(url, { headers: AUTH });
    const lines = (await full.text()).trimEnd().split('\n');
    expect(lines).toHaveLength(1 + 6001);
    expect(full.headers.get('x-aitp-export-truncated')).toBeNull();
    // ts desc, newest first: the registration, then the seeded events 1 s, 2 s, … ago.
    expect(JSON.parse(lines[1]!).record.type).toBe('agent.registered');
    expect(lines.slice(2, 5).map((l) => JSON.parse(l).record.payload.n)).toEqual([1, 2, 3]);

    await new Promise<void>((resolve, reject) => {
      const req = get(url, { headers: AUTH }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    });
    await expect.poll(() => app.pool.totalCount - app.pool.idleCount, { timeout: 5000 }).toBe(0);
    expect((await fetch(`${base}/api/health`)).status).toBe(200);
  });
});
