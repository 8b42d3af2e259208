import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';

/**
 * The dashboard counts on the producer's clock (Ruling 26, API.md §8.1): events reported now
 * whose `ts` is 2 h old belong 2 h back, whatever time we stored them.
 */

const HOUR = 3_600_000;
let app: FastifyInstance;
let ts: Date;
const sessionId = `s-${randomUUID()}`;

beforeAll(async () => {
  ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }));
  // 2 h 10 min back: outside 1h even if the test runs slowly, and never on an hour boundary race
  // with "now" that would move it into the bucket of now.
  ts = new Date(Date.now() - 2 * HOUR - 10 * 60_000);
  const ingest = await app.inject({
    method: 'POST',
    url: '/api/events',
    headers: AUTH,
    payload: [
      { type: 'handshake.started', session_id: sessionId, aid_a: 'aid:pubkey:late-a', aid_b: 'aid:pubkey:late-b', ts: ts.toISOString(), payload: { boundary: 'cross_org' } },
      { type: 'handshake.complete', session_id: sessionId, ts: new Date(ts.getTime() + 1_000).toISOString(), grants: ['weather.read'] },
      { type: 'capability.invoked', aid_a: 'aid:pubkey:late-a', ts: ts.toISOString(), payload: { capability: 'weather.read' } },
    ],
  });
  expect(ingest.statusCode).toBe(200);
});
afterAll(async () => {
  await app.close();
});

async function overview(range: string) {
  const res = await app.inject({ method: 'GET', url: `/api/dashboard/overview?range=${range}`, headers: AUTH });
  expect(res.statusCode).toBe(200);
  return res.json();
}

describe('dashboard on the producer clock', () => {
  it('1h: the late-reported handshake and invocation are absent from every KPI, list and chart', async () => {
    const body = await overview('1h');
    expect(body.kpis).toMatchObject({ handshakesTotal: 1, handshakesInRange: 0, handshakesSuccessInRange: 0, capabilityInvocationsInRange: 0 });
    expect(body.recentSessions).toEqual([]);
    expect(body.charts.handshakesByBoundary).toEqual([]);
    expect(body.charts.handshakesOverTime.every((b: { count: number }) => b.count === 0)).toBe(true);
    expect(body.charts.topCapabilities).toEqual([]);
  });

  it('24h: present, grouped by boundary verbatim, and bucketed in the hour of its ts', async () => {
    const body = await overview('24h');
    expect(body.kpis).toMatchObject({ handshakesInRange: 1, handshakesSuccessInRange: 1, capabilityInvocationsInRange: 1 });
    expect(body.recentSessions).toEqual([expect.objectContaining({ sessionId, boundary: 'cross_org', startedAt: ts.toISOString() })]);
    expect(body.charts.handshakesByBoundary).toEqual([{ boundary: 'cross_org', count: 1 }]);
    const hour = new Date(Math.floor(ts.getTime() / HOUR) * HOUR).toISOString();
    const drawn = body.charts.handshakesOverTime.filter((b: { count: number }) => b.count > 0);
    expect(drawn).toEqual([{ bucket: hour, count: 1 }]);
    expect(body.charts.topCapabilities).toEqual([{ capability: 'weather.read', count: 1 }]);
  });
});
