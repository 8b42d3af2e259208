import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintOf } from '../../src/plugins/auth.js';
import { deriveEventId } from '../../src/domains/events/event-id.js';
import { AUTH, TEST_API_KEY, buildTestApp } from '../helpers/app.js';
import type { EventView } from '../../src/domains/events/views.js';

const OTHER_KEY = 'second-api-key-0123456789abcdef';
const OTHER_AUTH = { authorization: `Bearer ${OTHER_KEY}` } as const;
/** Ingest time of every event without a usable `ts`: the test clock is frozen. */
const NOW = Date.parse('2026-05-25T12:00:00.000Z');

let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await buildTestApp({ API_KEYS: [TEST_API_KEY, OTHER_KEY] }, { clock: { now: () => NOW } }));
});
afterAll(async () => {
  await app.close();
});

const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;

async function ingest(body: unknown, headers: Record<string, string> = AUTH) {
  const res = await app.inject({ method: 'POST', url: '/api/events', headers, payload: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.statusCode, body: res.json() as Record<string, unknown> };
}

async function history(query: string): Promise<{ status: number; body: { events: EventView[]; count: number; hasMore: boolean } & Record<string, unknown> }> {
  const res = await app.inject({ method: 'GET', url: `/api/events/history?${query}`, headers: AUTH });
  return { status: res.statusCode, body: res.json() };
}

async function eventsOfRun(runId: string): Promise<EventView[]> {
  const res = await history(`run_id=${encodeURIComponent(runId)}&limit=1000`);
  expect(res.status).toBe(200);
  return res.body.events;
}

async function metricLines(prefix: string): Promise<string[]> {
  const res = await app.inject({ method: 'GET', url: '/api/metrics', headers: AUTH });
  return res.body.split('\n').filter((line) => line.startsWith(prefix));
}

describe('POST /api/events: batches and deduplication', () => {
  it('stores a batch once: the same batch again inserts 0 and counts N duplicates', async () => {
    const run = unique('run');
    const batch = Array.from({ length: 5 }, (_, i) => ({ type: 'tool.called', run_id: run, ts: 1716638400 + i, payload: { i } }));
    const first = await ingest(batch);
    expect(first).toEqual({ status: 200, body: { ingested: 5, inserted: 5, duplicates: 0 } });
    const second = await ingest({ events: batch });
    expect(second).toEqual({ status: 200, body: { ingested: 5, inserted: 0, duplicates: 5 } });
    expect(await eventsOfRun(run)).toHaveLength(5);
  });

  it('keeps the first of an id repeated within one batch', async () => {
    const run = unique('run');
    const id = randomUUID();
    const res = await ingest([
      { id, type: 'first', run_id: run },
      { id: id.toUpperCase(), type: 'second', run_id: run },
    ]);
    expect(res.body).toEqual({ ingested: 2, inserted: 1, duplicates: 1 });
    const events = await eventsOfRun(run);
    expect(events.map((e) => [e.id, e.type])).toEqual([[id, 'first']]);
  });

  it('answers {} with an empty result', async () => {
    expect(await ingest({})).toEqual({ status: 200, body: { ingested: 0, inserted: 0, duplicates: 0 } });
    expect(await ingest([])).toEqual({ status: 200, body: { ingested: 0, inserted: 0, duplicates: 0 } });
  });
});

describe('POST /api/events: all-or-nothing validation', () => {
  it('rejects the whole batch for one bad event, naming its index and field; nothing is stored', async () => {
    const run = unique('run');
    const batch = [
      { type: 'ok', run_id: run },
      { type: 'ok', run_id: run, aid_a: 'a'.repeat(513) },
      { type: 'x'.repeat(129), run_id: run },
    ];
    const res = await ingest({ events: batch });
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ code: 'BODY_INVALID', index: 1, field: '/events/1/aid_a' });
    expect(await eventsOfRun(run)).toEqual([]);
  });

  it('uses /<i> pointers for a bare array and /events/<i> for the wrapped form', async () => {
    const bad = [{ type: 'ok' }, 'not an object'];
    expect((await ingest(bad)).body).toMatchObject({ code: 'BODY_INVALID', field: '/1', index: 1 });
    expect((await ingest({ events: bad })).body).toMatchObject({ code: 'BODY_INVALID', field: '/events/1', index: 1 });
    const longType = [{}, {}, {}, { type: 't'.repeat(129) }];
    expect((await ingest(longType)).body).toMatchObject({ field: '/3/type', index: 3 });
    expect((await ingest({ events: longType })).body).toMatchObject({ field: '/events/3/type', index: 3 });
  });

  it('rejects bodies that are not a batch', async () => {
    for (const body of ['', 'null', '42', '"events"', 'true']) {
      expect((await ingest(body)).body).toMatchObject({ code: 'BODY_INVALID', field: '' });
    }
    expect((await ingest({ events: 'x' })).body).toMatchObject({ code: 'BODY_INVALID', field: '/events' });
  });

  it('checks every limit on the chosen member: sessions, runs, sources, grants', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ session_id: 's'.repeat(256) }, '/events/0/session_id'],
      [{ playground: { run_id: 'r'.repeat(256) } }, '/events/0/playground/run_id'],
      [{ 'playground.run_id': 'r'.repeat(256) }, '/events/0/playground.run_id'],
      [{ source: 's'.repeat(129) }, '/events/0/source'],
      [{ target: 'b'.repeat(513) }, '/events/0/target'],
      [{ grants: Array.from({ length: 257 }, () => 'g') }, '/events/0/grants'],
      [{ grants: ['ok', 'g'.repeat(257)] }, '/events/0/grants/1'],
    ];
    for (const [entry, field] of cases) {
      expect((await ingest({ events: [entry] })).body).toMatchObject({ code: 'BODY_INVALID', field, index: 0 });
    }
    // 128 code points of an astral character is 256 UTF-16 units, still within the limit.
    expect((await ingest([{ type: '😀'.repeat(128) }])).status).toBe(200);
  });

  it('names the entry of a U+0000 found while parsing', async () => {
    const res = await ingest('{"events":[{"type":"ok"},{"type":"ok","payload":{"note":"a\\u0000b"}}]}');
    expect(res.body).toMatchObject({ code: 'BODY_INVALID', index: 1, field: '/events/1/payload/note' });
  });

  it('answers 413 for more than 500 entries', async () => {
    const res = await ingest(Array.from({ length: 501 }, () => ({})));
    expect(res.status).toBe(413);
    expect(res.body).toEqual({ code: 'PAYLOAD_TOO_LARGE', error: 'batch exceeds 500 events (got 501)' });
    expect((await ingest(Array.from({ length: 500 }, (_, i) => ({ type: 'many', i })))).status).toBe(200);
  });

  it('answers 413 with index and eventType for a payload over 65536 UTF-8 bytes', async () => {
    const run = unique('run');
    // 21846 × "é" (2 bytes) = 43692 bytes in one string: fine; × 2 strings exceeds the cap.
    const wide = 'é'.repeat(21_846);
    const res = await ingest([
      { type: 'small', run_id: run },
      { type: 'big.one', run_id: run, payload: { a: wide, b: wide } },
    ]);
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', index: 1, eventType: 'big.one' });
    expect(await eventsOfRun(run)).toEqual([]);
    expect((await ingest([{ type: 'fits', run_id: run, payload: { a: wide } }])).status).toBe(200);
  });

  it('counts rejected and accepted batches', async () => {
    const before = await metricLines('aitp_control_plane_ingest_batches_total{outcome="rejected"}');
    await ingest('null');
    const after = await metricLines('aitp_control_plane_ingest_batches_total{outcome="rejected"}');
    expect(Number(after[0]!.split(' ')[1])).toBe(Number(before[0]!.split(' ')[1]) + 1);
  });
});

