import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jcs } from '../../../src/aitp/jcs.js';
import {
  buildRevocationList,
  decideRevocation,
  isRevoked,
  type RevocationList,
  type RevocationListVerification,
  type RevocationPolicy,
  verifyRevocationList,
} from '../../../src/aitp/revocation-list.js';
import { signJcs } from '../../../src/aitp/signature.js';

function readText(path: string): string {
  return readFileSync(new URL(`../../fixtures/aitp/${path}`, import.meta.url), 'utf8');
}

function readFixture<T>(path: string): T {
  return JSON.parse(readText(path)) as T;
}

const fromHex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text, 'hex'));

interface CpRevocation {
  identity: { CP_AID_SEED_HEX: string; aid: string };
  revocation_list: {
    inner_jcs_utf8: string;
    signature_inner_body: string;
    legacy_signature_wrapped_form: string;
    envelope_json: string;
    empty_list_envelope_json: string;
    uppercase_jti_envelope_json: string;
  };
}

interface SnapshotFile {
  _kat_input: { published_at: number; ttl_secs: number; entries: { jti: string; revoked_at: number; reason?: string }[] };
  revocation_list: Record<string, unknown>;
  signature: string;
}

interface RevocationFixture {
  id: string;
  input: {
    policy: { fail_mode: RevocationPolicy['failMode']; max_staleness_secs: number };
    now: number;
    expected_issuer: string;
    queried_jti?: string;
    snapshot: unknown;
  };
  expected: { outcome: 'success' | 'failure'; error_code?: string };
}

const cp = readFixture<{ cp: CpRevocation }>('derived/cp-acceptance-vectors.json').cp;
const cpSeed = fromHex(cp.identity.CP_AID_SEED_HEX);
const CP_AID = cp.identity.aid;
const ZERO_AID = 'aid:pubkey:O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik';
const NOW = 1711900100;
const cpEntries = [
  { jti: '550E8400-E29B-41D4-A716-446655440000', revokedAt: 1711899940, reason: null },
  { jti: '3f1d2c4b-1a2b-4c3d-8e4f-5a6b7c8d9e0f', revokedAt: 1711899400, reason: 'key compromised' },
];

function codeOf(result: RevocationListVerification): string {
  return result.ok ? 'ok' : result.code;
}

/** A snapshot body signed by the CP key after `edit`, serialized as the envelope. */
function signedSnapshot(edit: (body: Record<string, unknown>) => void): string {
  const { revocation_list: body } = JSON.parse(cp.revocation_list.envelope_json) as { revocation_list: Record<string, unknown> };
  edit(body);
  return JSON.stringify({ revocation_list: body, signature: signJcs(cpSeed, body) });
}

describe('buildRevocationList: byte-exact vectors (SPEC §10.5)', () => {
  it('emits cp.revocation_list.envelope_json from unordered, mixed-case entries', () => {
    const built = buildRevocationList({ seed: cpSeed, publishedAt: 1711900000, ttlSecs: 3600, entries: cpEntries });
    expect(built.body).toBe(cp.revocation_list.envelope_json);
    expect(built).toMatchObject({ publishedAt: 1711900000, expiresAt: 1711903600, entryCount: 2 });
    const parsed = JSON.parse(built.body) as { revocation_list: unknown; signature: string };
    expect(jcs(parsed.revocation_list)).toBe(cp.revocation_list.inner_jcs_utf8);
    expect(parsed.signature).toBe(cp.revocation_list.signature_inner_body);
  });

  it('emits the signed empty list', () => {
    const built = buildRevocationList({ seed: cpSeed, publishedAt: 1711900000, ttlSecs: 3600, entries: [] });
    expect(built.body).toBe(cp.revocation_list.empty_list_envelope_json);
    expect(built.entryCount).toBe(0);
  });

  it('re-signs the inner-body signed example (DTmCoELd0l…)', () => {
    const example = readFixture<SnapshotFile>('derived/known-answer/signed-examples/revocation/kat-keypair-001-snapshot.inner-body.json');
    const { published_at, ttl_secs, entries } = example._kat_input;
    const built = buildRevocationList({
      seed: new Uint8Array(32),
      publishedAt: published_at,
      ttlSecs: ttl_secs,
      entries: entries.map((entry) => ({ jti: entry.jti, revokedAt: entry.revoked_at, reason: entry.reason })),
    });
    expect(built.body).toBe(JSON.stringify({ revocation_list: example.revocation_list, signature: example.signature }));
  });

  it('the upper-case jti counter-example is not what we emit: we lower-case before signing', () => {
    const counter = JSON.parse(cp.revocation_list.uppercase_jti_envelope_json) as { revocation_list: unknown; signature: string };
    expect(signJcs(cpSeed, counter.revocation_list)).toBe(counter.signature);
    const built = buildRevocationList({
      seed: cpSeed,
      publishedAt: 1711900000,
      ttlSecs: 3600,
      entries: [{ jti: '3F1D2C4B-1A2B-4C3D-8E4F-5A6B7C8D9E0F', revokedAt: 1711899400 }],
    });
    expect(built.body).toContain('"jti":"3f1d2c4b-1a2b-4c3d-8e4f-5a6b7c8d9e0f"');
    expect((JSON.parse(built.body) as { signature: string }).signature).not.toBe(counter.signature);
    expect(verifyRevocationList(built.body, CP_AID, NOW)).toMatchObject({ ok: true });
  });
});

