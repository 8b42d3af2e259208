import { readFileSync } from 'node:fs';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { jcs, jcsBytes, jcsSha256, jcsWithMember } from '../../../src/aitp/jcs.js';
import { JsonNumber, parseStrictJson } from '../../../src/aitp/strict-json.js';

function readFixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/aitp/${path}`, import.meta.url), 'utf8')) as T;
}

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

interface JcsVector {
  id: string;
  object?: unknown;
  jcs_canonical_hex?: string;
  jcs_canonical_len_bytes?: number;
  sha256_hex: string;
  challenge?: string;
  decoded_hex?: string;
}

interface CpVectors {
  cp: {
    manifest: { envelope_json: string; signing_input_jcs_utf8: string; signing_input_len_bytes: number; signing_input_sha256_hex: string };
    revocation_list: {
      envelope_json: string;
      inner_jcs_utf8: string;
      inner_len_bytes: number;
      inner_sha256_hex: string;
      legacy_wrapped_jcs_len_bytes: number;
    };
  };
}

const innerBody = readFixture<{ vectors: JcsVector[] }>('derived/known-answer/jcs-sha256.inner-body.json').vectors;
const wrapped = readFixture<{ vectors: JcsVector[] }>('schemas/conformance/known-answer/jcs-sha256.json').vectors;
const cp = readFixture<CpVectors>('derived/cp-acceptance-vectors.json').cp;

describe('JCS + SHA-256 known answers (SPEC §10.2)', () => {
  const objectVectors = [
    ...innerBody.map((vector) => ['inner', vector] as const),
    ...wrapped.filter((vector) => vector.object !== undefined).map((vector) => ['wrapped', vector] as const),
  ];

  it('covers the inner-body pins and the legacy wrapped pins', () => {
    expect(objectVectors.map(([form, vector]) => `${form}:${vector.id}`)).toEqual([
      'inner:kat-manifest-001',
      'inner:kat-revocation-001',
      'inner:kat-session-bundle-001',
      'wrapped:kat-manifest-001',
      'wrapped:kat-revocation-001',
      'wrapped:kat-session-bundle-001',
    ]);
  });

  it.each(objectVectors)('%s %s', (_form, vector) => {
    const bytes = jcsBytes(vector.object);
    expect(hex(bytes)).toBe(vector.jcs_canonical_hex);
    expect(bytes.length).toBe(vector.jcs_canonical_len_bytes);
    expect(hex(jcsSha256(vector.object))).toBe(vector.sha256_hex);
  });

  it('pins the spec CHANGELOG sizes: 623 B manifest, 221 B revocation (inner); 636 B / 241 B (wrapped)', () => {
    expect(innerBody.slice(0, 2).map((vector) => jcsBytes(vector.object).length)).toEqual([623, 221]);
    expect(wrapped.filter((vector) => vector.object !== undefined).slice(0, 2).map((vector) => jcsBytes(vector.object).length)).toEqual([636, 241]);
  });

  it('kat-manifest-pop-001: SHA-256 of the 16 decoded challenge bytes', () => {
    const pop = wrapped.find((vector) => vector.id === 'kat-manifest-pop-001');
    const decoded = Buffer.from(pop?.challenge ?? '', 'base64url');
    expect(decoded.toString('hex')).toBe(pop?.decoded_hex);
    expect(hex(sha256(decoded))).toBe(pop?.sha256_hex);
  });
});

describe('JCS of the CP vectors (SPEC §10.5)', () => {
  it('cp.manifest signing input: 627 bytes, SHA-256 f5aa39bf…', () => {
    const envelope = JSON.parse(cp.manifest.envelope_json) as { manifest: Record<string, unknown> };
    const { signature: _signature, ...unsigned } = envelope.manifest;
    expect(jcs(unsigned)).toBe(cp.manifest.signing_input_jcs_utf8);
    expect(jcsBytes(unsigned).length).toBe(cp.manifest.signing_input_len_bytes);
    expect(hex(jcsSha256(unsigned))).toBe(cp.manifest.signing_input_sha256_hex);
  });

  it('cp.revocation_list inner body: 319 bytes, SHA-256 f63ecfe6…; wrapped form 339 bytes', () => {
    const envelope = JSON.parse(cp.revocation_list.envelope_json) as { revocation_list: unknown };
    expect(jcs(envelope.revocation_list)).toBe(cp.revocation_list.inner_jcs_utf8);
    expect(jcsBytes(envelope.revocation_list).length).toBe(cp.revocation_list.inner_len_bytes);
    expect(hex(jcsSha256(envelope.revocation_list))).toBe(cp.revocation_list.inner_sha256_hex);
    expect(jcsBytes({ revocation_list: envelope.revocation_list }).length).toBe(cp.revocation_list.legacy_wrapped_jcs_len_bytes);
  });
});

describe('RFC 8785 rules', () => {
  it('sorts member names by UTF-16 code units, recursively (RFC 8785 §3.2.3 example)', () => {
    const value = { '\u20ac': 'Euro Sign', '\r': 'Carriage Return', '\ufb33': 'Hebrew Letter Dalet With Dagesh', '1': 'One', '\ud83d\ude00': 'Emoji: Grinning Face', '\u0080': 'Control', '\u00f6': 'Latin Small Letter O With Diaeresis' };
    // Compared as text: re-parsing would let JavaScript move the integer-like name "1" first.
    expect(jcs(value)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
    expect(jcs({ b: { d: 1, c: 2 }, a: [{ z: 0, y: 1 }] })).toBe('{"a":[{"y":1,"z":0}],"b":{"c":2,"d":1}}');
  });

  it.each([
    ['escapes quote, backslash and controls', 'a"b\\c\b\f\n\r\t\u0001\u001f', '"a\\"b\\\\c\\b\\f\\n\\r\\t\\u0001\\u001f"'],
    ['keeps "/" and DEL unescaped', '/\u007f', '"/\u007f"'],
    ['keeps non-ASCII literal', 'é€😀', '"é€😀"'],
  ])('strings: %s', (_label, input, expected) => {
    expect(jcs(input)).toBe(expected);
  });

  it.each([
    [0, '0'],
    [-0, '0'],
    [1711986400, '1711986400'],
    [-5, '-5'],
    [1.5, '1.5'],
    [1e21, '1e+21'],
    [1e-7, '1e-7'],
    [0.000001, '0.000001'],
    [9007199254740992, '9007199254740992'],
  ])('numbers: %s -> %s', (input, expected) => {
    expect(jcs(input)).toBe(expected);
  });

  it('canonicalizes a parsed float literal by its value (1711986400.0 -> 1711986400)', () => {
    const parsed = parseStrictJson('{"expires_at":1711986400.0,"x":1E2}');
    if (!parsed.ok) throw new Error(parsed.reason);
    expect(jcs(parsed.value)).toBe('{"expires_at":1711986400,"x":100}');
    expect(jcs(new JsonNumber(2.5, '25e-1'))).toBe('2.5');
  });

  it('keeps empty forms, booleans and null', () => {
    expect(jcs({ a: [], b: {}, c: true, d: false, e: null })).toBe('{"a":[],"b":{},"c":true,"d":false,"e":null}');
  });

  it('produces UTF-8 bytes', () => {
    expect(Array.from(jcsBytes('é'))).toEqual([0x22, 0xc3, 0xa9, 0x22]);
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['undefined', undefined],
    ['a member that is undefined', { a: undefined }],
    ['a lone high surrogate', 'a\ud800'],
    ['a lone low surrogate', '\udc00b'],
    ['a lone surrogate in a member name', { '\ud800': 1 }],
    ['a bigint', 1n],
    ['a function', () => 1],
    ['a Date', new Date(0)],
    ['a Map', new Map()],
    ['a sparse array', new Array<number>(2)],
  ])('throws on %s', (_label, value) => {
    expect(() => jcs(value)).toThrow(TypeError);
  });

  it('accepts an object without a prototype', () => {
    const bare = Object.assign(Object.create(null) as object, { b: 1, a: 2 });
    expect(jcs(bare)).toBe('{"a":2,"b":1}');
  });
});

describe('jcsWithMember', () => {
  it('is jcs of the object, with one top-level member canonicalized on the way', () => {
    const object = { b: { d: [2, 1], c: 'x' }, a: -0, payload: { z: 1, y: [{ k: 'é', j: null }] } };
    expect(jcsWithMember(object, 'payload')).toEqual({ text: jcs(object), member: jcs(object.payload) });
    expect(jcsWithMember(object, 'b').member).toBe('{"c":"x","d":[2,1]}');
    expect(jcsWithMember(object, 'missing')).toEqual({ text: jcs(object), member: undefined });
  });

  it('refuses what jcs refuses', () => {
    expect(() => jcsWithMember(new Date() as unknown as Record<string, unknown>, 'payload')).toThrow(TypeError);
    expect(() => jcsWithMember({ payload: '\ud800' }, 'payload')).toThrow(TypeError);
  });
});