describe('POST /api/events: normalization (EVENTS.md §2.2)', () => {
  it('reads every alias, camelCase first', async () => {
    const run = unique('run');
    const res = await ingest([
      { type: 'alias.snake', aid_a: 'aid:a1', aid_b: 'aid:b1', session_id: 's-1', run_id: run, grants: ['g1'], source: 'sdk', ts: 1716638400 },
      { type: 'alias.initiator', initiator: 'aid:a2', target: 'aid:b2', 'playground.run_id': run, ts: 1716638401 },
      { type: 'alias.nested', playground: { run_id: run }, ts: 1716638402 },
      { type: 'alias.camel', aidA: 'aid:camel', aid_a: 'aid:snake', initiator: 'aid:init', sessionId: 's-c', session_id: 's-s', runId: run, run_id: 'other', ts: 1716638403 },
      { type: 'alias.skips', aidA: '', aid_a: 42, initiator: 'aid:third', runId: run, grants: ['ok', 7], ts: 1716638404 },
    ]);
    expect(res.body).toEqual({ ingested: 5, inserted: 5, duplicates: 0 });
    const byType = new Map((await eventsOfRun(run)).map((e) => [e.type, e]));
    expect(byType.get('alias.snake')).toMatchObject({ aidA: 'aid:a1', aidB: 'aid:b1', sessionId: 's-1', runId: run, grants: ['g1'], source: 'sdk' });
    expect(byType.get('alias.initiator')).toMatchObject({ aidA: 'aid:a2', aidB: 'aid:b2', sessionId: null, runId: run, grants: null, source: 'playground' });
    expect(byType.get('alias.nested')).toMatchObject({ runId: run });
    expect(byType.get('alias.camel')).toMatchObject({ aidA: 'aid:camel', sessionId: 's-c', runId: run });
    expect(byType.get('alias.skips')).toMatchObject({ aidA: 'aid:third', grants: null });
  });

  it('defaults type and payload: "unknown", and the whole raw entry', async () => {
    const run = unique('run');
    const entry = { run_id: run, note: 'kept', payload: 'not an object', ts: 1716638400 };
    await ingest([entry, { type: '', run_id: run, payload: [1, 2], ts: 1716638401 }]);
    const events = await eventsOfRun(run);
    expect(events[1]).toMatchObject({ type: 'unknown', payload: entry });
    expect(events[0]).toMatchObject({ type: 'unknown', payload: [1, 2] });
  });

  it('reads ts as seconds, milliseconds or a timestamp string; anything else is the ingest time', async () => {
    const run = unique('run');
    const cases: Array<[unknown, string]> = [
      [1716638400, '2024-05-25T12:00:00.000Z'],
      [1716638400.123, '2024-05-25T12:00:00.123Z'],
      [1716638400123, '2024-05-25T12:00:00.123Z'],
      [1716638400123.9, '2024-05-25T12:00:00.123Z'],
      [999_999_999_999, new Date(NOW).toISOString()],
      ['2024-05-25T14:00:00.5+02:00', '2024-05-25T12:00:00.500Z'],
      ['2024-05-25 12:00:00.123456+00', '2024-05-25T12:00:00.123Z'],
      ['2024-05-25', '2024-05-25T00:00:00.000Z'],
      ['yesterday', new Date(NOW).toISOString()],
      [8.64e15, new Date(NOW).toISOString()],
      [-62_200_000_000_000, new Date(NOW).toISOString()],
      [true, new Date(NOW).toISOString()],
      [null, new Date(NOW).toISOString()],
    ];
    await ingest(cases.map(([ts], i) => ({ type: `ts.${i}`, run_id: run, ts })));
    const byType = new Map((await eventsOfRun(run)).map((e) => [e.type, e.ts]));
    // 999_999_999_999 is below 1e12, so epoch seconds: past 9999-12-31, hence the ingest time.
    cases.forEach(([input, expected], i) => expect([input, byType.get(`ts.${i}`)]).toEqual([input, expected]));
  });
});

