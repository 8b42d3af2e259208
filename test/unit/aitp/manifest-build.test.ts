import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeB64u } from '../../../src/aitp/base64url.js';
import { type BuildManifestInput, buildManifest, verifyManifest } from '../../../src/aitp/manifest.js';

function readFixture<T>(path: string): T {
  return JSON.parse(readFileSync(new URL(`../../fixtures/aitp/${path}`, import.meta.url), 'utf8')) as T;
}

const fromHex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

interface CpManifestVector {
  identity: { CP_AID_SEED_HEX: string; aid: string; pubkey_b64url: string };
  manifest: {
    inputs: {
      published_at: number;
      ttl_secs: number;
      pop_challenge_bytes_hex: string;
      CP_BASE_URL: string;
      offered_capabilities: string[];
    };
    envelope_json: string;
  };
}

interface SignedManifestExample {
  _kat_input: { published_at: number; ttl_secs: number; offered_capabilities: string[] };
  manifest: {
    display_name: string;
    handshake_endpoint: string;
    accepted_trust_anchors: string[];
    proof_of_possession: { challenge: string };
  };
}

const cp = readFixture<{ cp: CpManifestVector }>('derived/cp-acceptance-vectors.json').cp;
const signedExample = readFixture<SignedManifestExample>('schemas/conformance/known-answer/signed-examples/manifest/kat-keypair-001-manifest.json');

const cpSeed = fromHex(cp.identity.CP_AID_SEED_HEX);
const baseInput: BuildManifestInput = {
  seed: cpSeed,
  displayName: 'aitp-control-plane',
  handshakeEndpoint: `${cp.manifest.inputs.CP_BASE_URL}/api/aitp/handshake/hello`,
  offeredCapabilities: cp.manifest.inputs.offered_capabilities,
  publishedAt: cp.manifest.inputs.published_at,
  ttlSecs: cp.manifest.inputs.ttl_secs,
  challenge: fromHex(cp.manifest.inputs.pop_challenge_bytes_hex),
};

function innerOf(body: string): Record<string, unknown> {
  return (JSON.parse(body) as { manifest: Record<string, unknown> }).manifest;
}

describe('buildManifest: byte-exact vectors (SPEC §10.5, ruling 3)', () => {
  it('emits cp.manifest.envelope_json byte for byte from its listed inputs', () => {
    const built = buildManifest(baseInput);
    expect(built.body).toBe(cp.manifest.envelope_json);
    expect(built).toMatchObject({ publishedAt: 1711900000, expiresAt: 1711986400, aid: cp.identity.aid });
  });

  it('rebuilds the kat-keypair-001 signed manifest example byte for byte', () => {
    const { manifest } = signedExample;
    const built = buildManifest({
      seed: new Uint8Array(32),
      displayName: manifest.display_name,
      handshakeEndpoint: manifest.handshake_endpoint,
      acceptedTrustAnchors: manifest.accepted_trust_anchors,
      offeredCapabilities: signedExample._kat_input.offered_capabilities,
      publishedAt: signedExample._kat_input.published_at,
      ttlSecs: signedExample._kat_input.ttl_secs,
      challenge: decodeB64u(manifest.proof_of_possession.challenge, 16) ?? new Uint8Array(),
    });
    expect(built.body).toBe(JSON.stringify({ manifest }));
  });

  it('uses the SDK member order of SPEC §8.1 and omits absent optionals', () => {
    const inner = innerOf(buildManifest(baseInput).body);
    expect(Object.keys(inner)).toEqual([
      'version', 'aid', 'display_name', 'identity_hint', 'handshake_endpoint', 'accepted_trust_anchors',
      'accepted_identity_types', 'offered_capabilities', 'proof_of_possession', 'published_at', 'expires_at', 'signature',
    ]);
    expect(inner.identity_hint).toEqual({ type: 'pinned_key', subject: 'aitp-control-plane', public_key: cp.identity.pubkey_b64url });
    expect(inner.accepted_trust_anchors).toEqual([]);
    expect(buildManifest(baseInput).body).not.toMatch(/null|required_peer_capabilities|accepted_signature_algorithms/);
  });
});

