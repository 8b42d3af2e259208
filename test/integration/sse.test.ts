import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drain } from '../../src/boot/shutdown.js';
import { inTransaction } from '../../src/db/transaction.js';
import { persistEvents } from '../../src/domains/event-pipeline/index.js';
import type { NewEvent } from '../../src/domains/events/types.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { openSse, type SseClient } from '../helpers/sse.js';

function event(overrides: Partial<NewEvent> = {}): NewEvent {
  return {
    id: randomUUID(),
    type: 'test.event',
    ts: new Date(),
    aidA: null,
    aidB: null,
    sessionId: null,
    runId: null,
    grants: null,
    payload: {},
    source: 'test',
    producer: 'anonymous',
    ...overrides,
  };
}

async function store(app: FastifyInstance, events: NewEvent[]): Promise<void> {
  await inTransaction(app.pool, async (tx) => {
    await persistEvents(tx, events);
  });
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ port: 0, host: '127.0.0.1' });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

const ids = (client: SseClient) => client.events().map((e) => e.id);

async function framesSentOf(app: FastifyInstance): Promise<number> {
  const text = await app.metrics.registry.getSingleMetricAsString('aitp_control_plane_sse_events_sent_total');
  return Number(/ (\d+)$/m.exec(text)?.[1] ?? 0);
}

describe('GET /api/events/stream', () => {
  let app: FastifyInstance;
  let base: string;
  const run = `run-${randomUUID()}`;
  const streamUrl = (query = '') => `${base}/api/events/stream?run_id=${run}${query}`;

  const framesSent = () => framesSentOf(app);

  beforeAll(async () => {
    ({ app } = await buildTestApp({ SSE_HEARTBEAT_MS: 1_000 }));
    base = await listen(app);
  });
  afterAll(async () => {
    await app.close();
  });

  it('writes the prelude at once with the stream headers', async () => {
    const client = await openSse(streamUrl(), AUTH);
    expect(client.status).toBe(200);
    expect(client.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(client.headers['cache-control']).toBe('no-cache, no-transform');
    expect(client.headers['x-accel-buffering']).toBe('no');
    expect(client.headers['x-request-id']).toMatch(/^cp-/);
    await client.waitFor((c) => c.text().startsWith('retry: 3000\n: connected\n\n'));
    await client.waitFor((c) => c.frames.some((f) => f.comment === 'heartbeat'), 3_000);
    client.close();
  });

  it('delivers live events in order with ids, then resumes exactly from Last-Event-ID', async () => {
    const first = await openSse(streamUrl('&backlog=0'), AUTH);
    const batch1 = [event({ runId: run }), event({ runId: run }), event({ runId: run })];
    await store(app, batch1);
    await first.waitFor((c) => c.events().length === 3);
    expect(ids(first)).toEqual(batch1.map((e) => e.id));
    expect(first.events()[0]!.data).toEqual({ id: batch1[0]!.id, type: 'test.event', ts: batch1[0]!.ts.toISOString(), runId: run, payload: {}, source: 'test' });
    first.close();
    await first.ended;

    const missed = [event({ runId: run }), event({ runId: run })];
    await store(app, missed);
    const resumed = await openSse(streamUrl(), { ...AUTH, 'last-event-id': batch1[2]!.id });
    await resumed.waitFor((c) => c.events().length >= 2);
    const live = event({ runId: run });
    await store(app, [live]);
    await resumed.waitFor((c) => c.events().length === 3);
    expect(ids(resumed)).toEqual([...missed, live].map((e) => e.id));
    resumed.close();
  });

  it('applies filters before the backlog cut, alias-aware', async () => {
    const session = `s-${randomUUID()}`;
    await store(app, [
      event({ runId: run, sessionId: session, type: 'handshake.completed' }),
      event({ runId: run, sessionId: session, type: 'other.type' }),
      event({ runId: run, sessionId: session, type: 'handshake.complete' }),
    ]);
    const client = await openSse(streamUrl(`&sessionId=${session}&type=handshake.complete&backlog=5`), AUTH);
    await client.waitFor((c) => c.events().length === 2);
    expect(client.events().map((e) => (e.data as { type: string }).type)).toEqual(['handshake.completed', 'handshake.complete']);
    client.close();
  });

  it('sends a gap for an unknown resume id, then the plain backlog', async () => {
    const client = await openSse(streamUrl('&backlog=1'), { ...AUTH, 'last-event-id': randomUUID() });
    await client.waitFor((c) => c.frames.some((f) => f.event === 'gap') && c.events().length >= 2);
    expect(client.events()[0]).toEqual({ id: undefined, event: 'gap', data: { reason: 'unknown_last_event_id' } });
    client.close();
  });

  it('delivers bursts of concurrent commits once each, every transaction in its own order, counting every frame', async () => {
    const burstRun = `run-${randomUUID()}`;
    const a = await openSse(`${base}/api/events/stream?run_id=${burstRun}&backlog=0`, AUTH);
    const b = await openSse(`${base}/api/events/stream?run_id=${burstRun}&type=burst.odd&backlog=0`, AUTH);
    await new Promise((r) => setTimeout(r, 100));
    const sentBefore = await framesSent();
    // 30 transactions of 10 events at once: notifications arrive while fan-outs run and go out batched.
    const batches = Array.from({ length: 30 }, (_, t) =>
      Array.from({ length: 10 }, (_, i) => event({ runId: burstRun, type: i % 2 === 1 ? 'burst.odd' : 'burst.even', payload: { t, i } })),
    );
    await Promise.all(batches.map((batch) => store(app, batch)));
    await a.waitFor((c) => c.events().length >= 300);
    await b.waitFor((c) => c.events().length >= 150);
    await new Promise((r) => setTimeout(r, 200));
    for (const [client, expected] of [[a, 300], [b, 150]] as const) {
      const got = client.events().map((e) => e.data as { payload: { t: number; i: number } });
      expect(new Set(client.events().map((e) => e.id)).size).toBe(expected);
      expect(got).toHaveLength(expected);
      for (let t = 0; t < 30; t++) {
        const order = got.filter((e) => e.payload.t === t).map((e) => e.payload.i);
        expect(order).toEqual([...order].sort((x, y) => x - y));
      }
    }
    expect(await framesSent()).toBe(sentBefore + 450);
    a.close();
    b.close();
  });

  it('refuses HEAD with 405', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/api/events/stream', headers: AUTH });
    expect(res.statusCode).toBe(405);
  });

  it('requires an API key', async () => {
    const res = await fetch(streamUrl());
    expect(res.status).toBe(401);
  });
});

