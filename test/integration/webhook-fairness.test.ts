import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { startReceiver, type Receiver } from '../helpers/webhook-receiver.js';

/**
 * One slow webhook must not delay another: WEBHOOK_CONCURRENCY_PER_TARGET caps each webhook's
 * share of WEBHOOK_CONCURRENCY and the claim takes rows fairly across webhooks. Events go
 * through the real ingest path (commit, NOTIFY, the running dispatcher).
 */

const SLOW_MS = 3_000;
const EVENTS = 30;
const PACE_MS = 100;

let app: FastifyInstance;
let healthy: Receiver;
const slow: Receiver[] = [];
/** When the healthy receiver got each event, by its mark. */
const healthyAt = new Map<number, number>();
/** Most attempts any slow receiver had open at once. */
const slowPeak: number[] = [];

const markOf = (body: string): number => (JSON.parse(body) as { payload: { payload: { mark: number } } }).payload.payload.mark;

beforeAll(async () => {
  ({ app } = await buildTestApp(
    { WEBHOOK_ALLOW_PRIVATE_TARGETS: true, WEBHOOK_CONCURRENCY: 16, RATE_LIMIT_ENABLED: false, WEBHOOK_POLL_INTERVAL_MS: 600_000 },
    { startJobs: true },
  ));
  healthy = await startReceiver((request) => {
    healthyAt.set(markOf(request.body), Date.now());
    return { status: 200 };
  });
  for (let i = 0; i < 4; i++) {
    let open = 0;
    slowPeak.push(0);
    slow.push(
      await startReceiver(() => {
        open++;
        slowPeak[i] = Math.max(slowPeak[i]!, open);
        setTimeout(() => open--, SLOW_MS);
        return { status: 200, delayMs: SLOW_MS };
      }),
    );
  }
  // The slow ones first, so an oldest-first claim would put their backlog ahead of the healthy rows.
  for (const receiver of [...slow, healthy]) {
    const res = await app.inject({ method: 'POST', url: '/api/webhooks', headers: AUTH, payload: { url: `${receiver.origin}/hook`, events: ['handshake.complete'] } });
    expect(res.statusCode).toBe(201);
  }
});
afterAll(async () => {
  // Receivers first: their close fails the slow attempts still open, so the drain is quick.
  await Promise.all([healthy, ...slow].map((r) => r.close()));
  await app.close();
});

describe('webhook fairness (WEBHOOK_CONCURRENCY_PER_TARGET)', () => {
  it('1 healthy + 4 slow receivers, WEBHOOK_CONCURRENCY=16: every healthy delivery within 1 s of its commit', async () => {
    const sentAt = new Map<number, number>();
    for (let mark = 0; mark < EVENTS; mark++) {
      sentAt.set(mark, Date.now());
      const res = await app.inject({
        method: 'POST',
        url: '/api/events',
        headers: AUTH,
        payload: [{ type: 'handshake.complete', session_id: `s-${randomUUID()}`, payload: { mark } }],
      });
      expect(res.statusCode).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, PACE_MS));
    }
    await expect.poll(() => healthyAt.size, { timeout: 10_000 }).toBe(EVENTS);

    // Measured from before the ingest request was sent, so each figure is at least the time from commit.
    const latencies = [...sentAt].map(([mark, at]) => healthyAt.get(mark)! - at).sort((a, b) => a - b);
    console.log(
      `[webhook fairness] healthy delivery latency over ${EVENTS} events: p50 ${latencies[Math.floor(EVENTS / 2)]} ms, max ${latencies.at(-1)} ms; ` +
        `slow receivers received ${slow.map((r) => r.received.length).join('/')}, peak open ${slowPeak.join('/')}`,
    );
    expect(latencies.at(-1)).toBeLessThanOrEqual(1_000);
    // The slow ones are behind (a backlog built up) yet were served, each within its share.
    for (const [i, receiver] of slow.entries()) {
      expect(receiver.received.length).toBeGreaterThan(0);
      expect(receiver.received.length).toBeLessThan(EVENTS);
      expect(slowPeak[i]).toBeLessThanOrEqual(2);
    }
  }, 60_000);
});
