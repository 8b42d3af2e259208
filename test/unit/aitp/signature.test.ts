import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { type AidKey, resolveAid } from '../../../src/aitp/aid.js';
import { decodeB64u, encodeB64u } from '../../../src/aitp/base64url.js';
import { jcsSha256 } from '../../../src/aitp/jcs.js';
import {
  ed25519PublicKey,
  parseSignature,
  signDigest,
  signJcs,
  verifyDigestSignature,
  verifyJcsSignature,
} from '../../../src/aitp/signature.js';

function readFixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/aitp/${path}`, import.meta.url), 'utf8')) as T;
}

const fromHex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

function keyOf(aid: string): AidKey {
  const resolved = resolveAid(aid);
  if (!resolved.ok) throw new Error(`unusable test AID ${aid}`);
  return { alg: resolved.alg, publicKey: resolved.publicKey };
}

interface PopVector {
  id: string;
  challenge: string;
  signer_aid: string;
  signature_b64url: string;
}

interface BundleVector {
  id: string;
  object: unknown;
  coordinator_signature_b64url?: string;
}

interface CpVectors {
  cp: {
    identity: { CP_AID_SEED_HEX: string; aid: string };
    manifest: { envelope_json: string; pop_digest_hex: string };
    revocation_list: { envelope_json: string; signature_inner_body: string; legacy_signature_wrapped_form: string };
  };
}

const ZERO_SEED = new Uint8Array(32);
const ZERO_AID = 'aid:pubkey:O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik';
const popVector = readFixture<{ vectors: PopVector[] }>('schemas/conformance/known-answer/jcs-sha256.json').vectors.find(
  (vector) => vector.id === 'kat-manifest-pop-001',
);
const bundleVector = readFixture<{ vectors: BundleVector[] }>('derived/known-answer/jcs-sha256.inner-body.json').vectors.find(
  (vector) => vector.id === 'kat-session-bundle-001',
);
const cp = readFixture<CpVectors>('derived/cp-acceptance-vectors.json').cp;
const cpSeed = fromHex(cp.identity.CP_AID_SEED_HEX);
const signedRevocation = readFixture<{ revocation_list: unknown; signature: string }>(
  'derived/known-answer/signed-examples/revocation/kat-keypair-001-snapshot.inner-body.json',
);

describe('known-answer signatures (SPEC §10.3–§10.5)', () => {
  it('kat-manifest-pop-001: Ed25519 over SHA256(decoded challenge)', () => {
    const challenge = decodeB64u(popVector?.challenge ?? '', 16);
    expect(challenge).not.toBeNull();
    const digest = sha256(challenge ?? new Uint8Array());
    expect(signDigest(ZERO_SEED, digest)).toBe(popVector?.signature_b64url);
    const parsed = parseSignature(popVector?.signature_b64url ?? '');
    expect(parsed !== null && verifyDigestSignature(keyOf(popVector?.signer_aid ?? ''), digest, parsed)).toBe(true);
  });

  it('kat-session-bundle-001: the coordinator signature over the inner body', () => {
    expect(signJcs(ZERO_SEED, bundleVector?.object)).toBe(bundleVector?.coordinator_signature_b64url);
  });

  it('the inner-body revocation signed example (DTmCoELd0l…)', () => {
    expect(signJcs(ZERO_SEED, signedRevocation.revocation_list)).toBe(signedRevocation.signature);
    expect(verifyJcsSignature(keyOf(ZERO_AID), signedRevocation.revocation_list, signedRevocation.signature)).toBe(true);
  });

  it('cp.manifest: PoP digest, PoP signature and outer signature', () => {
    const { manifest } = JSON.parse(cp.manifest.envelope_json) as {
      manifest: { proof_of_possession: { challenge: string; signature: string }; signature: string };
    };
    const challenge = decodeB64u(manifest.proof_of_possession.challenge, 16) ?? new Uint8Array();
    expect(Buffer.from(sha256(challenge)).toString('hex')).toBe(cp.manifest.pop_digest_hex);
    expect(signDigest(cpSeed, sha256(challenge))).toBe(manifest.proof_of_possession.signature);
    const { signature, ...unsigned } = manifest;
    expect(signJcs(cpSeed, unsigned)).toBe(signature);
  });

  it('cp.revocation_list: the inner-body signature and the legacy wrapped-form signature', () => {
    const { revocation_list: body } = JSON.parse(cp.revocation_list.envelope_json) as { revocation_list: unknown };
    expect(signJcs(cpSeed, body)).toBe(cp.revocation_list.signature_inner_body);
    expect(signJcs(cpSeed, { revocation_list: body })).toBe(cp.revocation_list.legacy_signature_wrapped_form);
    expect(verifyJcsSignature(keyOf(cp.identity.aid), body, cp.revocation_list.legacy_signature_wrapped_form)).toBe(false);
  });

  it('ed25519PublicKey and signDigest refuse a seed that is not 32 bytes', () => {
    expect(() => ed25519PublicKey(new Uint8Array(64))).toThrow(RangeError);
    expect(() => signDigest(new Uint8Array(16), new Uint8Array(32))).toThrow(RangeError);
  });
});

const B64U = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The last of 86 characters carries 4 unused bits that must be zero; set one of them. */
function withLowBitSet(lastChar: string): string {
  return B64U[B64U.indexOf(lastChar) | 1] ?? '';
}

describe('parseSignature (SPEC §4)', () => {
  const body = signJcs(ZERO_SEED, { hello: 'world' });

  it.each([
    ['untagged', body, 'ed25519'],
    ['ed25519.', `ed25519.${body}`, 'ed25519'],
    ['p256.', `p256.${body}`, 'p256'],
  ])('accepts %s', (_label, text, alg) => {
    const parsed = parseSignature(text);
    expect(parsed?.alg).toBe(alg);
    expect(parsed?.bytes.length).toBe(64);
  });

  it.each([
    ['an unknown tag', `rsa.${body}`],
    ['an upper-case tag', `ED25519.${body}`],
    ['an empty tag', `.${body}`],
    ['two tags', `ed25519.ed25519.${body}`],
    ['a tag with no body', 'ed25519.'],
    ['a prototype name as tag', `constructor.${body}`],
    ['85 characters', body.slice(0, 85)],
    ['87 characters', `${body}A`],
    ['padding', `${body}==`],
    ['the standard alphabet', body.replace(/[-_]/g, '+').padEnd(86, '+')],
    ['whitespace', ` ${body}`],
    ['non-canonical trailing bits', body.slice(0, 85) + withLowBitSet(body.slice(85))],
    ['empty', ''],
  ])('rejects %s', (_label, text) => {
    expect(parseSignature(text)).toBeNull();
  });
});

describe('verifyJcsSignature: Ed25519', () => {
  const key = keyOf(ZERO_AID);
  const body = { b: [1, 2], a: 'é' };
  const signature = signJcs(ZERO_SEED, body);

  it('verifies over the canonical form, whatever the member order', () => {
    expect(verifyJcsSignature(key, { a: 'é', b: [1, 2] }, signature)).toBe(true);
    expect(verifyJcsSignature(key, body, `ed25519.${signature}`)).toBe(true);
  });

  it('fails for another body, another key, a p256. tag, or a bad string', () => {
    expect(verifyJcsSignature(key, { ...body, a: 'e' }, signature)).toBe(false);
    expect(verifyJcsSignature(keyOf('aid:pubkey:A6EHv_POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg'), body, signature)).toBe(false);
    expect(verifyJcsSignature(key, body, `p256.${signature}`)).toBe(false);
    expect(verifyJcsSignature(key, body, `${signature}=`)).toBe(false);
  });

  it('rejects a malleated signature with S + L (strict RFC 8032)', () => {
    const bytes = decodeB64u(signature, 64) ?? new Uint8Array();
    const order = 2n ** 252n + 27742317777372353535851937790883648493n;
    let s = 0n;
    for (let index = 63; index >= 32; index--) s = (s << 8n) | BigInt(bytes[index] ?? 0);
    let malleated = s + order;
    const forged = Uint8Array.from(bytes);
    for (let index = 32; index < 64; index++) {
      forged[index] = Number(malleated & 0xffn);
      malleated >>= 8n;
    }
    expect(verifyJcsSignature(key, body, encodeB64u(forged))).toBe(false);
  });
});

describe('verifyJcsSignature: P-256, aitp-rs convention (SPEC §2.4)', () => {
  const scalar = fromHex('05'.repeat(32));
  const key = keyOf('aid:pubkey:p256:AweBDql0zqV3PmO4l_N-O-mgnnpf6blxpE0QZawqOpMR');
  const body = { version: 'aitp/0.2', n: 1 };
  const digest = jcsSha256(body);
  // ECDSA-P256-SHA256 over the 32-byte digest: the curve sees SHA256(SHA256(JCS)).
  const sdkSignature = p256.sign(digest, scalar, { prehash: true, lowS: true });

  it('accepts the SDK convention with the p256. tag', () => {
    expect(verifyJcsSignature(key, body, `p256.${encodeB64u(sdkSignature)}`)).toBe(true);
  });

  it('rejects the verifier-py convention (digest treated as pre-hashed)', () => {
    const pySignature = p256.sign(digest, scalar, { prehash: false, lowS: true });
    expect(verifyJcsSignature(key, body, `p256.${encodeB64u(pySignature)}`)).toBe(false);
  });

  it('rejects the high-S twin of a valid signature', () => {
    const { r, s } = p256.Signature.fromBytes(sdkSignature);
    const highS = new p256.Signature(r, p256.Point.Fn.ORDER - s).toBytes();
    expect(verifyJcsSignature(key, body, `p256.${encodeB64u(highS)}`)).toBe(false);
  });

  it('rejects an untagged or ed25519.-tagged signature on a P-256 key', () => {
    expect(verifyJcsSignature(key, body, encodeB64u(sdkSignature))).toBe(false);
    expect(verifyJcsSignature(key, body, `ed25519.${encodeB64u(sdkSignature)}`)).toBe(false);
  });
});
