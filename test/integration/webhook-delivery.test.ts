import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpEvent } from '../../src/domains/events/cp-events.js';
import { toStreamRecord } from '../../src/domains/events/views.js';
import { notifyInTx } from '../../src/db/notify.js';
import { DISPATCHER_JOB } from '../../src/domains/webhooks/dispatcher.job.js';
import { enqueueDeliveries } from '../../src/domains/webhooks/outbox.js';
import { VERSION } from '../../src/lib/version.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { enqueue, startReceiver, storedEvent, type ReceivedRequest, type Receiver } from '../helpers/webhook-receiver.js';

/** Real time plus an offset the tests move forward; the dispatcher schedules and claims by it. */
const clock = { offset: 0, now: () => Date.now() + clock.offset };

let app: FastifyInstance;
const receivers: Receiver[] = [];

async function receiver(...args: Parameters<typeof startReceiver>): Promise<Receiver> {
  const r = await startReceiver(...args);
  receivers.push(r);
  return r;
}

beforeAll(async () => {
  ({ app } = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: true, WEBHOOK_TIMEOUT_MS: 1000 }, { clock }));
});
afterAll(async () => {
  await app.close();
  await Promise.all(receivers.map((r) => r.close()));
});

async function createHook(target: FastifyInstance, url: string, body: Record<string, unknown> = {}) {
  const res = await target.inject({ method: 'POST', url: '/api/webhooks', headers: AUTH, payload: { url, ...body } });
  expect(res.statusCode).toBe(201);
  return res.json<{ id: string; secret: string }>();
}

async function deliveries(target: FastifyInstance, hookId: string) {
  const res = await target.inject({ method: 'GET', url: `/api/webhooks/${hookId}/deliveries`, headers: AUTH });
  return res.json<{ deliveries: Array<Record<string, unknown> & { id: string }> }>().deliveries;
}

async function detail(target: FastifyInstance, hookId: string, deliveryId: string) {
  const res = await target.inject({ method: 'GET', url: `/api/webhooks/${hookId}/deliveries/${deliveryId}`, headers: AUTH });
  expect(res.statusCode).toBe(200);
  return res.json<Record<string, unknown> & { body: string; nextRetryAt: string | null; lastAttemptAt: string | null }>();
}

const removeHook = (target: FastifyInstance, id: string) => target.inject({ method: 'DELETE', url: `/api/webhooks/${id}`, headers: AUTH });

