import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inTransaction, onPool } from '../../src/db/transaction.js';
import { cpEvent } from '../../src/domains/events/cp-events.js';
import { needsTransaction, persistEvents } from '../../src/domains/event-pipeline/index.js';
import type { EventView } from '../../src/domains/events/views.js';
import { AUTH, buildTestApp } from '../helpers/app.js';
import { openSse } from '../helpers/sse.js';

/**
 * The write path of every event (pipeline.ts, repository.ts): one statement inserts, touches
 * last_seen_at and queues the NOTIFYs; a batch that feeds no projection and no webhook runs it
 * without a transaction.
 */
let app: FastifyInstance;
let base: string;
/** Every aitp_events payload this database sent, in arrival order. */
const notifications: string[] = [];
let listener: pg.Client;

/** seqs start just under 2^53 (the largest exact JS integer): 16-digit seqs make a 500-event batch span two NOTIFYs. */
const FIRST_SEQ = 2 ** 53 - 1_000_000;

beforeAll(async () => {
  ({ app } = await buildTestApp({ SSE_HEARTBEAT_MS: 1_000 }));
  await app.db.execute(sql.raw(`ALTER TABLE audit_events ALTER COLUMN seq RESTART WITH ${FIRST_SEQ}`));
  listener = new pg.Client({ connectionString: app.config.DATABASE_URL });
  await listener.connect();
  listener.on('notification', (msg) => {
    if (msg.channel === 'aitp_events') notifications.push(msg.payload ?? '');
  });
  await listener.query('LISTEN aitp_events');
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await listener.end();
  await app.close();
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function ingest(body: unknown) {
  const res = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: JSON.stringify(body) });
  expect(res.statusCode).toBe(200);
  return res.json() as { ingested: number; inserted: number; duplicates: number };
}

async function storedOfRun(runId: string): Promise<Array<{ id: string; seq: number }>> {
  const rows = await app.db.execute<{ id: string; seq: string }>(sql`SELECT id, seq FROM audit_events WHERE run_id = ${runId} ORDER BY seq`);
  return rows.rows.map((r) => ({ id: r.id, seq: Number(r.seq) }));
}

async function historyOfRun(runId: string): Promise<EventView[]> {
  const res = await app.inject({ method: 'GET', url: `/api/events/history?run_id=${encodeURIComponent(runId)}&limit=1000`, headers: AUTH });
  return (res.json() as { events: EventView[] }).events;
}

