import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeJwsPayload, syntheticDelegationJti, voucherParentJti } from '../../../src/domains/projections/voucher.js';
import { createHash } from 'node:crypto';

const KAT = JSON.parse(readFileSync(new URL('../../fixtures/aitp/schemas/conformance/known-answer/jcs-sha256.json', import.meta.url), 'utf8')) as {
  vectors: Array<Record<string, unknown>>;
};
const chainVector = KAT.vectors.find((v) => v['id'] === 'kat-multihop-chain-001')!;
const VOUCHER = chainVector['voucher_jws'] as string;
const CHAIN = chainVector['chain'] as string[];
const SRC_JTI = '550e8400-e29b-41d4-a716-446655440001';

const jws = (payload: unknown) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.c2ln`;

describe('voucher decoding (EVENTS.md §4.4)', () => {
  it('reads src_jti from claims.voucher (the spec known-answer voucher)', () => {
    expect(decodeJwsPayload(VOUCHER)).toMatchObject({ src_jti: SRC_JTI });
    expect(voucherParentJti({ voucher: VOUCHER })).toBe(SRC_JTI);
  });

  it('reads the voucher claim of chain[0] when there is no voucher', () => {
    expect(voucherParentJti({ chain: CHAIN })).toBe(SRC_JTI);
    expect(voucherParentJti({ voucher: 42, chain: CHAIN })).toBe(SRC_JTI);
  });

  it('falls back to parent_jti inside the voucher', () => {
    expect(voucherParentJti({ voucher: jws({ parent_jti: 'p' }) })).toBe('p');
    expect(voucherParentJti({ voucher: jws({ src_jti: 's', parent_jti: 'p' }) })).toBe('s');
  });

  it('treats any malformation as no parent', () => {
    for (const voucher of ['', 'a.b', 'a.b.c.d', 'a.!!!.c', `a.${Buffer.from('not json').toString('base64url')}.c`, jws([1]), jws('x')]) {
      expect([voucher, voucherParentJti({ voucher })]).toEqual([voucher, undefined]);
    }
    expect(voucherParentJti({ chain: [] })).toBeUndefined();
    expect(voucherParentJti({ chain: [jws({ voucher: 'broken' })] })).toBeUndefined();
    expect(voucherParentJti({ voucher: 'broken', chain: CHAIN })).toBeUndefined();
  });
});

describe('synthetic delegation jti', () => {
  it('is SHA-1("aitp-delegation:" + token) with version 5 and the RFC 9562 variant', () => {
    const token = 'eyJ.token.sig';
    const b = createHash('sha1').update(`aitp-delegation:${token}`).digest().subarray(0, 16);
    b[6] = (b[6]! & 0x0f) | 0x50;
    b[8] = (b[8]! & 0x3f) | 0x80;
    const hex = Buffer.from(b).toString('hex');
    expect(syntheticDelegationJti(token)).toBe(`${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`);
    expect(syntheticDelegationJti(token)).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});