function verifies(secret: string, signature: string | string[] | undefined, data: string): boolean {
  const expected = Buffer.from(`sha256=${createHmac('sha256', secret).update(Buffer.from(data, 'utf8')).digest('hex')}`);
  const given = Buffer.from(String(signature));
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** What a receiver does (OPERATIONS.md §12.2): both signatures over the raw body, timestamp within 300 s. */
function assertSigned(request: ReceivedRequest, secret: string): void {
  const timestamp = String(request.headers['x-aitp-timestamp']);
  expect(verifies(secret, request.headers['x-aitp-signature'], request.body)).toBe(true);
  expect(verifies(secret, request.headers['x-aitp-signature-256-t'], `${timestamp}.${request.body}`)).toBe(true);
  expect(Math.abs(Number(timestamp) - clock.now() / 1000)).toBeLessThan(300);
}

describe('delivery (EVENTS.md §5.2–§5.3, OPERATIONS.md §12.2)', () => {
  it('delivers each subscribed deliverable event once, signed; nothing else arrives', async () => {
    const subscribedReceiver = await receiver();
    const otherReceiver = await receiver();
    const hook = await createHook(app, `${subscribedReceiver.origin}/aitp?x=1`, { events: ['agent.registered', 'tct.revoked', 'handshake.completed'] });
    const other = await createHook(app, `${otherReceiver.origin}/other`, { events: ['handshake.failed'] });
    const aid = `aid:pubkey:${randomUUID()}`;
    const registered = storedEvent(cpEvent({ type: 'agent.registered', ts: new Date(), aidA: aid, payload: { displayName: 'bot', reregistered: false } }));
    const revoked = storedEvent(cpEvent({ type: 'tct.revoked', ts: new Date(), aidA: null, payload: { jti: randomUUID(), reason: null } }));
    const complete = storedEvent({ type: 'handshake.completed', aidA: aid, aidB: 'aid:pubkey:b', sessionId: 's-1', runId: 'r-1', grants: ['weather.read'], payload: { boundary: 'x' } });
    const spoofed = storedEvent({ type: 'agent.registered', aidA: aid });
    const failed = storedEvent({ type: 'handshake.failed', sessionId: 's-2' });
    expect(await enqueue(app, [registered, revoked, complete, spoofed, storedEvent({ type: 'capability.invoked' }), failed])).toBe(4);

    await app.jobs.runOnce(DISPATCHER_JOB);
    await app.jobs.runOnce(DISPATCHER_JOB);

    expect(subscribedReceiver.received).toHaveLength(3);
    const byEvent = new Map(subscribedReceiver.received.map((r) => [String(r.headers['x-aitp-event']), r]));
    expect([...byEvent.keys()].sort()).toEqual(['agent.registered', 'handshake.complete', 'tct.revoked']);
    for (const request of subscribedReceiver.received) {
      expect(request).toMatchObject({ method: 'POST', path: '/aitp?x=1' });
      expect(request.headers).toMatchObject({
        'content-type': 'application/json',
        'user-agent': `aitp-control-plane/${VERSION}`,
        'x-aitp-attempt': '1',
        host: subscribedReceiver.origin.slice('http://'.length),
      });
      assertSigned(request, hook.secret);
      const body = JSON.parse(request.body) as { deliveryId: string };
      expect(request.headers['x-aitp-delivery']).toBe(body.deliveryId);
      const stored = await detail(app, hook.id, body.deliveryId);
      expect(stored).toMatchObject({ status: 'delivered', attempts: 1, statusCode: 200, error: null, nextRetryAt: null });
      expect(request.body).toBe(stored.body);
    }
    const completeRequest = byEvent.get('handshake.complete')!;
    const completeDelivery = await detail(app, hook.id, String(completeRequest.headers['x-aitp-delivery']));
    expect(completeRequest.body).toBe(
      `{"deliveryId":"${completeDelivery['id']}","eventType":"handshake.complete","payload":${JSON.stringify(toStreamRecord(complete))},"enqueuedAt":"${completeDelivery['createdAt']}"}`,
    );
    expect(JSON.parse(byEvent.get('agent.registered')!.body).payload.id).toBe(registered.id);

    expect(otherReceiver.received).toHaveLength(1);
    expect(otherReceiver.received[0]!.headers['x-aitp-event']).toBe('handshake.failed');
    assertSigned(otherReceiver.received[0]!, other.secret);

    const metrics = (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
    expect(Number(/webhook_delivery_attempts_total\{outcome="success"\} (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
    expect(Number(/webhook_deliveries_enqueued_total (\d+)/.exec(metrics)?.[1])).toBeGreaterThanOrEqual(4);
    await removeHook(app, hook.id);
    await removeHook(app, other.id);
  });

  it('retries 500, 500, 200 on the backoff schedule with byte-identical bodies', async () => {
    const target = await receiver((_req, index) => (index < 2 ? { status: 500, body: 'boom' } : { status: 204 }));
    const hook = await createHook(app, `${target.origin}/retry`);
    await enqueue(app, [storedEvent({ type: 'tct.revoked' })]);
    const run = () => app.jobs.runOnce(DISPATCHER_JOB);

    await run();
    expect(target.received).toHaveLength(1);
    const [first] = await deliveries(app, hook.id);
    expect(first).toMatchObject({ status: 'pending', attempts: 1, statusCode: 500, error: 'non-2xx (500): boom' });
    const delays: number[] = [];
    for (const expected of [2, 3]) {
      const current = await detail(app, hook.id, first!.id);
      const due = Date.parse(current.nextRetryAt!);
      delays.push(due - Date.parse(current.lastAttemptAt!));
      clock.offset += due - 1000 - clock.now();
      await run();
      expect(target.received).toHaveLength(expected - 1);
      clock.offset += 1000;
      await run();
      expect(target.received).toHaveLength(expected);
    }
    // min(30 s × 4^(n−1), 6 h) × (1 + random[0, 0.1)): ~30 s after the first attempt, ~2 min after the second.
    expect(delays[0]).toBeGreaterThanOrEqual(30_000);
    expect(delays[0]).toBeLessThan(33_000);
    expect(delays[1]).toBeGreaterThanOrEqual(120_000);
    expect(delays[1]).toBeLessThan(132_000);

    const final = await detail(app, hook.id, first!.id);
    expect(final).toMatchObject({ status: 'delivered', attempts: 3, statusCode: 204, error: null, nextRetryAt: null });
    expect(target.received.map((r) => r.headers['x-aitp-attempt'])).toEqual(['1', '2', '3']);
    expect(new Set(target.received.map((r) => r.headers['x-aitp-delivery']))).toEqual(new Set([first!.id]));
    expect(new Set(target.received.map((r) => r.body)).size).toBe(1);
    const stamps = target.received.map((r) => Number(r.headers['x-aitp-timestamp']));
    expect(stamps[1]! - stamps[0]!).toBeGreaterThanOrEqual(29);
    expect(stamps[2]! - stamps[1]!).toBeGreaterThanOrEqual(119);
    await removeHook(app, hook.id);
  });

  it('never follows a redirect, even to an allowed address: a failed attempt', async () => {
    const trap = await receiver();
    const target = await receiver(() => ({ status: 302, headers: { location: `${trap.origin}/stolen` } }));
    const hook = await createHook(app, `${target.origin}/hook`);
    await enqueue(app, [storedEvent({ type: 'handshake.failed' })]);
    await app.jobs.runOnce(DISPATCHER_JOB);
    expect(target.received).toHaveLength(1);
    expect(trap.received).toHaveLength(0);
    const [delivery] = await deliveries(app, hook.id);
    expect(delivery).toMatchObject({ status: 'pending', attempts: 1, statusCode: 302, error: 'redirect not followed (302)' });
    await removeHook(app, hook.id);
  });

  it('keeps only the first 200 characters of a large error body; times out; reports refused connections', async () => {
    const loud = await receiver(() => ({ status: 503, body: 'x'.repeat(100_000) }));
    const slow = await receiver(() => ({ status: 200, delayMs: 1500 }));
    const gone = await receiver();
    await gone.close();
    const hooks = await Promise.all([createHook(app, `${loud.origin}/a`), createHook(app, `${slow.origin}/b`), createHook(app, `${gone.origin}/c`)]);
    await enqueue(app, [storedEvent({ type: 'tct.revoked' })]);
    await app.jobs.runOnce(DISPATCHER_JOB);
    const [loudRow, slowRow, goneRow] = await Promise.all(hooks.map(async (h) => (await deliveries(app, h.id))[0]));
    expect(loudRow).toMatchObject({ attempts: 1, statusCode: 503, error: `non-2xx (503): ${'x'.repeat(200)}` });
    expect(slowRow).toMatchObject({ attempts: 1, statusCode: null, error: 'timeout after 1000 ms' });
    expect(goneRow).toMatchObject({ attempts: 1, statusCode: null, error: 'network: ECONNREFUSED' });
    for (const h of hooks) await removeHook(app, h.id);
  });

  it('re-checks the URL before every attempt: forbidden → failed without an attempt; DNS failure → retried', async () => {
    const target = await receiver();
    const unsafe = await createHook(app, `${target.origin}/unsafe`);
    const unresolvable = await createHook(app, `${target.origin}/dns`);
    await app.db.execute(sql`UPDATE webhooks SET url = 'ftp://127.0.0.1/x' WHERE id = ${unsafe.id}`);
    await app.db.execute(sql`UPDATE webhooks SET url = 'http://no-such-host.invalid/x' WHERE id = ${unresolvable.id}`);
    await enqueue(app, [storedEvent({ type: 'tct.revoked' })]);
    await app.jobs.runOnce(DISPATCHER_JOB);
    expect(target.received).toHaveLength(0);
    expect((await deliveries(app, unsafe.id))[0]).toMatchObject({ status: 'failed', attempts: 0, error: 'unsafe target: scheme ftp: not allowed' });
    const dns = (await deliveries(app, unresolvable.id))[0]!;
    expect(dns).toMatchObject({ status: 'pending', attempts: 1, statusCode: null });
    expect(dns['error']).toMatch(/^dns: [A-Z_]+$/);
    const metrics = (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
    expect(metrics).toMatch(/webhook_unsafe_targets_total [1-9]/);
    expect(metrics).toMatch(/webhook_delivery_attempts_total\{outcome="dns_error"\} [1-9]/);
    await removeHook(app, unsafe.id);
    await removeHook(app, unresolvable.id);
  });
});

describe('dispatcher job (OPERATIONS.md §10, §13)', () => {
  it('runs at once after an enqueue (local poke) and after an events commit (NOTIFY), not only on its period', async () => {
    const { app: live } = await buildTestApp({ WEBHOOK_ALLOW_PRIVATE_TARGETS: true, WEBHOOK_POLL_INTERVAL_MS: 600_000 }, { startJobs: true });
    try {
      const target = await receiver();
      await createHook(live, `${target.origin}/live`);
      await enqueue(live, [storedEvent({ type: 'tct.revoked' })]);
      await expect.poll(() => target.received.length, { timeout: 5_000 }).toBe(1);
      await live.db.transaction(async (tx) => {
        await enqueueDeliveries(tx, [storedEvent({ type: 'tct.revoked' })]);
        await notifyInTx(tx, 'aitp_events', { seq: [] });
      });
      await expect.poll(() => target.received.length, { timeout: 5_000 }).toBe(2);
    } finally {
      await live.close();
    }
  });

  it('stops claiming on drain and lets the attempt in flight finish', async () => {
    const config = { WEBHOOK_ALLOW_PRIVATE_TARGETS: true, WEBHOOK_CONCURRENCY: 1 };
    const { app: draining } = await buildTestApp(config);
    const { app: observer } = await buildTestApp({ ...config, DATABASE_URL: draining.config.DATABASE_URL, SECRETS_KEY: draining.config.SECRETS_KEY });
    try {
      const target = await receiver(() => ({ status: 200, delayMs: 300 }));
      const hook = await createHook(draining, `${target.origin}/drain`);
      await enqueue(draining, [storedEvent({ type: 'tct.revoked' }), storedEvent({ type: 'tct.revoked' }), storedEvent({ type: 'tct.revoked' })]);
      const run = draining.jobs.runOnce(DISPATCHER_JOB);
      await expect.poll(() => target.received.length, { timeout: 5_000 }).toBe(1);
      await draining.close();
      await run;
      expect(target.received).toHaveLength(1);
      const rows = await deliveries(observer, hook.id);
      expect(rows.map((d) => d['status']).sort()).toEqual(['delivered', 'pending', 'pending']);
      const leases = await observer.db.execute(sql`SELECT lease_owner FROM webhook_deliveries WHERE lease_owner IS NOT NULL`);
      expect(leases.rows).toHaveLength(0);
    } finally {
      await observer.close();
    }
  });
});

describe('two dispatchers on one database (OPERATIONS.md §12.3)', () => {
  it('never deliver the same row twice', async () => {
    const config = { WEBHOOK_ALLOW_PRIVATE_TARGETS: true, WEBHOOK_CONCURRENCY: 4 };
    const a = (await buildTestApp(config)).app;
    const b = (await buildTestApp({ ...config, DATABASE_URL: a.config.DATABASE_URL, SECRETS_KEY: a.config.SECRETS_KEY })).app;
    try {
      const target = await receiver(() => ({ status: 200, delayMs: 10 }));
      await createHook(a, `${target.origin}/both`);
      const events = Array.from({ length: 60 }, () => storedEvent({ type: 'handshake.complete' }));
      expect(await enqueue(a, events)).toBe(60);
      await Promise.all([a.jobs.runOnce(DISPATCHER_JOB), b.jobs.runOnce(DISPATCHER_JOB), a.jobs.runOnce(DISPATCHER_JOB)]);

      const ids = target.received.map((r) => String(r.headers['x-aitp-delivery']));
      expect(ids).toHaveLength(60);
      expect(new Set(ids).size).toBe(60);
      const rows = await a.db.execute<{ status: string; attempts: number; n: string }>(
        sql`SELECT status, attempts, count(*) AS n FROM webhook_deliveries GROUP BY status, attempts`,
      );
      expect(rows.rows.map((r) => ({ ...r, n: Number(r.n) }))).toEqual([{ status: 'delivered', attempts: 1, n: 60 }]);
      const successes = async (x: FastifyInstance) =>
        Number(/webhook_delivery_attempts_total\{outcome="success"\} (\d+)/.exec((await x.inject({ method: 'GET', url: '/api/metrics' })).body)?.[1]);
      // Both replicas did part of the work, and together exactly one attempt per row.
      const [byA, byB] = [await successes(a), await successes(b)];
      expect(byA).toBeGreaterThan(0);
      expect(byB).toBeGreaterThan(0);
      expect(byA + byB).toBe(60);
    } finally {
      await b.close();
      await a.close();
    }
  });
});

describe('circuit breaker (OPERATIONS.md §12.4, API.md §7.6–§7.7)', () => {
  it('opens at the threshold, defers, half-opens after the reset time; a reset reaches the other replica', async () => {
    const config = {
      WEBHOOK_ALLOW_PRIVATE_TARGETS: true,
      WEBHOOK_BREAKER_FAILURE_THRESHOLD: 2,
      WEBHOOK_BREAKER_RESET_MS: 60_000,
      WEBHOOK_RETRY_ATTEMPTS: 1,
      WEBHOOK_CONCURRENCY: 1,
    };
    const a = (await buildTestApp(config, { clock })).app;
    const b = (await buildTestApp({ ...config, DATABASE_URL: a.config.DATABASE_URL, SECRETS_KEY: a.config.SECRETS_KEY }, { clock })).app;
    const breakerOf = async (x: FastifyInstance, id: string) =>
      (await x.inject({ method: 'GET', url: `/api/webhooks/${id}/circuit-breaker`, headers: AUTH })).json();
    try {
      let status = 500;
      const target = await receiver(() => ({ status }));
      const hook = await createHook(a, `${target.origin}/breaker`);
      expect(await breakerOf(a, hook.id)).toEqual({ state: 'closed', failures: 0, consecutiveSuccesses: 0, openedAt: null, nextProbeAt: null });

      await enqueue(a, [storedEvent({ type: 'tct.revoked' }), storedEvent({ type: 'tct.revoked' }), storedEvent({ type: 'tct.revoked' })]);
      await a.jobs.runOnce(DISPATCHER_JOB);
      expect(target.received).toHaveLength(2);
      const open = await breakerOf(a, hook.id);
      expect(open).toMatchObject({ state: 'open', failures: 2, consecutiveSuccesses: 0 });
      expect(open.nextProbeAt - open.openedAt).toBe(60_000);
      expect(Math.abs(open.openedAt - clock.now())).toBeLessThan(5_000);
      expect(await breakerOf(b, hook.id)).toMatchObject({ state: 'closed' });

      const rows = await deliveries(a, hook.id);
      const deferred = rows.find((d) => d['status'] === 'pending')!;
      expect(deferred).toMatchObject({ attempts: 0, error: 'circuit breaker open' });
      const due = Date.parse(String(deferred['nextRetryAt']));
      expect(due).toBeGreaterThanOrEqual(open.nextProbeAt);
      expect(due).toBeLessThan(open.nextProbeAt + 30_000);
      expect(rows.filter((d) => d['status'] === 'failed')).toHaveLength(2);
      const metrics = (await a.inject({ method: 'GET', url: '/api/metrics' })).body;
      expect(metrics).toContain('aitp_control_plane_webhook_circuit_breaker_open{state="open"} 1');
      expect(metrics).toMatch(/webhook_deliveries_deferred_total [1-9]/);

      status = 200;
      clock.offset += due - clock.now() + 1;
      await a.jobs.runOnce(DISPATCHER_JOB);
      expect(target.received).toHaveLength(3);
      expect(await breakerOf(a, hook.id)).toEqual({ state: 'closed', failures: 0, consecutiveSuccesses: 1, openedAt: null, nextProbeAt: null });

      status = 500;
      await enqueue(a, [storedEvent({ type: 'tct.revoked' }), storedEvent({ type: 'tct.revoked' })]);
      await a.jobs.runOnce(DISPATCHER_JOB);
      expect((await breakerOf(a, hook.id)).state).toBe('open');
      const reset = await b.inject({ method: 'POST', url: `/api/webhooks/${hook.id}/circuit-breaker/reset`, headers: AUTH });
      expect(reset.statusCode).toBe(200);
      expect(reset.json()).toEqual({ state: 'closed', failures: 0, consecutiveSuccesses: 0, openedAt: null, nextProbeAt: null });
      await expect.poll(async () => (await breakerOf(a, hook.id)).state, { timeout: 5_000 }).toBe('closed');
      const audit = await a.db.execute(sql`SELECT details FROM admin_audit_log WHERE action = 'webhook.circuit-breaker.reset' AND target_id = ${hook.id}`);
      expect(audit.rows).toEqual([{ details: {} }]);
      const unknown = await a.inject({ method: 'POST', url: `/api/webhooks/${randomUUID()}/circuit-breaker/reset`, headers: AUTH });
      expect(unknown.statusCode).toBe(404);
    } finally {
      await b.close();
      await a.close();
    }
  });
});