describe('buildManifest: options', () => {
  it('never emits "extensions": {} (SPEC §3)', () => {
    expect(buildManifest({ ...baseInput, extensions: {} }).body).toBe(cp.manifest.envelope_json);
    expect(buildManifest({ ...baseInput, extensions: {} }).body).not.toContain('extensions');
  });

  it('emits the served shape: trust anchors and the revocation-list extension after expires_at', () => {
    const extensions = { 'rfc-aitp-0008.revocation_list_uri': 'https://cp.example.com/.well-known/aitp-revocation-list' };
    const built = buildManifest({ ...baseInput, acceptedTrustAnchors: ['https://idp.example.com'], extensions });
    const inner = innerOf(built.body);
    expect(inner.extensions).toEqual(extensions);
    expect(inner.accepted_trust_anchors).toEqual(['https://idp.example.com']);
    expect(Object.keys(inner).slice(-3)).toEqual(['expires_at', 'extensions', 'signature']);
    expect(verifyManifest(built.body, built.publishedAt)).toMatchObject({ ok: true });
  });

  it('draws a fresh 16-byte challenge when none is given', () => {
    const { challenge: _fixed, ...input } = baseInput;
    const first = innerOf(buildManifest(input).body).proof_of_possession as { challenge: string };
    const second = innerOf(buildManifest(input).body).proof_of_possession as { challenge: string };
    expect(decodeB64u(first.challenge, 16)).not.toBeNull();
    expect(first.challenge).not.toBe(second.challenge);
  });

  it('verifies under our own verifier until expires_at, then is expired', () => {
    const built = buildManifest({ ...baseInput, handshakeEndpoint: 'http://localhost:4000/api/aitp/handshake/hello', displayName: 'Zoë 😀' });
    expect(verifyManifest(built.body, built.publishedAt)).toMatchObject({ ok: true });
    expect(verifyManifest(built.body, built.expiresAt - 1)).toMatchObject({ ok: true });
    expect(verifyManifest(built.body, built.expiresAt)).toMatchObject({ ok: false, verifyCode: 'expired' });
  });
});

describe('buildManifest: input validation', () => {
  it.each<[string, Partial<BuildManifestInput>]>([
    ['a zero TTL', { ttlSecs: 0 }],
    ['a fractional TTL', { ttlSecs: 1.5 }],
    ['a negative publishedAt', { publishedAt: -1 }],
    ['a fractional publishedAt', { publishedAt: 1711900000.5 }],
    ['a 15-byte challenge', { challenge: new Uint8Array(15) }],
    ['a display name over 128 characters', { displayName: 'x'.repeat(129) }],
    ['a non-http handshake endpoint', { handshakeEndpoint: 'ftp://cp.example.com/hello' }],
    ['a handshake endpoint with a space', { handshakeEndpoint: 'https://cp.example.com/a b' }],
    ['duplicate trust anchors', { acceptedTrustAnchors: ['https://a.example', 'https://a.example'] }],
    ['a trust anchor that is not a URI', { acceptedTrustAnchors: ['not a uri'] }],
    ['a capability with whitespace', { offeredCapabilities: ['demo echo'] }],
    ['an empty capability', { offeredCapabilities: [''] }],
  ])('throws RangeError on %s', (_label, override) => {
    expect(() => buildManifest({ ...baseInput, ...override })).toThrow(RangeError);
  });

  it('counts the display-name limit in code points', () => {
    expect(() => buildManifest({ ...baseInput, displayName: '😀'.repeat(128) })).not.toThrow();
    expect(() => buildManifest({ ...baseInput, displayName: '😀'.repeat(129) })).toThrow(RangeError);
  });

  it('throws on a seed that is not 32 bytes and on a lone surrogate', () => {
    expect(() => buildManifest({ ...baseInput, seed: new Uint8Array(31) })).toThrow(RangeError);
    expect(() => buildManifest({ ...baseInput, displayName: 'bad\ud800' })).toThrow(TypeError);
  });
});