describe('resume past the cap', () => {
  it('sends backlog_exceeded and the newest MAX_AUDIT_EVENTS_MEMORY events', async () => {
    const { app } = await buildTestApp({ MAX_AUDIT_EVENTS_MEMORY: 3 });
    const base = await listen(app);
    const run = `run-${randomUUID()}`;
    const anchor = event({ runId: run });
    const later = Array.from({ length: 5 }, () => event({ runId: run }));
    await store(app, [anchor]);
    await store(app, later);
    const client = await openSse(`${base}/api/events/stream?run_id=${run}`, { ...AUTH, 'last-event-id': anchor.id });
    // The gap and the newest three come first; a notification of the older rows that reaches
    // the hub only after the connect may follow (EVENTS.md §6.2 step 5 skips sent ids only).
    await client.waitFor((c) => c.events().length >= 4);
    expect(client.events()[0]).toMatchObject({ event: 'gap', data: { reason: 'backlog_exceeded' } });
    expect(ids(client).slice(1, 4)).toEqual(later.slice(2).map((e) => e.id));
    client.close();
    await app.close();
  });
});

describe('fan-out across replicas', () => {
  it('an event stored through app A reaches a subscriber on app B', async () => {
    const { app: a } = await buildTestApp();
    const { app: b } = await buildTestApp({ DATABASE_URL: a.config.DATABASE_URL });
    const baseB = await listen(b);
    const run = `run-${randomUUID()}`;
    const client = await openSse(`${baseB}/api/events/stream?run_id=${run}&backlog=0`, AUTH);
    await client.waitFor((c) => c.text().includes(': connected'));
    const e = event({ runId: run });
    await store(a, [e]);
    await client.waitFor((c) => c.events().length === 1);
    expect(ids(client)).toEqual([e.id]);
    client.close();
    await b.close();
    await a.close();
  });
});