describe('buildRevocationList: ordering and inputs', () => {
  it('orders by revoked_at, then jti; omits null reasons; never emits extensions', () => {
    const built = buildRevocationList({
      seed: cpSeed,
      publishedAt: 100,
      ttlSecs: 60,
      entries: [
        { jti: 'bbbbbbbb-0000-4000-8000-000000000000', revokedAt: 5 },
        { jti: 'aaaaaaaa-0000-4000-8000-000000000000', revokedAt: 5, reason: null },
        { jti: 'cccccccc-0000-4000-8000-000000000000', revokedAt: 1, reason: 'r' },
      ],
    });
    const { revocation_list: list } = JSON.parse(built.body) as { revocation_list: RevocationList };
    expect(list.entries).toEqual([
      { jti: 'cccccccc-0000-4000-8000-000000000000', revoked_at: 1, reason: 'r' },
      { jti: 'aaaaaaaa-0000-4000-8000-000000000000', revoked_at: 5 },
      { jti: 'bbbbbbbb-0000-4000-8000-000000000000', revoked_at: 5 },
    ]);
    expect(Object.keys(list)).toEqual(['version', 'issuer', 'published_at', 'expires_at', 'entries']);
    expect(built.body).not.toMatch(/null|extensions/);
  });

  it.each([
    ['a non-UUID jti', { entries: [{ jti: 'not-a-uuid', revokedAt: 1 }] }],
    ['a UUID without hyphens', { entries: [{ jti: '550e8400e29b41d4a716446655440000', revokedAt: 1 }] }],
    ['a negative revokedAt', { entries: [{ jti: '550e8400-e29b-41d4-a716-446655440000', revokedAt: -1 }] }],
    ['a fractional revokedAt', { entries: [{ jti: '550e8400-e29b-41d4-a716-446655440000', revokedAt: 1.5 }] }],
    ['a zero TTL', { ttlSecs: 0 }],
    ['a negative publishedAt', { publishedAt: -1 }],
  ])('throws RangeError on %s', (_label, override) => {
    expect(() => buildRevocationList({ seed: cpSeed, publishedAt: 1, ttlSecs: 60, entries: [], ...override })).toThrow(RangeError);
  });

  it('signs and verifies 1000 entries', () => {
    const entries = Array.from({ length: 1000 }, (_, index) => ({
      jti: `00000000-0000-4000-8000-${index.toString(16).padStart(12, '0')}`,
      revokedAt: 1711800000 + (index % 7),
    }));
    const built = buildRevocationList({ seed: cpSeed, publishedAt: 1711900000, ttlSecs: 3600, entries });
    const result = verifyRevocationList(built.body, CP_AID, NOW);
    expect(result.ok && result.revocationList.entries).toHaveLength(1000);
  });
});

