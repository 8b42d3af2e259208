import { describe, expect, it } from 'vitest';
import { isoOf, isoOrNull } from '../../../src/db/raw-query.js';
import { jsonString } from '../../../src/lib/json-text.js';

describe('isoOf (timestamptz text → API timestamp)', () => {
  it.each([
    ['2026-11-24 16:18:01+00', '2026-11-24T16:18:01.000Z'],
    ['2026-11-24 16:18:01.5+00', '2026-11-24T16:18:01.500Z'],
    ['2026-11-24 16:18:01.12+00', '2026-11-24T16:18:01.120Z'],
    ['2026-11-24 16:18:01.123456+00', '2026-11-24T16:18:01.123Z'],
    ['2026-11-24 16:18:01.999999+00', '2026-11-24T16:18:01.999Z'],
    ['0001-01-01 00:00:00+00', '0001-01-01T00:00:00.000Z'],
    ['9999-12-31 23:59:59.999+00', '9999-12-31T23:59:59.999Z'],
  ])('%s → %s', (text, iso) => {
    expect(isoOf(text)).toBe(iso);
  });

  it('falls back to the driver parser for a session that is not UTC', () => {
    expect(isoOf('2026-11-24 16:18:01.123456+05:30')).toBe('2026-11-24T10:48:01.123Z');
  });

  it('keeps null', () => {
    expect(isoOrNull(null)).toBeNull();
  });
});

describe('jsonString', () => {
  it.each(['plain aid:pubkey:abc-_.', '', 'say "hi"', 'back\\slash', 'tab\there', 'nul\u0000', 'line\u2028sep', 'lone \ud800 surrogate', 'ünïcode ✓'])(
    'equals JSON.stringify for %j',
    (value) => {
      expect(jsonString(value)).toBe(JSON.stringify(value));
    },
  );

  it('writes null for null and undefined', () => {
    expect(jsonString(null)).toBe('null');
    expect(jsonString(undefined)).toBe('null');
  });
});