describe('LISTEN connection loss', () => {
  it('reconnects and catches up from its cursor, sending what was missed', async () => {
    const { app } = await buildTestApp();
    const base = await listen(app);
    const run = `run-${randomUUID()}`;
    const client = await openSse(`${base}/api/events/stream?run_id=${run}&backlog=0`, AUTH);
    const before = event({ runId: run });
    await store(app, [before]);
    await client.waitFor((c) => c.events().length === 1);

    await app.db.execute(
      sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'aitp-control-plane:listen' AND datname = current_database()`,
    );
    await client.waitFor(() => !app.notify.isConnected(), 5_000);
    const missed = event({ runId: run });
    await store(app, [missed]);
    await client.waitFor((c) => c.events().length === 2, 10_000);
    expect(ids(client)).toEqual([before.id, missed.id]);
    const metrics = (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
    expect(metrics).toMatch(/aitp_control_plane_notify_listener_reconnects_total 1/);
    client.close();
    await app.close();
  });
});

describe('capacity and slow consumers', () => {
  it('answers 503 SSE_CAPACITY with Retry-After past MAX_SSE_CONNECTIONS', async () => {
    const { app } = await buildTestApp({ MAX_SSE_CONNECTIONS: 2 });
    const base = await listen(app);
    const one = await openSse(`${base}/api/events/stream`, AUTH);
    const two = await openSse(`${base}/api/events/stream`, AUTH);
    const res = await fetch(`${base}/api/events/stream`, { headers: AUTH });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await res.json()).toMatchObject({ code: 'SSE_CAPACITY' });
    one.close();
    await one.ended;
    await new Promise((r) => setTimeout(r, 100));
    const three = await openSse(`${base}/api/events/stream`, AUTH);
    expect(three.status).toBe(200);
    two.close();
    three.close();
    await app.close();
  });

  it('cuts a stalled reader at SSE_MAX_BUFFERED_BYTES without affecting others', async () => {
    const { app } = await buildTestApp({ SSE_MAX_BUFFERED_BYTES: 65_536 });
    const base = await listen(app);
    const run = `run-${randomUUID()}`;
    const stalled = await openSse(`${base}/api/events/stream?run_id=${run}&backlog=0`, AUTH);
    const healthy = await openSse(`${base}/api/events/stream?run_id=${run}&backlog=0`, AUTH);
    await stalled.waitFor((c) => c.text().includes(': connected'));
    stalled.pause();
    // Bursts stay under the cap, so a reader that keeps up is never cut; the stalled one's
    // kernel buffers fill first, then its queue passes 64 KiB.
    const big = 'x'.repeat(8_000);
    let sent = 0;
    while (sent < 6_000 && app.sseHub.openCount() === 2) {
      await store(app, Array.from({ length: 6 }, () => event({ runId: run, payload: { big } })));
      sent += 6;
      await healthy.waitFor((c) => c.events().length >= sent, 10_000);
    }
    expect(app.sseHub.openCount()).toBe(1);
    expect(healthy.events().length).toBe(sent);
    const metrics = (await app.inject({ method: 'GET', url: '/api/metrics' })).body;
    expect(metrics).toMatch(/aitp_control_plane_sse_streams_closed_total\{reason="slow_consumer"\} 1/);
    healthy.close();
    stalled.close();
    await app.close();
  }, 60_000);
});

describe('drain', () => {
  it('refuses new streams while draining and ends open ones on close', async () => {
    const { app } = await buildTestApp();
    const base = await listen(app);
    const client = await openSse(`${base}/api/events/stream`, AUTH);
    await client.waitFor((c) => c.text().includes(': connected'));
    const started = Date.now();
    const closing = drain(
      { app, log: pino({ level: 'silent' }), drainDelayMs: 300, shutdownTimeoutMs: 5_000, afterClose: async () => undefined, exit: () => undefined },
      'SIGTERM',
    );
    const refused = await fetch(`${base}/api/events/stream`, { headers: AUTH });
    expect(refused.status).toBe(503);
    expect(await refused.json()).toMatchObject({ code: 'SHUTTING_DOWN' });
    expect(await closing).toBe(0);
    await client.ended;
    expect(client.text()).toContain(': shutting down\n\n');
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('a fan-out read that fails', () => {
  it('is retried until it succeeds, and a stream that resumed meanwhile gets each event once', async () => {
    // One pool connection with a short checkout timeout: while the test holds it, the hub's read
    // of an announced batch fails (the pool cannot hand out a connection), as during a restart.
    const { app } = await buildTestApp({ DB_POOL_MAX: 1, DB_CONNECT_TIMEOUT_MS: 500 });
    const { app: writer } = await buildTestApp({ DATABASE_URL: app.config.DATABASE_URL });
    const base = await listen(app);
    const run = `run-${randomUUID()}`;
    const client = await openSse(`${base}/api/events/stream?run_id=${run}&backlog=0`, AUTH);
    const first = event({ runId: run });
    await store(app, [first]);
    await client.waitFor((c) => c.events().length === 1);

    const held = await app.pool.connect();
    const announced = event({ runId: run });
    await store(writer, [announced]);
    // Long enough for the read to time out at least once (500 ms checkout timeout).
    await new Promise((r) => setTimeout(r, 1_200));
    expect(ids(client)).toEqual([first.id]);
    held.release();

    const resumed = await openSse(`${base}/api/events/stream?run_id=${run}`, { ...AUTH, 'last-event-id': first.id });
    expect(resumed.status).toBe(200);
    await client.waitFor((c) => c.events().length >= 2, 10_000);
    await resumed.waitFor((c) => c.events().length >= 1, 10_000);
    const after = event({ runId: run });
    await store(writer, [after]);
    await client.waitFor((c) => c.events().length >= 3);
    await resumed.waitFor((c) => c.events().length >= 2);
    await new Promise((r) => setTimeout(r, 200));
    expect(ids(client)).toEqual([first.id, announced.id, after.id]);
    expect(ids(resumed)).toEqual([announced.id, after.id]);
    client.close();
    resumed.close();
    await app.close();
    await writer.close();
  });
});
