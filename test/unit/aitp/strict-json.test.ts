import { describe, expect, it } from 'vitest';
import {
  describeMemberProblem,
  findMemberProblem,
  isIntegerAtLeast,
  isJsonObject,
  JsonNumber,
  MAX_JSON_DEPTH,
  type MemberRule,
  parseStrictJson,
  quoteName,
  type StrictJsonResult,
} from '../../../src/aitp/strict-json.js';

function parseOk(text: string | Uint8Array): unknown {
  const result = parseStrictJson(text);
  if (!result.ok) throw new Error(`expected a parse, got: ${result.reason}`);
  return result.value;
}

function failure(result: StrictJsonResult): string {
  if (result.ok) throw new Error('expected a parse failure');
  return result.reason;
}

describe('parseStrictJson: accepts what JSON.parse accepts', () => {
  it.each([
    '{}',
    '[]',
    ' \t\r\n{ "a" : [ 1 , -2 , 0 , true , false , null , "x" ] } \n',
    '"just a string"',
    '0',
    '-0',
    '{"a":{"b":{"c":[[],{}]}}}',
    '"escapes: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\u20AC"',
    '"literal non-ASCII: é € 😀"',
    '"an escaped pair: \\uD83D\\uDE00"',
    '{"manifest":{"published_at":1711900000,"expires_at":1711986400}}',
  ])('%s', (text) => {
    expect(parseOk(text)).toEqual(JSON.parse(text));
  });

  it('keeps object members in document order', () => {
    expect(Object.keys(parseOk('{"z":1,"a":2,"m":3}') as object)).toEqual(['z', 'a', 'm']);
  });

  it('parses UTF-8 bytes', () => {
    expect(parseOk(new TextEncoder().encode('{"name":"Zoë 😀"}'))).toEqual({ name: 'Zoë 😀' });
  });
});

