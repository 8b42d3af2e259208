import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { jcs } from '../../../src/aitp/index.js';
import { deriveEventId, eventIdAndPayloadJcs, isUuid, uuidFromDigest } from '../../../src/domains/events/event-id.js';

describe('event ids (EVENTS.md §3)', () => {
  it('derives a UUIDv8 from SHA-256("aitp-event:v1" 0 producer 0 JCS(entry))', () => {
    const entry = { type: 'x', payload: { b: 2, a: 1 }, ts: 1.5 };
    const digest = createHash('sha256').update('aitp-event:v1\u0000apikey:0123456789abcdef\u0000{"payload":{"a":1,"b":2},"ts":1.5,"type":"x"}').digest();
    const b = Buffer.from(digest.subarray(0, 16));
    b[6] = (b[6]! & 0x0f) | 0x80;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const hex = b.toString('hex');
    const expected = `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
    expect(deriveEventId('apikey:0123456789abcdef', entry)).toBe(expected);
    expect(expected[14]).toBe('8');
    expect('89ab').toContain(expected[19]);
  });

  it('hands back the payload canonicalized while deriving the id, the same id either way', () => {
    const payload = { z: [1, { y: 'é', x: null }], a: 1.5e-7, '10': true, '9': 'nine' };
    const entry = { type: 'x', payload, ts: 3 };
    expect(eventIdAndPayloadJcs('p', entry, false)).toEqual({ id: deriveEventId('p', entry), payloadJcs: jcs(payload) });
    expect(eventIdAndPayloadJcs('p', entry, true)).toEqual({ id: deriveEventId('p', entry), payloadJcs: jcs(entry) });
    const bare = { type: 'x', n: 1 };
    expect(eventIdAndPayloadJcs('p', bare, true)).toEqual({ id: deriveEventId('p', bare), payloadJcs: jcs(bare) });
    expect(eventIdAndPayloadJcs('p', bare, false)).toEqual({ id: deriveEventId('p', bare) });
    // A client UUID is kept: nothing was canonicalized, so no payload text comes back.
    expect(eventIdAndPayloadJcs('p', { id: 'A0EEBC99-9C0B-1EF8-BB6D-6BB9BD380A11', payload }, false)).toEqual({ id: 'a0eebc99-9c0b-1ef8-bb6d-6bb9bd380a11' });
  });

  it('is deterministic over member order and differs per producer', () => {
    const a = deriveEventId('anonymous', { x: 1, y: [1, 'two'] });
    expect(deriveEventId('anonymous', { y: [1, 'two'], x: 1 })).toBe(a);
    expect(deriveEventId('apikey:0000000000000000', { x: 1, y: [1, 'two'] })).not.toBe(a);
    expect(deriveEventId('anonymous', { x: 1, y: ['two', 1] })).not.toBe(a);
  });

  it('keeps a client UUID of any version, lower-cased; a non-UUID id is part of the content', () => {
    const idOf = (entry: Record<string, unknown>) => eventIdAndPayloadJcs('p', entry, true).id;
    expect(idOf({ id: 'A0EEBC99-9C0B-1EF8-BB6D-6BB9BD380A11' })).toBe('a0eebc99-9c0b-1ef8-bb6d-6bb9bd380a11');
    expect(idOf({ id: 'abc' })).toBe(deriveEventId('p', { id: 'abc' }));
    expect(idOf({ id: 42 })).not.toBe(idOf({ id: 43 }));
    expect(isUuid('a0eebc99-9c0b-1ef8-bb6d-6bb9bd380a1')).toBe(false);
    expect(isUuid(' a0eebc99-9c0b-1ef8-bb6d-6bb9bd380a11')).toBe(false);
  });

  it('formats version and variant bits', () => {
    expect(uuidFromDigest('f'.repeat(40), 5)).toBe('ffffffff-ffff-5fff-bfff-ffffffffffff');
    expect(uuidFromDigest('0'.repeat(64), 8)).toBe('00000000-0000-8000-8000-000000000000');
    expect(uuidFromDigest('0123456789abcdef0123456789abcdef', 8)).toBe('01234567-89ab-8def-8123-456789abcdef');
  });

  it('canonicalizes strings exactly as JSON.stringify, on the fast path and off it; lone surrogates still throw', () => {
    const strings = ['', 'plain ascii', 'a"b', 'c\\d', 'tab\tnew\nline', '\u0000\u001f', '\u007f del', 'é ü', '\u2028\u2029', '𝄞 pair', 'x'.repeat(300)];
    for (const text of strings) {
      expect(jcs(text)).toBe(JSON.stringify(text));
      expect(jcs({ [text]: text })).toBe(`{${JSON.stringify(text)}:${JSON.stringify(text)}}`);
    }
    for (const lone of ['\ud800', 'a\udc00b', '\udbff']) {
      expect(() => jcs(lone)).toThrow(TypeError);
      expect(() => jcs({ [lone]: 1 })).toThrow(TypeError);
    }
  });

  it('orders members by UTF-16 code units for small and large objects alike', () => {
    const reference = (o: Record<string, unknown>) => `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${JSON.stringify(o[k])}`).join(',')}}`;
    const names = ['b', 'B', 'a', '', '10', '9', 'é', 'z', '\u{1d11e}', '\uff61', 'aa', 'a b', '_', '~', 'Z', 'ab'];
    for (const count of [1, 2, 5, 16, names.length, 40]) {
      const object: Record<string, unknown> = {};
      for (let i = 0; i < count; i++) object[i < names.length ? names[i]! : `k${(i * 7) % 40}`] = i;
      expect(jcs(object)).toBe(reference(object));
    }
    expect(jcs({ n: [0, -0, 1.5, 1e21, 1e-7, -(2 ** 53)] })).toBe('{"n":[0,0,1.5,1e+21,1e-7,-9007199254740992]}');
  });
});