describe('verifyRevocationList (SPEC §6.3)', () => {
  it('accepts the CP vector, the empty list and the signed example', () => {
    expect(verifyRevocationList(cp.revocation_list.envelope_json, CP_AID, NOW)).toMatchObject({ ok: true });
    expect(verifyRevocationList(cp.revocation_list.empty_list_envelope_json, CP_AID, NOW)).toMatchObject({ ok: true });
    const example = readFixture<SnapshotFile>('derived/known-answer/signed-examples/revocation/kat-keypair-001-snapshot.inner-body.json');
    const body = JSON.stringify({ revocation_list: example.revocation_list, signature: example.signature });
    expect(verifyRevocationList(body, ZERO_AID, NOW)).toMatchObject({ ok: true });
    expect(verifyRevocationList(new TextEncoder().encode(body), ZERO_AID, NOW)).toMatchObject({ ok: true });
  });

  it('returns the verified body for deny-list lookups', () => {
    const result = verifyRevocationList(cp.revocation_list.envelope_json, CP_AID, NOW);
    if (!result.ok) throw new Error(result.detail);
    expect(isRevoked(result.revocationList, '550e8400-e29b-41d4-a716-446655440000')).toBe(true);
    expect(isRevoked(result.revocationList, '550E8400-E29B-41D4-A716-446655440000')).toBe(true);
    expect(isRevoked(result.revocationList, '550e8400-e29b-41d4-a716-446655440001')).toBe(false);
  });

  it('rejects the legacy wrapped form (ruling 19): the wrapped KAT and the CP legacy signature', () => {
    const wrappedKat = readFixture<SnapshotFile>('schemas/conformance/known-answer/signed-examples/revocation/kat-keypair-001-snapshot.json');
    const body = JSON.stringify({ revocation_list: wrappedKat.revocation_list, signature: wrappedKat.signature });
    expect(signJcs(new Uint8Array(32), { revocation_list: wrappedKat.revocation_list })).toBe(wrappedKat.signature);
    expect(verifyRevocationList(body, ZERO_AID, NOW)).toMatchObject({ ok: false, code: 'signature_invalid' });
    const legacy = cp.revocation_list.envelope_json.replace(cp.revocation_list.signature_inner_body, cp.revocation_list.legacy_signature_wrapped_form);
    expect(verifyRevocationList(legacy, CP_AID, NOW)).toMatchObject({ ok: false, code: 'signature_invalid' });
  });

  it('rejects an upper-case jti signed verbatim, as the SDK does (SPEC §6.2)', () => {
    expect(verifyRevocationList(cp.revocation_list.uppercase_jti_envelope_json, CP_AID, NOW)).toMatchObject({ ok: false, code: 'signature_invalid' });
  });

  it('accepts an upper-case jti on the wire when the lower-case form was signed', () => {
    const raw = cp.revocation_list.envelope_json.replace('550e8400-e29b-41d4-a716-446655440000', '550E8400-E29B-41D4-A716-446655440000');
    const result = verifyRevocationList(raw, CP_AID, NOW);
    expect(result.ok && result.revocationList.entries[1]?.jti).toBe('550e8400-e29b-41d4-a716-446655440000');
  });

  const envelope = cp.revocation_list.envelope_json;
  const signature = cp.revocation_list.signature_inner_body;

  it.each([
    ['now == expires_at', 'expired', envelope, 1711903600, CP_AID],
    ['now after expires_at', 'expired', envelope, 1711903601, CP_AID],
    ['one second before expiry', 'ok', envelope, 1711903599, CP_AID],
    ['a different expected issuer', 'issuer_mismatch', envelope, NOW, ZERO_AID],
    ['the tagged form of the expected issuer', 'issuer_mismatch', envelope, NOW, CP_AID.replace('aid:pubkey:', 'aid:pubkey:ed25519:')],
    ['expiry before the issuer check', 'expired', envelope, 1711903600, ZERO_AID],
    ['a removed entry', 'signature_invalid', envelope.replace(/\{"jti":"550e8400[^}]*\}/, '').replace(',]', ']'), NOW, CP_AID],
    ['a changed revoked_at', 'signature_invalid', envelope.replace('1711899940', '1711899941'), NOW, CP_AID],
    ['a changed reason', 'signature_invalid', envelope.replace('key compromised', 'key rotated'), NOW, CP_AID],
    ['an ed25519.-tagged signature', 'ok', envelope.replace(signature, `ed25519.${signature}`), NOW, CP_AID],
    ['a p256.-tagged signature', 'signature_invalid', envelope.replace(signature, `p256.${signature}`), NOW, CP_AID],
    ['a padded signature', 'signature_invalid', envelope.replace(signature, `${signature}==`), NOW, CP_AID],
    ['an unknown envelope member', 'malformed', envelope.replace(/}$/, ',"note":"x"}'), NOW, CP_AID],
    ['a missing signature', 'malformed', envelope.replace(`,"signature":"${signature}"`, ''), NOW, CP_AID],
    ['a duplicate signature', 'malformed', envelope.replace(/}$/, `,"signature":"${signature}"}`), NOW, CP_AID],
    ['a duplicate entry member', 'malformed', envelope.replace('"revoked_at":1711899940', '"revoked_at":1711899940,"revoked_at":1711899940'), NOW, CP_AID],
    ['a float revoked_at', 'malformed', envelope.replace('"revoked_at":1711899940', '"revoked_at":1711899940.0'), NOW, CP_AID],
    ['a float expires_at', 'malformed', envelope.replace('"expires_at":1711903600', '"expires_at":1711903600.0'), NOW, CP_AID],
    ['a non-UUID jti', 'malformed', envelope.replace('550e8400-e29b-41d4-a716-446655440000', 'not-a-uuid'), NOW, CP_AID],
    ['a null reason', 'malformed', envelope.replace('"key compromised"', 'null'), NOW, CP_AID],
    ['an extra entry member', 'malformed', envelope.replace('"revoked_at":1711899940', '"revoked_at":1711899940,"iss":"x"'), NOW, CP_AID],
    ['entries as an object', 'malformed', envelope.replace(/"entries":\[.*\]\}/, '"entries":{}}'), NOW, CP_AID],
    ['a non-AID issuer', 'malformed', envelope.replace(`"issuer":"${CP_AID}"`, '"issuer":"did:key:x"'), NOW, CP_AID],
    ['not JSON', 'malformed', envelope.slice(0, -2), NOW, CP_AID],
    ['a top-level array', 'malformed', `[${envelope}]`, NOW, CP_AID],
  ])('%s -> %s', (_label, expected, raw, now, issuer) => {
    expect(codeOf(verifyRevocationList(raw, issuer, now))).toBe(expected);
  });

  it('throws on a non-finite clock: a caller bug, never a verdict', () => {
    expect(() => verifyRevocationList(envelope, CP_AID, Number.POSITIVE_INFINITY)).toThrow(TypeError);
  });

  it('names the offending member in the detail', () => {
    const raw = envelope.replace(/}$/, ',"note":"x"}');
    expect(verifyRevocationList(raw, CP_AID, NOW)).toMatchObject({ detail: 'unknown member /"note"' });
  });

  it('checks the version first (aitp/0.1, correctly signed)', () => {
    const raw = signedSnapshot((body) => (body.version = 'aitp/0.1'));
    expect(codeOf(verifyRevocationList(raw, CP_AID, NOW))).toBe('version_unknown');
    expect(codeOf(verifyRevocationList(raw, ZERO_AID, 1711903600))).toBe('version_unknown');
  });

  it('accepts a signed extensions object and rejects a signed unknown member', () => {
    expect(codeOf(verifyRevocationList(signedSnapshot((body) => (body.extensions = { 'com.example': 1 })), CP_AID, NOW))).toBe('ok');
    expect(codeOf(verifyRevocationList(signedSnapshot((body) => (body.extensions = [])), CP_AID, NOW))).toBe('malformed');
    expect(codeOf(verifyRevocationList(signedSnapshot((body) => (body.list_owner = 'x')), CP_AID, NOW))).toBe('malformed');
  });

  it('rejects an issuer AID that names no usable key', () => {
    const smallOrder = `aid:pubkey:AQ${'A'.repeat(41)}`;
    const raw = signedSnapshot((body) => (body.issuer = smallOrder));
    expect(codeOf(verifyRevocationList(raw, smallOrder, NOW))).toBe('malformed');
  });
});