describe('parseStrictJson: duplicate member names (SPEC §3)', () => {
  it.each([
    ['top level', '{"a":1,"a":1}'],
    ['nested', '{"manifest":{"display_name":"x","aid":"y","display_name":"z"}}'],
    ['inside an array', '[{"k":1,"k":2}]'],
    ['same name through an escape', '{"a":1,"\\u0061":2}'],
    ['__proto__ twice', '{"__proto__":1,"__proto__":2}'],
  ])('rejects a duplicate %s', (_label, text) => {
    expect(failure(parseStrictJson(text))).toMatch(/duplicate member name/);
  });

  it('allows the same name in sibling objects', () => {
    expect(parseOk('[{"a":1},{"a":2}]')).toEqual([{ a: 1 }, { a: 2 }]);
  });

  it('stores "__proto__" as an own member without touching the prototype', () => {
    const value = parseOk('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.keys(value)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect((value as { polluted?: boolean }).polluted).toBeUndefined();
  });
});

describe('parseStrictJson: surrogates and UTF-8', () => {
  it.each([
    ['escaped lone high surrogate', '"\\uD800"'],
    ['escaped lone low surrogate', '"\\uDC00"'],
    ['escaped high surrogate followed by a letter', '"\\uD83D\\u0041"'],
    ['escaped high surrogate at the end', '"ab\\uD83D"'],
    ['escaped pair in the wrong order', '"\\uDE00\\uD83D"'],
    ['literal lone high surrogate', '"a\uD800b"'],
    ['literal lone low surrogate', '"a\uDC00b"'],
    ['lone surrogate in a member name', '{"\\uD800":1}'],
  ])('rejects an %s', (_label, text) => {
    expect(failure(parseStrictJson(text))).toMatch(/surrogate/);
  });

  it.each([
    ['a stray continuation byte', [0x22, 0x80, 0x22]],
    ['an invalid lead byte', [0x22, 0xff, 0x22]],
    ['an overlong encoding of "/"', [0x22, 0xc0, 0xaf, 0x22]],
    ['a UTF-8 encoded surrogate (CESU-8)', [0x22, 0xed, 0xa0, 0x80, 0x22]],
    ['a truncated sequence', [0x22, 0xe2, 0x82, 0x22]],
  ])('rejects bytes with %s', (_label, bytes) => {
    expect(failure(parseStrictJson(Uint8Array.from(bytes)))).toBe('invalid UTF-8');
  });

  it('rejects a byte-order mark', () => {
    expect(parseStrictJson(Uint8Array.of(0xef, 0xbb, 0xbf, 0x7b, 0x7d)).ok).toBe(false);
    expect(parseStrictJson('\uFEFF{}').ok).toBe(false);
  });
});

describe('parseStrictJson: numbers', () => {
  it('returns safe integer literals as numbers', () => {
    expect(parseOk('[1711986400,-5,0,9007199254740991]')).toEqual([1711986400, -5, 0, 9007199254740991]);
  });

  it.each(['1711986400.0', '1.7119864e9', '1e3', '1E+3', '2.5', '-0.0', '9007199254740992', '-9007199254740993'])(
    'reports %s as a JsonNumber that keeps its literal',
    (literal) => {
      const value = parseOk(literal);
      expect(value).toBeInstanceOf(JsonNumber);
      expect((value as JsonNumber).source).toBe(literal);
      expect((value as JsonNumber).value).toBe(Number(literal));
    },
  );

  it('serializes a JsonNumber as its number', () => {
    expect(JSON.stringify(parseOk('{"t":1711986400.0}'))).toBe('{"t":1711986400}');
  });

  it.each(['01', '-', '1.', '.5', '+1', '1e', '1e+', '0x10', 'NaN', 'Infinity', '-Infinity', '1e400', '-1e400'])(
    'rejects %s',
    (literal) => {
      expect(parseStrictJson(literal).ok).toBe(false);
    },
  );
});

describe('parseStrictJson: syntax', () => {
  it.each([
    ['empty input', ''],
    ['whitespace only', '  '],
    ['trailing comma in an object', '{"a":1,}'],
    ['trailing comma in an array', '[1,]'],
    ['missing colon', '{"a" 1}'],
    ['unquoted name', '{a:1}'],
    ['single quotes', "{'a':1}"],
    ['trailing data', '{} {}'],
    ['unterminated string', '"abc'],
    ['unterminated object', '{"a":1'],
    ['raw control character in a string', '"a\u0001b"'],
    ['raw newline in a string', '"a\nb"'],
    ['invalid escape', '"\\x41"'],
    ['short unicode escape', '"\\u12"'],
    ['non-hex unicode escape', '"\\u12G4"'],
    ['comment', '{"a":1 /* no */}'],
    ['non-breaking space as whitespace', '\u00a0{}'],
    ['truncated literal', 'tru'],
    ['capitalized literal', 'True'],
  ])('rejects %s', (_label, text) => {
    expect(parseStrictJson(text).ok).toBe(false);
  });

  it(`accepts nesting up to ${MAX_JSON_DEPTH} and rejects deeper`, () => {
    const nest = (depth: number): string => '['.repeat(depth) + ']'.repeat(depth);
    expect(parseStrictJson(nest(MAX_JSON_DEPTH)).ok).toBe(true);
    expect(failure(parseStrictJson(nest(MAX_JSON_DEPTH + 1)))).toMatch(/nesting/);
    const objects = (depth: number): string => '{"a":'.repeat(depth - 1) + '{}' + '}'.repeat(depth - 1);
    expect(parseStrictJson(objects(MAX_JSON_DEPTH)).ok).toBe(true);
    expect(parseStrictJson(objects(MAX_JSON_DEPTH + 1)).ok).toBe(false);
  });

  it('does not overflow the stack on very deep input', () => {
    expect(parseStrictJson('['.repeat(100_000)).ok).toBe(false);
  });

  it('reports the offset of a duplicate member', () => {
    const result = parseStrictJson('{"a":1,"a":2}');
    expect(result).toMatchObject({ ok: false, offset: 7 });
  });
});

describe('isIntegerAtLeast / isJsonObject', () => {
  it('accepts only integer literals at or above the minimum', () => {
    expect(isIntegerAtLeast(0, 0)).toBe(true);
    expect(isIntegerAtLeast(0, 1)).toBe(false);
    expect(isIntegerAtLeast(-1, 0)).toBe(false);
    expect(isIntegerAtLeast(parseOk('1711986400.0') as JsonNumber, 0)).toBe(false);
    expect(isIntegerAtLeast('1', 0)).toBe(false);
  });

  it('tells objects from arrays, null and JsonNumber', () => {
    expect(isJsonObject({})).toBe(true);
    expect(isJsonObject([])).toBe(false);
    expect(isJsonObject(null)).toBe(false);
    expect(isJsonObject(new JsonNumber(1.5, '1.5'))).toBe(false);
  });
});

describe('findMemberProblem', () => {
  const rules: Record<string, MemberRule> = {
    a: { required: true, check: (value) => typeof value === 'string' },
    b: { required: false, check: (value) => typeof value === 'number' },
  };

  it.each([
    [{ a: 'x' }, null],
    [{ a: 'x', b: 1 }, null],
    [{ a: 'x', c: 1 }, { kind: 'unknown', name: 'c' }],
    [{ b: 1 }, { kind: 'missing', name: 'a' }],
    [{ a: 1 }, { kind: 'invalid', name: 'a' }],
    [{ a: 'x', b: 'y' }, { kind: 'invalid', name: 'b' }],
    [{ b: 'y', z: 1 }, { kind: 'unknown', name: 'z' }],
    [{ a: 'x', toString: 1 }, { kind: 'unknown', name: 'toString' }],
  ])('%j -> %j', (object, expected) => {
    expect(findMemberProblem(object, rules)).toEqual(expected);
  });
});

describe('diagnostics', () => {
  it('quotes member names and cuts long ones short', () => {
    expect(quoteName('a"b')).toBe('"a\\"b"');
    expect(quoteName('x'.repeat(1000))).toBe(`"${'x'.repeat(64)}…"`);
    expect(describeMemberProblem({ kind: 'missing', name: 'aid' }, '/manifest')).toBe('missing member /manifest/"aid"');
  });

  it('bounds the duplicate-name message', () => {
    const name = 'n'.repeat(5000);
    expect(failure(parseStrictJson(`{"${name}":1,"${name}":2}`)).length).toBeLessThan(100);
  });
});
