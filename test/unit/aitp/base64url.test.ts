import { describe, expect, it } from 'vitest';
import { b64uLength, decodeB64u, encodeB64u } from '../../../src/aitp/base64url.js';

const SIXTEEN = Uint8Array.from({ length: 16 }, (_, index) => index);
const SIXTEEN_B64U = 'AAECAwQFBgcICQoLDA0ODw';

describe('encodeB64u', () => {
  it('encodes without padding in the URL-safe alphabet', () => {
    expect(encodeB64u(SIXTEEN)).toBe(SIXTEEN_B64U);
    expect(encodeB64u(Uint8Array.of(0xfb, 0xff))).toBe('-_8');
    expect(encodeB64u(new Uint8Array(0))).toBe('');
  });

  it('encodes only the bytes of a subarray view', () => {
    const backing = Uint8Array.of(0xaa, 0xfb, 0xff, 0xbb);
    expect(encodeB64u(backing.subarray(1, 3))).toBe('-_8');
  });
});

describe('b64uLength', () => {
  it.each([
    [16, 22],
    [32, 43],
    [33, 44],
    [64, 86],
    [0, 0],
  ])('%i bytes take %i characters', (bytes, chars) => {
    expect(b64uLength(bytes)).toBe(chars);
  });
});

describe('decodeB64u (SPEC §1.1)', () => {
  it('decodes a canonical string of the exact length', () => {
    expect(Array.from(decodeB64u(SIXTEEN_B64U, 16) ?? [])).toEqual(Array.from(SIXTEEN));
    expect(decodeB64u('', 0)).toEqual(new Uint8Array(0));
  });

  it('round-trips 32, 33 and 64 byte values', () => {
    for (const length of [32, 33, 64]) {
      const bytes = Uint8Array.from({ length }, (_, index) => (index * 37 + 11) & 0xff);
      const text = encodeB64u(bytes);
      expect(text).toHaveLength(b64uLength(length));
      expect(Array.from(decodeB64u(text, length) ?? [])).toEqual(Array.from(bytes));
    }
  });

  it.each([
    ['padding', `${SIXTEEN_B64U}==`, 16],
    ['one padding char in place of a data char', 'AAECAwQFBgcICQoLDA0OD=', 16],
    ['standard alphabet +', 'AAECAwQFBgcICQoLDA0O+w', 16],
    ['standard alphabet /', 'AAECAwQFBgcICQoLDA0O/w', 16],
    ['inner whitespace', 'AAECAwQFBgcI CQoLDA0ODw', 16],
    ['trailing newline', `${SIXTEEN_B64U}\n`, 16],
    ['too short', SIXTEEN_B64U.slice(0, 21), 16],
    ['too long', `${SIXTEEN_B64U}A`, 16],
    ['non-zero trailing bits (16 bytes)', 'AAECAwQFBgcICQoLDA0ODx', 16],
    ['non-zero trailing bits (32 bytes)', `${'A'.repeat(42)}B`, 32],
    ['non-ASCII letter', 'AAECAwQFBgcICQoLDA0OÖw', 16],
    ['the 22 characters of a 16-byte value read as 15 bytes', SIXTEEN_B64U, 15],
    ['the 43 characters of a 32-byte value read as 33 bytes', 'A'.repeat(43), 33],
    ['an impossible length (4n + 1)', 'AAAAA', 3],
  ])('rejects %s', (_label, text, bytes) => {
    expect(decodeB64u(text, bytes)).toBeNull();
  });

  it('accepts the canonical neighbours of the rejected trailing-bit cases', () => {
    expect(decodeB64u(`${'A'.repeat(42)}E`, 32)).not.toBeNull();
    expect(decodeB64u('AAECAwQFBgcICQoLDA0OEA', 16)).not.toBeNull();
  });
});