/** Waits until the NOTIFYs received since `from` name every one of `seqs`; returns those payloads. */
async function notifiedSince(from: number, seqs: readonly number[]): Promise<string[]> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const payloads = notifications.slice(from);
    const named = new Set(payloads.flatMap((p) => (JSON.parse(p) as { seq: number[] }).seq));
    if (seqs.every((s) => named.has(s))) return payloads;
    if (Date.now() > deadline) throw new Error(`not notified: ${seqs.filter((s) => !named.has(s)).length} seqs`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const capability = (runId: string, i: number, extra: Record<string, unknown> = {}) => ({
  type: 'capability.invoked',
  run_id: runId,
  ts: 1_716_638_400_000 + i,
  payload: { capability: 'weather.read', seq: i },
  ...extra,
});

describe('event persistence in one statement', () => {
  it('stores a projection-free batch once: repeats within the batch and across batches are duplicates', async () => {
    const run = unique('run');
    const id = randomUUID();
    const first = await ingest([capability(run, 1), { ...capability(run, 2), id }, { ...capability(run, 3), id }]);
    expect(first).toEqual({ ingested: 3, inserted: 2, duplicates: 1 });
    const again = await ingest([capability(run, 1), { ...capability(run, 2), id }, capability(run, 4)]);
    expect(again).toEqual({ ingested: 3, inserted: 1, duplicates: 2 });
    const stored = await storedOfRun(run);
    expect(stored).toHaveLength(3);
    expect(stored.map((s) => s.id)).toContain(id);
  });

  it('round-trips values the array parameters must quote: quotes, backslashes, commas, braces, spaces, "NULL"', async () => {
    const run = unique('run "quoted", {braced} \\ back');
    const tricky = ['a"b', 'c\\d', 'e,f', '{g}', ' h ', 'NULL', 'é ü 𝄞', "it's"];
    await ingest(tricky.map((value, i) => ({ type: value, run_id: run, aid_a: value, session_id: `${value}-${i}`, ts: 1_716_638_400_000 + i, grants: [value], payload: { value } })));
    const events = await historyOfRun(run);
    expect(events.map((e) => [e.type, e.aidA, e.sessionId, e.grants, e.payload, e.runId]).sort()).toEqual(
      tricky.map((value, i) => [value, value, `${value}-${i}`, [value], { value }, run]).sort(),
    );
  });

  it('sends one {"v":1,"seq":[…]} NOTIFY per ≤ 7900-byte chunk, ascending, for exactly the new seqs', async () => {
    const run = unique('run');
    const from = notifications.length;
    const batch = Array.from({ length: 500 }, (_, i) => capability(run, i));
    expect((await ingest({ events: batch })).inserted).toBe(500);
    const seqs = (await storedOfRun(run)).map((s) => s.seq);
    expect(seqs[0]).toBeGreaterThanOrEqual(FIRST_SEQ);
    const payloads = await notifiedSince(from, seqs);
    expect(payloads.length).toBeGreaterThanOrEqual(2);
    for (const payload of payloads) {
      expect(payload).toMatch(/^\{"v":1,"seq":\[\d+(,\d+)*\]\}$/);
      expect(Buffer.byteLength(payload)).toBeLessThanOrEqual(7_900);
    }
    const notified = payloads.flatMap((p) => (JSON.parse(p) as { seq: number[] }).seq);
    expect(notified).toEqual(seqs);

    const resend = notifications.length;
    const extra = capability(run, 1_000);
    expect(await ingest([...batch.slice(0, 10), extra])).toEqual({ ingested: 11, inserted: 1, duplicates: 10 });
    const newSeq = (await storedOfRun(run)).at(-1)!.seq;
    expect(await notifiedSince(resend, [newSeq])).toEqual([`{"v":1,"seq":[${newSeq}]}`]);
  });

  it('delivers every event of a 500-event batch to an SSE subscriber, in batch order', async () => {
    const run = unique('run');
    const client = await openSse(`${base}/api/events/stream?run_id=${encodeURIComponent(run)}&backlog=0`, AUTH);
    await client.waitFor((c) => c.text().includes(': connected'));
    const batch = Array.from({ length: 500 }, (_, i) => ({ ...capability(run, i), id: randomUUID() }));
    await ingest(batch);
    await client.waitFor((c) => c.events().length >= 500, 10_000);
    expect(client.events().map((e) => e.id)).toEqual(batch.map((e) => e.id));
    client.close();
  });

  it('touches last_seen_at for newly inserted agent events only, never for duplicates or CP events', async () => {
    const aid = unique('aid:pubkey:seen');
    await app.db.execute(sql`
      INSERT INTO agents (aid, display_name, handshake_endpoint, manifest_json, manifest_sha256, last_seen_at)
      VALUES (${aid}, 'a', 'https://a.example.com/aitp', '{}', ${'0'.repeat(64)}, '2000-01-01T00:00:00Z')`);
    const lastSeen = async () =>
      (await app.db.execute<{ t: string }>(sql`SELECT last_seen_at::text AS t FROM agents WHERE aid = ${aid}`)).rows[0]!.t;
    const reset = () => app.db.execute(sql`UPDATE agents SET last_seen_at = '2000-01-01T00:00:00Z' WHERE aid = ${aid}`);
    const OLD = '2000-01-01 00:00:00+00';
    const run = unique('run');

    await ingest([capability(run, 1, { aid_a: aid })]);
    expect(await lastSeen()).not.toBe(OLD);
    await reset();
    await ingest([capability(run, 1, { aid_a: aid })]);
    expect(await lastSeen()).toBe(OLD);
    await ingest([capability(run, 1, { aid_a: aid }), capability(run, 2, { aid_b: aid })]);
    expect(await lastSeen()).not.toBe(OLD);

    await reset();
    const persisted = await inTransaction(app.pool, (tx) =>
      app.eventPipeline.persist(tx, [cpEvent({ type: 'agent.registered', ts: new Date(), aidA: aid, payload: {} })]),
    );
    persisted.committed();
    expect(persisted.stored).toHaveLength(1);
    expect(await lastSeen()).toBe(OLD);
  });

  it('stores a batch that feeds a projection in one transaction with its projection', async () => {
    const run = unique('run');
    const session = unique('session');
    const res = await ingest([capability(run, 1), { type: 'handshake.started', run_id: run, session_id: session, aid_a: 'aid:a', aid_b: 'aid:b' }]);
    expect(res.inserted).toBe(2);
    const rows = await app.db.execute<{ status: string }>(sql`SELECT status FROM handshake_sessions WHERE session_id = ${session}`);
    expect(rows.rows).toEqual([{ status: 'started' }]);
    expect(await storedOfRun(run)).toHaveLength(2);
  });

  it('needs a transaction exactly for projected or deliverable events; refuses the bare database for those', async () => {
    const base = { id: randomUUID(), ts: new Date(), aidA: null, aidB: null, sessionId: null, runId: unique('run'), grants: null, payload: {}, source: 't', producer: 'anonymous' };
    expect(needsTransaction([{ ...base, type: 'capability.invoked' }])).toBe(false);
    expect(needsTransaction([{ ...base, type: 'agent.registered' }])).toBe(false);
    expect(needsTransaction([{ ...base, type: 'agent.registered', producer: 'cp' }])).toBe(true);
    expect(needsTransaction([{ ...base, type: 'capability.invoked' }, { ...base, type: 'handshake.completed' }])).toBe(true);
    expect(needsTransaction([{ ...base, type: 'tct.issued' }])).toBe(true);
    expect(needsTransaction([{ ...base, type: 'handshake.failed' }])).toBe(true);
    await expect(persistEvents(onPool(app.pool, app.db), [{ ...base, type: 'tct.revoked' }])).rejects.toThrow(/need a transaction/);
    expect(await storedOfRun(base.runId)).toEqual([]);
  });
});
