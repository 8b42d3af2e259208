import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyManifest, verifyRevocationList } from '../../src/aitp/index.js';
import { notifyInTx } from '../../src/db/notify.js';
import type { Clock } from '../../src/lib/clock.js';
import { buildTestApp } from '../helpers/app.js';

/** A clock tests can move forward. */
function movableClock(): Clock & { advance(ms: number): void } {
  let offset = 0;
  return { now: () => Date.now() + offset, advance: (ms) => (offset += ms) };
}
const nowSecs = (clock: Clock) => Math.floor(clock.now() / 1000);

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function insertRevocation(app: FastifyInstance, jti: string, reason: string | null): Promise<void> {
  await app.db.transaction(async (tx) => {
    await tx.execute(sql`INSERT INTO revocation_entries (jti, reason, revoked_at) VALUES (${jti}, ${reason}, now())`);
    await notifyInTx(tx, 'aitp_control', { kind: 'revocation_changed' });
  });
}

describe('the CP manifest', () => {
  let app: FastifyInstance;
  const clock = movableClock();
  beforeAll(async () => {
    ({ app } = await buildTestApp({ CP_BASE_URL: 'https://cp.example.com' }, { clock }));
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves the signed envelope that verifies with the project verifier, on both paths', async () => {
    const res = await app.inject({ method: 'GET', url: '/.well-known/aitp-manifest' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['cache-control']).toBe('max-age=3600');
    const verified = verifyManifest(res.body, nowSecs(clock));
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    expect(verified.manifest.aid).toBe(app.identity.aid);
    expect(verified.manifest.display_name).toBe('aitp-control-plane');
    expect(verified.manifest.handshake_endpoint).toBe('https://cp.example.com/api/aitp/handshake/hello');
    expect(verified.manifest.offered_capabilities).toEqual([]);
    expect(verified.manifest.extensions).toEqual({
      'rfc-aitp-0008.revocation_list_uri': 'https://cp.example.com/.well-known/aitp-revocation-list',
    });
    expect(verified.manifest.expires_at - verified.manifest.published_at).toBe(86_400);
    const alias = await app.inject({ method: 'GET', url: '/api/well-known/aitp-manifest' });
    expect(alias.body).toBe(res.body);
  });

  it('a tampered copy fails verification with signature_invalid', async () => {
    const res = await app.inject({ method: 'GET', url: '/.well-known/aitp-manifest' });
    const tampered = res.body.replace('"aitp-control-plane"', '"aitp-control-plane-x"');
    const verified = verifyManifest(tampered, nowSecs(clock));
    expect(verified).toMatchObject({ ok: false, verifyCode: 'signature_invalid' });
  });

  it('the handshake endpoint it advertises answers 501', async () => {
    const res = await app.inject({ method: 'POST', url: '/api/aitp/handshake/hello', payload: {} });
    expect(res.statusCode).toBe(501);
    expect(res.json()).toEqual({ error: 'this control plane does not take part in AITP handshakes', code: 'HANDSHAKE_UNSUPPORTED' });
  });

  it('is rebuilt past half its TTL with a later expires_at, and max-age never outlives it', async () => {
    const before = JSON.parse((await app.inject({ method: 'GET', url: '/.well-known/aitp-manifest' })).body);
    clock.advance(12 * 3600 * 1000 + 1000);
    const res = await app.inject({ method: 'GET', url: '/.well-known/aitp-manifest' });
    const after = JSON.parse(res.body);
    expect(after.manifest.expires_at).toBeGreaterThan(before.manifest.expires_at);
    expect(after.manifest.proof_of_possession.challenge).not.toBe(before.manifest.proof_of_possession.challenge);
    expect(verifyManifest(res.body, nowSecs(clock)).ok).toBe(true);
    const maxAge = Number(/max-age=(\d+)/.exec(String(res.headers['cache-control']))?.[1]);
    expect(maxAge).toBeLessThanOrEqual(Math.min(3600, after.manifest.expires_at - nowSecs(clock)));
  });

  it('keeps the same AID for the same seed across app instances', async () => {
    const { app: again } = await buildTestApp({ CP_AID_SEED_HEX: app.config.CP_AID_SEED_HEX });
    expect(again.identity.aid).toBe(app.identity.aid);
    await again.close();
  });
});

describe('the signed revocation list', () => {
  let app: FastifyInstance;
  const clock = movableClock();
  beforeAll(async () => {
    ({ app } = await buildTestApp({}, { clock }));
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves an empty signed list at boot that verifies against the CP AID, on both paths', async () => {
    const res = await app.inject({ method: 'GET', url: '/.well-known/aitp-revocation-list' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('max-age=60');
    const verified = verifyRevocationList(res.body, app.identity.aid, nowSecs(clock));
    expect(verified).toMatchObject({ ok: true, revocationList: { issuer: app.identity.aid, entries: [] } });
    const alias = await app.inject({ method: 'GET', url: '/api/well-known/aitp-revocation-list' });
    expect(alias.body).toBe(res.body);
  });

  it('picks up a new entry announced by NOTIFY, and a tampered copy fails', async () => {
    const jti = randomUUID().toUpperCase();
    await insertRevocation(app, jti, 'key compromised');
    await waitFor(() => app.revocationList.current()?.entryCount === 1);
    const res = await app.inject({ method: 'GET', url: '/.well-known/aitp-revocation-list' });
    const verified = verifyRevocationList(res.body, app.identity.aid, nowSecs(clock));
    expect(verified.ok).toBe(true);
    if (!verified.ok) return;
    expect(verified.revocationList.entries).toEqual([
      { jti: jti.toLowerCase(), revoked_at: expect.any(Number), reason: 'key compromised' },
    ]);
    const tampered = res.body.replace('key compromised', 'key compromisee');
    expect(verifyRevocationList(tampered, app.identity.aid, nowSecs(clock))).toMatchObject({ ok: false, code: 'signature_invalid' });
    expect(verifyRevocationList(res.body, 'aid:pubkey:O2onvM62pC1io6jQKm8Nc2UyFXcd4kOmOsBIoYtZ2ik', nowSecs(clock))).toMatchObject({
      ok: false,
      code: 'issuer_mismatch',
    });
  });

  it('reaches another replica on the same database', async () => {
    const { app: replica } = await buildTestApp({ DATABASE_URL: app.config.DATABASE_URL, CP_AID_SEED_HEX: app.config.CP_AID_SEED_HEX });
    const before = replica.revocationList.current()?.entryCount ?? 0;
    await insertRevocation(app, randomUUID(), null);
    await waitFor(() => replica.revocationList.current()?.entryCount === before + 1);
    await replica.close();
  });

  it('never signs a partial list when the database fails, then fails closed once the last good one expires', async () => {
    const { app: lonely } = await buildTestApp({}, { clock });
    await insertRevocation(lonely, randomUUID(), 'one');
    await lonely.revocationList.rebuild();
    expect(lonely.revocationList.current()?.entryCount).toBe(1);

    await lonely.pool.end();
    expect(await lonely.revocationList.rebuild()).toBe(false);
    const stillGood = await lonely.inject({ method: 'GET', url: '/.well-known/aitp-revocation-list' });
    expect(stillGood.statusCode).toBe(200);
    const verified = verifyRevocationList(stillGood.body, lonely.identity.aid, nowSecs(clock));
    expect(verified.ok && verified.revocationList.entries.length).toBe(1);

    clock.advance(3600 * 1000);
    const closed = await lonely.inject({ method: 'GET', url: '/.well-known/aitp-revocation-list' });
    expect(closed.statusCode).toBe(503);
    expect(closed.headers['retry-after']).toBe('30');
    expect(closed.headers['cache-control']).toBe('no-store');
    expect(closed.json()).toEqual({ error: expect.any(String), code: 'REVOCATION_UNAVAILABLE' });
    await lonely.close();
  });
});
