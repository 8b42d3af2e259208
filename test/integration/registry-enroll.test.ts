import { readFileSync } from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildTestApp } from '../helpers/app.js';
import { makeManifest } from '../helpers/manifests.js';

interface EnrollCase {
  name: string;
  now: number;
  envelope_json: string;
  expect: { spec_code: string; sdk_code: string };
}

const vectors = JSON.parse(readFileSync(new URL('../fixtures/aitp/derived/cp-acceptance-vectors.json', import.meta.url), 'utf8')) as {
  enroll_cases: EnrollCase[];
};
/** Ruling 1: the SDK rejects these but SPEC Decisions accept them. */
const ACCEPTED_BY_DECISION = new Set(['extensions_empty_object_signed', 'accepted_signature_algorithms_present']);

function expected(entry: EnrollCase): { status: number; code?: string; verifyCode?: string } {
  const sdk = entry.expect.sdk_code;
  if (sdk === 'ok' || ACCEPTED_BY_DECISION.has(entry.name)) return { status: 200 };
  return { status: 400, code: sdk === 'expired' ? 'MANIFEST_EXPIRED' : 'MANIFEST_INVALID', verifyCode: sdk };
}

describe('enroll_cases of cp-acceptance-vectors.json (Rulings 1, 2)', () => {
  // Every case carries its own `now`; one app per distinct `now`, its clock fixed there.
  const apps = new Map<number, FastifyInstance>();
  beforeAll(async () => {
    for (const now of new Set(vectors.enroll_cases.map((c) => c.now))) {
      const { app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }, { clock: { now: () => now * 1000 } });
      apps.set(now, app);
    }
  });
  afterAll(async () => {
    await Promise.all([...apps.values()].map((a) => a.close()));
  });

  it('covers all 31 cases', () => {
    expect(vectors.enroll_cases).toHaveLength(31);
  });

  it.each(vectors.enroll_cases.map((entry) => [entry.name, entry] as const))('%s', async (_name, entry) => {
    const res = await apps.get(entry.now)!.inject({ method: 'POST', url: '/api/registry/enroll', payload: entry.envelope_json });
    const want = expected(entry);
    expect(res.statusCode, res.body).toBe(want.status);
    if (want.status === 200) {
      expect(Object.keys(res.json())).toEqual(['token', 'expiresIn', 'aid', 'jti', 'exp']);
      expect(res.json().exp).toBe(entry.now + 300);
    } else {
      expect(res.json()).toEqual({ error: expect.any(String), code: want.code, verifyCode: want.verifyCode });
    }
  });
});

describe('enroll envelope, guard and limits (API.md §2.1)', () => {
  let app: FastifyInstance;
  beforeAll(async () => {
    ({ app } = await buildTestApp({ RATE_LIMIT_ENABLED: false }));
  });
  afterAll(async () => {
    await app.close();
  });
  const enroll = (payload: string) => app.inject({ method: 'POST', url: '/api/registry/enroll', payload });

  it.each(['null', '[]', '"manifest"', '42', '{}', '{"manifest":null}', '{"manifest":[]}', '{"manifest":"x"}'])(
    'answers 400 MANIFEST_INVALID verifyCode malformed for the envelope %s',
    async (payload) => {
      const res = await enroll(payload);
      expect(res.statusCode).toBe(400);
      expect(res.json()).toEqual({ error: expect.any(String), code: 'MANIFEST_INVALID', verifyCode: 'malformed' });
    },
  );

  it.each(['', '{', 'not json', '{"manifest":{"a":"\\u0000"}}'])('answers 400 BODY_INVALID for the body %j', async (payload) => {
    const res = await enroll(payload);
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('BODY_INVALID');
  });

  it('applies the 5-minute guard without a verifyCode (Ruling 20)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const soon = makeManifest({ publishedAt: now - 60, ttlSecs: 60 + 299 });
    const res = await enroll(soon.body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.any(String), code: 'MANIFEST_EXPIRED' });
    const enough = makeManifest({ publishedAt: now - 60, ttlSecs: 60 + 330 });
    expect((await enroll(enough.body)).statusCode).toBe(200);
  });

  it('never echoes verifier text', async () => {
    const tampered = makeManifest().body.replace('demo.echo', 'demo.evil');
    const res = await enroll(tampered);
    expect(res.json()).toEqual({ error: 'manifest rejected by verification', code: 'MANIFEST_INVALID', verifyCode: 'signature_invalid' });
  });

  it.each([
    ['a capability longer than 256', { capabilities: ['c'.repeat(257)] }, '/manifest/offered_capabilities/0'],
    ['more than 256 capabilities', { capabilities: Array.from({ length: 257 }, (_, i) => `cap.${i}`) }, '/manifest/offered_capabilities'],
    ['a handshake endpoint over 2048', { handshakeEndpoint: `https://a.example.com/${'p'.repeat(2048)}` }, '/manifest/handshake_endpoint'],
    ['an empty extensions.namespace', { extensions: { namespace: '' } }, '/manifest/extensions/namespace'],
    ['a 129-character extensions.namespace', { extensions: { namespace: 'n'.repeat(129) } }, '/manifest/extensions/namespace'],
  ])('answers 400 BODY_INVALID for %s', async (_label, input, field) => {
    const res = await enroll(makeManifest(input).body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: expect.any(String), code: 'BODY_INVALID', field });
  });

  it('counts tokens and verification failures by code', async () => {
    const before = await app.metrics.registry.getSingleMetricAsString('aitp_control_plane_enroll_verification_failures_total');
    expect(before).toContain('code="cp_expiry_guard"');
    expect(before).toContain('code="other"');
    await enroll(makeManifest().body.replace('demo.echo', 'demo.evil'));
    const after = await app.metrics.registry.getSingleMetricAsString('aitp_control_plane_enroll_verification_failures_total');
    const value = (text: string) => Number(/code="signature_invalid"} (\d+)/.exec(text)?.[1]);
    expect(value(after)).toBe(value(before) + 1);
    const tokens = await app.metrics.registry.getSingleMetricAsString('aitp_control_plane_enroll_tokens_issued_total');
    expect(Number(/_total (\d+)/.exec(tokens)?.[1])).toBeGreaterThan(0);
  });
});

