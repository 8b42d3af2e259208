import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildTestApp } from '../helpers/app.js';

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await buildTestApp());
});
afterAll(async () => {
  await app.close();
});

describe('probes (OPERATIONS.md §14)', () => {
  it('health answers 200 with the service, AID, db and version', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/health' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.json()).toEqual({
      ok: true,
      service: 'aitp-control-plane',
      aid: app.identity.aid,
      db: 'ok',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
    });
  });

  it('readyz answers 200 {ready:true}', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/readyz' });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ ready: true });
  });

  it('readyz answers 503 shutting_down while draining; health stays 200', async () => {
    const { app: draining } = await buildTestApp();
    draining.lifecycle.startDraining();
    const ready = await draining.inject({ method: 'GET', url: '/api/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ ready: false, reason: 'shutting_down' });
    expect((await draining.inject({ method: 'GET', url: '/api/health' })).statusCode).toBe(200);
    await draining.close();
  });

  it('readyz reports a pool that cannot reach the database with fixed strings; health stays 200', async () => {
    const { app: down } = await buildTestApp();
    await down.pool.end();
    const health = await down.inject({ method: 'GET', url: '/api/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ ok: true });
    const ready = await down.inject({ method: 'GET', url: '/api/readyz' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ ready: false, reason: 'db_unavailable', error: 'database unreachable' });
    await down.close();
  });
});

describe('metrics', () => {
  it('serves Prometheus text with process metrics and the HTTP histogram by route template', async () => {
    await app.inject({ method: 'GET', url: '/api/health' });
    await app.inject({ method: 'GET', url: '/no/such/path' });
    const res = await app.inject({ method: 'GET', url: '/api/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    const text = res.body;
    expect(text).toContain('process_cpu_user_seconds_total');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toMatch(/aitp_control_plane_http_request_duration_seconds_bucket\{le="0\.005",method="GET",route="\/api\/health",status_code="200"\}/);
    expect(text).toMatch(/aitp_control_plane_http_requests_total\{method="GET",route="unmatched",status_code="404"\} 1/);
    expect(text).toMatch(/aitp_control_plane_build_info\{version="[^"]+",node_version="v\d+/);
  });
});
