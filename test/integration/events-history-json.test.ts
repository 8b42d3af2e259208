import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Value } from 'typebox/value';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HistoryResponseSchema } from '../../src/domains/events/schemas.js';
import { AUTH, buildTestApp } from '../helpers/app.js';

// History is written straight to JSON text from the rows (src/db/raw-query.ts); session replay
// renders the same Event view through the response serializer. Both must say the same thing.
let app: FastifyInstance;
beforeAll(async () => {
  ({ app } = await buildTestApp());
});
afterAll(async () => {
  await app.close();
});

describe('GET /api/events/history JSON', () => {
  it('matches the EventSchema and the replay view of the same events, escapes included', async () => {
    const session = `s-${randomUUID()}`;
    const events = [
      {
        type: 'tool "called" \\ now',
        ts: '2026-01-02T03:04:05.678Z',
        aid_a: 'aid:pubkey:a\u2028b',
        session_id: session,
        grants: ['weather.read', 'x "y"'],
        payload: { nested: { list: [1, 2.5, -3e-7, true, null], text: 'ünï\ncode \u0001 ✓ 😀' }, empty: {}, big: 12345678901 },
      },
      { type: 'plain', ts: 1767323045, session_id: session, source: 'sdk', payload: [1, 'two'] },
    ];
    const ingest = await app.inject({ method: 'POST', url: '/api/events', headers: AUTH, payload: { events } });
    expect(ingest.statusCode, ingest.body).toBe(200);

    const history = await app.inject({ method: 'GET', url: `/api/events/history?session_id=${session}`, headers: AUTH });
    expect(history.statusCode).toBe(200);
    expect(history.headers['content-type']).toBe('application/json; charset=utf-8');
    const body = history.json();
    expect(Value.Check(HistoryResponseSchema, body), history.body).toBe(true);
    expect(body).toMatchObject({ count: 2, limit: 100, offset: 0, hasMore: false });
    expect(body.events[0]).toMatchObject({ type: 'tool "called" \\ now', ts: '2026-01-02T03:04:05.678Z', aidA: 'aid:pubkey:a\u2028b', aidB: null, grants: ['weather.read', 'x "y"'], payload: events[0]!.payload, source: 'playground' });
    expect(body.events[1]).toMatchObject({ type: 'plain', ts: '2026-01-02T03:04:05.000Z', payload: [1, 'two'], grants: null, source: 'sdk' });

    const replay = await app.inject({ method: 'GET', url: `/api/sessions/${session}/replay`, headers: AUTH });
    expect(replay.statusCode).toBe(200);
    // Replay is oldest first, history newest first.
    expect(body.events).toEqual([...replay.json().events].reverse());
  });
});