describe('conformance fixtures rev-*', () => {
  const expectedCode: Readonly<Record<string, string>> = {
    'rev-001': 'ok',
    'rev-005': 'malformed',
    'rev-006': 'ok',
    'rev-007': 'malformed',
    'rev-008': 'signature_invalid',
    'rev-009': 'ok',
  };
  const minted = [
    'rev-001-stale-snapshot-fail-closed',
    'rev-005-unknown-field-rejected',
    'rev-006-extensions-unknown-key-accepted',
    'rev-007-schema-invalid',
    'rev-008-signature-invalid',
    'rev-009-fail-open-stale-snapshot',
  ];

  it.each(minted)('%s (minted): snapshot verdict, then the policy outcome', (name) => {
    const fixture = readFixture<RevocationFixture>(`derived/conformance-minted/${name}.json`);
    const { input } = fixture;
    const result = verifyRevocationList(JSON.stringify(input.snapshot), input.expected_issuer, input.now);
    expect(codeOf(result)).toBe(expectedCode[fixture.id]);
    if (!result.ok) {
      expect(fixture.expected.outcome).toBe('failure');
      return;
    }
    const policy = { failMode: input.policy.fail_mode, maxStalenessSecs: input.policy.max_staleness_secs };
    const decision = decideRevocation(result.revocationList, input.queried_jti ?? '00000000-0000-4000-8000-000000000000', input.now, policy);
    expect(decision === 'revoked' ? 'TCT_REVOKED' : 'success').toBe(fixture.expected.outcome === 'success' ? 'success' : fixture.expected.error_code);
  });

  // Placeholder and aitp/0.1 originals: verdicts reached before a real signature is needed.
  it.each([
    ['rev-002-soft-fail-safe-subset', 'version_unknown'],
    ['rev-003-success', 'version_unknown'],
    ['rev-005-unknown-field-rejected', 'malformed'],
    ['rev-007-schema-invalid', 'malformed'],
    ['rev-008-signature-invalid', 'signature_invalid'],
    ['rev-001-stale-snapshot-fail-closed', 'signature_invalid'],
    ['rev-006-extensions-unknown-key-accepted', 'signature_invalid'],
    ['rev-009-fail-open-stale-snapshot', 'signature_invalid'],
  ])('%s (original) -> %s', (name, expected) => {
    const fixture = readFixture<RevocationFixture>(`schemas/conformance/${name}.json`);
    const { input } = fixture;
    expect(codeOf(verifyRevocationList(JSON.stringify(input.snapshot), input.expected_issuer, input.now))).toBe(expected);
  });

  it.each(['empty-list', 'with-entry'])('the placeholder example %s never verifies', (name) => {
    const raw = readText(`examples/revocation/${name}.json`);
    const { revocation_list: list } = JSON.parse(raw) as { revocation_list: { issuer: string } };
    expect(codeOf(verifyRevocationList(raw, list.issuer, NOW))).toBe('malformed');
  });
});