describe('enroll rate limit', () => {
  it('charges enroll to the enroll-ip bucket (RATE_LIMIT_ENROLLMENT_PER_IP_MIN)', async () => {
    const { app } = await buildTestApp({ RATE_LIMIT_ENROLLMENT_PER_IP_MIN: 2 });
    try {
      const body = makeManifest().body;
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push((await app.inject({ method: 'POST', url: '/api/registry/enroll', payload: body })).statusCode);
      expect(statuses).toEqual([200, 200, 429]);
      const limited = await app.inject({ method: 'POST', url: '/api/registry/enroll', payload: body });
      expect(limited.json()).toMatchObject({ code: 'RATE_LIMITED', bucket: 'enroll-ip' });
    } finally {
      await app.close();
    }
  });
});

describe('enrollment secrets', () => {
  it('answers 503 SERVER_MISCONFIGURED on enroll and register without a usable secret', async () => {
    const { app } = await buildTestApp({ ENROLLMENT_SECRET: 'too-short' });
    try {
      const body = makeManifest().body;
      for (const url of ['/api/registry/enroll', '/api/registry/agents']) {
        const res = await app.inject({ method: 'POST', url, payload: body, headers: { authorization: 'Bearer x.y' } });
        expect(res.statusCode, url).toBe(503);
        expect(res.json()).toMatchObject({ code: 'SERVER_MISCONFIGURED' });
      }
    } finally {
      await app.close();
    }
  });

  it('accepts a token minted under ENROLLMENT_SECRET_PREVIOUS during the rotation window (OPERATIONS.md §7.3)', async () => {
    const oldSecret = 'old-enrollment-secret-0123456789abcdef';
    const newSecret = 'new-enrollment-secret-0123456789abcdef';
    const { app: before, config } = await buildTestApp({ ENROLLMENT_SECRET: oldSecret, RATE_LIMIT_ENABLED: false });
    const { app: rotated } = await buildTestApp({
      DATABASE_URL: config.DATABASE_URL,
      ENROLLMENT_SECRET: newSecret,
      ENROLLMENT_SECRET_PREVIOUS: [oldSecret],
      RATE_LIMIT_ENABLED: false,
    });
    const { app: finished } = await buildTestApp({ DATABASE_URL: config.DATABASE_URL, ENROLLMENT_SECRET: newSecret, RATE_LIMIT_ENABLED: false });
    try {
      const oldToken = async (body: string) => (await before.inject({ method: 'POST', url: '/api/registry/enroll', payload: body })).json().token as string;
      const register = (target: FastifyInstance, body: string, token: string) =>
        target.inject({ method: 'POST', url: '/api/registry/agents', payload: body, headers: { authorization: `Bearer ${token}` } });

      const inWindow = makeManifest();
      expect((await register(rotated, inWindow.body, await oldToken(inWindow.body))).statusCode).toBe(201);
      const afterWindow = makeManifest();
      expect((await register(finished, afterWindow.body, await oldToken(afterWindow.body))).json()).toMatchObject({ code: 'TOKEN_INVALID' });
      // New tokens are signed with the new secret, so the old-only replica cannot verify them.
      const fresh = makeManifest();
      const newToken = (await rotated.inject({ method: 'POST', url: '/api/registry/enroll', payload: fresh.body })).json().token as string;
      expect((await register(before, fresh.body, newToken)).json()).toMatchObject({ code: 'TOKEN_INVALID' });
      expect((await register(finished, fresh.body, newToken)).statusCode).toBe(201);
    } finally {
      await Promise.all([before.close(), rotated.close(), finished.close()]);
    }
  });
});