describe('POST /api/events: event ids (EVENTS.md §3)', () => {
  it('derives the same id from the same raw entry and key, another one under another key', async () => {
    const run = unique('run');
    const entry = { type: 'derived', run_id: run, id: 'not-a-uuid', payload: { b: 1, a: [true, null] } };
    const reordered = { payload: { a: [true, null], b: 1 }, id: 'not-a-uuid', run_id: run, type: 'derived' };
    expect((await ingest([entry])).body).toMatchObject({ inserted: 1 });
    expect((await ingest([reordered])).body).toMatchObject({ inserted: 0, duplicates: 1 });
    expect((await ingest([entry], OTHER_AUTH)).body).toMatchObject({ inserted: 1 });
    const ids = (await eventsOfRun(run)).map((e) => e.id).sort();
    const expected = [deriveEventId(fingerprintOf(TEST_API_KEY), entry), deriveEventId(fingerprintOf(OTHER_KEY), entry)].sort();
    expect(ids).toEqual(expected);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });

  it('keeps a client UUID, lower-cased', async () => {
    const run = unique('run');
    const id = randomUUID();
    await ingest([{ id: id.toUpperCase(), type: 'client.id', run_id: run }]);
    expect((await eventsOfRun(run))[0]?.id).toBe(id);
  });
});

