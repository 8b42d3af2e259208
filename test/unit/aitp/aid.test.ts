import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { aidFromEd25519PublicKey, deriveAid, isAid, parseSeedHex, resolveAid } from '../../../src/aitp/aid.js';
import { encodeB64u } from '../../../src/aitp/base64url.js';

function readFixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/aitp/${path}`, import.meta.url), 'utf8')) as T;
}

const fromHex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));
const toHex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

interface KeypairVector {
  id: string;
  seed_hex?: string;
  private_scalar_hex?: string;
  pubkey_compressed_hex?: string;
  pubkey_b64url: string;
  aid: string;
}

interface CpIdentity {
  CP_AID_SEED_HEX: string;
  pubkey_hex: string;
  pubkey_b64url: string;
  aid: string;
  aid_tagged: string;
}

const keypairs = readFixture<{ vectors: KeypairVector[] }>('schemas/conformance/known-answer/keypairs.json').vectors;
const cpIdentity = readFixture<{ cp: { identity: CpIdentity } }>('derived/cp-acceptance-vectors.json').cp.identity;
const ed25519Vectors = keypairs.filter((vector) => vector.seed_hex !== undefined);
const p256Vector = keypairs.find((vector) => vector.id === 'kat-keypair-005-p256');

describe('deriveAid: keypairs.json (SPEC §10.1)', () => {
  it('has the four Ed25519 vectors', () => {
    expect(ed25519Vectors.map((vector) => vector.id)).toEqual(['kat-keypair-001', 'kat-keypair-002', 'kat-keypair-003', 'kat-keypair-004']);
  });

  it.each(ed25519Vectors)('$id', (vector) => {
    const seed = fromHex(vector.seed_hex ?? '');
    expect(deriveAid(seed)).toBe(vector.aid);
    const resolved = resolveAid(vector.aid);
    expect(resolved.ok && resolved.alg).toBe('ed25519');
    expect(resolved.ok && encodeB64u(resolved.publicKey)).toBe(vector.pubkey_b64url);
  });
});

describe('deriveAid: the SPEC §10.1 table', () => {
  it.each([
    ['00'.repeat(32), 'aid:pubkey:O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik'],
    ['000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f', 'aid:pubkey:A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg'],
    ['ff'.repeat(32), 'aid:pubkey:dqFZIESm5PURJlvKc6YE2QsFKdHfYCvjChmpJXZg0fU'],
    ['01'.repeat(32), 'aid:pubkey:iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w'],
    ['aa'.repeat(32), 'aid:pubkey:5zTqbCtiV95yNV5HKqBaTEh-a0Y8Ap7TBt8vAbVja1g'],
    ['00112233445566778899aabbccddeeff'.repeat(2), 'aid:pubkey:PM0kHP_Js2GARLl9A22GFFk9iwF8NA8d7odzOFUXZUs'],
  ])('seed %s', (seedHex, aid) => {
    expect(deriveAid(fromHex(seedHex))).toBe(aid);
  });

  it('matches cp.identity, and its tagged form names the same key', () => {
    const seed = parseSeedHex(cpIdentity.CP_AID_SEED_HEX);
    expect(seed).not.toBeNull();
    expect(deriveAid(seed ?? new Uint8Array())).toBe(cpIdentity.aid);
    const legacy = resolveAid(cpIdentity.aid);
    const tagged = resolveAid(cpIdentity.aid_tagged);
    expect(legacy.ok && toHex(legacy.publicKey)).toBe(cpIdentity.pubkey_hex);
    expect(tagged.ok && toHex(tagged.publicKey)).toBe(cpIdentity.pubkey_hex);
    expect(aidFromEd25519PublicKey(fromHex(cpIdentity.pubkey_hex))).toBe(cpIdentity.aid);
  });

  it('refuses a seed that is not 32 bytes', () => {
    expect(() => deriveAid(new Uint8Array(31))).toThrow(RangeError);
    expect(() => aidFromEd25519PublicKey(new Uint8Array(33))).toThrow(RangeError);
  });
});

describe('resolveAid: P-256 (kat-keypair-005-p256)', () => {
  it('the vector key is the compressed point of scalar 05…05', () => {
    const publicKey = p256.getPublicKey(fromHex(p256Vector?.private_scalar_hex ?? ''), true);
    expect(toHex(publicKey)).toBe(p256Vector?.pubkey_compressed_hex);
    expect(`aid:pubkey:p256:${encodeB64u(publicKey)}`).toBe(p256Vector?.aid);
  });

  it('resolves the tagged P-256 AID to the 33-byte point', () => {
    const resolved = resolveAid(p256Vector?.aid ?? '');
    expect(resolved.ok && resolved.alg).toBe('p256');
    expect(resolved.ok && toHex(resolved.publicKey)).toBe(p256Vector?.pubkey_compressed_hex);
  });
});

describe('resolveAid: rejections (SPEC §2.3)', () => {
  const goodId = 'O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik';
  const goodP256 = 'AweBDql0zqV3PmO4l_N-O-mgnnpf6blxpE0QZawqOpMR';
  const notOnCurveP256 = encodeB64u(Uint8Array.from([0x02, ...new Uint8Array(31), 0x01]));
  const uncompressedPrefix = encodeB64u(Uint8Array.from([0x04, ...fromHex('07810ea974cea5773e63b897f37e3be9a09e7a5fe9b971a44d1065ac2a3a9311')]));
  const identityPoint = encodeB64u(Uint8Array.from([0x01, ...new Uint8Array(31)]));
  const orderTwoPoint = encodeB64u(Uint8Array.from([0xec, ...new Uint8Array(30).fill(0xff), 0x7f]));
  const nonCanonicalY = encodeB64u(Uint8Array.from([0xee, ...new Uint8Array(30).fill(0xff), 0x7f]));

  it.each([
    ['no aid: prefix', goodId, 'grammar'],
    ['a DID', `did:key:z${goodId}`, 'grammar'],
    ['an unknown method', `aid:key:${goodId}`, 'grammar'],
    ['an unknown tag', `aid:pubkey:x25519:${goodId}`, 'grammar'],
    ['a multibase prefix', `aid:pubkey:z${goodId}`, 'encoding'],
    ['a short identifier', 'aid:pubkey:tooShort', 'encoding'],
    ['a P-256 length under the Ed25519 tag', `aid:pubkey:ed25519:${goodP256}`, 'encoding'],
    ['an Ed25519 length under the P-256 tag', `aid:pubkey:p256:${goodId}`, 'encoding'],
    ['padding', `aid:pubkey:${goodId}=`, 'encoding'],
    ['non-canonical trailing bits', `aid:pubkey:${goodId.slice(0, 42)}l`, 'encoding'],
    ['an uncompressed-point prefix byte', `aid:pubkey:p256:${uncompressedPrefix}`, 'invalid_point'],
    ['a P-256 x with no point', `aid:pubkey:p256:${notOnCurveP256}`, 'invalid_point'],
    ['a non-canonical Ed25519 y (>= p)', `aid:pubkey:${nonCanonicalY}`, 'invalid_point'],
    ['the Ed25519 identity point', `aid:pubkey:${identityPoint}`, 'small_order'],
    ['an Ed25519 point of order 2', `aid:pubkey:${orderTwoPoint}`, 'small_order'],
    ['a small-order key under the tag', `aid:pubkey:ed25519:${identityPoint}`, 'small_order'],
  ])('rejects %s', (_label, aid, reason) => {
    expect(resolveAid(aid)).toEqual({ ok: false, reason });
  });

  it('isAid checks the grammar only', () => {
    expect(isAid(`aid:pubkey:${goodId}`)).toBe(true);
    expect(isAid(`aid:pubkey:ed25519:${goodId}`)).toBe(true);
    expect(isAid(`aid:pubkey:p256:${goodP256}`)).toBe(true);
    expect(isAid(`aid:pubkey:${identityPoint}`)).toBe(true);
    expect(isAid('aid:pubkey:tooShort')).toBe(false);
    expect(isAid(`aid:pubkey:${goodId}\n`)).toBe(false);
  });
});

describe('parseSeedHex (SPEC §1.2)', () => {
  it('accepts 64 hex characters in either case', () => {
    expect(toHex(parseSeedHex('00112233445566778899AABBCCDDEEFF'.repeat(2)) ?? new Uint8Array())).toBe('00112233445566778899aabbccddeeff'.repeat(2));
  });

  it.each([
    ['63 characters', 'a'.repeat(63)],
    ['65 characters', 'a'.repeat(65)],
    ['a non-hex character', `${'a'.repeat(63)}g`],
    ['a 0x prefix', `0x${'a'.repeat(62)}`],
    ['whitespace', ` ${'a'.repeat(63)}`],
    ['empty', ''],
  ])('rejects %s', (_label, hex) => {
    expect(parseSeedHex(hex)).toBeNull();
  });
});
