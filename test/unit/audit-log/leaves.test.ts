import { describe, expect, it } from 'vitest';
import { jcs, jcsBytes } from '../../../src/aitp/index.js';
import { eventLeaf, eventLeafJcs, eventLeafRef } from '../../../src/domains/audit-log/leaves.js';
import type { TextRow } from '../../../src/db/raw-query.js';
import { hashLeaf } from '../../../src/lib/tlog/index.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

// Text rows as Postgres sends them: jsonb with its own spacing and member order, timestamptz
// with 0–6 fraction digits and +00.
const payloads = [
  '{}',
  'null',
  '{"a": 1, "b": [1, 2.5, "x"]}',
  '{"z": {"y": true, "x": null}, "é": "ü", "\\u0000": "nul", "10": 1, "9": 2}',
  '{"n": 1.0, "big": 1e21, "small": 1e-7, "neg": -0, "exp": 12345678901234567890}',
  '["line\\nbreak", "quote \\" backslash \\\\", "emoji 😀", "\\u001f"]',
  '"just a string"',
  '{"boundary": "cross_org", "nested": {"deeper": {"deepest": [[], {}, [{}]]}}}',
];
const texts = ['plain', 'with "quotes"', 'tab\there', 'ünïcödé ✓', 'emoji 😀', 'back\\slash', 'ctl\u0001'];
const stamps = ['2026-12-06 20:10:01+00', '2026-12-06 20:10:01.1+00', '2026-12-06 20:10:01.123456+00', '1999-01-01 00:00:00.5+00'];

function row(i: number): TextRow {
  const pick = <T>(list: readonly T[], salt: number): T => list[(i * 7 + salt) % list.length]!;
  const maybe = (value: string, salt: number): string | null => ((i + salt) % 3 === 0 ? null : value);
  return {
    id: `0c5f1f5e-0000-4000-8000-${String(i).padStart(12, '0')}`,
    type: pick(['handshake.complete', 'token.issued', `x.${pick(texts, 1)}`], 2),
    ts: pick(stamps, 3),
    aid_a: maybe(`aid:pubkey:${pick(texts, 4)}`, 1),
    aid_b: maybe('aid:pubkey:b', 2),
    session_id: maybe(pick(texts, 5), 0),
    run_id: maybe(`run-${i}`, 1),
    grants: maybe(`["read", "${pick(['write', 'a\\"b', 'ü'], 6)}"]`, 2),
    payload: pick(payloads, 7),
    source: maybe(pick(texts, 8), 0),
    created_at: pick(stamps, 9),
  };
}

describe('event leaves', () => {
  it('the JCS built from the text row equals JCS of the record the API serves, and so do the hashes', () => {
    for (let i = 0; i < 400; i++) {
      const leaf = eventLeaf(row(i));
      expect(eventLeafJcs(row(i))).toBe(jcs(leaf.record));
      expect(hex(leaf.hash)).toBe(hex(hashLeaf(jcsBytes(leaf.record))));
      expect(hex(eventLeafRef(row(i)).hash)).toBe(hex(leaf.hash));
    }
  });

  it('the record is the Event view plus kind, and createdMs is its createdAt', () => {
    const leaf = eventLeaf({ ...row(1), created_at: '2026-12-06 20:10:01.123456+00' });
    expect(Object.keys(leaf.record).sort()).toEqual(
      ['aidA', 'aidB', 'createdAt', 'grants', 'id', 'kind', 'payload', 'runId', 'sessionId', 'source', 'ts', 'type'],
    );
    expect(leaf.record['kind']).toBe('event');
    expect(leaf.record['createdAt']).toBe('2026-12-06T20:10:01.123Z');
    expect(leaf.createdMs).toBe(Date.parse('2026-12-06T20:10:01.123Z'));
  });
});