describe('POST /api/events: side effects', () => {
  it('touches last_seen_at of registered aids only', async () => {
    const registered = unique('aid:pubkey:registered');
    const unknown = unique('aid:pubkey:unknown');
    await app.db.execute(sql`
      INSERT INTO agents (aid, display_name, handshake_endpoint, manifest_json, manifest_sha256)
      VALUES (${registered}, 'r', 'https://r.example.com/aitp', '{}', ${'0'.repeat(64)})`);
    await ingest([{ type: 'seen', aid_a: registered, aid_b: unknown }]);
    const rows = await app.db.execute<{ aid: string; last_seen_at: Date | null }>(
      sql`SELECT aid, last_seen_at FROM agents WHERE aid IN (${registered}, ${unknown})`,
    );
    expect(rows.rows).toHaveLength(1);
    expect(rows.rows[0]?.last_seen_at).not.toBeNull();
  });

  it('keeps the type label set closed: unknown types count as "other"', async () => {
    const run = unique('run');
    const before = await metricLines('aitp_control_plane_events_ingested_total');
    const other = (lines: string[]) => Number(lines.find((l) => l.includes('type="other"'))!.split(' ')[1]);
    await ingest(Array.from({ length: 50 }, (_, i) => ({ type: `custom.${run}.${i}`, run_id: run })));
    await ingest([{ type: 'handshake.completed', run_id: run }, { type: 'handshake.complete', run_id: run }]);
    const after = await metricLines('aitp_control_plane_events_ingested_total');
    expect(other(after) - other(before)).toBe(50);
    expect(after.map((l) => /type="([^"]+)"/.exec(l)?.[1]).sort()).toEqual(
      [
        'agent.deregistered', 'agent.expired', 'agent.registered', 'capability.invoked', 'delegation.issued', 'delegation.revoked',
        'handshake.complete', 'handshake.failed', 'handshake.started', 'other', 'tct.issued', 'tct.revoked',
      ].sort(),
    );
    const complete = (lines: string[]) => Number(lines.find((l) => l.includes('type="handshake.complete"'))!.split(' ')[1]);
    expect(complete(after) - complete(before)).toBe(2);
  });

  it('counts duplicates', async () => {
    const line = 'aitp_control_plane_events_duplicates_total';
    const value = async () => Number((await metricLines(line))[0]!.split(' ')[1]);
    const before = await value();
    const batch = [{ type: 'dup', run_id: unique('run') }];
    await ingest(batch);
    await ingest(batch);
    expect((await value()) - before).toBe(1);
  });
});