describe('decideRevocation (SPEC §6.3 steps 6–7)', () => {
  const list: RevocationList = {
    version: 'aitp/0.2',
    issuer: CP_AID,
    published_at: 1000,
    expires_at: 99999,
    entries: [{ jti: '550e8400-e29b-41d4-a716-446655440000', revoked_at: 900 }],
  };
  const listed = '550e8400-e29b-41d4-a716-446655440000';
  const unlisted = '550e8400-e29b-41d4-a716-446655440001';

  it.each<[string, RevocationList | null, string, number, RevocationPolicy['failMode'], string]>([
    ['fresh, listed', list, listed, 1100, 'fail_open', 'revoked'],
    ['fresh, unlisted', list, unlisted, 1100, 'fail_closed', 'not_revoked'],
    ['exactly at the staleness bound', list, unlisted, 1300, 'fail_closed', 'not_revoked'],
    ['stale, fail_closed', list, unlisted, 1301, 'fail_closed', 'revoked'],
    ['stale, soft_fail', list, listed, 1301, 'soft_fail', 'not_revoked_safe_subset'],
    ['stale, fail_open', list, listed, 1301, 'fail_open', 'not_revoked'],
    ['absent, fail_closed', null, unlisted, 1100, 'fail_closed', 'revoked'],
    ['absent, soft_fail', null, unlisted, 1100, 'soft_fail', 'not_revoked_safe_subset'],
    ['absent, fail_open', null, unlisted, 1100, 'fail_open', 'not_revoked'],
  ])('%s -> %s', (_label, snapshot, jti, now, failMode, expected) => {
    expect(decideRevocation(snapshot, jti, now, { failMode, maxStalenessSecs: 300 })).toBe(expected);
  });
});
