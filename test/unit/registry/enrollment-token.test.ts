import { createHmac, randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { manifestHash, mintToken, tokenKeys, verifyToken, type TokenPayload } from '../../../src/domains/registry/enrollment-token.js';

const SECRET = 's'.repeat(32);
const OLD = 'o'.repeat(32);
const keys = tokenKeys(SECRET, [OLD])!;
const body = { manifest: { aid: 'aid:pubkey:abc', n: 1 } };
const mh = manifestHash(body);
const base: TokenPayload = { sub: 'aid:pubkey:abc', scope: 'register', iat: 1000, exp: 1300, jti: randomUUID(), mh };
const expectation = { nowSecs: 1100, aid: 'aid:pubkey:abc', mh };

/** A token with any payload, correctly MACed, to reach the checks behind the MAC. */
function forged(payload: object, secret = SECRET): string {
  const b64 = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${b64}.${createHmac('sha256', secret).update(b64).digest('base64url')}`;
}

describe('enrollment token (API.md §2.1, §2.3 step 3)', () => {
  it('round-trips and binds sub, jti and exp', () => {
    expect(verifyToken(mintToken(SECRET, base), keys, expectation)).toEqual({ aid: base.sub, jti: base.jti, exp: 1300 });
  });

  it('hashes the JCS form, so member order and whitespace do not matter', () => {
    expect(manifestHash(JSON.parse('{ "manifest" : { "n": 1, "aid": "aid:pubkey:abc" } }'))).toBe(mh);
    expect(manifestHash({ manifest: { aid: 'aid:pubkey:abc', n: 2 } })).not.toBe(mh);
  });

  it('verifies under a previous secret and rejects an unknown one', () => {
    expect(verifyToken(mintToken(OLD, base), keys, expectation)).toBeDefined();
    expect(verifyToken(mintToken('u'.repeat(32), base), keys, expectation)).toBeUndefined();
    expect(verifyToken(mintToken(OLD, base), tokenKeys(SECRET, [])!, expectation)).toBeUndefined();
  });

  it('accepts now = exp and rejects now = exp + 1', () => {
    expect(verifyToken(mintToken(SECRET, base), keys, { ...expectation, nowSecs: 1300 })).toBeDefined();
    expect(verifyToken(mintToken(SECRET, base), keys, { ...expectation, nowSecs: 1301 })).toBeUndefined();
  });

  it.each([
    ['scope', { ...base, scope: 'admin' }],
    ['sub', { ...base, sub: 'aid:pubkey:other' }],
    ['mh', { ...base, mh: manifestHash({ other: true }) }],
    ['empty jti', { ...base, jti: '' }],
    ['65-char jti', { ...base, jti: 'j'.repeat(65) }],
    ['numeric jti', { ...base, jti: 7 }],
    ['fractional exp', { ...base, exp: 1300.5 }],
    ['string exp', { ...base, exp: '1300' }],
  ])('rejects a correctly MACed token with a bad %s', (_label, payload) => {
    expect(verifyToken(forged(payload), keys, expectation)).toBeUndefined();
  });

  it.each([undefined, '', 'abc', 'a.b.c', 'a.', '.b', 'a+b.c', `${forged(base).split('.')[0]}.${'A'.repeat(43)}`, `${forged(base)}=`])(
    'rejects the malformed token %j',
    (token) => {
      expect(verifyToken(token, keys, expectation)).toBeUndefined();
    },
  );

  it('rejects a payload that is not a JSON object', () => {
    expect(verifyToken(forged([1, 2]), keys, expectation)).toBeUndefined();
    const b64 = Buffer.from('not json').toString('base64url');
    expect(verifyToken(`${b64}.${createHmac('sha256', SECRET).update(b64).digest('base64url')}`, keys, expectation)).toBeUndefined();
  });

  it('treats a secret shorter than 32 characters as unusable', () => {
    expect(tokenKeys(undefined, [])).toBeUndefined();
    expect(tokenKeys('short', [OLD])).toBeUndefined();
    expect(tokenKeys(SECRET, ['short', OLD])?.all).toEqual([SECRET, OLD]);
  });
});