describe('GET /api/events/history', () => {
  const run = unique('hist');
  const aid = unique('aid:pubkey:h');
  beforeAll(async () => {
    await ingest([
      { type: 'handshake.complete', run_id: run, aid_a: aid, session_id: `${run}-s1`, ts: '2026-01-01T00:00:01Z' },
      { type: 'handshake.completed', run_id: run, aid_b: aid, session_id: `${run}-s1`, ts: '2026-01-01T00:00:02Z' },
      { type: 'tool.called', run_id: run, session_id: `${run}-s2`, ts: '2026-01-01T00:00:03Z' },
      { type: 'tool.called', run_id: run, ts: '2026-01-01T00:00:03Z', payload: { second: true } },
      { type: 'other.thing', run_id: run, ts: '2026-01-01T00:00:04Z' },
    ]);
  });

  it('orders by ts desc, then insertion (seq) desc', async () => {
    const events = await eventsOfRun(run);
    expect(events.map((e) => e.ts)).toEqual([
      '2026-01-01T00:00:04.000Z', '2026-01-01T00:00:03.000Z', '2026-01-01T00:00:03.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:01.000Z',
    ]);
    expect(events[1]?.payload).toEqual({ second: true });
    expect(Object.keys(events[0]!)).toEqual(['id', 'type', 'ts', 'aidA', 'aidB', 'sessionId', 'runId', 'grants', 'payload', 'source', 'createdAt']);
  });

  it('filters by type list, alias-aware', async () => {
    for (const type of ['handshake.complete', 'handshake.completed']) {
      const res = await history(`run_id=${run}&type=${type}`);
      expect(res.body.events.map((e) => e.type).sort()).toEqual(['handshake.complete', 'handshake.completed']);
    }
    const list = await history(`runId=${run}&type=other.thing,%20tool.called`);
    expect(list.body.count).toBe(3);
    const tooMany = await history(`type=${Array.from({ length: 21 }, (_, i) => `t${i}`).join(',')}`);
    expect(tooMany).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', field: 'type' } });
  });

  it('filters by aid (either side), session and run, snake_case winning', async () => {
    expect((await history(`aid=${encodeURIComponent(aid)}`)).body.count).toBe(2);
    const self = unique('aid:pubkey:self');
    await ingest([
      { type: 'self.1', aid_a: self, aid_b: self, ts: 1716638401 },
      { type: 'self.2', aid_b: self, ts: 1716638403 },
      { type: 'self.3', aid_a: self, ts: 1716638402 },
      { type: 'self.4', aid_a: self, ts: 1716638403 },
    ]);
    const both = await history(`aid=${encodeURIComponent(self)}`);
    expect(both.body.events.map((e) => e.type)).toEqual(['self.4', 'self.2', 'self.3', 'self.1']);
    const paged = await history(`aid=${encodeURIComponent(self)}&limit=2&offset=1`);
    expect(paged.body.events.map((e) => e.type)).toEqual(['self.2', 'self.3']);
    expect(paged.body.hasMore).toBe(true);
    const filtered = await history(`aid=${encodeURIComponent(self)}&type=self.1,self.2&until=2024-05-25T12:00:02Z`);
    expect(filtered.body.events.map((e) => e.type)).toEqual(['self.1']);
    expect((await history(`session_id=${run}-s1`)).body.count).toBe(2);
    expect((await history(`sessionId=${run}-s2`)).body.count).toBe(1);
    expect((await history(`session_id=${run}-s2&sessionId=${run}-s1`)).body.count).toBe(1);
    expect((await history(`run_id=${run}&runId=nothing`)).body.count).toBe(5);
  });

  it('bounds ts inclusively with since/until; unparseable → 400 FILTER_INVALID', async () => {
    const res = await history(`run_id=${run}&since=2026-01-01T00:00:02Z&until=2026-01-01%2000:00:03`);
    expect(res.body.events.map((e) => e.ts)).toEqual(['2026-01-01T00:00:03.000Z', '2026-01-01T00:00:03.000Z', '2026-01-01T00:00:02.000Z']);
    expect(await history('since=yesterday')).toMatchObject({ status: 400, body: { code: 'FILTER_INVALID', field: 'since' } });
    expect(await history('until=2026-13-01')).toMatchObject({ status: 400, body: { code: 'FILTER_INVALID', field: 'until' } });
  });

  it('paginates with limit/offset and hasMore; rejects bad or repeated params', async () => {
    const page1 = await history(`run_id=${run}&limit=2`);
    expect(page1.body).toMatchObject({ count: 2, limit: 2, offset: 0, hasMore: true });
    const page3 = await history(`run_id=${run}&limit=2&offset=4`);
    expect(page3.body).toMatchObject({ count: 1, limit: 2, offset: 4, hasMore: false });
    expect((await history(`run_id=${run}&limit=5000`)).body.limit).toBe(1000);
    expect(await history('limit=0')).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', field: 'limit' } });
    expect(await history('aid=a&aid=b')).toMatchObject({ status: 400, body: { code: 'BAD_REQUEST', field: 'aid' } });
    expect((await app.inject({ method: 'GET', url: '/api/events/history' })).statusCode).toBe(401);
  });
});
