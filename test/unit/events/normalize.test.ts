import { describe, expect, it } from 'vitest';
import { AppError } from '../../../src/lib/errors.js';
import { batchEntries, eventTime, normalizeBatch, normalizeEntry } from '../../../src/domains/events/normalize.js';

const NOW = Date.parse('2026-05-25T12:00:00.000Z');
const ctx = { at: '/events/0', index: 0, producer: 'anonymous', nowMs: NOW };

function rejection(fn: () => unknown): AppError {
  try {
    fn();
  } catch (err) {
    if (err instanceof AppError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe('batch shapes (EVENTS.md §2.1)', () => {
  it('accepts an array, {events:[…]} and {}', () => {
    expect(batchEntries([1])).toEqual({ entries: [1], base: '' });
    expect(batchEntries({ events: [1], other: true })).toEqual({ entries: [1], base: '/events' });
    expect(batchEntries({})).toEqual({ entries: [], base: '/events' });
  });

  it('rejects anything else with the right pointer', () => {
    for (const body of [null, 1, 'x', true]) expect(rejection(() => batchEntries(body)).extra).toEqual({ field: '' });
    expect(rejection(() => batchEntries({ events: null })).extra).toEqual({ field: '/events' });
  });

  it('caps a batch at 500 entries with a 413 before looking at any entry', () => {
    const err = rejection(() => normalizeBatch(Array.from({ length: 501 }, () => 'not an object'), 'p', NOW));
    expect([err.statusCode, err.code, err.message]).toEqual([413, 'PAYLOAD_TOO_LARGE', 'batch exceeds 500 events (got 501)']);
  });

  it('reports the lowest failing index and drops in-batch repeats', () => {
    const err = rejection(() => normalizeBatch([{}, { type: 'x'.repeat(129) }, 5], 'p', NOW));
    expect(err.extra).toEqual({ field: '/1/type', index: 1 });
    const batch = normalizeBatch({ events: [{ a: 1 }, { a: 1 }, { a: 2 }] }, 'p', NOW);
    expect([batch.received, batch.events.length]).toEqual([3, 2]);
  });
});

describe('field table (EVENTS.md §2.2)', () => {
  it('fills defaults', () => {
    const event = normalizeEntry({ note: 1 }, ctx);
    expect(event).toMatchObject({ type: 'unknown', aidA: null, aidB: null, sessionId: null, runId: null, grants: null, source: 'playground', producer: 'anonymous' });
    expect(event.payload).toEqual({ note: 1 });
    expect(event.ts.getTime()).toBe(NOW);
  });

  it('prefers camelCase, then snake_case, then the legacy names, skipping empty and non-string members', () => {
    expect(normalizeEntry({ aidA: 'c', aid_a: 's', initiator: 'i' }, ctx).aidA).toBe('c');
    expect(normalizeEntry({ aidA: '', aid_a: 's', initiator: 'i' }, ctx).aidA).toBe('s');
    expect(normalizeEntry({ aidA: 1, aid_a: null, initiator: 'i' }, ctx).aidA).toBe('i');
    expect(normalizeEntry({ aid_b: 'b', target: 't' }, ctx).aidB).toBe('b');
    expect(normalizeEntry({ session_id: 's' }, ctx).sessionId).toBe('s');
    expect(normalizeEntry({ run_id: 'r', 'playground.run_id': 'p', playground: { run_id: 'n' } }, ctx).runId).toBe('r');
    expect(normalizeEntry({ 'playground.run_id': 'p', playground: { run_id: 'n' } }, ctx).runId).toBe('p');
    expect(normalizeEntry({ playground: { run_id: 'n' } }, ctx).runId).toBe('n');
    expect(normalizeEntry({ playground: ['n'] }, ctx).runId).toBeNull();
  });

  it('keeps grants only as an array of strings, payload only as an object or array', () => {
    expect(normalizeEntry({ grants: ['a', 'b'] }, ctx).grants).toEqual(['a', 'b']);
    expect(normalizeEntry({ grants: ['a', 1] }, ctx).grants).toBeNull();
    expect(normalizeEntry({ grants: 'a' }, ctx).grants).toBeNull();
    expect(normalizeEntry({ payload: [1] }, ctx).payload).toEqual([1]);
    const raw = { payload: null, x: 1 };
    expect(normalizeEntry(raw, ctx).payload).toBe(raw);
  });

  it('names the member actually used in a limit error', () => {
    expect(rejection(() => normalizeEntry({ initiator: 'x'.repeat(513) }, ctx)).extra).toEqual({ field: '/events/0/initiator', index: 0 });
    expect(rejection(() => normalizeEntry({ grants: ['ok', 'g'.repeat(257)] }, { ...ctx, at: '/4', index: 4 })).extra).toEqual({ field: '/4/grants/1', index: 4 });
  });

  it('measures the payload in UTF-8 bytes of its JSON text', () => {
    const fits = { payload: { s: 'x'.repeat(65_536 - 8) } };
    expect(() => normalizeEntry(fits, ctx)).not.toThrow();
    const err = rejection(() => normalizeEntry({ type: 't', payload: { s: 'é'.repeat(32_765) } }, ctx));
    expect([err.statusCode, err.extra]).toEqual([413, { index: 0, eventType: 't' }]);
  });
});

describe('ts (EVENTS.md §2.4)', () => {
  const iso = (value: unknown) => eventTime(value, NOW).toISOString();
  it('reads seconds below 1e12 and milliseconds from 1e12', () => {
    expect(iso(1716638400)).toBe('2024-05-25T12:00:00.000Z');
    expect(iso(1716638400.001)).toBe('2024-05-25T12:00:00.001Z');
    expect(iso(1716638400.0019)).toBe('2024-05-25T12:00:00.001Z');
    expect(iso(-1.5)).toBe('1969-12-31T23:59:58.500Z');
    expect(iso(1e12)).toBe('2001-09-09T01:46:40.000Z');
    expect(iso(1716638400123.7)).toBe('2024-05-25T12:00:00.123Z');
  });

  it('reads RFC 3339, Postgres text and dates', () => {
    expect(iso('2024-05-25T12:00:00Z')).toBe('2024-05-25T12:00:00.000Z');
    expect(iso('2024-05-25 12:00:00.123456+00')).toBe('2024-05-25T12:00:00.123Z');
    expect(iso('2024-05-25T12:00:00')).toBe('2024-05-25T12:00:00.000Z');
    expect(iso('2024-05-25')).toBe('2024-05-25T00:00:00.000Z');
  });

  it('falls back to the ingest time for anything else or out of range', () => {
    for (const value of [undefined, null, '', 'now', '2024-02-30', 1e11 * 3, 9e15, -7e13, [1], { s: 1 }]) {
      expect([value, eventTime(value, NOW).getTime()]).toEqual([value, NOW]);
    }
  });
});
